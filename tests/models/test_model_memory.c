/* Training memory of a model (docs/memory.md):
 *  - recompute (per-block checkpointing) gives the same log-probs and the same gradient bits
 *    as keeping every activation, on the Hugging Face fixtures (parallel and serial residual,
 *    Llama with GQA), for a first step and a second one that reuses the memory;
 *  - the activation arena and the activation-gradient pool stay below bounds computed from
 *    the shapes: gradients only while live (not a mirror of every activation), inference one
 *    block at a time, recompute one block plus the residual stream;
 *  - the LM head in chunks gives the whole head's log-probs and gradients to rounding, the
 *    same bits every run and with recompute, and holds one chunk's logits and gradient;
 *  - a reference sharing the policy's activation memory gives the same results in one arena.
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

/* A random GPT-NeoX model with parallel residual (Pythia's layout), f32, MLP width 4 C. */
static sea_model *pythia_like(int C, int L, int H, int V)
{
    sea_hf_config cfg;
    sea_hf_config_init(&cfg, "gpt_neox");
    snprintf(cfg.architecture, sizeof cfg.architecture, "GPTNeoXForCausalLM");
    cfg.hidden_size = C;
    cfg.num_hidden_layers = L;
    cfg.num_attention_heads = cfg.num_key_value_heads = H;
    cfg.head_dim = C / H;
    cfg.intermediate_size = 4 * C;
    cfg.vocab_size = V;
    cfg.partial_rotary_factor = 0.25;
    cfg.use_parallel_residual = true;
    cfg.norm_eps = 1e-5;
    cfg.rope_theta = 10000;
    sea_model *m = NULL;
    CHECK_OK(sea_model_create(g_dev, &cfg, 3, 0.02f, &m));
    return m;
}

/* Bounds from the shapes, GPT-NeoX with parallel residual (Pythia), f32. N = B*T tokens,
 * M = counted rows (the response half). */
static void test_peak_bounds(void)
{
    const int C = 64, L = 6, H = 4, F = 4 * C, V = 1000, B = 8, T = 64;
    sea_model *m = pythia_like(C, L, H, V);
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
    /* A block keeps h1, q, k, v (q and k rotated in place), attention out, h2 and its output
     * (7 of (N, C): the branch projections add inside their matmuls, and with the parallel
     * residual x1 lives in the output's memory), the MLP's u and gelu(u) ((N, F)), the
     * layernorm pair's mean and rstd (N: h1 and h2 are one op over x) and attention's lse
     * (B, H, T), in 12 allocations. */
    double block = f * N * (7.0 * C + 2.0 * F + 2.0 + H) + 12 * 256;
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

/* One pass of forward_logprobs (train: with backward from zero gradients) on the chunk test's
 * batch; token_logp (B, T) and, when train, the flat gradient (n) into g. */
static void chunk_pass(sea_model *m, const int32_t *ids, const int32_t *kv, const float *resp, int B, int T,
                       bool train, float *sum, float *mean, float *tok, float *g)
{
    sea_stream *s = sea_device_stream(g_dev);
    float d_sum[8], d_mean[8];
    for (int b = 0; b < B; b++) {
        d_sum[b] = b % 2 ? -0.25f : 0.5f;
        d_mean[b] = 0.125f * (float)(b - 3);
    }
    if (train) CHECK_OK(sea_model_zero_grad(m, s));
    CHECK_OK(sea_model_forward_logprobs(m, s, ids, kv, resp, B, T, train, sum, mean, tok));
    if (!train) return;
    CHECK_OK(sea_model_backward_logprobs(m, s, d_sum, d_mean));
    sea_tensor fg;
    CHECK_OK(sea_model_params(m, NULL, &fg));
    CHECK_OK(sea_tensor_read_f32(s, &fg, g));
}

/* The LM head in chunks (sea_model_set_head_chunk_bytes) against the whole head: the same
 * log-probs and gradients to rounding, the same bits from one run to the next and with
 * recompute, an uneven last chunk, and the logits' memory (and their gradient's) down to a
 * chunk's. f32 and bf16 compute. */
static void test_head_chunks(sea_dtype dt)
{
    const int C = 32, L = 2, H = 2, V = 1000, B = 8, T = 64, R = 40; /* R response tokens a row */
    sea_model *m = pythia_like(C, L, H, V);
    if (!m) return;
    if (dt != SEA_F32) {
        sea_status st = sea_model_set_compute_dtype(m, dt);
        if (st == SEA_ERR_UNSUPPORTED) {   /* Vulkan and OpenCL run the network in f32 only */
            printf("  head in chunks (%s): skipped, %s\n", sea_dtype_name(dt), sea_last_error());
            sea_model_free(m);
            return;
        }
        CHECK_OK(st);
    }
    const int64_t n = sea_model_num_params(m), NT = (int64_t)B * T;
    int32_t ids[8 * 64], kv[8 * 64];
    float resp[8 * 64];
    for (int i = 0; i < B * T; i++) {
        int b = i / T, t = i % T;
        ids[i] = (i * 7919 + 13) % V;
        kv[i] = !(b == 3 && t >= T - 5);   /* one row padded at the end */
        resp[i] = t >= T - R && kv[i];
    }
    float *g[4], sum[4][8], mean[4][8], *tok[4];
    for (int k = 0; k < 4; k++) {
        g[k] = malloc((size_t)n * sizeof(float));
        tok[k] = malloc((size_t)NT * sizeof(float));
    }
    /* M = 8 rows x 40 - 5 padded = 315 counted rows; 128 rows' logits a chunk -> 128, 128, 59. */
    const size_t chunk = (size_t)128 * V * sizeof(float);
    sea_model_memory_stats whole, part;

    sea_model_set_head_chunk_bytes(m, 0);
    sea_model_memory_reset_peaks(m);
    chunk_pass(m, ids, kv, resp, B, T, true, sum[0], mean[0], NULL, g[0]);
    sea_model_memory(m, &whole);
    sea_model_set_head_chunk_bytes(m, chunk);
    CHECK(sea_model_get_head_chunk_bytes(m) == chunk, "head chunk bytes not kept");
    sea_model_memory_reset_peaks(m);
    chunk_pass(m, ids, kv, resp, B, T, true, sum[1], mean[1], NULL, g[1]);
    sea_model_memory(m, &part);
    chunk_pass(m, ids, kv, resp, B, T, true, sum[2], mean[2], NULL, g[2]);   /* reuses the memory */
    sea_model_set_recompute(m, true);
    chunk_pass(m, ids, kv, resp, B, T, true, sum[3], mean[3], NULL, g[3]);
    sea_model_set_recompute(m, false);

    const double tol = dt == SEA_F32 ? 1e-5 : 2e-3;
    double gmax = 0;
    for (int64_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(g[0][i]));
    CHECK(gmax > 0, "head chunks: the gradient is zero");
    double dg = max_abs_diff(g[0], g[1], n), ds = max_abs_diff(sum[0], sum[1], B), dm = max_abs_diff(mean[0], mean[1], B);
    printf("  head in chunks (%s): logp sums max diff %.2e, means %.2e, gradient %.2e of max %.2e%s\n",
           sea_dtype_name(dt), ds, dm, dg, gmax,
           !memcmp(g[0], g[1], (size_t)n * sizeof(float)) ? " (same bits)" : "");
    CHECK(ds <= tol * 40, "head chunks (%s): logp sums differ by %.3e", sea_dtype_name(dt), ds);
    CHECK(dm <= tol, "head chunks (%s): logp means differ by %.3e", sea_dtype_name(dt), dm);
    CHECK(dg <= tol * gmax, "head chunks (%s): gradients differ by %.3e (max %.3e)", sea_dtype_name(dt), dg, gmax);
    for (int k = 2; k < 4; k++) {
        CHECK(!memcmp(sum[1], sum[k], sizeof sum[1]) && !memcmp(g[1], g[k], (size_t)n * sizeof(float)),
              "head chunks (%s): %s gives other bits", sea_dtype_name(dt), k == 2 ? "a second step" : "recompute");
    }
    /* Memory: the whole head holds (M, V) logits and, in backward, their gradient; chunked,
     * one chunk's (128 rows) of each (less a few 256-byte roundings). */
    const double saved = (315.0 - 128.0) * V * sizeof(float) - 4096;
    printf("  head in chunks (%s): activation peak %zu -> %zu bytes, gradient peak %zu -> %zu\n", sea_dtype_name(dt),
           whole.act_peak, part.act_peak, whole.grad_peak, part.grad_peak);
    CHECK((double)part.act_peak <= (double)whole.act_peak - saved,
          "head chunks: activation peak %zu, not %.0f below %zu", part.act_peak, saved, whole.act_peak);
    CHECK((double)part.grad_peak <= (double)whole.grad_peak - saved,
          "head chunks: gradient peak %zu, not %.0f below %zu", part.grad_peak, saved, whole.grad_peak);

    /* Inference, every position's token logp (all rows go through the head: 8 x 63 = 504,
     * 4 chunks): the same as the whole head to rounding. */
    sea_model_set_head_chunk_bytes(m, 0);
    chunk_pass(m, ids, kv, resp, B, T, false, sum[0], mean[0], tok[0], NULL);
    sea_model_set_head_chunk_bytes(m, chunk);
    chunk_pass(m, ids, kv, resp, B, T, false, sum[1], mean[1], tok[1], NULL);
    double dt_tok = max_abs_diff(tok[0], tok[1], NT);
    CHECK(dt_tok <= tol * 10, "head chunks (%s, inference): token logp differ by %.3e", sea_dtype_name(dt), dt_tok);
    /* a limit below 64 rows still works: chunks of 64 */
    sea_model_set_head_chunk_bytes(m, 1);
    chunk_pass(m, ids, kv, resp, B, T, false, sum[2], mean[2], tok[2], NULL);
    double d64 = max_abs_diff(tok[0], tok[2], NT);
    CHECK(d64 <= tol * 10, "head chunks of 64 rows (%s): token logp differ by %.3e", sea_dtype_name(dt), d64);
    for (int k = 0; k < 4; k++) free(g[k]), free(tok[k]);
    sea_model_free(m);
}

/* A reference sharing the policy's activation memory (sea_model_share_activations): the same
 * results as separate memory, one arena's worth of memory for both, a clear error when the
 * reference runs between the policy's train forward and its backward, and the memory kept
 * alive by whichever model is freed last. */
static void test_share_activations(void)
{
    const int C = 32, L = 2, H = 2, V = 500, B = 4, T = 32;
    sea_model *pol = pythia_like(C, L, H, V), *ref = pythia_like(C, L, H, V);
    sea_model *pol2 = pythia_like(C, L, H, V), *ref2 = pythia_like(C, L, H, V);
    if (!pol || !ref || !pol2 || !ref2) return;
    const int64_t n = sea_model_num_params(pol);
    int32_t ids[4 * 32];
    float resp[4 * 32], d_sum[4] = {0.5f, -0.25f, 0.125f, -1.0f};
    for (int i = 0; i < B * T; i++) {
        ids[i] = (i * 131 + 7) % V;
        resp[i] = (i % T) >= T / 2;
    }
    float rs[2][4], ps[2][4], *g[2] = {malloc((size_t)n * sizeof(float)), malloc((size_t)n * sizeof(float))};
    sea_stream *s = sea_device_stream(g_dev);
    CHECK_OK(sea_model_share_activations(ref, pol));
    CHECK_OK(sea_model_share_activations(ref, pol));   /* again: nothing changes */
    sea_model *P[2] = {pol, pol2}, *R[2] = {ref, ref2};
    for (int k = 0; k < 2; k++) {   /* shared, then separate */
        for (int rep = 0; rep < 2; rep++) {
            CHECK_OK(sea_model_zero_grad(P[k], s));
            CHECK_OK(sea_model_forward_logprobs(R[k], s, ids, NULL, resp, B, T, false, rs[k], NULL, NULL));
            CHECK_OK(sea_model_forward_logprobs(P[k], s, ids, NULL, resp, B, T, true, ps[k], NULL, NULL));
            CHECK_OK(sea_model_backward_logprobs(P[k], s, d_sum, NULL));
        }
        sea_tensor fg;
        CHECK_OK(sea_model_params(P[k], NULL, &fg));
        CHECK_OK(sea_tensor_read_f32(s, &fg, g[k]));
    }
    CHECK(!memcmp(rs[0], rs[1], sizeof rs[0]) && !memcmp(ps[0], ps[1], sizeof ps[0]) &&
              !memcmp(g[0], g[1], (size_t)n * sizeof(float)),
          "shared activations: other log-probs or gradients than separate memory");
    sea_model_memory_stats a, b, a2, b2;
    sea_model_memory(pol, &a);
    sea_model_memory(ref, &b);
    sea_model_memory(pol2, &a2);
    sea_model_memory(ref2, &b2);
    printf("  shared activations: %zu bytes held for both (separate: %zu + %zu)\n", a.act_reserved,
           a2.act_reserved, b2.act_reserved);
    CHECK(a.act_reserved == b.act_reserved && a.act_peak == b.act_peak, "shared activations: the two report "
          "different arenas (%zu, %zu)", a.act_reserved, b.act_reserved);
    CHECK(a.act_reserved < a2.act_reserved + b2.act_reserved && a.act_reserved <= a2.act_reserved + a2.act_reserved / 4,
          "shared activations: %zu bytes held, separate %zu + %zu", a.act_reserved, a2.act_reserved, b2.act_reserved);

    /* The reference between the policy's train forward and backward: an error, then normal. */
    CHECK_OK(sea_model_forward_logprobs(pol, s, ids, NULL, resp, B, T, true, ps[0], NULL, NULL));
    CHECK_OK(sea_model_forward_logprobs(ref, s, ids, NULL, resp, B, T, false, rs[0], NULL, NULL));
    sea_status st = sea_model_backward_logprobs(pol, s, d_sum, NULL);
    CHECK(st == SEA_ERR_INVALID && strstr(sea_last_error(), "share_activations"),
          "shared activations: backward after the other model's pass gave %d (%s)", st, sea_last_error());
    CHECK_OK(sea_model_forward_logprobs(pol, s, ids, NULL, resp, B, T, true, ps[0], NULL, NULL));
    CHECK_OK(sea_model_backward_logprobs(pol, s, d_sum, NULL));
    /* Nor can a model with a train forward pending leave its memory. */
    CHECK_OK(sea_model_forward_logprobs(pol2, s, ids, NULL, resp, B, T, true, ps[1], NULL, NULL));
    st = sea_model_share_activations(pol2, pol);
    CHECK(st == SEA_ERR_INVALID, "share_activations with a pending train forward gave %d", st);
    CHECK_OK(sea_model_backward_logprobs(pol2, s, d_sum, NULL));

    /* The first owner freed: the other still has the memory. */
    sea_model_free(pol);
    CHECK_OK(sea_model_forward_logprobs(ref, s, ids, NULL, resp, B, T, false, rs[1], NULL, NULL));
    CHECK(!memcmp(rs[0], rs[1], sizeof rs[0]), "shared activations: the reference changed after the policy was freed");
    sea_model_free(ref);
    sea_model_free(pol2);
    sea_model_free(ref2);
    free(g[0]), free(g[1]);
}

int main(int argc, char **argv)
{
    g_dev = test_device(argc, argv);
    const char *dir = argc > 2 ? argv[2] : "tests/models/fixtures/models";
    const char *names[] = {"neox_par", "neox_ser", "llama_gqa_bf16"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) test_recompute_same_bits(dir, names[i]);
    test_peak_bounds();
    test_head_chunks(SEA_F32);
    test_head_chunks(SEA_BF16);
    test_share_activations();
    return test_finish(g_dev, "all model memory checks passed");
}
