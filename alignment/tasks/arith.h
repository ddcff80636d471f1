/* The built-in task: addition with a graded rule oracle (SEA.md §10).
 *
 * Prompt "a+b=" (a in [0, max_a), b in [0, max_b)), response: the decimal sum, then the end
 * token. The rule scores a response by closeness to the true sum:
 *     s = −min(|y − (a+b)|, 9)        for a well-formed answer (1–4 digits, nothing else)
 *     s = −12                         for anything malformed (empty, stray characters, too long)
 * so BT preferences between two answers carry graded information (closer wins).
 *
 * The vocabulary is character-level, 16 ids: 0 "<|endoftext|>" (end, pad, start), 1..10 the
 * digits, 11 '+', 12 '=', 13 '-', 14 ' ', 15 '*'. sea_arith_write_tokenizer writes the same
 * vocabulary as a Hugging Face tokenizer.json (BPE without merges, Fuse decoder), so the
 * generic tools read the committed policy like any other model.
 *
 * Prompts are split deterministically: (a, b) is held out when a hash of (a, b) mod 10 == 0.
 * The SFT corpus is deliberately imperfect (a biased answer distribution, see arith.c), so
 * the SFT policy's greedy answers are often off by one and alignment has headroom. */
#ifndef SEA_ALIGNMENT_TASKS_ARITH_H
#define SEA_ALIGNMENT_TASKS_ARITH_H

#include <stdbool.h>
#include <stdint.h>

#include "runtime/rng.h"
#include "runtime/status.h"

#define SEA_ARITH_VOCAB 16
#define SEA_ARITH_EOS 0
#define SEA_ARITH_MAX_PROMPT 12
#define SEA_ARITH_PROMPT_BUF 24   /* bytes of one prompt string, NUL included */
#define SEA_ARITH_MAX_ANSWER 5   /* tokens the policy may generate (4 digits + end) */

typedef struct sea_arith_task {
    int max_a, max_b;
} sea_arith_task;

sea_arith_task sea_arith_default(void);

/* Character codec of the task's vocabulary. encode returns the count, or -1 for a character
 * outside the vocabulary; decode skips the end token and writes a NUL-terminated string. */
int sea_arith_encode(const char *text, int32_t *ids, int max_ids);
void sea_arith_decode(const int32_t *ids, int n, char *text, int max_text);

/* Score of a response text to a prompt text ("a+b="); malformed prompts are SEA_ERR_INVALID. */
sea_status sea_arith_score(const char *prompt, const char *response, double *score);

/* The split: all (a, b) with a < max_a, b < max_b, in a fixed order; train or held-out.
 * Returns the count; prompts (if non-NULL) receive "a+b=" strings. */
bool sea_arith_is_heldout(int a, int b);
int sea_arith_prompts(const sea_arith_task *t, bool heldout, char (*prompts)[SEA_ARITH_PROMPT_BUF], int max);

/* One SFT answer for (a, b) from the imperfect teacher: the true sum shifted by a draw of
 * δ ∈ {0: 0.20, +1: 0.50, −1: 0.10, +2: 0.10, −2: 0.05, +10: 0.05}, floored at 0. */
int sea_arith_teacher_answer(int a, int b, sea_rng *rng);

/* A tokenizer.json for the vocabulary (plus tokenizer_config.json naming the end token). */
sea_status sea_arith_write_tokenizer(const char *dir);

#endif
