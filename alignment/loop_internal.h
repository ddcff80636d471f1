/* State of one training run, shared by loop.c (rounds), loop_eval.c (win rate) and
 * loop_ckpt.c (checkpoints). Not a public header. */
#ifndef SEA_ALIGNMENT_LOOP_INTERNAL_H
#define SEA_ALIGNMENT_LOOP_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alignment/erm.h"
#include "alignment/learner.h"
#include "alignment/loop.h"
#include "alignment/oracle.h"
#include "alignment/prompts.h"
#include "alignment/replay.h"
#include "alignment/run_state.h"
#include "models/model.h"

/* What this process does (loop_roles.c): everything (one process, or SPMD ranks), or one side
 * of a role-split run (--actors K). */
typedef enum { SEA_ROLE_ALL = 0, SEA_ROLE_ACTOR, SEA_ROLE_LEARNER } sea_role;

/* RNG streams of the host-side draws; each is checkpointed as (seed, stream, counter). */
enum {
    RNG_DATA = SEA_RUN_RNG_DATA,
    RNG_SELECT = SEA_RUN_RNG_SELECT,
    RNG_MIXED = SEA_RUN_RNG_MIXED,
    RNG_LABEL = SEA_RUN_RNG_LABEL,
    RNG_ERM = SEA_RUN_RNG_ERM,
    RNG_COUNT = SEA_RUN_RNGS
};

typedef struct sea_run {
    sea_train_cfg cfg;
    /* multi-process layout (loop_roles.c); cfg.dist is the world */
    sea_role role;
    sea_dist *team;           /* the ranks running this loop together: the world, the actors or the learners */
    sea_dist *sync;           /* roles: the actors + the learner leader (its last member); NULL elsewhere */
    struct sea_nccl *sync_nccl; /* roles: NCCL over sync (CUDA ranks) for the weights, else NULL */
    sea_learner_cfg learner_cfg;
    void *learner_state;      /* roles, rank 0 while checkpointing: the learner leader's learner.bin bytes */
    size_t learner_state_bytes;
    sea_device *dev;
    sea_codec codec;
    bool builtin;
    sea_prompt_set train, heldout;
    sea_model *policy, *ref, *actor, *feat;
    bool own_actor, own_feat;
    sea_learner *learner;     /* NULL on actor ranks */
    bool uses_erm;
    sea_erm *erm;
    sea_replay replay;
    int feat_dim;
    int truncated_prompts;    /* train + held-out prompts cut to fit the policy's positions */
    sea_oracle *oracle;
    /* evaluation */
    int n_eval;
    char **eval_ref;          /* (n_eval) reference responses */
    double *eval_ref_score;   /* (n_eval) oracle scores of the references */
    /* progress state (checkpointed) */
    int round;
    int64_t queries;
    int epoch, pos;
    int *perm;                /* permutation of the train prompts for `epoch` */
    sea_rng rng[RNG_COUNT];
    int zero_query_rounds;
    double last_win_rate;
    int n_evals, cap_evals;
    int64_t *eval_q;
    double *eval_wr;
    int64_t metrics_offset;   /* bytes of metrics.jsonl covered by the checkpoint */
    /* output */
    FILE *metrics;
    double t_start;
    int total_rounds_est;
} sea_run;

double sea_run_now(void);
/* Permutation of the train prompts for r->epoch (a function of (seed, epoch) only). */
sea_status sea_run_make_perm(sea_run *r);

/* Evaluation (loop_eval.c). */
sea_status sea_run_eval_setup(sea_run *r);
sea_status sea_run_evaluate(sea_run *r, double *win_rate);
/* Best-of-N win rate (cfg.bon_n samples, picked by the ensemble mean); 0 when off. */
sea_status sea_run_evaluate_bon(sea_run *r, double *win_rate);

/* Checkpoints (loop_ckpt.c). */
sea_status sea_run_save(sea_run *r);
/* The policy as an HF directory, OUTPUT/name: config.json, model.safetensors (the f32 master
 * weights, or --save-dtype) and the tokenizer files of --policy; swapped in whole (name.tmp
 * renamed). */
sea_status sea_run_save_policy(sea_run *r, const char *name);
/* Returns SEA_OK and sets *found = false when there is no checkpoint. */
sea_status sea_run_load(sea_run *r, bool *found);

#endif
