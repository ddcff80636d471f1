/* Options of a SEA run (`sea train`), one table shared by the command line and --config JSON.
 *
 * Names follow oat where oat has one (--exp-method, --num-samples, --num-ensemble, --rm-lr,
 * --rm-sgd-steps, --learn-rm, --max-queries, --sync-params-every, --output-dir ...); '-' and
 * '_' are interchangeable on the command line and in JSON keys. */
#ifndef SEA_ALIGNMENT_TRAIN_CONFIG_H
#define SEA_ALIGNMENT_TRAIN_CONFIG_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "alignment/losses.h"
#include "alignment/select.h"
#include "runtime/status.h"

#define SEA_PATH_MAX 1024

typedef struct sea_train_cfg {
    /* models and data */
    char policy[SEA_PATH_MAX];        /* HF dir of the SFT policy (required) */
    char ref[SEA_PATH_MAX];           /* reference policy; "" = a copy of --policy */
    char feature_model[SEA_PATH_MAX]; /* ERM backbone; "" = the reference policy */
    bool feature_concat;              /* φ = states at every response position, concatenated */
    char prompt_data[SEA_PATH_MAX];   /* JSONL, or "builtin:arith" */
    char eval_data[SEA_PATH_MAX];     /* JSONL of held-out prompts ("" = builtin split / none) */
    char input_key[64], output_key[64];
    char oracle[SEA_PATH_MAX];        /* builtin:TASK | rm:DIR | judge:CMD */
    char output_dir[SEA_PATH_MAX];
    char resume[SEA_PATH_MAX];
    char device[64];
    char compute_dtype[8];  /* "f32" (default, "" too) | "bf16": models compute in bf16 over f32 masters */
    /* the loop */
    sea_explore exp_method;
    bool explore_random_second, baits_sigmoid;
    int num_samples;        /* M */
    int batch_size;         /* prompts per round */
    int64_t max_queries;
    int max_rounds;         /* 0 = until max_queries */
    int sync_params_every;
    int max_new_tokens;
    int max_prompt_len;          /* prompts keep their last this many tokens; 0 = positions - max_new_tokens */
    double temperature, top_p;
    int top_k;
    /* policy learning */
    sea_pref_algo algo;
    double beta;            /* <= 0: the algorithm's default */
    double simpo_gamma_ratio;
    double learning_rate, warmup_ratio, lr_floor_ratio, max_norm, adam_beta1, adam_beta2, adam_eps;
    double xpo_alpha;
    double apl_pool;        /* APL: prompts sampled per kept prompt (2) */
    int max_bad_steps;      /* consecutive non-finite steps before stopping (3) */
    bool recompute;         /* activation recomputation in the policy's training passes */
    int micro_pairs;        /* pairs per learner forward/backward chunk (16) */
    /* ERM */
    bool learn_rm;
    int num_ensemble, rm_hidden, rm_sgd_steps, rm_batch, rm_buffer;
    double rm_lr, rm_l2, lambda;
    bool rm_fixed_reg;
    int64_t rm_stop_after;  /* stop training the ERM after this many queries (0 = never) */
    /* mixed preference learning */
    double gamma;           /* 1 = off */
    int burn_in;            /* rounds */
    bool mixed_oracle_label;
    bool count_identical;        /* identical pairs count as queries, as when every shown pair is scored */
    /* oracle labels */
    bool bt_sample;
    double label_flip;
    double judge_timeout;
    /* evaluation, output */
    int eval_every;         /* rounds; 0 = only at the start and the end */
    int eval_n;             /* held-out prompts judged */
    int bon_n;              /* best-of-N evaluation: N samples per held-out prompt, picked by the
                             * ensemble mean (0 = off; needs an enn-* method) */
    bool online_metric;     /* E&E metric: mean P(shown response ≻ reference) each round */
    int checkpoint_every;   /* rounds; 0 = never */
    uint64_t seed;
    bool quiet;
    bool no_plot;
    bool no_save_policy;         /* no OUTPUT/policy at the end */
    bool eval_only;              /* round 0's evaluation only: no training, checkpoint or policy */
    int save_policy_every;       /* rounds between OUTPUT/policy-roundR exports; 0 = none */
    char save_dtype[8];          /* "" / "f32", "bf16", "f16": the written policy's weights */
    int kill_after_rounds;  /* testing: stop (as if killed) after this many rounds, exit 3 */
    /* multi-process (alignment/loop_dist.c) */
    int broadcast_bucket_mb; /* weight broadcast bucket size (256) */
    int actors;              /* dedicated actor ranks (loop_roles.c); 0 = every rank does everything */
    struct sea_dist *dist;   /* set by the command from sea_dist_init; NULL = one process */
} sea_train_cfg;

void sea_train_cfg_default(sea_train_cfg *c);
/* Parse argv (argv[0] is the command name). --config FILE is applied where it appears, so
 * later flags override it. --help prints usage and returns SEA_ERR_INVALID with an empty
 * message; *help_shown tells the caller. */
sea_status sea_train_cfg_parse_argv(sea_train_cfg *c, int argc, char **argv, bool *help_shown);
sea_status sea_train_cfg_load_json(sea_train_cfg *c, const char *path);
/* The same from text[0, n) (need not be NUL-terminated); `path` names it in errors. */
sea_status sea_train_cfg_load_json_text(sea_train_cfg *c, const char *text, size_t n, const char *path);
/* Set one option by name ("exp-method", "exp_method") from text. */
sea_status sea_train_cfg_set(sea_train_cfg *c, const char *name, const char *value);
/* Whole config as a JSON object (for summary.json and the checkpoint). Caller frees. */
char *sea_train_cfg_to_json(const sea_train_cfg *c);
void sea_train_cfg_usage(FILE *f);
/* Consistency checks with messages naming the flag. */
sea_status sea_train_cfg_validate(const sea_train_cfg *c);

#endif
