/* The epistemic reward model (SEA.md §3): K MLP heads d → h → ReLU → h → ReLU → 1 over frozen
 * features, trained on the replay buffer with a Bradley–Terry loss plus a pull towards each
 * member's initial weights (the anchors), so that members disagree where data is scarce.
 *
 * All K members' weights live in one flat f32 buffer on the device, laid out as the
 * SEA_OP_ENSEMBLE_MLP inputs: W1 (K,d,h) | b1 (K,h) | W2 (K,h,h) | b2 (K,h) | W3 (K,h) | b3 (K),
 * with mirror buffers for gradients, Adam moments and anchors. Forward and backward are the
 * single ensemble op; the loss gradient w.r.t. the rewards r (K, 2B) is formed on the host
 * (it is K·2B numbers). */
#ifndef SEA_ALIGNMENT_ERM_H
#define SEA_ALIGNMENT_ERM_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alignment/replay.h"
#include "runtime/backend.h"
#include "runtime/rng.h"

typedef struct sea_erm_cfg {
    int K, d, h;          /* members, feature dim, hidden width (SEA.md: 20, -, 128) */
    float lr;             /* Adam, 1e-3 */
    float l2;             /* added to the gradient, 5e-5 */
    float lambda;         /* anchor regularizer weight, 0.5 */
    int batch;            /* B, 128 */
    int sgd_steps;        /* per round, 5 */
    bool fixed_reg;       /* regularizer λ·B/B instead of λ·B/N */
    uint64_t seed;        /* init */
} sea_erm_cfg;

sea_erm_cfg sea_erm_cfg_default(int d);

typedef struct sea_erm_stats {
    double loss;          /* total of the last step */
    double bt_loss;       /* BT part */
    double reg_loss;      /* anchor part */
    int steps;            /* steps taken this call (0 while the buffer holds < B) */
} sea_erm_stats;

typedef struct sea_erm sea_erm;

sea_status sea_erm_create(sea_device *dev, const sea_erm_cfg *cfg, sea_erm **out);
void sea_erm_free(sea_erm *e);
const sea_erm_cfg *sea_erm_config(const sea_erm *e);
int64_t sea_erm_num_params(const sea_erm *e);

/* R[k * N + n] = r_k(phi[n]) for N feature rows. */
sea_status sea_erm_predict(sea_erm *e, const float *phi /* (N, d) */, int N, float *R /* (K, N) */);

/* One Adam step on a given batch (the same batch for every member). n_queries = N of the
 * regularizer (oracle queries so far, >= 1). Exposed for tests. */
sea_status sea_erm_step(sea_erm *e, const float *phi_pos /* (B, d) */, const float *phi_neg /* (B, d) */,
                        const float *mask /* (B) */, int B, int64_t n_queries, sea_erm_stats *st);

/* The gradient of that loss at the current parameters, without stepping: the flat gradient
 * (P, same layout as the parameters) is copied to grad (may be NULL); st gets the losses.
 * Exposed so tests can compare it with a float64 reference. */
sea_status sea_erm_grad(sea_erm *e, const float *phi_pos, const float *phi_neg, const float *mask, int B,
                        int64_t n_queries, sea_erm_stats *st, float *grad /* (P) */);

/* The per-round update: cfg.sgd_steps steps on batches drawn from the replay buffer
 * (no step while it holds fewer than cfg.batch entries). */
sea_status sea_erm_update(sea_erm *e, const sea_replay *rb, int64_t n_queries, sea_rng *rng,
                          sea_erm_stats *st);

/* Host copies of the flat buffers (params, anchors) for tests and checkpoints. */
sea_status sea_erm_read_params(sea_erm *e, float *params, float *anchors);
/* Checkpoint: params, anchors, Adam moments and step. */
sea_status sea_erm_write(sea_erm *e, FILE *f);
sea_status sea_erm_read(sea_erm *e, FILE *f);

#endif
