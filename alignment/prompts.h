/* Prompt sources and the text <-> token codec of a run.
 *
 * A run's prompts come from the built-in task ("builtin:arith": its train split, its held-out
 * split for evaluation) or from JSONL files (--prompt-data / --eval-data with --input-key and
 * --output-key; the prompt field may be a string or TRL's chat form, whose message contents are
 * joined with newlines). The codec is the built-in character vocabulary or the policy's
 * tokenizer.json. Prompts are tokenized once; token ids are what the loop carries. */
#ifndef SEA_ALIGNMENT_PROMPTS_H
#define SEA_ALIGNMENT_PROMPTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/status.h"

struct sea_tokenizer;

typedef struct sea_codec {
    struct sea_tokenizer *tok;   /* NULL = the built-in task's character vocabulary */
    int32_t eos;                 /* end token, -1 if none */
    int32_t pad;                 /* id used for padding rows (masked anyway) */
} sea_codec;

sea_status sea_codec_open(sea_codec *c, const char *policy_dir, bool builtin);
void sea_codec_free(sea_codec *c);
/* ids malloc'ed; *n >= 1 required for prompts (an empty prompt is an error naming it). */
sea_status sea_codec_encode(const sea_codec *c, const char *text, int32_t **ids, int *n);
/* Decode response tokens (special tokens dropped) into a malloc'ed string. */
sea_status sea_codec_decode(const sea_codec *c, const int32_t *ids, int n, char **text);

typedef struct sea_prompt {
    char *text;
    int32_t *ids;
    int n_ids;
    char *reference;   /* reference response text for win rate, or NULL */
} sea_prompt;

typedef struct sea_prompt_set {
    sea_prompt *items;
    int n;
} sea_prompt_set;

/* One JSONL line (line[0, n)) of a prompt file: the prompt (input_key: a string, or a chat
 * message list whose contents are joined with newlines) and, with an output_key, the reference
 * response, both malloc'ed (*ref NULL without one). Errors name `where` (file:line) and the
 * field. Takes any bytes. */
sea_status sea_prompt_parse_line(const char *line, size_t n, const char *input_key, const char *output_key,
                                 const char *where, char **text, char **ref);

/* spec "builtin:arith" (split: train or held-out) or a JSONL path. */
sea_status sea_prompt_set_load(sea_prompt_set *ps, const char *spec, bool heldout, const char *input_key,
                               const char *output_key, const sea_codec *codec);
void sea_prompt_set_free(sea_prompt_set *ps);
/* Prompts longer than max_ids tokens keep their last max_ids (the end of a prompt is what the
 * response follows; TRL's "keep_end"); their text, which the oracle reads, stays whole.
 * Returns how many were cut. */
int sea_prompt_set_keep_last(sea_prompt_set *ps, int max_ids);

#endif
