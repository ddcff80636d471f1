/* The policy learner (SEA.md §7): one optimizer step per round on that round's pairs.
 *
 * Per step: reference log-probs (no tape), policy log-probs with the tape, the preference
 * loss and its derivatives on the host, backward into the flat gradient buffer (gradients
 * accumulate over micro-batches of pairs), then global norm → clip → AdamW over the flat
 * buffer with a cosine schedule (warmup, floor). A non-finite loss or gradient norm skips the
 * step (parameters and Adam state untouched) and is reported; max_bad_steps such steps in a
 * row stop the run with SEA_ERR_NUMERIC. */
#ifndef SEA_ALIGNMENT_LEARNER_H
#define SEA_ALIGNMENT_LEARNER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alignment/losses.h"
#include "dist/dist.h"
#include "models/model.h"

typedef struct sea_learner_cfg {
    sea_pref_loss_cfg loss;
    double lr, warmup_ratio, floor_ratio, max_norm, beta1, beta2, eps;
    int total_steps;          /* for the cosine schedule */
    int max_bad_steps;
    double xpo_alpha;         /* used when pairs carry XPO reference flags */
    int micro_pairs;          /* pairs per forward/backward chunk (16) */
    /* Data parallel over MPI ranks (NULL or one rank = all local): rank r computes the
     * micro-batches j with j % size == r, gradients and per-pair log-probs are all-reduced
     * (deterministically, in rank order), and every rank takes the same optimizer step.
     * On CUDA ranks the gradients go through NCCL when it loads (dist/nccl.h: ring order, fixed
     * for a given layout and topology); the reason for not using it is logged once per rank. */
    sea_dist *dist;
} sea_learner_cfg;

/* One preference pair as token ids: the prompt once, and the two responses. */
typedef struct sea_pair {
    const int32_t *prompt;
    int prompt_len;
    const int32_t *chosen, *rejected;
    int chosen_len, rejected_len;
    float mask;               /* 0 = no preference (tie): kept out of the loss */
    int xpo_ref_side;         /* XPO: 0 none, 1 chosen came from π_ref, 2 rejected did */
    double sample_logp_chosen, sample_logp_rejected; /* sampling-time sums (NAN = unknown) */
} sea_pair;

typedef struct sea_learner_stats {
    sea_pref_stats pref;
    double loss;              /* preference loss + XPO term */
    double grad_norm;         /* before clipping */
    double lr;
    bool skipped;             /* non-finite: no step taken */
    double logp_mismatch;     /* mean |sampling-time − learner| sequence log-prob (NAN if none) */
    double kl;                /* mean over used responses of (log π − log π_ref), summed tokens */
    double allreduce_s;       /* wall time of the gradient all-reduce (0 on one rank) */
} sea_learner_stats;

typedef struct sea_learner sea_learner;

sea_status sea_learner_create(sea_model *policy, sea_model *ref, const sea_learner_cfg *cfg, sea_learner **out);
void sea_learner_free(sea_learner *l);
double sea_learner_lr_at(const sea_learner_cfg *cfg, int step);
sea_status sea_learner_step(sea_learner *l, const sea_pair *pairs, int n, sea_learner_stats *st);
int sea_learner_steps_taken(const sea_learner *l);
/* The learner's NCCL communicator over cfg.dist (CUDA ranks), or NULL: the weight broadcast of
 * a collocated run reuses it. */
struct sea_nccl *sea_learner_nccl(const sea_learner *l);
/* Which of `ranks` data-parallel ranks computes pair `pair` (its micro-batch's owner): lets
 * the actors of a role-split run ship each learner only the pairs it computes. */
int sea_learner_pair_rank(const sea_learner_cfg *cfg, int pair, int ranks);
/* Sequence log-prob sums of responses under a model (no tape): the APL margin and tests. */
sea_status sea_sequence_logps(sea_model *m, const int32_t *const *prompts, const int *prompt_lens,
                              const int32_t *const *resp, const int *resp_lens, int n, bool mean, double *out);

/* Checkpoint: Adam moments, step counters (the parameters are saved by the model writer). */
sea_status sea_learner_write(sea_learner *l, FILE *f);
sea_status sea_learner_read(sea_learner *l, FILE *f);
/* Only the policy parameters of a learner checkpoint (ranks that sample but do not learn). */
sea_status sea_learner_read_params(sea_model *policy, FILE *f);

#endif
