/* sea score: reward-model score of (prompt, response) with a *ForSequenceClassification model. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "commands.h"
#include "model_cli.h"
#include "models/hf_config.h"
#include "runtime/backend.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sea score --model RM_DIR (--prompt TEXT --response TEXT | --ids 1,2,3)\n"
            "                 [--device SPEC] [--dtype f32|bf16] [--json]\n"
            "  The prompt is encoded with the tokenizer's special tokens, the response without,\n"
            "  and the two id lists are concatenated; the score head reads the last token.\n");
}

int sea_cmd_score(int argc, char **argv)
{
    const char *model = NULL, *prompt = NULL, *response = NULL, *ids_s = NULL, *device = NULL, *dtype = NULL;
    bool json = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has = i + 1 < argc;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--model") && has) model = argv[++i];
        else if (!strcmp(a, "--prompt") && has) prompt = argv[++i];
        else if (!strcmp(a, "--response") && has) response = argv[++i];
        else if (!strcmp(a, "--ids") && has) ids_s = argv[++i];
        else if (!strcmp(a, "--device") && has) device = argv[++i];
        else if (!strcmp(a, "--dtype") && has) dtype = argv[++i];
        else {
            fprintf(stderr, "sea score: unknown option or missing value '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model || (!ids_s && (!prompt || !response)) || (ids_s && (prompt || response))) {
        fprintf(stderr, "sea score: --model and either --prompt with --response, or --ids, are required\n\n");
        usage(stderr);
        return 2;
    }
    model_cli c;
    if (!model_cli_open(&c, "score", model, device, json)) return 1;
    if (!model_cli_set_dtype(&c, "score", dtype)) {
        model_cli_close(&c);
        return 1;
    }
    if (!sea_model_is_classifier(c.model)) {
        fprintf(stderr, "sea score: %s is not a reward model (architecture '%s'; a *ForSequenceClassification "
                        "model with score.weight is needed)\n", model, sea_model_config(c.model)->architecture);
        model_cli_close(&c);
        return 1;
    }
    int32_t *ids = NULL, *pi = NULL, *ri = NULL;
    int n = 0, np = 0, nr = 0;
    bool ok;
    if (ids_s) {
        ok = model_cli_parse_ids("score", ids_s, &ids, &n);
    } else {
        ok = model_cli_encode(&c, "score", prompt, true, &pi, &np) &&
             model_cli_encode(&c, "score", response, false, &ri, &nr);
        if (ok) {
            n = np + nr;
            ids = malloc((size_t)(n ? n : 1) * sizeof *ids);
            if (np) memcpy(ids, pi, (size_t)np * sizeof *ids);
            if (nr) memcpy(ids + np, ri, (size_t)nr * sizeof *ids);
        }
    }
    if (ok && n == 0) {
        fprintf(stderr, "sea score: nothing to score (no tokens)\n");
        ok = false;
    }
    int rc = ok ? 0 : 1;
    int L = sea_model_num_labels(c.model);
    float *sc = malloc((size_t)L * sizeof *sc);
    if (!rc && sea_model_score(c.model, sea_device_stream(c.dev), ids, NULL, 1, n, sc)) {
        fprintf(stderr, "sea score: %s\n", sea_last_error());
        rc = 1;
    }
    if (!rc) {
        if (json) {
            printf("{\"model\": ");
            model_cli_json_string(stdout, model);
            printf(", \"n_tokens\": %d, \"score\": [", n);
            for (int k = 0; k < L; k++) printf("%s%.7g", k ? ", " : "", sc[k]);
            printf("]}\n");
        } else {
            for (int k = 0; k < L; k++) printf("%s%.6f", k ? " " : "", sc[k]);
            printf("\n");
        }
    }
    free(sc);
    free(ids);
    free(pi);
    free(ri);
    model_cli_close(&c);
    return rc;
}
