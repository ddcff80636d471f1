/* Preference losses vs an independent float64 formula (long double, written from SEA.md §7)
 * and their derivatives vs central finite differences. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "alignment/losses.h"
#include "runtime/rng.h"

static int failures;
#include "tests/test_check.h"

/* Reference per-pair loss, the textbook way (no stable rewrites). */
static long double ref_loss(sea_pref_algo a, double beta, double ratio, double pc, double pr, double rc, double rr)
{
    long double h = ((long double)pc - rc) - ((long double)pr - rr);
    switch (a) {
    case SEA_ALGO_DPO: return -logl(1.0L / (1.0L + expl(-(long double)beta * h)));
    case SEA_ALGO_IPO: { long double e = h - 1.0L / (2.0L * beta); return e * e; }
    case SEA_ALGO_SLIC: { long double v = 1.0L - beta * h; return v > 0 ? v : 0; }
    case SEA_ALGO_SIMPO: {
        long double z = (long double)beta * ((long double)pc - pr) - ratio * beta;
        return -logl(1.0L / (1.0L + expl(-z)));
    }
    }
    return NAN;
}

int main(void)
{
    sea_rng rng = sea_rng_make(1234, 0);
    const int n = 9;
    double pc[9], pr[9], rc[9], rr[9], dpc[9], dpr[9];
    float mask[9];
    for (int algo = 0; algo < 4; algo++) {
        for (int trial = 0; trial < 5; trial++) {
            sea_pref_loss_cfg cfg = {(sea_pref_algo)algo, 0.1 + 0.3 * trial, 0.5};
            for (int i = 0; i < n; i++) {
                /* log-probs of a few tokens: negative, spread out, never zero */
                pc[i] = -1.0 - 8.0 * sea_rng_next_uniform(&rng);
                pr[i] = -1.0 - 8.0 * sea_rng_next_uniform(&rng);
                rc[i] = -1.0 - 8.0 * sea_rng_next_uniform(&rng);
                rr[i] = -1.0 - 8.0 * sea_rng_next_uniform(&rng);
                mask[i] = (i % 4 == 3) ? 0.0f : 1.0f;
            }
            sea_pref_stats st;
            sea_status s = sea_pref_loss(&cfg, n, pc, pr, rc, rr, mask, dpc, dpr, &st);
            CHECK(s == SEA_OK, "loss %d: %s", algo, sea_last_error());
            long double ref = 0;
            int used = 0;
            for (int i = 0; i < n; i++)
                if (mask[i]) {
                    ref += ref_loss(cfg.algo, cfg.beta, 0.5, pc[i], pr[i], rc[i], rr[i]);
                    used++;
                }
            ref /= n;
            CHECK(fabsl((long double)st.loss - ref) <= 1e-12L * (1 + fabsl(ref)), "algo %d loss %.17g ref %.17Lg", algo,
                  st.loss, ref);
            CHECK(st.n_used == used, "n_used %d vs %d", st.n_used, used);
            /* finite differences of the mean loss w.r.t. each policy log-prob */
            for (int i = 0; i < n; i++)
                for (int side = 0; side < 2; side++) {
                    double *x = side ? pr : pc, *d = side ? dpr : dpc;
                    double keep = x[i], eps = 1e-6;
                    sea_pref_stats a, b;
                    x[i] = keep + eps;
                    sea_pref_loss(&cfg, n, pc, pr, rc, rr, mask, NULL, NULL, &a);
                    x[i] = keep - eps;
                    sea_pref_loss(&cfg, n, pc, pr, rc, rr, mask, NULL, NULL, &b);
                    x[i] = keep;
                    double fd = (a.loss - b.loss) / (2 * eps);
                    /* SLiC's hinge has a kink: skip pairs within eps of it */
                    double h = (pc[i] - rc[i]) - (pr[i] - rr[i]);
                    if (cfg.algo == SEA_ALGO_SLIC && fabs(1 - cfg.beta * h) < 1e-4) continue;
                    CHECK(fabs(fd - d[i]) <= 1e-6 * (1 + fabs(fd)), "algo %d pair %d side %d: grad %.10g fd %.10g",
                          algo, i, side, d[i], fd);
                    if (!mask[i]) CHECK(d[i] == 0, "masked pair %d has gradient %g", i, d[i]);
                }
            /* metrics: rewards over unmasked pairs */
            double rwc = 0;
            for (int i = 0; i < n; i++)
                if (mask[i]) rwc += cfg.beta * (pc[i] - (algo == SEA_ALGO_SIMPO ? 0 : rc[i]));
            CHECK(fabs(st.rewards_chosen - rwc / used) < 1e-12, "rewards/chosen %g vs %g", st.rewards_chosen, rwc / used);
        }
    }
    /* SLiC on both sides of the hinge: gradient is -beta/n then 0. */
    {
        sea_pref_loss_cfg cfg = {SEA_ALGO_SLIC, 0.5, 0};
        double a[1] = {-1}, b[1] = {-2}, z[1] = {0}, d1[1], d2[1];
        sea_pref_loss(&cfg, 1, a, b, z, z, NULL, d1, d2, NULL);   /* h = 1: 1 - 0.5 > 0 */
        CHECK(d1[0] == -0.5 && d2[0] == 0.5, "slic active side %g %g", d1[0], d2[0]);
        b[0] = -10;                                              /* h = 9: hinge inactive */
        sea_pref_loss(&cfg, 1, a, b, z, z, NULL, d1, d2, NULL);
        CHECK(d1[0] == 0 && d2[0] == 0, "slic inactive side %g %g", d1[0], d2[0]);
    }
    /* Non-finite input on an unmasked pair is reported; on a masked pair it is ignored. */
    {
        sea_pref_loss_cfg cfg = {SEA_ALGO_DPO, 0.1, 0};
        double a[2] = {-1, NAN}, b[2] = {-2, -3}, z[2] = {0, 0};
        float m[2] = {1, 1};
        CHECK(sea_pref_loss(&cfg, 2, a, b, z, z, m, NULL, NULL, NULL) == SEA_ERR_NUMERIC, "NaN not reported");
        m[1] = 0;
        CHECK(sea_pref_loss(&cfg, 2, a, b, z, z, m, NULL, NULL, NULL) == SEA_OK, "masked NaN reported");
    }
    /* XPO term: alpha * mean over unmasked, derivative alpha / used. */
    {
        double lp[3] = {-4, -6, -100}, d[3] = {0, 0, 0};
        float m[3] = {1, 1, 0};
        double v = sea_xpo_term(3, lp, m, 0.25, d);
        CHECK(fabs(v - 0.25 * (-5)) < 1e-15, "xpo value %g", v);
        CHECK(d[0] == 0.125 && d[1] == 0.125 && d[2] == 0, "xpo grads %g %g %g", d[0], d[1], d[2]);
    }
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("losses: ok\n");
    return failures ? 1 : 0;
}
