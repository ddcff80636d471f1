/* Pair selection ("explore" strategies, SEA.md §4) over one prompt's M candidates.
 *
 * R is the ensemble's reward table for the prompt: R[k * M + i] = r_k(φ(x, y_i)), (K, M).
 * Every rule is a pure function of (R, rng draws), so tests can hand-make R. Ties in argmax
 * go to the lowest index. */
#ifndef SEA_ALIGNMENT_SELECT_H
#define SEA_ALIGNMENT_SELECT_H

#include <stdbool.h>

#include "runtime/rng.h"
#include "runtime/status.h"

typedef enum sea_explore {
    SEA_EXPLORE_PASSIVE = 0,    /* "passive" (oat: no exploration): 2 samples, used as they are */
    SEA_EXPLORE_ENN_PASSIVE,    /* responses 0 and 1 of M; the ERM is still trained */
    SEA_EXPLORE_ENN_EETS,       /* E&E Thompson sampling */
    SEA_EXPLORE_ENN_BAITS,      /* BAI Thompson sampling (SEA's main method) */
    SEA_EXPLORE_ENN_UNCERTAINTY,/* pure exploration: the most uncertain pair */
    SEA_EXPLORE_OFFLINE,        /* pairs always from π_ref, no sync (offline DAP) */
    SEA_EXPLORE_APL,            /* active preference learning baseline (prompt selection) */
    SEA_EXPLORE_XPO,            /* one response from π, one from π_ref; DPO + α log π(y_ref) */
} sea_explore;

sea_status sea_explore_parse(const char *name, sea_explore *out);
const char *sea_explore_name(sea_explore e);
/* Whether the strategy needs the ensemble (features, R, ERM training). */
bool sea_explore_uses_erm(sea_explore e);

typedef struct sea_select_cfg {
    sea_explore method;
    bool explore_random_second;  /* enn-eets: a random j != i1 when no member disagrees */
    bool baits_sigmoid;          /* enn-baits: variance of σ(R_i1 − R_j) instead of the raw difference */
} sea_select_cfg;

typedef struct sea_pair_choice {
    int i1, i2;      /* candidate indices (i1 = the Thompson "best" where that applies) */
    bool valid;      /* false: no usable pair (mask it out of every loss) */
} sea_pair_choice;

/* Choose the pair for one prompt. For passive/offline/apl/xpo (no ensemble) and enn-passive
 * the answer is (0, 1). M >= 2 and K >= 1 (K >= 2 for variance-based rules). */
sea_status sea_select_pair(const sea_select_cfg *cfg, const float *R /* (K, M) */, int K, int M,
                           sea_rng *rng, sea_pair_choice *out);

/* Unbiased variance over members of f(R[k,i] − R[k,j]), f = identity or sigmoid. */
double sea_select_pair_variance(const float *R /* (K, M) */, int K, int M, int i, int j, bool sigmoid);

/* Mixed preference learning's synthetic pair (SEA.md §5): member k's best vs worst.
 * chosen = argmax_i R[k,i], rejected = argmin (lowest index on ties); valid false when
 * every candidate has the same reward under k. */
sea_pair_choice sea_select_member_best_worst(const float *R /* (K, M) */, int K, int M, int k);

/* APL: indices of the `keep` prompts with the largest |margin| (stable: earlier prompt first
 * on ties), written to out (keep). */
sea_status sea_select_apl(const double *margin /* (n) */, int n, int keep, int *out /* (keep) */);

#endif
