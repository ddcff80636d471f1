/* The model commands end to end: run the `sea` binary with --json and compare with the
 * transformers references of the fixtures (tokenized text's log-probs, greedy continuation,
 * reward score), plus usage errors.
 *
 * usage: test_model_cli SEA_EXE FIXTURE_DIR [DEVICE] */
#include <cjson/cJSON.h>
#include <sys/wait.h>

#include "test_model_util.h"

static const char *g_sea, *g_dir, *g_devspec;

/* Run a command, capture stdout (malloc'ed), return the exit status. */
static int run(const char *args, char **out)
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "'%s' %s --device %s 2>/dev/null", g_sea, args, g_devspec);
    FILE *p = popen(cmd, "r");
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap);
    size_t k;
    while ((k = fread(buf + n, 1, cap - n - 1, p)) > 0) {
        n += k;
        if (n + 1 == cap) buf = realloc(buf, cap *= 2);
    }
    buf[n] = 0;
    int st = pclose(p);
    *out = buf;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static cJSON *run_json(const char *args)
{
    char *out;
    int rc = run(args, &out);
    CHECK(rc == 0, "sea %s exited %d", args, rc);
    cJSON *j = cJSON_Parse(out);
    CHECK(j != NULL, "sea %s: output is not JSON: %.200s", args, out);
    free(out);
    return j;
}

static sea_safetensors *open_ref(const char *model)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/ref.safetensors", g_dir, model);
    sea_safetensors *f;
    if (sea_safetensors_open(path, &f)) {
        fprintf(stderr, "%s\n", sea_last_error());
        exit(1);
    }
    return f;
}

static void test_logprobs(void)
{
    sea_safetensors *ref = open_ref("neox_par");
    int64_t n;
    int32_t *ids = ref_i32(ref, "cli.text_ids", &n);
    float *lp = ref_f32(ref, "cli.text_logp", NULL);
    char path[1024], text[256] = "";
    snprintf(path, sizeof path, "%s/neox_par/cli_text.txt", g_dir);
    FILE *f = fopen(path, "r");
    if (!f || !fgets(text, sizeof text, f)) {
        fprintf(stderr, "cannot read %s\n", path);
        exit(1);
    }
    fclose(f);
    char args[2048];
    snprintf(args, sizeof args, "logprobs --model '%s/neox_par' --text '%s' --json", g_dir, text);
    cJSON *j = run_json(args);
    if (j) {
        cJSON *jids = cJSON_GetObjectItem(j, "ids"), *jlp = cJSON_GetObjectItem(j, "logp");
        CHECK(cJSON_GetArraySize(jids) == n, "tokenized to %d ids, transformers %lld", cJSON_GetArraySize(jids),
              (long long)n);
        int bad = 0;
        double md = 0;
        for (int i = 0; i < n && i < cJSON_GetArraySize(jids); i++) {
            bad += cJSON_GetArrayItem(jids, i)->valueint != ids[i];
            if (i > 0) {
                double d = fabs(cJSON_GetArrayItem(jlp, i)->valuedouble - lp[i]);
                if (!(d <= md)) md = d;
            }
        }
        CHECK(bad == 0, "%d token ids differ from transformers' tokenizer", bad);
        CHECK(md < 1e-4, "logprobs differ from transformers by %.3e", md);
        printf("sea logprobs --text: %lld tokens match HF, logp max err %.2e\n", (long long)n, md);
        cJSON_Delete(j);
    }
    free(ids);
    free(lp);
    sea_safetensors_close(ref);
}

static void test_generate(void)
{
    sea_safetensors *ref = open_ref("llama_sharded");
    int64_t np, nn;
    int32_t *prompt = ref_i32(ref, "greedy.prompt0", &np), *want = ref_i32(ref, "greedy.out0", &nn);
    char ids[512] = "", args[2048];
    for (int i = 0; i < np; i++) snprintf(ids + strlen(ids), sizeof ids - strlen(ids), "%s%d", i ? "," : "", prompt[i]);
    snprintf(args, sizeof args, "generate --model '%s/llama_sharded' --prompt-ids %s --greedy --no-eos "
             "--max-new-tokens %lld --batch 2 --json", g_dir, ids, (long long)nn);
    cJSON *j = run_json(args);
    if (j) {
        cJSON *samples = cJSON_GetObjectItem(j, "samples");
        CHECK(cJSON_GetArraySize(samples) == 2, "--batch 2 gave %d samples", cJSON_GetArraySize(samples));
        for (int b = 0; b < cJSON_GetArraySize(samples); b++) {
            cJSON *out = cJSON_GetObjectItem(cJSON_GetArrayItem(samples, b), "ids");
            int match = 0;
            for (int k = 0; k < nn && k < cJSON_GetArraySize(out); k++) match += cJSON_GetArrayItem(out, k)->valueint == want[k];
            CHECK(match == nn, "sea generate --greedy sample %d: %d of %lld tokens match transformers", b, match,
                  (long long)nn);
        }
        printf("sea generate --greedy --batch 2: matches transformers\n");
        cJSON_Delete(j);
    }
    /* Seeded sampling is reproducible across runs. */
    snprintf(args, sizeof args, "generate --model '%s/neox_par' --prompt 'hello sea' --temperature 0.8 --top-p 0.9 --no-eos "
             "--seed 5 --max-new-tokens 6 --json", g_dir);
    char *o1, *o2;
    int r1 = run(args, &o1), r2 = run(args, &o2);
    cJSON *a = cJSON_Parse(o1), *b = cJSON_Parse(o2);
    CHECK(r1 == 0 && r2 == 0 && a && b, "sampling runs failed (%d, %d)", r1, r2);
    if (a && b) {
        char *ia = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "samples"), 0), "ids"));
        char *ib = cJSON_PrintUnformatted(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "samples"), 0), "ids"));
        CHECK(ia && ib && !strcmp(ia, ib), "same seed, different samples: %s vs %s", ia, ib);
        cJSON *text = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "samples"), 0), "text");
        CHECK(cJSON_IsString(text), "sample has no decoded text");
        printf("sea generate --prompt: reproducible (%s -> \"%s\")\n", ia, cJSON_IsString(text) ? text->valuestring : "");
        free(ia);
        free(ib);
    }
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(o1);
    free(o2);
    /* --batch 5: one prompt pass for the 5 samples; --max-batch 2 --prefill-each: batches of
     * 2, 2 and 1 with a pass per sample. The same samples, bit for bit on the CPU. */
    snprintf(args, sizeof args, "generate --model '%s/neox_par' --prompt 'hello sea' --temperature 0.8 --no-eos "
             "--seed 9 --max-new-tokens 5 --batch 5 --json", g_dir);
    cJSON *shared = run_json(args);
    snprintf(args, sizeof args, "generate --model '%s/neox_par' --prompt 'hello sea' --temperature 0.8 --no-eos "
             "--seed 9 --max-new-tokens 5 --batch 5 --max-batch 2 --prefill-each --json", g_dir);
    cJSON *each = run_json(args);
    if (shared && each) {
        char *ss = cJSON_PrintUnformatted(cJSON_GetObjectItem(shared, "samples"));
        char *se = cJSON_PrintUnformatted(cJSON_GetObjectItem(each, "samples"));
        int ps = cJSON_GetObjectItem(shared, "prompt_passes") ? cJSON_GetObjectItem(shared, "prompt_passes")->valueint : -1;
        int pe = cJSON_GetObjectItem(each, "prompt_passes") ? cJSON_GetObjectItem(each, "prompt_passes")->valueint : -1;
        CHECK(ss && se && !strcmp(ss, se), "--batch 5 shared vs --max-batch 2 --prefill-each: different samples");
        CHECK(ps == 1 && pe == 5, "prompt_passes %d (shared, want 1) and %d (each, want 5)", ps, pe);
        printf("sea generate --batch 5: one prompt pass, the same samples as 5 passes in batches of 2\n");
        free(ss);
        free(se);
    }
    cJSON_Delete(shared);
    cJSON_Delete(each);
    free(prompt);
    free(want);
    sea_safetensors_close(ref);
}

static void test_score(void)
{
    sea_safetensors *ref = open_ref("neox_rm");
    int64_t n;
    int32_t *ids = ref_i32(ref, "ids", NULL), *kv = ref_i32(ref, "key_valid", NULL);
    float *score = ref_f32(ref, "score", &n);
    const sea_st_tensor *t = sea_safetensors_find(ref, "ids");
    int T = (int)t->shape[1];
    for (int i = 0; i < T; i++) CHECK(kv[i], "row 0 of the RM batch is expected unpadded");
    char list[1024] = "", args[2048];
    for (int i = 0; i < T; i++) snprintf(list + strlen(list), sizeof list - strlen(list), "%s%d", i ? "," : "", ids[i]);
    snprintf(args, sizeof args, "score --model '%s/neox_rm' --ids %s --json", g_dir, list);
    cJSON *j = run_json(args);
    if (j) {
        double got = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "score"), 0)->valuedouble;
        CHECK(fabs(got - score[0]) < 1e-4 * (1 + fabs(score[0])), "sea score %.6f vs transformers %.6f", got, score[0]);
        printf("sea score: %.5f (transformers %.5f)\n", got, score[0]);
        cJSON_Delete(j);
    }
    free(ids);
    free(kv);
    free(score);
    sea_safetensors_close(ref);
}

static void test_usage_errors(void)
{
    char *out, args[2048];
    CHECK(run("generate --prompt-ids 1,2", &out) == 2, "generate without --model must exit 2");
    free(out);
    snprintf(args, sizeof args, "generate --model '%s/neox_par' --prompt-ids 1,x", g_dir);
    CHECK(run(args, &out) == 2, "bad id list must exit 2");
    free(out);
    CHECK(run("logprobs --model /nonexistent --ids 1,2", &out) == 1, "missing model must exit 1");
    free(out);
    snprintf(args, sizeof args, "score --model '%s/neox_par' --ids 1,2,3", g_dir);
    CHECK(run(args, &out) == 1, "score with a causal LM must exit 1");
    free(out);
}

int main(int argc, char **argv)
{
    if (argc < 3) {
        fprintf(stderr, "usage: test_model_cli SEA_EXE FIXTURE_DIR [DEVICE]\n");
        return 1;
    }
    g_sea = argv[1];
    g_dir = argv[2];
    g_devspec = argc > 3 ? argv[3] : "cpu";
    sea_device *dev = NULL;
    if (sea_device_open(g_devspec, &dev)) {
        fprintf(stderr, "device '%s' unavailable: %s\n", g_devspec, sea_last_error());
        return strcmp(g_devspec, "cpu") ? 77 : 1;
    }
    sea_device_close(dev);
    test_logprobs();
    test_generate();
    test_score();
    test_usage_errors();
    if (g_fail) {
        fprintf(stderr, "%d check(s) failed\n", g_fail);
        return 1;
    }
    printf("all model command checks passed\n");
    return 0;
}
