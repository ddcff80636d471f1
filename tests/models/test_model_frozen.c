/* Frozen bf16 models (sea_model_freeze_bf16): what a DPO reference model relies on.
 *  - Every forward (logits, log-probs, hidden states, scores, greedy and sampled generation)
 *    gives the same bits after freezing as before: it already read only the bf16 copy.
 *  - The weight memory drops to the bf16 copy alone (2 bytes a parameter), from 10 for a
 *    model that had trained (f32 master + f32 gradients + bf16 copy).
 *  - What needs the master or gradients fails with SEA_ERR_INVALID naming the problem
 *    ("frozen"), and nothing crashes.
 *  - copy_params into a frozen model (same device and across devices) rounds like the
 *    refresh: the frozen model's logits equal the bf16 source's; reads widen the bf16 copy.
 *
 * usage: test_model_frozen [DEVICE] [FIXTURE_DIR]   (bf16 compute absent -> exit 77) */
#include <unistd.h>

#include "fixture_util.h"
#include "runtime/ops.h"

static const char *g_dir, *g_spec;
static sea_device *g_dev;

static bool same_bits(const float *a, const float *b, size_t n) { return !memcmp(a, b, n * sizeof(float)); }

/* Everything the forward can hand back, for a bit-for-bit comparison across freezing. */
typedef struct outputs {
    float *logits, *seq_sum, *seq_mean, *token_logp, *hidden;
    int32_t *greedy, *sampled;
    float *sampled_logp;
    size_t n_logits, n_hidden, n_gen;
} outputs;

static void gen(sea_model *m, const greedy_ref *gr, bool greedy, int32_t *tokens, float *logp)
{
    sea_gen_params p = sea_gen_params_default();
    p.greedy = greedy;
    p.max_new_tokens = gr->n_new;
    p.temperature = 0.9f;
    p.seed = 5;
    sea_gen_output o;
    CHECK_OK(sea_gen_output_alloc(3, gr->n_new, &o));
    CHECK_OK(sea_generate(m, sea_device_stream(g_dev), &p, (const int32_t *const *)gr->prompts, gr->lens, 3, NULL, &o));
    memcpy(tokens, o.tokens, (size_t)3 * gr->n_new * sizeof *tokens);
    if (logp) memcpy(logp, o.logp, (size_t)3 * gr->n_new * sizeof *logp);
    sea_gen_output_free(&o);
}

static void outputs_take(sea_model *m, const fixture *fx, const greedy_ref *gr, outputs *o)
{
    sea_stream *s = sea_device_stream(g_dev);
    int B = fx->B, T = fx->T, C = sea_model_hidden_size(m);
    o->n_logits = (size_t)B * T * sea_model_vocab_size(m);
    o->n_hidden = (size_t)B * C;
    o->n_gen = (size_t)3 * gr->n_new;
    o->logits = fixture_logits(m, s, fx);
    o->seq_sum = malloc((size_t)B * sizeof(float));
    o->seq_mean = malloc((size_t)B * sizeof(float));
    o->token_logp = malloc((size_t)B * T * sizeof(float));
    o->hidden = malloc(o->n_hidden * sizeof(float));
    o->greedy = malloc(o->n_gen * sizeof(int32_t));
    o->sampled = malloc(o->n_gen * sizeof(int32_t));
    o->sampled_logp = malloc(o->n_gen * sizeof(float));
    CHECK_OK(sea_model_forward_logprobs(m, s, fx->ids, fx->kv, fx->resp, B, T, false, o->seq_sum, o->seq_mean,
                                        o->token_logp));
    CHECK_OK(sea_model_hidden(m, s, fx->ids, fx->kv, B, T, NULL, o->hidden));
    gen(m, gr, true, o->greedy, NULL);
    gen(m, gr, false, o->sampled, o->sampled_logp);
}

static void outputs_compare(const outputs *a, const outputs *b, int B, int T, const char *name)
{
    CHECK(same_bits(a->logits, b->logits, a->n_logits), "%s: logits changed by freezing", name);
    CHECK(same_bits(a->seq_sum, b->seq_sum, (size_t)B) && same_bits(a->seq_mean, b->seq_mean, (size_t)B),
          "%s: sequence log-probs changed by freezing", name);
    CHECK(same_bits(a->token_logp, b->token_logp, (size_t)B * T), "%s: token log-probs changed by freezing", name);
    CHECK(same_bits(a->hidden, b->hidden, a->n_hidden), "%s: hidden states changed by freezing", name);
    CHECK(!memcmp(a->greedy, b->greedy, a->n_gen * sizeof(int32_t)), "%s: greedy tokens changed by freezing", name);
    CHECK(!memcmp(a->sampled, b->sampled, a->n_gen * sizeof(int32_t)) &&
          same_bits(a->sampled_logp, b->sampled_logp, a->n_gen), "%s: sampled tokens changed by freezing", name);
}

static void outputs_free(outputs *o)
{
    free(o->logits);
    free(o->seq_sum);
    free(o->seq_mean);
    free(o->token_logp);
    free(o->hidden);
    free(o->greedy);
    free(o->sampled);
    free(o->sampled_logp);
}

static size_t weights_bytes(const sea_model *m)
{
    sea_model_memory_stats st;
    sea_model_memory(m, &st);
    return st.weights_reserved;
}

/* st must be SEA_ERR_INVALID with a message containing `word`. */
static void check_refused(sea_status st, const char *word, const char *what)
{
    CHECK(st == SEA_ERR_INVALID, "%s on a frozen model: %s, want INVALID", what, sea_status_name(st));
    if (getenv("SEA_TEST_VERBOSE")) printf("    %s -> %s\n", what, sea_last_error());
    CHECK(st && strstr(sea_last_error(), word), "%s: error '%s' does not say '%s'", what, sea_last_error(), word);
}

/* Everything that needs the f32 master or gradients is refused; a train forward first
 * (it would need gradients) and a backward with nothing to differentiate both fail cleanly. */
static void test_refusals(sea_model *m, const fixture *fx, const char *name)
{
    sea_stream *s = sea_device_stream(g_dev);
    float sum[16], d[16] = {0};
    sea_tensor p, g;
    float *w = malloc((size_t)sea_model_num_params(m) * sizeof(float));
    check_refused(sea_model_forward_logprobs(m, s, fx->ids, fx->kv, fx->resp, fx->B, fx->T, true, sum, NULL, NULL),
                  "frozen", "train forward");
    check_refused(sea_model_backward_logprobs(m, s, d, NULL), "frozen", "backward_logprobs");
    check_refused(sea_model_zero_grad(m, s), "frozen", "zero_grad");
    check_refused(sea_model_params(m, &p, NULL), "frozen", "sea_model_params");
    check_refused(sea_model_params(m, NULL, &g), "frozen", "sea_model_params (grads)");
    check_refused(sea_model_tensor(m, 0, &p, NULL), "frozen", "sea_model_tensor");
    check_refused(sea_model_tensor_read_hf(m, s, 0, true, w), "frozen", "tensor_read_hf (grad)");
    char dir[] = "/tmp/sea_frozen_save_XXXXXX";
    if (mkdtemp(dir)) {
        check_refused(sea_model_save_hf(m, dir, 0), "frozen", "save_hf");
        rmdir(dir);
    }
    check_refused(sea_model_set_compute_dtype(m, SEA_F32), "frozen", "set_compute_dtype f32");
    CHECK(sea_model_compute_dtype(m) == SEA_BF16, "%s: compute dtype changed by a refused switch", name);
    CHECK_OK(sea_model_set_compute_dtype(m, SEA_BF16));
    CHECK_OK(sea_model_freeze_bf16(m, s));   /* again: nothing to do */
    printf("  %-16s frozen: training, master access, save and f32 refused with errors naming it\n", name);
    free(w);
}

/* Tensor i's weights in HF layout (host, malloc'ed) and their count; the model not frozen. */
static float *read_master(sea_model *m, int i, int64_t *n)
{
    sea_tensor p;
    CHECK_OK(sea_model_tensor(m, i, &p, NULL));
    *n = sea_tensor_numel(&p);
    float *w = malloc((size_t)*n * sizeof(float));
    CHECK_OK(sea_model_tensor_read_hf(m, sea_device_stream(g_dev), i, false, w));
    return w;
}

/* After freezing, a read gives the master's values rounded to bf16 (nearest even), widened. */
static void test_read(sea_model *m, int i, const float *master, int64_t n, const char *name)
{
    float *w = malloc((size_t)n * sizeof(float));
    CHECK_OK(sea_model_tensor_read_hf(m, sea_device_stream(g_dev), i, false, w));
    int64_t bad = 0;
    for (int64_t k = 0; k < n; k++) {
        float want = sea_bf16_to_f32(sea_f32_to_bf16(master[k]));
        if (memcmp(&w[k], &want, sizeof want)) bad++;
    }
    CHECK(bad == 0, "%s: %lld of %lld values of %s read back from the frozen model are not the bf16-rounded "
          "master", name, (long long)bad, (long long)n, sea_model_tensor_name(m, i));
    free(w);
}

/* copy_params from a bf16 model with other weights into the frozen one: the frozen model's
 * logits become the source's bit for bit. dev: the source's device (the frozen one's, or
 * another handle, which takes the path through host memory). */
static void test_copy_into(sea_model *m, sea_device *dev, uint64_t seed, const fixture *fx, const char *name,
                           const char *how)
{
    sea_model *src = NULL;
    CHECK_OK(sea_model_create(dev, sea_model_config(m), seed, 0.05f, &src));
    if (!src) return;
    CHECK_OK(sea_model_set_compute_dtype(src, SEA_BF16));
    size_t n = (size_t)fx->B * fx->T * sea_model_vocab_size(m);
    float *before = fixture_logits(m, sea_device_stream(g_dev), fx);
    float *want = fixture_logits(src, sea_device_stream(dev), fx);
    CHECK_OK(sea_model_copy_params(m, src));
    float *got = fixture_logits(m, sea_device_stream(g_dev), fx);
    CHECK(!same_bits(before, got, n), "%s: copy_params (%s) left the frozen model's logits unchanged", name, how);
    CHECK(same_bits(want, got, n), "%s: frozen model's logits after copy_params (%s) differ from the source's",
          name, how);
    CHECK(sea_model_is_frozen(m), "%s: copy_params unfroze the model", name);
    printf("  %-16s copy_params (%s) into the frozen model: logits equal the bf16 source's\n", name, how);
    free(before);
    free(want);
    free(got);
    sea_model_free(src);
}

/* A clone of a frozen model is an ordinary bf16 model (f32 master = the widened bf16 weights):
 * same logits, and it can hand out its parameters for training. */
static void test_clone(sea_model *m, const fixture *fx, const char *name)
{
    sea_model *c = NULL;
    CHECK_OK(sea_model_clone(m, NULL, &c));
    if (!c) return;
    size_t n = (size_t)fx->B * fx->T * sea_model_vocab_size(m);
    float *a = fixture_logits(m, sea_device_stream(g_dev), fx), *b = fixture_logits(c, sea_device_stream(g_dev), fx);
    sea_tensor p, g;
    CHECK(!sea_model_is_frozen(c), "%s: the clone of a frozen model is frozen", name);
    CHECK_OK(sea_model_params(c, &p, &g));
    CHECK(same_bits(a, b, n), "%s: the clone of a frozen model computes other logits", name);
    free(a);
    free(b);
    sea_model_free(c);
}

static void run_causal(sea_model *m, const fixture *fxp, const greedy_ref *grp, const char *name)
{
    fixture fx = *fxp;
    greedy_ref gr = *grp;
    sea_stream *s = sea_device_stream(g_dev);
    int64_t np = sea_model_num_params(m);
    /* Train once first so the model holds its gradients (no step: same weights). */
    float sum[16], d[16];
    for (int b = 0; b < fx.B; b++) d[b] = 1.0f;
    CHECK_OK(sea_model_forward_logprobs(m, s, fx.ids, fx.kv, fx.resp, fx.B, fx.T, true, sum, NULL, NULL));
    CHECK_OK(sea_model_backward_logprobs(m, s, d, NULL));
    size_t held = weights_bytes(m);
    CHECK(held == (size_t)np * 10, "%s: a trained bf16 model holds %zu weight bytes, want 10 per parameter (%lld)",
          name, held, (long long)np * 10);
    outputs before, after;
    outputs_take(m, &fx, &gr, &before);
    int64_t nw;
    int qkv = sea_model_tensor_find(m, "gpt_neox.layers.0.attention.query_key_value.weight");
    int ti = qkv >= 0 ? qkv : 1;   /* neox: the reordered qkv rows; llama: a plain tensor */
    float *master = read_master(m, ti, &nw);

    CHECK(!sea_model_is_frozen(m), "%s: frozen before freezing", name);
    CHECK_OK(sea_model_freeze_bf16(m, s));
    CHECK(sea_model_is_frozen(m), "%s: not frozen after freezing", name);
    size_t frozen = weights_bytes(m);
    printf("  %-16s weights: %zu bytes before freezing (after training), %zu after (%.1f bytes a parameter)\n",
           name, held, frozen, (double)frozen / (double)np);
    CHECK(frozen == (size_t)np * 2, "%s: a frozen model holds %zu weight bytes, want 2 per parameter (%lld)", name,
          frozen, (long long)np * 2);

    outputs_take(m, &fx, &gr, &after);
    outputs_compare(&before, &after, fx.B, fx.T, name);
    printf("  %-16s logits, log-probs, hidden states, greedy and sampled tokens: same bits after freezing\n", name);
    test_read(m, ti, master, nw, name);
    test_refusals(m, &fx, name);
    outputs_free(&after);
    outputs_take(m, &fx, &gr, &after);   /* the refusals changed nothing */
    outputs_compare(&before, &after, fx.B, fx.T, name);
    test_clone(m, &fx, name);
    test_copy_into(m, g_dev, 1234, &fx, name, "same device");
    sea_device *other = NULL;
    if (!sea_device_open(g_spec, &other) && other != g_dev) {
        test_copy_into(m, other, 4321, &fx, name, "another device handle, through the host");
    }
    if (other && other != g_dev) sea_device_close(other);
    outputs_free(&before);
    outputs_free(&after);
    free(master);
}

static void test_causal(const char *name)
{
    printf("%s\n", name);
    fixture fx;
    fixture_open(g_dir, name, &fx);
    greedy_ref gr;
    greedy_ref_open(&fx, &gr);
    sea_model *m = fixture_model(g_dev, g_dir, name, SEA_BF16);
    if (m) run_causal(m, &fx, &gr, name);
    sea_model_free(m);
    greedy_ref_close(&gr);
    fixture_close(&fx);
}

/* Reward scores too; and freezing an f32 model is refused with the dtype named. */
static void test_reward_model(void)
{
    const char *name = "neox_rm";
    printf("%s\n", name);
    fixture fx;
    fixture_open(g_dir, name, &fx);
    sea_model *m = fixture_model(g_dev, g_dir, name, SEA_BF16), *f = fixture_model(g_dev, g_dir, name, SEA_F32);
    if (m && f) {
        sea_stream *s = sea_device_stream(g_dev);
        int nl = sea_model_num_labels(m);
        float *a = malloc((size_t)fx.B * nl * sizeof(float)), *b = malloc((size_t)fx.B * nl * sizeof(float));
        CHECK_OK(sea_model_score(m, s, fx.ids, fx.kv, fx.B, fx.T, a));
        CHECK_OK(sea_model_freeze_bf16(m, s));
        CHECK_OK(sea_model_score(m, s, fx.ids, fx.kv, fx.B, fx.T, b));
        CHECK(same_bits(a, b, (size_t)fx.B * nl), "%s: scores changed by freezing", name);
        sea_status st = sea_model_freeze_bf16(f, s);
        CHECK(st == SEA_ERR_INVALID && strstr(sea_last_error(), "f32") && strstr(sea_last_error(), "bf16"),
              "%s: freezing an f32 model: %s (%s)", name, sea_status_name(st), sea_last_error());
        CHECK(!sea_model_is_frozen(f), "%s: an f32 model froze", name);
        printf("  %-16s scores: same bits after freezing; freezing an f32 model refused\n", name);
        free(a);
        free(b);
    }
    sea_model_free(m);
    sea_model_free(f);
    fixture_close(&fx);
}

int main(int argc, char **argv)
{
    g_dev = test_device(argc, argv);
    g_dir = argc > 2 ? argv[2] : "tests/models/fixtures/models";
    g_spec = argc > 1 ? argv[1] : "cpu";
    if (!fixture_bf16_supported(g_dev, g_dir)) {
        fprintf(stderr, "bf16 compute unavailable on %s: %s\n", sea_device_label(g_dev), sea_last_error());
        sea_device_close(g_dev);
        return 77;
    }
    const char *causal[] = {"neox_par", "llama_gqa_bf16"};
    for (size_t i = 0; i < sizeof causal / sizeof causal[0]; i++) test_causal(causal[i]);
    test_reward_model();
    return test_finish(g_dev, "all frozen-model checks passed");
}
