/* Mixed preference learning (SEA.md §5): after a burn-in, a fraction 1 − γ of each round's
 * prompts get a synthetic pair chosen and labelled by one ensemble member instead of the
 * oracle ("model-based" data that costs no queries).
 *
 * Paper semantics (default): mixed pairs are not sent to the oracle, not counted, not added
 * to the ERM's buffer. Option oracle_label (reference-implementation semantics): the oracle
 * labels them, the query is not counted, and they enter the buffer with mask 0. */
#ifndef SEA_ALIGNMENT_MIXED_H
#define SEA_ALIGNMENT_MIXED_H

#include <stdbool.h>
#include <stdint.h>

#include "alignment/select.h"
#include "runtime/rng.h"

typedef struct sea_mixed_cfg {
    double gamma;        /* fraction of prompts that keep oracle pairs (0.7); 1 = off */
    int burn_in;         /* rounds before mixing starts (5) */
    bool oracle_label;   /* reference semantics, see above */
} sea_mixed_cfg;

/* Whether round `round` (0-based) mixes. */
bool sea_mixed_active(const sea_mixed_cfg *c, int round);

/* Mark round((1 − γ) · n) of the n prompts as mixed, chosen uniformly (partial shuffle).
 * Returns the count. */
int sea_mixed_choose(const sea_mixed_cfg *c, int n, sea_rng *rng, uint8_t *is_mixed /* (n) */);

/* The synthetic pair of one prompt: a uniformly drawn member k's best vs worst candidate,
 * chosen = i1. *member receives k (may be NULL). */
sea_pair_choice sea_mixed_pair(const float *R /* (K, M) */, int K, int M, sea_rng *rng, int *member);

#endif
