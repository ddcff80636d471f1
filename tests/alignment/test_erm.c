/* The epistemic reward model against a float64 reference of the same network, loss and
 * gradient (SEA.md §3): forward rewards, BT loss + anchored regularizer λ·B/N (and the fixed
 * variant), the gradient vs float64 central differences of the reference loss, the init
 * distribution, the skip-until-B rule, checkpoint round trip, and that it learns a linear
 * preference. argv[1] = device spec (default cpu); a missing device is a skip (77). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alignment/erm.h"
#include "runtime/backend.h"

static int failures;
#include "tests/test_check.h"

typedef struct ref_net { int K, d, h; const double *p; } ref_net;

/* r_k(x) in float64 from the flat layout W1 (K,d,h) | b1 (K,h) | W2 (K,h,h) | b2 | W3 (K,h) | b3 (K). */
static double ref_r(const ref_net *n, int k, const float *x)
{
    const int K = n->K, d = n->d, h = n->h;
    const double *W1 = n->p, *b1 = W1 + (size_t)K * d * h, *W2 = b1 + (size_t)K * h, *b2 = W2 + (size_t)K * h * h;
    const double *W3 = b2 + (size_t)K * h, *b3 = W3 + (size_t)K * h;
    double a1[64], a2[64];
    for (int j = 0; j < h; j++) {
        double s = b1[k * h + j];
        for (int i = 0; i < d; i++) s += x[i] * W1[((size_t)k * d + i) * h + j];
        a1[j] = s > 0 ? s : 0;
    }
    for (int j = 0; j < h; j++) {
        double s = b2[k * h + j];
        for (int i = 0; i < h; i++) s += a1[i] * W2[((size_t)k * h + i) * h + j];
        a2[j] = s > 0 ? s : 0;
    }
    double s = b3[k];
    for (int i = 0; i < h; i++) s += a2[i] * W3[k * h + i];
    return s;
}

static double ref_loss(const ref_net *n, const double *anchor, long P, const float *pos, const float *neg,
                       const float *mask, int B, double c)
{
    double bt = 0;
    for (int k = 0; k < n->K; k++)
        for (int b = 0; b < B; b++) {
            double z = ref_r(n, k, pos + (size_t)b * n->d) - ref_r(n, k, neg + (size_t)b * n->d);
            bt += log1p(exp(-z)) * mask[b];
        }
    bt /= (double)n->K * B;
    double reg = 0;
    for (long p = 0; p < P; p++) reg += (n->p[p] - anchor[p]) * (n->p[p] - anchor[p]);
    return bt + c * reg / P;
}

static float urand(sea_rng *r) { return (float)(2 * sea_rng_next_uniform(r) - 1); }

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "cpu";
    sea_device *dev = NULL;
    if (sea_device_open(spec, &dev)) {
        printf("skip: device %s: %s\n", spec, sea_last_error());
        return 77;
    }
    sea_rng rng = sea_rng_make(99, 5);

    /* --- init distribution on a wide ensemble: W ~ N(0, (1/(2 sqrt(fan_in)))^2), b = 0 --- */
    {
        sea_erm_cfg c = sea_erm_cfg_default(64);
        c.K = 4;
        c.h = 32;
        sea_erm *e;
        CHECK(sea_erm_create(dev, &c, &e) == SEA_OK, "create: %s", sea_last_error());
        long P = (long)sea_erm_num_params(e);
        float *p = malloc(sizeof(float) * P), *a = malloc(sizeof(float) * P);
        sea_erm_read_params(e, p, a);
        long nW1 = 4L * 64 * 32;
        double s2 = 0;
        for (long i = 0; i < nW1; i++) s2 += (double)p[i] * p[i];
        double sd = sqrt(s2 / nW1), want = 1 / (2 * sqrt(64.0));
        CHECK(fabs(sd - want) < 0.05 * want, "W1 std %g want %g", sd, want);
        int bias_zero = 1;
        for (long i = nW1; i < nW1 + 4 * 32; i++) bias_zero &= p[i] == 0;
        CHECK(bias_zero, "b1 not zero");
        CHECK(!memcmp(p, a, sizeof(float) * P), "anchors differ from the initial parameters");
        free(p);
        free(a);
        sea_erm_free(e);
    }

    /* --- small ensemble vs the float64 reference --- */
    const int K = 3, d = 5, h = 4, B = 6;
    sea_erm_cfg c = sea_erm_cfg_default(d);
    c.K = K;
    c.h = h;
    c.batch = B;
    c.lr = 0.05f;   /* move the parameters well away from the anchors */
    c.lambda = 5.0f; /* a regularizer gradient well above float32 noise */
    c.seed = 7;
    sea_erm *e;
    CHECK(sea_erm_create(dev, &c, &e) == SEA_OK, "create: %s", sea_last_error());
    long P = (long)sea_erm_num_params(e);
    CHECK(P == (long)K * (d * h + h + h * h + h + h + 1), "P = %ld", P);
    float pos[6 * 5], neg[6 * 5], mask[6] = {1, 1, 0, 1, 1, 1};
    for (int i = 0; i < B * d; i++) {
        pos[i] = urand(&rng);
        neg[i] = urand(&rng);
    }
    sea_erm_stats st = {0};
    for (int s = 0; s < 3; s++) CHECK(sea_erm_step(e, pos, neg, mask, B, 10, &st) == SEA_OK, "step: %s", sea_last_error());
    CHECK(st.steps == 3, "steps %d", st.steps);
    for (int i = 0; i < B * d; i++) {   /* a fresh batch at the moved parameters */
        pos[i] = urand(&rng);
        neg[i] = urand(&rng);
    }
    float *pf = malloc(sizeof(float) * P), *af = malloc(sizeof(float) * P), *g = malloc(sizeof(float) * P);
    double *pd = malloc(sizeof(double) * P), *ad = malloc(sizeof(double) * P);
    sea_erm_read_params(e, pf, af);
    double moved = 0;
    for (long i = 0; i < P; i++) {
        pd[i] = pf[i];
        ad[i] = af[i];
        moved += fabs(pd[i] - ad[i]);
    }
    CHECK(moved > 1e-3, "parameters did not move from the anchors (%g)", moved);
    ref_net rn = {K, d, h, pd};

    /* forward */
    float R[3 * 6];
    CHECK(sea_erm_predict(e, pos, B, R) == SEA_OK, "predict: %s", sea_last_error());
    for (int k = 0; k < K; k++)
        for (int b = 0; b < B; b++) {
            double r = ref_r(&rn, k, pos + b * d);
            CHECK(fabs(R[k * B + b] - r) < 1e-5 * (1 + fabs(r)), "r[%d,%d] %g ref %g", k, b, R[k * B + b], r);
        }

    for (int variant = 0; variant < 2; variant++) {
        /* N = 40 queries: c = λ·B/N; fixed: c = λ */
        const int64_t nq = 40;
        sea_erm_free(e);
        c.fixed_reg = variant == 1;
        CHECK(sea_erm_create(dev, &c, &e) == SEA_OK, "create");
        for (int s = 0; s < 3; s++) sea_erm_step(e, pos, neg, mask, B, 10, NULL);
        sea_erm_read_params(e, pf, af);
        for (long i = 0; i < P; i++) {
            pd[i] = pf[i];
            ad[i] = af[i];
        }
        double cc = c.lambda * (variant ? 1.0 : (double)B / nq);
        CHECK(sea_erm_grad(e, pos, neg, mask, B, nq, &st, g) == SEA_OK, "grad: %s", sea_last_error());
        double L = ref_loss(&rn, ad, P, pos, neg, mask, B, cc);
        CHECK(fabs(st.loss - L) < 1e-5 * (1 + fabs(L)), "variant %d loss %.9g ref %.9g", variant, st.loss, L);
        CHECK(st.reg_loss > 0, "regularizer is zero");
        double maxerr = 0, maxg = 0;
        for (long i = 0; i < P; i++) {
            double keep = pd[i], eps = 1e-6;
            pd[i] = keep + eps;
            double lp = ref_loss(&rn, ad, P, pos, neg, mask, B, cc);
            pd[i] = keep - eps;
            double lm = ref_loss(&rn, ad, P, pos, neg, mask, B, cc);
            pd[i] = keep;
            double fd = (lp - lm) / (2 * eps);
            /* A ReLU exactly at 0 (a dead unit whose bias never moved) is a kink: there the op
             * takes the subgradient 0 of the inactive side, so accept either one-sided slope. */
            double right = (lp - L) / eps, left = (L - lm) / eps;
            double err = fabs(fd - g[i]);
            if (fabs(right - left) > 1e-4 * (1 + fabs(fd))) err = fmin(fabs(right - g[i]), fabs(left - g[i]));
            if (getenv("ERM_DEBUG") && err > 1e-5) fprintf(stderr, "  p %ld: grad %g fd %g\n", i, g[i], fd);
            maxerr = fmax(maxerr, err);
            maxg = fmax(maxg, fabs(fd));
        }
        CHECK(maxerr < 1e-6 * (1 + maxg), "variant %d: gradient max error %g (max |grad| %g)", variant, maxerr, maxg);
    }

    /* the update skips until the buffer holds B entries, then takes sgd_steps steps */
    sea_replay rb;
    CHECK(sea_replay_init(&rb, 100, d) == SEA_OK, "replay");
    for (int b = 0; b < B - 1; b++) sea_replay_push(&rb, pos + b * d, neg + b * d, 1);
    CHECK(sea_erm_update(e, &rb, 5, &rng, &st) == SEA_OK && st.steps == 0, "stepped with %d < B entries", rb.count);
    sea_replay_push(&rb, pos, neg, 1);
    CHECK(sea_erm_update(e, &rb, 6, &rng, &st) == SEA_OK && st.steps == c.sgd_steps, "steps %d", st.steps);

    /* checkpoint round trip */
    FILE *f = tmpfile();
    CHECK(sea_erm_write(e, f) == SEA_OK, "write: %s", sea_last_error());
    rewind(f);
    sea_erm *e2;
    sea_erm_cfg c2 = c;
    c2.seed = 12345;   /* a different init, overwritten by the checkpoint */
    sea_erm_create(dev, &c2, &e2);
    CHECK(sea_erm_read(e2, f) == SEA_OK, "read: %s", sea_last_error());
    fclose(f);
    float *p2 = malloc(sizeof(float) * P), *a2 = malloc(sizeof(float) * P);
    sea_erm_read_params(e, pf, af);
    sea_erm_read_params(e2, p2, a2);
    CHECK(!memcmp(pf, p2, sizeof(float) * P) && !memcmp(af, a2, sizeof(float) * P), "checkpoint differs");
    /* both take the same next step (Adam moments and step restored too) */
    sea_erm_step(e, pos, neg, mask, B, 10, NULL);
    sea_erm_step(e2, pos, neg, mask, B, 10, NULL);
    sea_erm_read_params(e, pf, NULL);
    sea_erm_read_params(e2, p2, NULL);
    CHECK(!memcmp(pf, p2, sizeof(float) * P), "step after restore differs");
    sea_erm_free(e2);
    free(p2);
    free(a2);
    sea_replay_free(&rb);
    sea_erm_free(e);

    /* learning: a linear preference over 16-dim features, labels by sign */
    {
        const int D = 16, NB = 2000;
        sea_erm_cfg lc = sea_erm_cfg_default(D);
        lc.K = 4;
        lc.h = 32;
        lc.batch = 64;
        sea_erm *le;
        sea_erm_create(dev, &lc, &le);
        sea_replay lr;
        sea_replay_init(&lr, NB, D);
        float w[16], a[16], b[16];
        for (int i = 0; i < D; i++) w[i] = urand(&rng);
        for (int n = 0; n < NB; n++) {
            double sa = 0, sb = 0;
            for (int i = 0; i < D; i++) {
                a[i] = urand(&rng);
                b[i] = urand(&rng);
                sa += w[i] * a[i];
                sb += w[i] * b[i];
            }
            sea_replay_push(&lr, sa > sb ? a : b, sa > sb ? b : a, 1);
        }
        for (int s = 0; s < 60; s++) sea_erm_update(le, &lr, NB, &rng, &st);
        int right = 0, tot = 200;
        float x[2 * 16], Rr[4 * 2];
        for (int t = 0; t < tot; t++) {
            double sa = 0, sb = 0;
            for (int i = 0; i < D; i++) {
                x[i] = urand(&rng);
                x[D + i] = urand(&rng);
                sa += w[i] * x[i];
                sb += w[i] * x[D + i];
            }
            sea_erm_predict(le, x, 2, Rr);
            double ma = 0, mb = 0;
            for (int k = 0; k < 4; k++) {
                ma += Rr[k * 2];
                mb += Rr[k * 2 + 1];
            }
            right += (ma > mb) == (sa > sb);
        }
        CHECK(right > 0.85 * tot, "learned accuracy %d/%d", right, tot);
        printf("erm: linear preference accuracy %d/%d after 300 steps\n", right, tot);
        sea_replay_free(&lr);
        sea_erm_free(le);
    }
    free(pf); free(af); free(g); free(pd); free(ad);
    sea_device_close(dev);
    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("erm: ok\n");
    return failures ? 1 : 0;
}
