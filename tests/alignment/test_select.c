/* Every pair-selection rule on hand-made ensemble outputs R[k, i]. Expected answers are worked
 * out by hand in the comments, or by brute force with an independent variance formula. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alignment/mixed.h"
#include "alignment/select.h"

static int failures;
#include "tests/test_check.h"

/* E[x^2] - E[x]^2 scaled to the unbiased estimate, in long double. */
static long double var_ref(const float *R, int K, int M, int i, int j)
{
    long double s = 0, s2 = 0;
    for (int k = 0; k < K; k++) {
        long double d = (long double)R[k * M + i] - R[k * M + j];
        s += d;
        s2 += d * d;
    }
    return (s2 - s * s / K) / (K - 1);
}

int main(void)
{
    sea_rng rng = sea_rng_make(7, 3);
    sea_pair_choice c;
    sea_select_cfg cfg = {0};

    /* Names round-trip; oat's "no" is passive. */
    sea_explore e;
    CHECK(sea_explore_parse("no", &e) == SEA_OK && e == SEA_EXPLORE_PASSIVE, "no");
    CHECK(sea_explore_parse("enn-baits", &e) == SEA_OK && e == SEA_EXPLORE_ENN_BAITS, "baits");
    CHECK(sea_explore_parse("bogus", &e) == SEA_ERR_INVALID, "bogus accepted");

    /* BAITS: every member's best is candidate 2, so i1 = 2 whatever the shuffle.
     * Differences R[k,2] - R[k,j]: j=0: 5,5,5 (var 0); j=1: 4,4,4 (0); j=3: 5,1,9 (var 16). */
    const float R1[3 * 4] = {0, 1, 5, 0,
                             0, 1, 5, 4,
                             0, 1, 5, -4};
    cfg.method = SEA_EXPLORE_ENN_BAITS;
    for (int t = 0; t < 20; t++) {
        CHECK(sea_select_pair(&cfg, R1, 3, 4, &rng, &c) == SEA_OK, "baits: %s", sea_last_error());
        CHECK(c.i1 == 2 && c.i2 == 3 && c.valid, "baits chose (%d, %d)", c.i1, c.i2);
    }
    CHECK(fabs(sea_select_pair_variance(R1, 3, 4, 2, 3, false) - 16.0) < 1e-12, "variance %g",
          sea_select_pair_variance(R1, 3, 4, 2, 3, false));

    /* Raw difference vs sigmoid: every member's best is 0. j=1 diffs 10,20,30 (raw var 100,
     * sigmoid var ~1e-9: all saturate at 1); j=2 diffs 1,0.5,1 (raw var 0.083, sigmoid var
     * ~0.004). Raw picks 1, sigmoid picks 2. */
    const float R2b[3 * 3] = {10, 0, 9,
                              20, 0, 19.5f,
                              30, 0, 29};
    cfg.baits_sigmoid = false;
    sea_select_pair(&cfg, R2b, 3, 3, &rng, &c);
    CHECK(c.i1 == 0 && c.i2 == 1, "baits raw chose (%d, %d), want (0, 1)", c.i1, c.i2);
    cfg.baits_sigmoid = true;
    sea_select_pair(&cfg, R2b, 3, 3, &rng, &c);
    CHECK(c.i1 == 0 && c.i2 == 2, "baits sigmoid chose (%d, %d), want (0, 2)", c.i1, c.i2);
    cfg.baits_sigmoid = false;

    /* EETS: member argmaxes 2, 2, 3. i1 is a random member's best; i2 the first other member
     * (in shuffled order) whose best differs. So {i1, i2} = {2, 3} always, and i1 = 3 with
     * probability 1/3 (Thompson sampling picks a uniform member). */
    const float R3[3 * 4] = {0, 1, 5, 4,
                             0, 1, 5, 4,
                             0, 1, 4, 5};
    cfg.method = SEA_EXPLORE_ENN_EETS;
    int first3 = 0, trials = 3000;
    for (int t = 0; t < trials; t++) {
        sea_select_pair(&cfg, R3, 3, 4, &rng, &c);
        CHECK(c.valid && ((c.i1 == 2 && c.i2 == 3) || (c.i1 == 3 && c.i2 == 2)), "eets (%d, %d)", c.i1, c.i2);
        first3 += c.i1 == 3;
    }
    double frac = (double)first3 / trials;
    /* 1/3 ± 5 standard errors (sqrt(2/9/3000) = 0.0086) */
    CHECK(fabs(frac - 1.0 / 3) < 0.043, "eets: member chosen non-uniformly (%.3f)", frac);

    /* EETS with full agreement: masked, or a uniform random second with explore_random_second. */
    cfg.explore_random_second = false;
    sea_select_pair(&cfg, R1, 3, 4, &rng, &c);
    CHECK(!c.valid && c.i1 == 2 && c.i2 != 2, "eets agreement: valid %d (%d, %d)", c.valid, c.i1, c.i2);
    cfg.explore_random_second = true;
    int seen[4] = {0};
    for (int t = 0; t < 300; t++) {
        sea_select_pair(&cfg, R1, 3, 4, &rng, &c);
        CHECK(c.valid && c.i1 == 2 && c.i2 != 2 && c.i2 >= 0 && c.i2 < 4, "random second (%d, %d)", c.i1, c.i2);
        seen[c.i2]++;
    }
    CHECK(seen[0] > 60 && seen[1] > 60 && seen[3] > 60 && seen[2] == 0, "random second spread %d %d %d %d",
          seen[0], seen[1], seen[2], seen[3]);

    /* Uncertainty: brute force over pairs with the independent variance. */
    const float R4[4 * 5] = {0.1f, 2.0f, -1.0f, 0.5f, 3.0f,
                             0.3f, 1.0f, 1.0f, 0.4f, 3.5f,
                             -0.2f, 2.5f, 0.0f, 0.7f, 2.0f,
                             0.0f, 0.5f, 2.0f, 0.6f, 3.1f};
    cfg.method = SEA_EXPLORE_ENN_UNCERTAINTY;
    sea_select_pair(&cfg, R4, 4, 5, &rng, &c);
    long double best = -1;
    int bi = -1, bj = -1;
    for (int i = 0; i < 5; i++)
        for (int j = i + 1; j < 5; j++) {
            long double v = var_ref(R4, 4, 5, i, j);
            if (v > best) { best = v; bi = i; bj = j; }
        }
    CHECK(c.i1 == bi && c.i2 == bj, "uncertainty (%d, %d), brute force (%d, %d)", c.i1, c.i2, bi, bj);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 5; j++)
            if (i != j)
                CHECK(fabsl(sea_select_pair_variance(R4, 4, 5, i, j, false) - var_ref(R4, 4, 5, i, j)) < 1e-9L,
                      "variance (%d, %d)", i, j);

    /* Passive rules take (0, 1). */
    sea_explore fixed[] = {SEA_EXPLORE_PASSIVE, SEA_EXPLORE_ENN_PASSIVE, SEA_EXPLORE_OFFLINE, SEA_EXPLORE_XPO};
    for (int m = 0; m < 4; m++) {
        cfg.method = fixed[m];
        sea_select_pair(&cfg, R4, 4, 5, &rng, &c);
        CHECK(c.i1 == 0 && c.i2 == 1 && c.valid, "%s: (%d, %d)", sea_explore_name(fixed[m]), c.i1, c.i2);
    }

    /* Mixed preference learning's pair: member 2 of R4: best 1 (2.5), worst 0 (-0.2). */
    c = sea_select_member_best_worst(R4, 4, 5, 2);
    CHECK(c.valid && c.i1 == 4 - 3 && c.i2 == 0, "member best/worst (%d, %d)", c.i1, c.i2);
    const float flat[2 * 3] = {1, 1, 1, 0, 2, 1};
    c = sea_select_member_best_worst(flat, 2, 3, 0);
    CHECK(!c.valid, "constant row must be invalid");
    c = sea_select_member_best_worst(flat, 2, 3, 1);
    CHECK(c.valid && c.i1 == 1 && c.i2 == 0, "member 1 (%d, %d)", c.i1, c.i2);

    /* APL: largest |margin| first, stable. */
    double mg[6] = {0.1, -3.0, 2.0, -2.0, 0.0, 5.0};
    int keep[3];
    CHECK(sea_select_apl(mg, 6, 3, keep) == SEA_OK, "apl");
    CHECK(keep[0] == 5 && keep[1] == 1 && keep[2] == 2, "apl order %d %d %d", keep[0], keep[1], keep[2]);
    CHECK(sea_select_apl(mg, 6, 7, keep) == SEA_ERR_INVALID, "apl keep > n accepted");

    /* Errors: too few candidates / members. */
    cfg.method = SEA_EXPLORE_ENN_BAITS;
    CHECK(sea_select_pair(&cfg, R4, 1, 5, &rng, &c) == SEA_ERR_INVALID, "baits with K=1 accepted");
    CHECK(sea_select_pair(&cfg, R4, 4, 1, &rng, &c) == SEA_ERR_INVALID, "M=1 accepted");

    /* Mixed preference learning: off during burn-in and at γ = 1; round((1−γ)·n) prompts,
     * uniformly spread; the synthetic pair is a uniformly drawn member's best vs worst. */
    {
        sea_mixed_cfg mc = {0.7, 5, false};
        CHECK(!sea_mixed_active(&mc, 4) && sea_mixed_active(&mc, 5), "burn-in");
        sea_mixed_cfg off = {1.0, 0, false};
        CHECK(!sea_mixed_active(&off, 100), "gamma 1 must be off");
        uint8_t mark[16];
        int hits[16] = {0};
        for (int t = 0; t < 2000; t++) {
            int k = sea_mixed_choose(&mc, 16, &rng, mark);   /* (1 - 0.7) * 16 = 4.8 -> 5 */
            int cnt = 0;
            for (int i = 0; i < 16; i++) { cnt += mark[i]; hits[i] += mark[i]; }
            CHECK(k == 5 && cnt == 5, "mixed count %d / %d", k, cnt);
        }
        for (int i = 0; i < 16; i++)   /* each prompt 5/16 of the time: 625 ± 5 sd (sd ~ 20.7) */
            CHECK(abs(hits[i] - 625) < 104, "prompt %d mixed %d times of 2000", i, hits[i]);
        int member_hits[4] = {0};
        for (int t = 0; t < 4000; t++) {
            int k;
            sea_pair_choice pc = sea_mixed_pair(R4, 4, 5, &rng, &k);
            member_hits[k]++;
            sea_pair_choice want = sea_select_member_best_worst(R4, 4, 5, k);
            CHECK(pc.i1 == want.i1 && pc.i2 == want.i2, "mixed pair of member %d", k);
        }
        for (int k = 0; k < 4; k++) CHECK(abs(member_hits[k] - 1000) < 150, "member %d drawn %d of 4000", k, member_hits[k]);
    }

    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("select: ok\n");
    return failures ? 1 : 0;
}
