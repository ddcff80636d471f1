/* Loading: a GGUF Llama (F32/F16/Q8_0, llama.cpp's q/k permutation) against transformers run on
 * the dequantized weights; loader errors that must name the file and tensor; a model created
 * from a config with random weights that trains (loss goes down) and saves loadably.
 *
 * usage: test_model_load [DEVICE] [FIXTURE_DIR] */
#include <unistd.h>

#include "fixture_util.h"
#include "models/hf_config.h"
#include "runtime/ops.h"

static const char *g_dir;
static sea_device *g_dev;

/* Logits rel err of m on the batch of the fixture g_dir/name (real positions). */
static double logits_err(sea_model *m, const char *name)
{
    fixture fx;
    fixture_open(g_dir, name, &fx);
    float *lg = fixture_logits(m, sea_device_stream(g_dev), &fx);
    double err = fixture_logits_err(&fx, lg, sea_model_vocab_size(m));
    free(lg);
    fixture_close(&fx);
    return err;
}

/* GPT-NeoX GGUF as llama.cpp's converter writes it (qkv rows regrouped): same weights as
 * neox_par, so its transformers reference applies unchanged. */
static void test_gguf_neox(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/neox_par/model_neox.gguf", g_dir);
    sea_model *m = NULL;
    CHECK_OK(sea_model_load(g_dev, path, NULL, &m));
    if (!m) return;
    double err = logits_err(m, "neox_par");
    printf("gguf gptneox (F32): logits rel err %.2e\n", err);
    CHECK(err < 2e-5, "gguf gptneox logits rel err %.3e", err);
    sea_model_free(m);
}

static void test_gguf(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/llama_gguf/model.gguf", g_dir);
    sea_model *m = NULL;
    CHECK_OK(sea_model_load(g_dev, path, NULL, &m));
    if (!m) return;
    fixture fx;
    fixture_open(g_dir, "llama_gguf", &fx);
    const sea_safetensors *ref = fx.ref;
    sea_stream *s = sea_device_stream(g_dev);
    float *lg = fixture_logits(m, s, &fx);
    double err = fixture_logits_err(&fx, lg, sea_model_vocab_size(m));
    printf("gguf llama (F32/F16/Q8_0): logits rel err %.2e\n", err);
    CHECK(err < 2e-5, "gguf logits rel err %.3e", err);
    int64_t np, nn;
    int32_t *prompt = ref_i32(ref, "greedy.prompt0", &np), *gw = ref_i32(ref, "greedy.out0", &nn);
    sea_gen_params p = sea_gen_params_default();
    p.greedy = true;
    p.max_new_tokens = (int)nn;
    sea_gen_output out;
    CHECK_OK(sea_gen_output_alloc(1, (int)nn, &out));
    int len = (int)np;
    CHECK_OK(sea_generate(m, s, &p, (const int32_t *const *)&prompt, &len, 1, NULL, &out));
    int match = 0;
    for (int k = 0; k < nn; k++) match += out.tokens[k] == gw[k];
    printf("gguf llama: greedy %d/%lld tokens match\n", match, (long long)nn);
    CHECK(match == nn, "gguf greedy: %d of %lld match", match, (long long)nn);
    sea_gen_output_free(&out);
    free(prompt);
    free(gw);
    free(lg);
    fixture_close(&fx);
    sea_model_free(m);
}

static int copy_file(const char *from, const char *to)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "cp '%s' '%s'", from, to);
    return system(cmd);
}

/* Loader errors: each must fail with the right status and name the culprit. */
static void test_errors(void)
{
    char tmpl[] = "/tmp/sea_test_load_XXXXXX";
    char *dir = mkdtemp(tmpl);
    char src[1024], dst[1024], cfgp[1024];
    sea_model *m = NULL;
    sea_status st;

    st = sea_model_load(g_dev, "/nonexistent/model", NULL, &m);
    CHECK(st == SEA_ERR_IO && strstr(sea_last_error(), "/nonexistent/model"), "missing path: %s",
          sea_last_error());

    /* config.json of neox_par with weights that lack a tensor. */
    snprintf(src, sizeof src, "%s/neox_par/config.json", g_dir);
    snprintf(cfgp, sizeof cfgp, "%s/config.json", dir);
    CHECK(copy_file(src, cfgp) == 0, "copy config");
    snprintf(src, sizeof src, "%s/neox_par/model.safetensors", g_dir);
    sea_safetensors *f;
    CHECK_OK(sea_safetensors_open(src, &f));
    size_t n = sea_safetensors_count(f);
    sea_st_tensor *keep = calloc(n, sizeof *keep);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        const sea_st_tensor *t = sea_safetensors_at(f, i);
        if (!strcmp(t->name, "gpt_neox.layers.1.mlp.dense_4h_to_h.weight")) continue;
        keep[k] = *t;
        keep[k].dtype_name = NULL;
        k++;
    }
    snprintf(dst, sizeof dst, "%s/model.safetensors", dir);
    CHECK_OK(sea_safetensors_write(dst, keep, k, NULL, NULL, 0));
    st = sea_model_load(g_dev, dir, NULL, &m);
    CHECK(st == SEA_ERR_FORMAT && strstr(sea_last_error(), "gpt_neox.layers.1.mlp.dense_4h_to_h.weight") &&
              strstr(sea_last_error(), "missing"),
          "missing tensor: %s: %s", sea_status_name(st), sea_last_error());
    printf("missing tensor -> %s\n", sea_last_error());

    /* All tensors, but a config that disagrees on intermediate_size. */
    CHECK(copy_file(src, dst) == 0, "copy weights");
    sea_hf_config cfg;
    CHECK_OK(sea_hf_config_load(cfgp, &cfg));
    cfg.intermediate_size = 80;
    CHECK_OK(sea_hf_config_write(&cfg, cfgp));
    st = sea_model_load(g_dev, dir, NULL, &m);
    CHECK(st == SEA_ERR_SHAPE && strstr(sea_last_error(), "dense_h_to_4h") && strstr(sea_last_error(), "model.safetensors"),
          "shape mismatch: %s: %s", sea_status_name(st), sea_last_error());
    printf("shape mismatch -> %s\n", sea_last_error());

    /* Unknown architecture. */
    FILE *fp = fopen(cfgp, "w");
    fprintf(fp, "{\"architectures\": [\"GPT2LMHeadModel\"], \"model_type\": \"gpt2\", \"hidden_size\": 32, "
                "\"num_hidden_layers\": 2, \"num_attention_heads\": 2, \"vocab_size\": 128}\n");
    fclose(fp);
    st = sea_model_load(g_dev, dir, NULL, &m);
    CHECK(st == SEA_ERR_UNSUPPORTED && strstr(sea_last_error(), "GPT2LMHeadModel"), "unknown arch: %s: %s",
          sea_status_name(st), sea_last_error());
    printf("unknown architecture -> %s\n", sea_last_error());
    CHECK(m == NULL, "failed loads leave *out NULL");

    free(keep);
    sea_safetensors_close(f);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", dir);
}

/* Bad inputs to the forward passes fail cleanly. */
static void test_bad_inputs(void)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/llama_sharded", g_dir);
    sea_model *m = NULL;
    CHECK_OK(sea_model_load(g_dev, path, NULL, &m));
    if (!m) return;
    sea_stream *s = sea_device_stream(g_dev);
    int32_t ids[4] = {1, 2, 999, 3};
    float sum;
    sea_status st = sea_model_forward_logprobs(m, s, ids, NULL, NULL, 1, 4, false, &sum, NULL, NULL);
    CHECK(st == SEA_ERR_INVALID && strstr(sea_last_error(), "999"), "out-of-vocab id: %s", sea_last_error());
    CHECK(sea_model_score(m, s, ids, NULL, 1, 2, &sum) == SEA_ERR_INVALID, "score on a causal LM must fail");
    int32_t kv[4] = {0, 0, 0, 0};
    float h[64];
    CHECK(sea_model_hidden(m, s, ids, kv, 1, 2, NULL, h) == SEA_ERR_INVALID, "hidden of an all-pad row must fail");
    sea_model_free(m);
}

/* sea_model_create: a random tiny Llama learns a fixed batch with plain SGD on the flat buffers;
 * the logp of the target sequences must rise. Also checks that creation is deterministic. */
static void test_create_and_train(void)
{
    sea_hf_config cfg;
    sea_hf_config_init(&cfg, "llama");
    snprintf(cfg.architecture, sizeof cfg.architecture, "LlamaForCausalLM");
    cfg.hidden_size = 32;
    cfg.num_hidden_layers = 2;
    cfg.num_attention_heads = 4;
    cfg.num_key_value_heads = 2;
    cfg.head_dim = 8;
    cfg.intermediate_size = 64;
    cfg.vocab_size = 64;
    cfg.norm_eps = 1e-5;
    cfg.rope_theta = 10000;
    sea_model *m = NULL, *m2 = NULL;
    CHECK_OK(sea_model_create(g_dev, &cfg, 42, 0.1f, &m));
    CHECK_OK(sea_model_create(g_dev, &cfg, 42, 0.1f, &m2));
    if (!m || !m2) return;
    sea_stream *s = sea_device_stream(g_dev);
    sea_tensor p1, p2, g;
    sea_model_params(m, &p1, &g);
    sea_model_params(m2, &p2, NULL);
    int64_t n = sea_tensor_numel(&p1);
    float *a = malloc((size_t)n * sizeof(float)), *b = malloc((size_t)n * sizeof(float));
    CHECK_OK(sea_tensor_read_f32(s, &p1, a));
    CHECK_OK(sea_tensor_read_f32(s, &p2, b));
    CHECK(memcmp(a, b, (size_t)n * sizeof(float)) == 0, "same seed, different weights");
    free(a);
    free(b);
    sea_model_free(m2);

    enum { B = 4, T = 12 };
    int32_t ids[B * T];
    float resp[B * T];
    for (int i = 0; i < B * T; i++) {
        ids[i] = (i * 7 + (i / T) * 3) % 64;
        resp[i] = (i % T) >= 4;
    }
    float sum[B], first = 0, last = 0;
    float d_sum[B];
    for (int b = 0; b < B; b++) d_sum[b] = -1.0f / B;   /* minimize -mean logp sum */
    float *grad = malloc((size_t)n * sizeof(float)), *par = malloc((size_t)n * sizeof(float));
    for (int step = 0; step < 30; step++) {
        CHECK_OK(sea_model_zero_grad(m, s));
        CHECK_OK(sea_model_forward_logprobs(m, s, ids, NULL, resp, B, T, true, sum, NULL, NULL));
        CHECK_OK(sea_model_backward_logprobs(m, s, d_sum, NULL));
        float tot = 0;
        for (int b = 0; b < B; b++) tot += sum[b];
        if (step == 0) first = tot;
        last = tot;
        CHECK_OK(sea_tensor_read_f32(s, &g, grad));
        CHECK_OK(sea_tensor_read_f32(s, &p1, par));
        for (int64_t i = 0; i < n; i++) par[i] -= 0.05f * grad[i];
        CHECK_OK(sea_tensor_write_f32(s, &p1, par));
    }
    printf("created llama (%lld params): batch logp %.3f -> %.3f after 30 SGD steps\n", (long long)n, first, last);
    CHECK(last > first + 5, "training did not raise the logp enough: %.3f -> %.3f", first, last);

    /* Save and reload the trained model. */
    char tmpl[] = "/tmp/sea_test_create_XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK_OK(sea_model_save_hf(m, dir, 0));
    sea_model *r = NULL;
    CHECK_OK(sea_model_load(g_dev, dir, NULL, &r));
    if (r) {
        float s2[B];
        CHECK_OK(sea_model_forward_logprobs(m, s, ids, NULL, resp, B, T, false, sum, NULL, NULL));
        CHECK_OK(sea_model_forward_logprobs(r, s, ids, NULL, resp, B, T, false, s2, NULL, NULL));
        for (int b = 0; b < B; b++) CHECK(sum[b] == s2[b], "reloaded created model: %g vs %g", s2[b], sum[b]);
        sea_model_free(r);
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", dir);
    free(grad);
    free(par);
    sea_model_free(m);
}

int main(int argc, char **argv)
{
    g_dev = test_device(argc, argv);
    g_dir = argc > 2 ? argv[2] : "tests/models/fixtures/models";
    test_gguf();
    test_gguf_neox();
    test_errors();
    test_bad_inputs();
    test_create_and_train();
    return test_finish(g_dev, "all model loading checks passed");
}
