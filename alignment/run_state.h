/* state.json of a run's checkpoint: the counters and the evaluation history the next round
 * depends on (the tensors are in the checkpoint's binary files, loop_ckpt.c).
 *
 * sea_run_state_format writes it; sea_run_state_parse reads any bytes back. A truncated,
 * hand-edited or corrupted file is an error that names the field and what it holds, never a
 * crash or a counter out of range (a negative data position would index past the prompt
 * permutation). Fuzzed by alignment/fuzz/fuzz_run_files.c. */
#ifndef SEA_ALIGNMENT_RUN_STATE_H
#define SEA_ALIGNMENT_RUN_STATE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/rng.h"
#include "runtime/status.h"

/* The host-side RNG streams of a run, each saved as (seed, stream, counter). */
enum { SEA_RUN_RNG_DATA = 0, SEA_RUN_RNG_SELECT, SEA_RUN_RNG_MIXED, SEA_RUN_RNG_LABEL, SEA_RUN_RNG_ERM, SEA_RUN_RNGS };

typedef struct sea_run_state {
    int round;                  /* rounds finished */
    int64_t queries;            /* oracle queries so far */
    int epoch, pos;             /* pass over the train prompts, and the position in its permutation */
    int zero_query_rounds;      /* rounds in a row that asked the oracle nothing */
    double last_win_rate;       /* in [0, 1] */
    int64_t metrics_offset;     /* bytes of metrics.jsonl the checkpoint covers */
    sea_rng rng[SEA_RUN_RNGS];
    int n_evals;
    int64_t *eval_q;            /* (n_evals) oracle queries at each evaluation */
    double *eval_wr;            /* (n_evals) win rate at each evaluation, in [0, 1] */
} sea_run_state;

/* The JSON text of st, malloc'ed; NULL when out of memory. */
char *sea_run_state_format(const sea_run_state *st);
/* text[0, n) (need not be NUL-terminated) into *st, whose eval arrays are malloc'ed (free with
 * sea_run_state_free). Messages start with `where` (the file; NULL when the caller adds it).
 * On error *st holds nothing. */
sea_status sea_run_state_parse(const char *text, size_t n, const char *where, sea_run_state *st);
void sea_run_state_free(sea_run_state *st);

#endif
