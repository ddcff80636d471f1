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
 *                    renamed into place, so a kill at any moment leaves one intact)
 *   policy/          the final policy as a Hugging Face directory */
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
    int stopped;              /* stopped early at sea_train_request_stop, checkpointed: resumable */
} sea_train_result;

void sea_train_result_free(sea_train_result *r);

/* Ask a running sea_train_run to stop: it finishes the round in progress, checkpoints it,
 * writes summary.json and returns with res->stopped set (no final policy: the run is not
 * over; --resume continues it). Async-signal-safe: `sea train` calls it on SIGINT / SIGTERM
 * (a scheduler's time limit). A run of several processes ignores it: every rank would have
 * to agree on the round to stop at. */
void sea_train_request_stop(void);

/* Run (or, with cfg->resume set, continue) a training run. */
sea_status sea_train_run(const sea_train_cfg *cfg, sea_train_result *res);

#endif
