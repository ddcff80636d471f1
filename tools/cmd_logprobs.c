/* sea logprobs: per-token log-probabilities of a text (or ids) under a model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_number.h"
#include "commands.h"
#include "model_cli.h"
#include "runtime/backend.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sea logprobs --model DIR|FILE.gguf (--text TEXT | --ids 1,2,3) [--prompt-len N]\n"
            "                    [--no-special] [--device SPEC] [--dtype f32|bf16] [--json]\n"
            "  Token t's logp is log p(token t | tokens before it); the first token has none.\n"
            "  --prompt-len N  sum/mean only over tokens N.. (the response), as the learner does\n"
            "  --no-special    do not add the tokenizer's special tokens (BOS) to --text\n");
}

int sea_cmd_logprobs(int argc, char **argv)
{
    const char *model = NULL, *text = NULL, *ids_s = NULL, *device = NULL, *dtype = NULL;
    bool json = false, special = true;
    int prompt_len = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--no-special")) special = false;
        else if (!strcmp(a, "--model") && has) model = argv[++i];
        else if (!strcmp(a, "--text") && has) text = argv[++i];
        else if (!strcmp(a, "--ids") && has) ids_s = argv[++i];
        else if (!strcmp(a, "--device") && has) device = argv[++i];
        else if (!strcmp(a, "--dtype") && has) dtype = argv[++i];
        else if (!strcmp(a, "--prompt-len") && has) { if (!cli_int("sea logprobs", a, argv[++i], 0, INT32_MAX, &prompt_len)) return 2; }
        else {
            fprintf(stderr, "sea logprobs: unknown option or missing value '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model || (!text == !ids_s)) {
        fprintf(stderr, "sea logprobs: --model and exactly one of --text / --ids are required\n\n");
        usage(stderr);
        return 2;
    }
    model_cli c;
    if (!model_cli_open(&c, "logprobs", model, device, json)) return 1;
    if (!model_cli_set_dtype(&c, "logprobs", dtype)) {
        model_cli_close(&c);
        return 1;
    }
    int32_t *ids = NULL;
    int n = 0;
    bool ok = ids_s ? model_cli_parse_ids("logprobs", ids_s, &ids, &n)
                    : model_cli_encode(&c, "logprobs", text, special, &ids, &n);
    if (ok && n < 2) {
        fprintf(stderr, "sea logprobs: need at least 2 tokens (got %d)\n", n);
        ok = false;
    }
    if (!ok) {
        free(ids);
        model_cli_close(&c);
        return 1;
    }
    if (prompt_len < 1) prompt_len = 1;
    float *tl = malloc((size_t)n * sizeof *tl), *mask = calloc((size_t)n, sizeof *mask), sum = 0, mean = 0;
    for (int t = prompt_len; t < n; t++) mask[t] = 1;
    sea_stream *s = sea_device_stream(c.dev);
    int rc = 0;
    if (sea_model_forward_logprobs(c.model, s, ids, NULL, mask, 1, n, false, &sum, &mean, tl)) {
        fprintf(stderr, "sea logprobs: %s\n", sea_last_error());
        rc = 1;
    }
    if (!rc && json) {
        printf("{\"model\": ");
        model_cli_json_string(stdout, model);
        printf(", \"ids\": [");
        for (int t = 0; t < n; t++) printf("%s%d", t ? ", " : "", ids[t]);
        printf("], \"tokens\": [");
        for (int t = 0; t < n; t++) {
            const char *tok = c.tok ? sea_tokenizer_id_to_token(c.tok, ids[t]) : NULL;
            printf("%s", t ? ", " : "");
            if (tok) model_cli_json_string(stdout, tok);
            else printf("null");
        }
        printf("], \"logp\": [null");
        for (int t = 1; t < n; t++) printf(", %.7g", tl[t]);
        printf("], \"prompt_len\": %d, \"sum\": %.7g, \"mean\": %.7g}\n", prompt_len, sum, mean);
    } else if (!rc) {
        printf("%6s %8s  %-20s %s\n", "pos", "id", "token", "logp");
        for (int t = 0; t < n; t++) {
            const char *tok = c.tok ? sea_tokenizer_id_to_token(c.tok, ids[t]) : NULL;
            if (t == 0) printf("%6d %8d  %-20s %s\n", t, ids[t], tok ? tok : "", "-");
            else printf("%6d %8d  %-20s %.4f\n", t, ids[t], tok ? tok : "", tl[t]);
        }
        printf("sum over tokens %d..%d: %.4f  mean: %.4f\n", prompt_len, n - 1, sum, mean);
    }
    free(tl);
    free(mask);
    free(ids);
    model_cli_close(&c);
    return rc;
}
