/* sea generate: sample continuations of a prompt from a model (HF directory or GGUF). */
#include <float.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_number.h"
#include "commands.h"
#include "model_cli.h"
#include "models/generate.h"
#include "models/hf_config.h"
#include "runtime/backend.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sea generate --model DIR|FILE.gguf (--prompt TEXT | --prompt-ids 1,2,3)\n"
            "                    [--max-new-tokens N] [--greedy | --temperature T --top-p P --top-k K]\n"
            "                    [--seed S] [--batch N] [--no-eos] [--device SPEC] [--dtype f32|bf16] [--json]\n"
            "                    [--max-batch N] [--prefill-each]\n"
            "  --batch N        N samples of the prompt (sequence ids 0..N-1), decoded together as far\n"
            "                   as memory allows (a batch that does not fit is redone in halves)\n"
            "  --max-batch N    decode at most N samples at a time\n"
            "  --prefill-each   run the prompt pass once per sample (normally once for all: the\n"
            "                   same tokens; for comparison)\n"
            "  --no-eos         do not stop at the end-of-sequence token\n"
            "Defaults: 32 new tokens, temperature 1, top-p 1, top-k 0 (all), seed 0.\n");
}

#define G "sea generate"

static bool need(int i, int argc, const char *opt)
{
    if (i + 1 >= argc) {
        fprintf(stderr, "sea generate: %s needs a value\n", opt);
        return false;
    }
    return true;
}

int sea_cmd_generate(int argc, char **argv)
{
    const char *model = NULL, *prompt = NULL, *prompt_ids = NULL, *device = NULL, *dtype = NULL;
    sea_gen_params p = sea_gen_params_default();
    int batch = 1;
    bool json = false, no_eos = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--json")) json = true;
        else if (!strcmp(a, "--greedy")) p.greedy = true;
        else if (!strcmp(a, "--no-eos")) no_eos = true;
        else if (!strcmp(a, "--prefill-each")) p.prefill_each = true;
        else if (!strcmp(a, "--max-batch") && need(i, argc, a)) { if (!cli_int(G, a, argv[++i], 0, INT32_MAX, &p.max_batch)) return 2; }
        else if (!strcmp(a, "--model") && need(i, argc, a)) model = argv[++i];
        else if (!strcmp(a, "--prompt") && need(i, argc, a)) prompt = argv[++i];
        else if (!strcmp(a, "--prompt-ids") && need(i, argc, a)) prompt_ids = argv[++i];
        else if (!strcmp(a, "--device") && need(i, argc, a)) device = argv[++i];
        else if (!strcmp(a, "--dtype") && need(i, argc, a)) dtype = argv[++i];
        else if (!strcmp(a, "--max-new-tokens") && need(i, argc, a)) { if (!cli_int(G, a, argv[++i], 1, INT32_MAX, &p.max_new_tokens)) return 2; }
        else if (!strcmp(a, "--temperature") && need(i, argc, a)) { if (!cli_float(G, a, argv[++i], 0, DBL_MAX, &p.temperature)) return 2; }
        else if (!strcmp(a, "--top-p") && need(i, argc, a)) { if (!cli_float(G, a, argv[++i], 0, 1, &p.top_p)) return 2; }
        else if (!strcmp(a, "--top-k") && need(i, argc, a)) { if (!cli_int(G, a, argv[++i], 0, INT32_MAX, &p.top_k)) return 2; }
        else if (!strcmp(a, "--seed") && need(i, argc, a)) { if (!cli_u64(G, a, argv[++i], &p.seed)) return 2; }
        else if (!strcmp(a, "--batch") && need(i, argc, a)) { if (!cli_int(G, a, argv[++i], 1, INT32_MAX, &batch)) return 2; }
        else {
            if (i + 1 < argc || strncmp(a, "--", 2)) fprintf(stderr, "sea generate: unknown option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (!model || (!prompt == !prompt_ids)) {
        fprintf(stderr, "sea generate: --model and exactly one of --prompt / --prompt-ids are required\n\n");
        usage(stderr);
        return 2;
    }
    if (!(p.top_p > 0)) {   /* the other bounds are the parsers' (cli_number.h) */
        fprintf(stderr, "sea generate: --top-p %g: need 0 < --top-p <= 1\n", p.top_p);
        return 2;
    }
    model_cli c;
    if (!model_cli_open(&c, "generate", model, device, json)) return 1;
    if (!model_cli_set_dtype(&c, "generate", dtype)) {
        model_cli_close(&c);
        return 1;
    }
    int32_t *ids = NULL;
    int n = 0;
    bool ok = prompt_ids ? model_cli_parse_ids("generate", prompt_ids, &ids, &n)
                         : model_cli_encode(&c, "generate", prompt, true, &ids, &n);
    if (ok && n == 0) {
        fprintf(stderr, "sea generate: the prompt encodes to no tokens\n");
        ok = false;
    }
    if (!ok) {
        model_cli_close(&c);
        return prompt_ids ? 2 : 1;
    }
    {
        /* as transformers does: past the trained positions the output is extrapolation */
        int64_t positions = sea_model_config(c.model)->max_position_embeddings;
        if ((int64_t)n + p.max_new_tokens > positions)
            fprintf(stderr, "sea generate: warning: %d prompt tokens + %d new ones exceed the model's %lld positions "
                            "(max_position_embeddings)\n", n, p.max_new_tokens, (long long)positions);
    }
    if (!no_eos) {
        const sea_hf_config *cfg = sea_model_config(c.model);
        for (int k = 0; k < cfg->n_eos && p.n_eos < SEA_GEN_MAX_EOS; k++) p.eos_ids[p.n_eos++] = cfg->eos_token_ids[k];
        int32_t te = c.tok ? sea_tokenizer_eos_id(c.tok) : -1;
        bool have = false;
        for (int k = 0; k < p.n_eos; k++) have = have || p.eos_ids[k] == te;
        if (te >= 0 && !have && p.n_eos < SEA_GEN_MAX_EOS) p.eos_ids[p.n_eos++] = te;
    }
    const int32_t **prompts = malloc((size_t)batch * sizeof *prompts);
    int *lens = malloc((size_t)batch * sizeof *lens);
    sea_gen_output out;
    memset(&out, 0, sizeof out);
    int rc = 0;
    if (!prompts || !lens || sea_gen_output_alloc(batch, p.max_new_tokens, &out)) {
        fprintf(stderr, "sea generate: out of memory\n");
        rc = 1;
    }
    double secs = 0;
    if (!rc) {
        for (int b = 0; b < batch; b++) {
            prompts[b] = ids;
            lens[b] = n;
        }
        sea_stream *s = sea_device_stream(c.dev);
        double t0 = model_cli_now();
        if (sea_generate(c.model, s, &p, (const int32_t *const *)prompts, lens, batch, NULL, &out)) {
            fprintf(stderr, "sea generate: %s\n", sea_last_error());
            rc = 1;
        }
        secs = model_cli_now() - t0;
    }
    if (!rc) {
        long total = 0;
        for (int b = 0; b < batch; b++) total += out.lengths[b];
        if (json) {
            printf("{\"model\": ");
            model_cli_json_string(stdout, model);
            printf(", \"device\": ");
            model_cli_json_string(stdout, sea_device_label(c.dev));
            printf(", \"prompt_ids\": [");
            for (int k = 0; k < n; k++) printf("%s%d", k ? ", " : "", ids[k]);
            printf("], \"samples\": [");
        }
        for (int b = 0; b < batch; b++) {
            const int32_t *t = &out.tokens[(size_t)b * out.max_new];
            const float *lp = &out.logp[(size_t)b * out.max_new];
            char *text = model_cli_decode(&c, t, out.lengths[b]);
            double sum = 0;
            for (int k = 0; k < out.lengths[b]; k++) sum += lp[k];
            if (json) {
                printf("%s{\"ids\": [", b ? ", " : "");
                for (int k = 0; k < out.lengths[b]; k++) printf("%s%d", k ? ", " : "", t[k]);
                printf("], \"logp\": [");
                for (int k = 0; k < out.lengths[b]; k++) printf("%s%.6g", k ? ", " : "", lp[k]);
                printf("], \"logp_sum\": %.6g, \"finished\": %s, \"text\": ", sum, out.finished[b] ? "true" : "false");
                if (text) model_cli_json_string(stdout, text);
                else printf("null");
                printf("}");
            } else {
                printf("[%d] ", b);
                if (text) printf("%s\n    ", text);
                printf("ids:");
                for (int k = 0; k < out.lengths[b]; k++) printf(" %d", t[k]);
                printf("  (%d tokens, logp %.4f%s)\n", out.lengths[b], sum, out.finished[b] ? ", eos" : "");
            }
            free(text);
        }
        if (json)
            printf("], \"prompt_passes\": %d, \"seconds\": %.6f, \"new_tokens\": %ld, \"new_tokens_per_s\": %.2f}\n",
                   out.prompts_prefilled, secs, total, secs > 0 ? (double)total / secs : 0.0);
        else
            fprintf(stderr, "%ld new tokens in %.3f s (%.1f tokens/s) on %s\n", total, secs,
                    secs > 0 ? (double)total / secs : 0.0, sea_device_label(c.dev));
    }
    sea_gen_output_free(&out);
    free(prompts);
    free(lens);
    free(ids);
    model_cli_close(&c);
    return rc;
}
