#include "alignment/tasks/arith.h"

#include "models/json_util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char vocab_chars[SEA_ARITH_VOCAB] = {0, '0', '1', '2', '3', '4', '5', '6', '7', '8', '9', '+', '=', '-', ' ', '*'};

sea_arith_task sea_arith_default(void)
{
    sea_arith_task t = {.max_a = 50, .max_b = 50};
    return t;
}

int sea_arith_encode(const char *text, int32_t *ids, int max_ids)
{
    int n = 0;
    for (const char *c = text; *c; c++) {
        int id = -1;
        for (int v = 1; v < SEA_ARITH_VOCAB; v++)
            if (vocab_chars[v] == *c) id = v;
        if (id < 0 || n >= max_ids) return -1;
        ids[n++] = id;
    }
    return n;
}

void sea_arith_decode(const int32_t *ids, int n, char *text, int max_text)
{
    int o = 0;
    for (int i = 0; i < n && o < max_text - 1; i++) {
        if (ids[i] <= 0 || ids[i] >= SEA_ARITH_VOCAB) continue;   /* end token, padding */
        text[o++] = vocab_chars[ids[i]];
    }
    text[o] = '\0';
}

static int parse_prompt(const char *p, int *a, int *b)
{
    char *end;
    errno = 0;
    long x = strtol(p, &end, 10);
    if (end == p || *end != '+' || errno) return -1;
    const char *q = end + 1;
    long y = strtol(q, &end, 10);
    if (end == q || strcmp(end, "=") || errno || x < 0 || y < 0 || x > 100000 || y > 100000) return -1;
    *a = (int)x;
    *b = (int)y;
    return 0;
}

sea_status sea_arith_score(const char *prompt, const char *response, double *score)
{
    int a, b;
    if (parse_prompt(prompt, &a, &b))
        return sea_error(SEA_ERR_INVALID, "builtin:arith oracle: prompt '%.40s' is not of the form 'a+b='", prompt);
    size_t n = strlen(response);
    bool ok = n >= 1 && n <= 4;
    for (size_t i = 0; i < n && ok; i++) ok = response[i] >= '0' && response[i] <= '9';
    if (!ok) {
        *score = -12.0;
        return SEA_OK;
    }
    long y = strtol(response, NULL, 10);
    long err = labs(y - (long)(a + b));
    *score = -(double)(err < 9 ? err : 9);
    return SEA_OK;
}

bool sea_arith_is_heldout(int a, int b)
{
    uint32_t h = (uint32_t)a * 2654435761u ^ (uint32_t)b * 40503u;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    return h % 10 == 0;
}

int sea_arith_prompts(const sea_arith_task *t, bool heldout, char (*prompts)[SEA_ARITH_PROMPT_BUF], int max)
{
    int n = 0;
    for (int a = 0; a < t->max_a; a++)
        for (int b = 0; b < t->max_b; b++) {
            if (sea_arith_is_heldout(a, b) != heldout) continue;
            if (prompts && n < max) snprintf(prompts[n], SEA_ARITH_PROMPT_BUF, "%d+%d=", a, b);
            n++;
        }
    return n;
}

int sea_arith_teacher_answer(int a, int b, sea_rng *rng)
{
    double u = sea_rng_next_uniform(rng);
    int d = u < 0.20 ? 0 : u < 0.70 ? 1 : u < 0.80 ? -1 : u < 0.90 ? 2 : u < 0.95 ? -2 : 10;
    int y = a + b + d;
    return y < 0 ? 0 : y;
}

sea_status sea_arith_write_tokenizer(const char *dir)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/tokenizer.json", dir);
    sea_atomic_file af;
    SEA_TRY(sea_atomic_open(path, &af));
    FILE *f = af.fp;
    fprintf(f, "{\n  \"version\": \"1.0\",\n  \"truncation\": null,\n  \"padding\": null,\n"
               "  \"added_tokens\": [{\"id\": 0, \"content\": \"<|endoftext|>\", \"single_word\": false, "
               "\"lstrip\": false, \"rstrip\": false, \"normalized\": false, \"special\": true}],\n"
               "  \"normalizer\": null,\n  \"pre_tokenizer\": null,\n  \"post_processor\": null,\n"
               "  \"decoder\": {\"type\": \"Fuse\"},\n"
               "  \"model\": {\"type\": \"BPE\", \"dropout\": null, \"unk_token\": null, "
               "\"continuing_subword_prefix\": null, \"end_of_word_suffix\": null, \"fuse_unk\": false, "
               "\"byte_fallback\": false, \"ignore_merges\": false,\n    \"vocab\": {\"<|endoftext|>\": 0");
    for (int v = 1; v < SEA_ARITH_VOCAB; v++) fprintf(f, ", \"%c\": %d", vocab_chars[v], v);
    fprintf(f, "},\n    \"merges\": []\n  }\n}\n");
    SEA_TRY(sea_atomic_commit(&af));
    snprintf(path, sizeof path, "%s/tokenizer_config.json", dir);
    SEA_TRY(sea_atomic_open(path, &af));
    f = af.fp;
    fprintf(f, "{\"bos_token\": \"<|endoftext|>\", \"eos_token\": \"<|endoftext|>\", "
               "\"pad_token\": \"<|endoftext|>\", \"model_max_length\": 32, "
               "\"tokenizer_class\": \"PreTrainedTokenizerFast\"}\n");
    return sea_atomic_commit(&af);
}
