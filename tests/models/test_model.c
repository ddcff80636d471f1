/* Golden tests: tiny models made by Hugging Face transformers (tests/models/make_model_fixtures.py)
 * loaded here and compared with what transformers computed in float64 on the same weights:
 * logits on a padded batch, per-token and per-sequence log-probs, parameter gradients of a
 * sequence-logprob loss, final hidden states, greedy continuations, reward scores; plus
 * KV-cache consistency of sampling and a save -> reload round trip.
 *
 * usage: test_model [DEVICE] [FIXTURE_DIR]   (DEVICE absent -> exit 77) */
#include <unistd.h>

#include "fixture_util.h"
#include "models/json_util.h"
#include "runtime/dtype.h"
#include "runtime/ops.h"

/* Tolerances, f32 compute vs float64 reference on identical weights. */
#define TOL_LOGITS 2e-5    /* relative L2 over the valid positions */
#define TOL_LOGP 1e-4      /* absolute, nats */
#define TOL_GRAD 1e-4      /* relative L2 per tensor */
#define TOL_HIDDEN 2e-5

static const char *g_dir;
static sea_device *g_dev;

static sea_model *load(const char *name) { return fixture_model(g_dev, g_dir, name, SEA_F32); }

static void test_logits(sea_model *m, const fixture *fx, const char *name)
{
    float *lg = fixture_logits(m, sea_device_stream(g_dev), fx);
    double err = fixture_logits_err(fx, lg, sea_model_vocab_size(m));
    printf("  %-16s logits rel err %.2e\n", name, err);
    CHECK(err < TOL_LOGITS, "%s: logits rel err %.3e >= %.1e", name, err, TOL_LOGITS);
    free(lg);
}

/* Log-probs + gradients of L = sum_b d_sum[b] S[b] + d_mean[b] M[b]. */
static void test_logprobs_grads(sea_model *m, const fixture *fx, const char *name)
{
    sea_stream *s = sea_device_stream(g_dev);
    int B = fx->B, T = fx->T;
    float *tl = malloc((size_t)B * T * sizeof(float)), sum[8], mean[8];
    float *ref = ref_f32(fx->ref, "token_logp", NULL);
    float *d_sum = ref_f32(fx->ref, "d_sum", NULL), *d_mean = ref_f32(fx->ref, "d_mean", NULL);
    CHECK_OK(sea_model_zero_grad(m, s));
    CHECK_OK(sea_model_forward_logprobs(m, s, fx->ids, fx->kv, fx->resp, B, T, true, sum, mean, tl));
    for (int b = 0; b < B; b++) {
        double rs = 0, rn = 0;
        for (int t = 1; t < T; t++) {
            size_t i = (size_t)b * T + t;
            rs += (double)fx->resp[i] * ref[i];
            rn += fx->resp[i];
        }
        double rm = rn > 0 ? rs / rn : 0;
        CHECK(fabs(sum[b] - rs) < TOL_LOGP * (1 + rn), "%s: seq %d logp sum %.6f vs %.6f", name, b, sum[b], rs);
        CHECK(fabs(mean[b] - rm) < TOL_LOGP, "%s: seq %d logp mean %.6f vs %.6f", name, b, mean[b], rm);
    }
    double md = token_logp_err(fx, tl, ref);
    printf("  %-16s token logp max abs err %.2e\n", name, md);
    CHECK(md < TOL_LOGP, "%s: token logp max abs err %.3e", name, md);

    CHECK_OK(sea_model_backward_logprobs(m, s, d_sum, d_mean));
    int nt = sea_model_tensor_count(m), checked;
    const char *worst_name;
    double worst = fixture_grads_err(m, s, fx, name, &checked, &worst_name);
    printf("  %-16s grads: %d tensors, worst rel err %.2e (%s)\n", name, checked, worst, worst_name);
    CHECK(checked == nt, "%s: %d of %d gradients checked", name, checked, nt);
    CHECK(worst < TOL_GRAD, "%s: gradient of %s rel err %.3e >= %.1e", name, worst_name, worst, TOL_GRAD);

    /* Accumulation: a second forward+backward doubles the gradient buffer. */
    float *g1, *g2;
    int64_t n = fixture_grads_again(m, s, fx, d_sum, d_mean, false, &g1, &g2);
    for (int64_t i = 0; i < n; i++) g1[i] *= 2;
    double acc = rel_err(g2, g1, n);
    CHECK(acc < 1e-6, "%s: accumulated gradient differs from 2x by %.3e", name, acc);
    CHECK(sea_model_backward_logprobs(m, s, d_sum, d_mean) == SEA_ERR_INVALID,
          "%s: a second backward without forward must fail", name);
    free(g1);
    free(g2);
    free(tl);
    free(ref);
    free(d_sum);
    free(d_mean);
}

static void test_hidden(sea_model *m, const fixture *fx, const char *name)
{
    sea_stream *s = sea_device_stream(g_dev);
    int C = sea_model_hidden_size(m);
    int64_t n;
    float *ref = ref_f32(fx->ref, "hidden_last", &n);
    float *h = malloc((size_t)fx->B * C * sizeof(float));
    CHECK_OK(sea_model_hidden(m, s, fx->ids, fx->kv, fx->B, fx->T, NULL, h));
    double e = rel_err(h, ref, n);
    printf("  %-16s hidden rel err %.2e\n", name, e);
    CHECK(e < TOL_HIDDEN, "%s: hidden rel err %.3e", name, e);
    free(h);
    free(ref);
}

static void test_greedy(sea_model *m, const fixture *fx, const char *name)
{
    sea_stream *s = sea_device_stream(g_dev);
    greedy_ref gr;
    greedy_ref_open(fx, &gr);
    int32_t **prompts = gr.prompts, **want = gr.want;
    int *lens = gr.lens, n_new = gr.n_new;
    sea_gen_params p = sea_gen_params_default();
    p.greedy = true;
    p.max_new_tokens = n_new;
    sea_gen_output out;
    CHECK_OK(sea_gen_output_alloc(3, n_new, &out));
    /* Batched (left-padded to the longest prompt) and each alone must both match HF. */
    CHECK_OK(sea_generate(m, s, &p, (const int32_t *const *)prompts, lens, 3, NULL, &out));
    int mism = 0;
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < n_new; k++) mism += out.tokens[i * n_new + k] != want[i][k];
    for (int i = 0; i < 3; i++) CHECK(out.lengths[i] == n_new, "%s: greedy length %d", name, out.lengths[i]);
    CHECK(mism == 0, "%s: batched greedy differs from transformers in %d of %d tokens", name, mism, 3 * n_new);
    int mism1 = 0;
    for (int i = 0; i < 3; i++) {
        sea_gen_output o1;
        CHECK_OK(sea_gen_output_alloc(1, n_new, &o1));
        CHECK_OK(sea_generate(m, s, &p, (const int32_t *const *)&prompts[i], &lens[i], 1, NULL, &o1));
        for (int k = 0; k < n_new; k++) mism1 += o1.tokens[k] != want[i][k];
        sea_gen_output_free(&o1);
    }
    CHECK(mism1 == 0, "%s: single-prompt greedy differs from transformers in %d tokens", name, mism1);
    printf("  %-16s greedy: %d/%d batched, %d/%d single match\n", name, 3 * n_new - mism, 3 * n_new,
           3 * n_new - mism1, 3 * n_new);
    sea_gen_output_free(&out);

    /* Sampling: (a) a sequence's tokens do not depend on the batch, (b) the logp recorded at
     * sampling time (KV-cached decode) equals a fresh full forward over prompt + response. */
    sea_gen_params q = sea_gen_params_default();
    q.temperature = 0.9f;
    q.top_k = 40;
    q.top_p = 0.95f;
    q.seed = 1234;
    q.max_new_tokens = n_new;
    q.n_eos = 1;
    q.eos_ids[0] = 2;
    uint32_t sids[3] = {70, 71, 72};
    sea_gen_output ob, o1;
    CHECK_OK(sea_gen_output_alloc(3, n_new, &ob));
    CHECK_OK(sea_gen_output_alloc(1, n_new, &o1));
    CHECK_OK(sea_generate(m, s, &q, (const int32_t *const *)prompts, lens, 3, sids, &ob));
    CHECK_OK(sea_generate(m, s, &q, (const int32_t *const *)&prompts[2], &lens[2], 1, &sids[2], &o1));
    CHECK(o1.lengths[0] == ob.lengths[2], "%s: sampled length alone %d vs in batch %d", name, o1.lengths[0],
          ob.lengths[2]);
    for (int k = 0; k < o1.lengths[0] && k < ob.lengths[2]; k++)
        CHECK(o1.tokens[k] == ob.tokens[2 * n_new + k], "%s: sampled token %d alone %d vs in batch %d", name, k,
              o1.tokens[k], ob.tokens[2 * n_new + k]);
    double lpe = sampled_logp_err(m, s, &gr, &ob);
    printf("  %-16s sampling: lengths %d %d %d (eos %d %d %d), batch-independent, sampling-time logp vs "
           "forward max err %.2e\n", name, ob.lengths[0], ob.lengths[1], ob.lengths[2], ob.finished[0],
           ob.finished[1], ob.finished[2], lpe);
    CHECK(ob.lengths[0] > 0 && ob.lengths[1] > 0 && ob.lengths[2] > 0, "%s: empty samples", name);
    CHECK(lpe < TOL_LOGP, "%s: sampling-time logp differs from forward by %.3e", name, lpe);
    sea_gen_output_free(&ob);
    sea_gen_output_free(&o1);
    greedy_ref_close(&gr);
}

static void test_save_roundtrip(sea_model *m, const fixture *fx, const char *name)
{
    sea_stream *s = sea_device_stream(g_dev);
    char tmpl[] = "/tmp/sea_test_save_XXXXXX";
    char *dir = mkdtemp(tmpl);
    if (!dir) {
        CHECK(0, "mkdtemp failed");
        return;
    }
    /* A small shard size forces the sharded writer and index. */
    CHECK_OK(sea_model_save_hf(m, dir, 16 * 1024));
    sea_model *r = NULL;
    CHECK_OK(sea_model_load(g_dev, dir, NULL, &r));
    if (r) {
        float *a = fixture_logits(m, s, fx), *b = fixture_logits(r, s, fx);
        double d = max_abs_diff(a, b, (int64_t)fx->B * fx->T * sea_model_vocab_size(m));
        CHECK(d == 0, "%s: reloaded model's logits differ by %.3e", name, d);
        printf("  %-16s save (sharded) -> reload: logits max diff %.1e\n", name, d);
        free(a);
        free(b);
        sea_model_free(r);
    }
    /* As bf16: every reloaded weight is its f32 master rounded to bf16, and config.json says so. */
    char dir16[1100];
    snprintf(dir16, sizeof dir16, "%s/bf16", dir);
    CHECK_OK(sea_model_save_hf_as(m, dir16, 0, SEA_BF16));
    CHECK_OK(sea_model_load(g_dev, dir16, NULL, &r));
    if (r) {
        /* tensor by tensor in HF layout (the flat buffer also holds alignment padding) */
        int64_t n = 0, bad = 0;
        CHECK(sea_model_tensor_count(r) == sea_model_tensor_count(m), "%s: bf16 reload has %d tensors, not %d", name,
              sea_model_tensor_count(r), sea_model_tensor_count(m));
        float *a = malloc(sizeof(float) * 1 << 20), *b = malloc(sizeof(float) * 1 << 20);
        for (int t = 0; a && b && t < sea_model_tensor_count(m) && t < sea_model_tensor_count(r); t++) {
            sea_tensor pt;
            CHECK_OK(sea_model_tensor(m, t, &pt, NULL));
            int64_t tn = sea_tensor_numel(&pt);
            if (tn > (1 << 20)) continue;   /* the test models are far smaller */
            CHECK(!strcmp(sea_model_tensor_name(m, t), sea_model_tensor_name(r, t)), "%s: tensor %d is %s, reloaded %s",
                  name, t, sea_model_tensor_name(m, t), sea_model_tensor_name(r, t));
            CHECK_OK(sea_model_tensor_read_hf(m, s, t, false, a));
            CHECK_OK(sea_model_tensor_read_hf(r, s, t, false, b));
            for (int64_t k = 0; k < tn; k++) bad += b[k] != sea_bf16_to_f32(sea_f32_to_bf16(a[k]));
            n += tn;
        }
        free(a);
        free(b);
        sea_model_free(r);
        char cfgp[1200], *text = NULL;
        size_t len = 0;
        snprintf(cfgp, sizeof cfgp, "%s/config.json", dir16);
        CHECK_OK(sea_file_read(cfgp, &text, &len));
        CHECK(text && strstr(text, "\"bfloat16\""), "%s: bf16 config.json does not say torch_dtype bfloat16", name);
        free(text);
        printf("  %-16s save as bf16 -> reload: %lld weights, each its master rounded\n", name, (long long)n);
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", dir);
}

static void test_clone(sea_model *m, const fixture *fx, const char *name)
{
    sea_stream *s = sea_device_stream(g_dev);
    sea_model *c = NULL;
    CHECK_OK(sea_model_clone(m, NULL, &c));
    if (!c) return;
    float a[8], b[8];
    CHECK_OK(sea_model_forward_logprobs(m, s, fx->ids, fx->kv, fx->resp, fx->B, fx->T, false, a, NULL, NULL));
    CHECK_OK(sea_model_forward_logprobs(c, s, fx->ids, fx->kv, fx->resp, fx->B, fx->T, false, b, NULL, NULL));
    for (int i = 0; i < fx->B; i++) CHECK(a[i] == b[i], "%s: clone logp %g vs %g", name, b[i], a[i]);
    /* Separate storage: changing the clone leaves the original alone. */
    sea_tensor fp;
    sea_model_params(c, &fp, NULL);
    CHECK_OK(sea_fill(s, &fp, 0.0));
    CHECK_OK(sea_model_forward_logprobs(m, s, fx->ids, fx->kv, fx->resp, fx->B, fx->T, false, b, NULL, NULL));
    for (int i = 0; i < fx->B; i++) CHECK(a[i] == b[i], "%s: original changed after the clone was zeroed", name);
    sea_model_free(c);
}

static void test_causal(const char *name)
{
    printf("%s\n", name);
    sea_model *m = load(name);
    if (!m) return;
    fixture fx;
    fixture_open(g_dir, name, &fx);
    test_logits(m, &fx, name);
    test_logprobs_grads(m, &fx, name);
    test_hidden(m, &fx, name);
    test_greedy(m, &fx, name);
    test_clone(m, &fx, name);
    test_save_roundtrip(m, &fx, name);
    fixture_close(&fx);
    sea_model_free(m);
}

static void test_reward_model(void)
{
    const char *name = "neox_rm";
    printf("%s\n", name);
    sea_model *m = load(name);
    if (!m) return;
    fixture fx;
    fixture_open(g_dir, name, &fx);
    sea_stream *s = sea_device_stream(g_dev);
    CHECK(sea_model_is_classifier(m), "%s: not a classifier", name);
    int L = sea_model_num_labels(m);
    int64_t n;
    float *ref = ref_f32(fx.ref, "score", &n);
    float *sc = malloc((size_t)fx.B * L * sizeof(float));
    CHECK(n == (int64_t)fx.B * L, "%s: %lld reference scores for %d x %d", name, (long long)n, fx.B, L);
    CHECK_OK(sea_model_score(m, s, fx.ids, fx.kv, fx.B, fx.T, sc));
    double e = rel_err(sc, ref, n);
    printf("  %-16s score rel err %.2e (", name, e);
    for (int i = 0; i < n; i++) printf("%s%.4f/%.4f", i ? " " : "", sc[i], ref[i]);
    printf(")\n");
    CHECK(e < TOL_HIDDEN * 5, "%s: score rel err %.3e", name, e);
    test_hidden(m, &fx, name);
    /* Save -> reload keeps the classifier head and its scores. */
    char tmpl[] = "/tmp/sea_test_rm_XXXXXX";
    char *dir = mkdtemp(tmpl);
    CHECK_OK(sea_model_save_hf(m, dir, 0));
    sea_model *r = NULL;
    CHECK_OK(sea_model_load(g_dev, dir, NULL, &r));
    if (r) {
        float *sc2 = malloc((size_t)fx.B * L * sizeof(float));
        CHECK(sea_model_is_classifier(r) && sea_model_num_labels(r) == L, "%s: reloaded RM lost its head", name);
        CHECK_OK(sea_model_score(r, s, fx.ids, fx.kv, fx.B, fx.T, sc2));
        CHECK(max_abs_diff(sc, sc2, n) == 0, "%s: reloaded RM scores differ", name);
        free(sc2);
        sea_model_free(r);
    }
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) fprintf(stderr, "warning: could not remove %s\n", dir);
    float lp[8];
    CHECK(sea_model_forward_logprobs(m, s, fx.ids, fx.kv, NULL, fx.B, fx.T, false, lp, NULL, NULL) == SEA_ERR_INVALID,
          "%s: logprobs on a classifier must fail", name);
    free(ref);
    free(sc);
    fixture_close(&fx);
    sea_model_free(m);
}

int main(int argc, char **argv)
{
    g_dev = test_device(argc, argv);
    g_dir = argc > 2 ? argv[2] : "tests/models/fixtures/models";
    const char *causal[] = {"neox_par", "neox_ser", "llama_gqa_bf16", "llama_sharded"};
    for (size_t i = 0; i < sizeof causal / sizeof causal[0]; i++) test_causal(causal[i]);
    test_reward_model();
    return test_finish(g_dev, "all model golden checks passed");
}
