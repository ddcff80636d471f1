#include "alignment/select.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const explore_names[] = {
    "passive", "enn-passive", "enn-eets", "enn-baits", "enn-uncertainty", "offline", "apl", "xpo",
};

sea_status sea_explore_parse(const char *name, sea_explore *out)
{
    for (int i = 0; i < (int)(sizeof explore_names / sizeof *explore_names); i++)
        if (!strcmp(name, explore_names[i])) {
            *out = (sea_explore)i;
            return SEA_OK;
        }
    /* oat spells passive online DAP "no" */
    if (!strcmp(name, "no") || !strcmp(name, "none")) {
        *out = SEA_EXPLORE_PASSIVE;
        return SEA_OK;
    }
    return sea_error(SEA_ERR_INVALID,
                     "unknown --exp-method '%s' (passive|no, enn-passive, enn-eets, enn-baits, "
                     "enn-uncertainty, offline, apl, xpo)", name);
}

const char *sea_explore_name(sea_explore e)
{
    if ((int)e < 0 || (int)e >= (int)(sizeof explore_names / sizeof *explore_names)) return "?";
    return explore_names[e];
}

bool sea_explore_uses_erm(sea_explore e)
{
    return e == SEA_EXPLORE_ENN_PASSIVE || e == SEA_EXPLORE_ENN_EETS || e == SEA_EXPLORE_ENN_BAITS ||
           e == SEA_EXPLORE_ENN_UNCERTAINTY;
}

static int row_argmax(const float *row, int M)
{
    int best = 0;
    for (int i = 1; i < M; i++)
        if (row[i] > row[best]) best = i;
    return best;
}

static double sigm(double x) { return 1.0 / (1.0 + exp(-x)); }

double sea_select_pair_variance(const float *R, int K, int M, int i, int j, bool sigmoid)
{
    if (K < 2) return 0.0;
    double mean = 0;
    for (int k = 0; k < K; k++) {
        double d = (double)R[k * M + i] - R[k * M + j];
        mean += sigmoid ? sigm(d) : d;
    }
    mean /= K;
    double ss = 0;
    for (int k = 0; k < K; k++) {
        double d = (double)R[k * M + i] - R[k * M + j];
        double v = (sigmoid ? sigm(d) : d) - mean;
        ss += v * v;
    }
    return ss / (K - 1);
}

sea_status sea_select_pair(const sea_select_cfg *cfg, const float *R, int K, int M, sea_rng *rng,
                           sea_pair_choice *out)
{
    out->i1 = 0;
    out->i2 = 1;
    out->valid = true;
    if (M < 2) return sea_error(SEA_ERR_INVALID, "pair selection %s: %d candidates (need >= 2)",
                                sea_explore_name(cfg->method), M);
    switch (cfg->method) {
    case SEA_EXPLORE_PASSIVE:
    case SEA_EXPLORE_ENN_PASSIVE:
    case SEA_EXPLORE_OFFLINE:
    case SEA_EXPLORE_APL:
    case SEA_EXPLORE_XPO:
        return SEA_OK;
    case SEA_EXPLORE_ENN_EETS:
    case SEA_EXPLORE_ENN_BAITS: {
        if (K < 1 || (cfg->method == SEA_EXPLORE_ENN_BAITS && K < 2))
            return sea_error(SEA_ERR_INVALID, "pair selection %s: %d ensemble members (need >= 2)",
                             sea_explore_name(cfg->method), K);
        /* Thompson sampling: a uniformly random member plays the sampled reward function. */
        int order[256];
        int *perm = K <= 256 ? order : malloc(sizeof(int) * (size_t)K);
        if (!perm) return sea_error(SEA_ERR_OOM, "pair selection: %d members", K);
        for (int k = 0; k < K; k++) perm[k] = k;
        for (int k = K - 1; k > 0; k--) {
            int j = (int)sea_rng_next_below(rng, (uint32_t)(k + 1));
            int t = perm[k];
            perm[k] = perm[j];
            perm[j] = t;
        }
        int i1 = row_argmax(R + (size_t)perm[0] * M, M);
        out->i1 = i1;
        if (cfg->method == SEA_EXPLORE_ENN_EETS) {
            int i2 = -1;
            for (int k = 1; k < K && i2 < 0; k++) {
                int a = row_argmax(R + (size_t)perm[k] * M, M);
                if (a != i1) i2 = a;
            }
            if (i2 < 0) {
                if (cfg->explore_random_second) {
                    int j = (int)sea_rng_next_below(rng, (uint32_t)(M - 1));
                    i2 = j >= i1 ? j + 1 : j;
                } else {
                    i2 = i1 == 0 ? 1 : 0;
                    out->valid = false;
                }
            }
            out->i2 = i2;
        } else {
            int best = -1;
            double best_v = -1;
            for (int j = 0; j < M; j++) {
                if (j == i1) continue;
                double v = sea_select_pair_variance(R, K, M, i1, j, cfg->baits_sigmoid);
                if (v > best_v) {
                    best_v = v;
                    best = j;
                }
            }
            out->i2 = best;
        }
        if (perm != order) free(perm);
        return SEA_OK;
    }
    case SEA_EXPLORE_ENN_UNCERTAINTY: {
        if (K < 2)
            return sea_error(SEA_ERR_INVALID, "pair selection enn-uncertainty: %d members (need >= 2)", K);
        double best_v = -1;
        for (int i = 0; i < M; i++)
            for (int j = i + 1; j < M; j++) {
                double v = sea_select_pair_variance(R, K, M, i, j, false);
                if (v > best_v) {
                    best_v = v;
                    out->i1 = i;
                    out->i2 = j;
                }
            }
        return SEA_OK;
    }
    }
    return sea_error(SEA_ERR_INVALID, "pair selection: unknown method %d", (int)cfg->method);
}

sea_pair_choice sea_select_member_best_worst(const float *R, int K, int M, int k)
{
    (void)K;
    const float *row = R + (size_t)k * M;
    sea_pair_choice c = {0, 0, false};
    int hi = 0, lo = 0;
    for (int i = 1; i < M; i++) {
        if (row[i] > row[hi]) hi = i;
        if (row[i] < row[lo]) lo = i;
    }
    c.i1 = hi;
    c.i2 = lo;
    c.valid = row[hi] > row[lo];
    return c;
}

sea_status sea_select_apl(const double *margin, int n, int keep, int *out)
{
    if (keep < 0 || keep > n)
        return sea_error(SEA_ERR_INVALID, "apl: keep %d of %d prompts", keep, n);
    /* selection by repeated scan: n is a round's prompts (<= a few hundred) */
    char *taken = calloc((size_t)n + 1, 1);
    if (!taken) return sea_error(SEA_ERR_OOM, "apl: %d prompts", n);
    for (int s = 0; s < keep; s++) {
        int best = -1;
        for (int i = 0; i < n; i++)
            if (!taken[i] && (best < 0 || fabs(margin[i]) > fabs(margin[best]))) best = i;
        taken[best] = 1;
        out[s] = best;
    }
    free(taken);
    return SEA_OK;
}
