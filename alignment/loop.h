/* The SEA loop (SEA.md §2): sample → features → ensemble → select → (mix) → oracle →
 * learn → ERM update → sync, round after round until the query budget is spent, with
 * evaluation, metrics, plots and atomic checkpoints in the output directory:
 *
 *   config.json      the run's options (what --resume reads back)
 *   metrics.jsonl    one line per round (oat/TRL metric names; "timing/..." are wall times)
 *   summary.json     final numbers and the win-rate curve
 *   win_rate.svg     win rate vs oracle queries
 *   oracle.jsonl     every oracle answer, fsync'ed before use
 *   checkpoint/      policy + Adam, sampler weights, ERM + anchors + Adam, replay buffer,
 *                    RNG states, data position, counters (written to checkpoint.tmp/, then
 *                    renamed into place, so a kill at any moment leaves one intact) */
#ifndef SEA_ALIGNMENT_LOOP_H
#define SEA_ALIGNMENT_LOOP_H

#include <stdint.h>

#include "alignment/train_config.h"

typedef struct sea_train_result {
    int rounds;
    int64_t queries;
    double final_win_rate;
    int n_evals;
    int64_t *eval_queries;    /* (n_evals) malloc'ed */
    double *eval_win_rate;    /* (n_evals) */
    double wall_s;
    int killed;               /* stopped by --kill-after-rounds */
} sea_train_result;

void sea_train_result_free(sea_train_result *r);

/* Run (or, with cfg->resume set, continue) a training run. */
sea_status sea_train_run(const sea_train_cfg *cfg, sea_train_result *res);

#endif
