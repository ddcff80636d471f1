/* The actor: candidate responses and their features.
 *
 * Candidates keep the sampled token ids and the sampling-time log-probs (never re-tokenized);
 * text is decoded only for the oracle. Features φ(x, y) are the feature model's final hidden
 * state at the last token of prompt+response (SEA.md §3; default model: π_ref). */
#ifndef SEA_ALIGNMENT_ACTOR_H
#define SEA_ALIGNMENT_ACTOR_H

#include <stdint.h>

#include "alignment/prompts.h"
#include "models/generate.h"
#include "models/model.h"

typedef struct sea_candidates {
    int n;              /* n_prompts * per */
    int per;            /* responses per prompt */
    int max_new;
    int32_t *tokens;    /* (n, max_new) */
    int *lens;          /* (n) */
    double *logp_sum;   /* (n) sampling-time sum of token log-probs */
    char **text;        /* (n) decoded responses */
} sea_candidates;

void sea_candidates_free(sea_candidates *c);
static inline const int32_t *sea_candidate_tokens(const sea_candidates *c, int i) { return c->tokens + (size_t)i * c->max_new; }
/* Whether candidates i and j are the same token sequence. */
int sea_candidates_same(const sea_candidates *c, int i, int j);

/* `per` responses for each of the n_prompts prompts; response r of prompt p is sequence
 * seq_base + p * per + r of the RNG (so results do not depend on batching). */
sea_status sea_actor_sample(sea_model *m, const sea_gen_params *gp, sea_prompt *const *prompts, int n_prompts, int per,
                            uint32_t seq_base, const sea_codec *codec, sea_candidates *out);

/* φ for candidates idx[0..n) (candidate c belongs to prompt c / per): phi (n, hidden). */
sea_status sea_actor_features(sea_model *fm, sea_prompt *const *prompts, const sea_candidates *c, const int *idx, int n,
                              float *phi);
/* The concatenated variant: phi (n, (max_new + 1) * hidden) = the states at the last prompt
 * token and at response positions 0..max_new-1, zeros past the end of a response. Whether an
 * answer is right shows where the model predicts each token, not only in the final state. */
sea_status sea_actor_features_concat(sea_model *fm, sea_prompt *const *prompts, const sea_candidates *c, const int *idx,
                                     int n, float *phi);

#endif
