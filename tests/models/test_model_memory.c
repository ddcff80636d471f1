/* Training memory of a model (docs/memory.md):
 *  - recompute (per-block checkpointing) gives the same log-probs and the same gradient bits
 *    as keeping every activation, on the Hugging Face fixtures (parallel and serial residual,
 *    Llama with GQA), for a first step and a second one that reuses the memory;
 *  - the activation arena and the activation-gradient pool stay below bounds computed from
 *    the shapes: gradients only while live (not a mirror of every activation), inference one
 *    block at a time, recompute one block plus the residual stream.
 *
 * usage: test_model_memory [DEVICE] [FIXTURE_DIR]   (a named device absent -> exit 77) */
#include "models/hf_config.h"
#include "fixture_util.h"

static sea_device *g_dev;

/* One train step's log-prob sums and flat gradient (from zero) into sum (B) and grad (n). */
static void step(sea_model *m, const int32_t *ids, const int32_t *kv, const float *resp, int B, int T,
                 const float *d_sum, const float *d_mean, float *sum, float *grad)
{
    sea_stream *s = sea_device_stream(g_dev);
    sea_tensor fg;
    sea_model_params(m, NULL, &fg);
    CHECK_OK(sea_model_zero_grad(m, s));
    CHECK_OK(sea_model_forward_logprobs(m, s, ids, kv, resp, B, T, true, sum, NULL, NULL));
    CHECK_OK(sea_model_backward_logprobs(m, s, d_sum, d_mean));
    CHECK_OK(sea_tensor_read_f32(s, &fg, grad));
}

static void test_recompute_same_bits(const char *dir, const char *name)
{
    sea_model *m = fixture_model(g_dev, dir, name, SEA_F32);
    if (!m) return;
    fixture fx;
    fixture_open(dir, name, &fx);
    int B = fx.B, T = fx.T;
    const int32_t *ids = fx.ids, *kv = fx.kv;
    const float *resp = fx.resp;
    float *d_sum = ref_f32(fx.ref, "d_sum", NULL), *d_mean = ref_f32(fx.ref, "d_mean", NULL);
    int64_t n = sea_model_num_params(m);
    float *g0 = malloc((size_t)n * sizeof(float)), *g1 = malloc((size_t)n * sizeof(float));
    float *s0 = malloc((size_t)B * sizeof(float)), *s1 = malloc((size_t)B * sizeof(float));

    step(m, ids, kv, resp, B, T, d_sum, d_mean, s0, g0);
    sea_model_memory_stats keep, rc;
    sea_model_memory(m, &keep);
    CHECK(!sea_model_get_recompute(m), "%s: recompute is on by default", name);
    sea_model_set_recompute(m, true);
    sea_model_memory_reset_peaks(m);
    for (int rep = 0; rep < 2; rep++) {   /* the second step reuses arena and gradient pool */
        step(m, ids, kv, resp, B, T, d_sum, d_mean, s1, g1);
        CHECK(!memcmp(s0, s1, (size_t)B * sizeof(float)), "%s: log-prob sums differ with recompute (step %d)",
              name, rep + 1);
        int64_t diff = 0;
        for (int64_t i = 0; i < n; i++) diff += memcmp(&g0[i], &g1[i], sizeof(float)) != 0;
        CHECK(diff == 0, "%s: %lld of %lld gradient entries differ with recompute (step %d, max abs %.3e)", name,
              (long long)diff, (long long)n, rep + 1, max_abs_diff(g0, g1, n));
    }
    sea_model_memory(m, &rc);
    printf("  %-16s recompute: same bits; activation peak %zu -> %zu bytes, gradient peak %zu -> %zu\n", name,
           keep.act_peak, rc.act_peak, keep.grad_peak, rc.grad_peak);
    /* The fixtures are tiny (2 layers): recompute must still not keep more. */
    CHECK(rc.act_peak <= keep.act_peak, "%s: recompute activation peak %zu > %zu without", name, rc.act_peak,
          keep.act_peak);
    free(g0), free(g1), free(s0), free(s1);
    free(d_sum), free(d_mean);
    fixture_close(&fx);
    sea_model_free(m);
}

/* Bounds from the shapes, GPT-NeoX with parallel residual (Pythia), f32. N = B*T tokens,
 * M = counted rows (the response half). */
static void test_peak_bounds(void)
{
    const int C = 64, L = 6, H = 4, F = 4 * C, V = 1000, B = 8, T = 64;
    sea_hf_config cfg;
    sea_hf_config_init(&cfg, "gpt_neox");
    snprintf(cfg.architecture, sizeof cfg.architecture, "GPTNeoXForCausalLM");
    cfg.hidden_size = C;
    cfg.num_hidden_layers = L;
    cfg.num_attention_heads = cfg.num_key_value_heads = H;
    cfg.head_dim = C / H;
    cfg.intermediate_size = F;
    cfg.vocab_size = V;
    cfg.partial_rotary_factor = 0.25;
    cfg.use_parallel_residual = true;
    cfg.norm_eps = 1e-5;
    cfg.rope_theta = 10000;
    sea_model *m = NULL;
    CHECK_OK(sea_model_create(g_dev, &cfg, 3, 0.02f, &m));
    if (!m) return;
    int32_t *ids = malloc((size_t)B * T * sizeof *ids);
    float *resp = malloc((size_t)B * T * sizeof *resp);
    float d_sum[8], sum[8];
    for (int i = 0; i < B * T; i++) {
        ids[i] = (i * 7919 + 13) % V;
        resp[i] = (i % T) >= T / 2;
    }
    for (int b = 0; b < B; b++) d_sum[b] = b % 2 ? -0.1f : 0.1f;
    double N = (double)B * T, M = (double)B * (T / 2), f = sizeof(float);
    /* Allocation rounding (256 bytes each) and the pass's small tensors (ids, masks, positions,
     * rows, log-probs): a generous allowance. */
    double slack = 64 * 1024;
    /* A block keeps h1, q, k, v, q and k after rope, attention out, its projection, h2, the
     * MLP branch out, x1 and its output (12 of (N, C)), the MLP's u and gelu(u) ((N, F)),
     * the layernorm pair's mean and rstd (N: h1 and h2 are one op over x) and attention's
     * lse (B, H, T), in 17 allocations. */
    double block = f * N * (12.0 * C + 2.0 * F + 2.0 + H) + 17 * 256;
    /* The head: final norm out, gathered rows and logits. */
    double head = f * (N * C + M * C + M * V);
    double act_keep = f * N * C + L * block + head + slack;
    double act_rc = f * N * C * (L + 1) + block + head + slack;
    double act_infer = 2 * f * N * C + block + head + slack;
    /* The widest cut of the backward walk: the logits' gradient with those of the gathered
     * rows and the hidden state, or inside a block the residual stream's gradient plus a
     * branch (at most six of (N, C) and two of (N, F) at once). */
    double head_g = f * (M * V + M * C + N * C);
    double block_g = f * N * (6.0 * C + 2.0 * F);
    double grad_bound = (head_g > block_g ? head_g : block_g) + f * N * C + slack;
    double mirror = act_keep - slack;   /* what a gradient mirror of every activation costs */

    sea_stream *s = sea_device_stream(g_dev);
    sea_model_memory_stats st;
    CHECK_OK(sea_model_forward_logprobs(m, s, ids, NULL, resp, B, T, false, sum, NULL, NULL));
    sea_model_memory(m, &st);
    printf("  inference: activation peak %zu bytes (bound %.0f)\n", st.act_peak, act_infer);
    CHECK(st.act_peak <= act_infer, "inference activation peak %zu > bound %.0f", st.act_peak, act_infer);

    size_t grad_keep = 0;
    for (int rc = 0; rc < 2; rc++) {
        sea_model_set_recompute(m, rc);
        sea_model_memory_reset_peaks(m);
        for (int rep = 0; rep < 2; rep++) {
            CHECK_OK(sea_model_forward_logprobs(m, s, ids, NULL, resp, B, T, true, sum, NULL, NULL));
            CHECK_OK(sea_model_backward_logprobs(m, s, d_sum, NULL));
        }
        sea_model_memory(m, &st);
        double act_bound = rc ? act_rc : act_keep;
        printf("  train%s: activation peak %zu bytes (bound %.0f), gradient peak %zu (bound %.0f; a mirror: %.0f)\n",
               rc ? " + recompute" : "", st.act_peak, act_bound, st.grad_peak, grad_bound, mirror);
        CHECK(st.act_peak <= act_bound, "train%s: activation peak %zu > bound %.0f", rc ? " + recompute" : "",
              st.act_peak, act_bound);
        CHECK(st.grad_peak <= grad_bound, "train%s: gradient peak %zu > bound %.0f", rc ? " + recompute" : "",
              st.grad_peak, grad_bound);
        CHECK(st.grad_peak < mirror / 2, "train: gradient peak %zu is not well below a mirror (%.0f)", st.grad_peak,
              mirror);
        /* Recompute changes no gradient's lifetime. */
        if (!rc) grad_keep = st.grad_peak;
        else CHECK(st.grad_peak <= grad_keep, "recompute: gradient peak %zu > %zu without", st.grad_peak, grad_keep);
        /* Steady state: the pool holds one chunk not far above its peak. */
        CHECK(st.grad_reserved <= st.grad_peak + st.grad_peak / 4 + (8u << 20),
              "train: gradient pool holds %zu bytes for a peak of %zu", st.grad_reserved, st.grad_peak);
    }
    CHECK(act_rc < act_keep / 2, "test shapes: recompute bound %.0f should be well below %.0f", act_rc, act_keep);
    free(ids);
    free(resp);
    sea_model_free(m);
}

int main(int argc, char **argv)
{
    g_dev = test_device(argc, argv);
    const char *dir = argc > 2 ? argv[2] : "tests/models/fixtures/models";
    const char *names[] = {"neox_par", "neox_ser", "llama_gqa_bf16"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) test_recompute_same_bits(dir, names[i]);
    test_peak_bounds();
    return test_finish(g_dev, "all model memory checks passed");
}
