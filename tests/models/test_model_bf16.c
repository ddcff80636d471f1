/* bf16 compute mode (models/model_precision.c) against the same Hugging Face float64
 * references as test_model.c, with bf16 tolerances; plus what mixed precision promises:
 * determinism, the f32 path untouched by switching, refresh of the bf16 copy after the
 * master changes (optimizer step, host write), generation and reward scores in bf16.
 *
 * Tolerances. bf16 keeps 8 significant bits: rounding a value costs up to u = 2^-9 ~ 2e-3
 * relative (machine epsilon 2^-8 ~ 3.9e-3). Every weight is rounded once and every
 * activation once per op, so each of the ~10 ops of a block adds an independent error of
 * about u / sqrt(3) (uniform rounding) relative to the values it carries. Over these 2-layer
 * fixtures that is ~20 roundings on the residual path: sqrt(20) * u / sqrt(3) ~ 5e-3
 * relative; the CPU measures 0.8-1.0e-2 (the residual stream itself is bf16 and the norms
 * rescale its error). Logits and hidden states are held to 3e-2 relative L2 (3x measured,
 * ~8 bf16 epsilons), token log-probs (measured <= 0.04 nats) to 0.1 nats. Gradients go
 * through as many roundings again backwards (the weight gradients themselves accumulate in
 * f32; measured worst tensor 2.6e-2, a layernorm bias): 6e-2 relative L2 per tensor.
 *
 * usage: test_model_bf16 [DEVICE] [FIXTURE_DIR]   (DEVICE absent -> exit 77) */
#include <unistd.h>

#include "fixture_util.h"
#include "runtime/ops.h"

#define TOL_LOGITS 3e-2   /* relative L2 over real positions */
#define TOL_HIDDEN 3e-2
#define TOL_LOGP 1e-1     /* absolute, nats */
#define TOL_GRAD 6e-2     /* relative L2 per tensor */
#define TOL_SCORE 6e-2    /* relative L2 of the reward scores */

static const char *g_dir;
static sea_device *g_dev;

static sea_model *load(const char *name) { return fixture_model(g_dev, g_dir, name, SEA_BF16); }

static float *logits(sea_model *m, const fixture *fx) { return fixture_logits(m, sea_device_stream(g_dev), fx); }

static bool same_bits(const float *a, const float *b, size_t n) { return !memcmp(a, b, n * sizeof(float)); }

/* Logits vs HF, and two bf16 runs give the same bits. */
static void test_logits(sea_model *m, const fixture *fx, const char *name)
{
    int V = sea_model_vocab_size(m);
    float *a = logits(m, fx), *b = logits(m, fx);
    double err = fixture_logits_err(fx, a, V);
    printf("  %-16s bf16 logits rel err %.2e (tol %.0e)\n", name, err, TOL_LOGITS);
    CHECK(err < TOL_LOGITS, "%s: bf16 logits rel err %.3e >= %.1e", name, err, TOL_LOGITS);
    CHECK(same_bits(a, b, (size_t)fx->B * fx->T * V), "%s: two bf16 forwards differ", name);
    free(a);
    free(b);
}

/* Log-probs and parameter gradients vs HF; a second backward gives the same bits. */
static void test_grads(sea_model *m, const fixture *fx, const char *name)
{
    sea_stream *s = sea_device_stream(g_dev);
    int B = fx->B, T = fx->T;
    float *tl = malloc((size_t)B * T * sizeof(float)), sum[8], mean[8];
    float *ref = ref_f32(fx->ref, "token_logp", NULL);
    float *d_sum = ref_f32(fx->ref, "d_sum", NULL), *d_mean = ref_f32(fx->ref, "d_mean", NULL);
    CHECK_OK(sea_model_zero_grad(m, s));
    CHECK_OK(sea_model_forward_logprobs(m, s, fx->ids, fx->kv, fx->resp, B, T, true, sum, mean, tl));
    double md = token_logp_err(fx, tl, ref);
    printf("  %-16s bf16 token logp max abs err %.2e (tol %.0e)\n", name, md, TOL_LOGP);
    CHECK(md < TOL_LOGP, "%s: bf16 token logp max abs err %.3e", name, md);
    CHECK_OK(sea_model_backward_logprobs(m, s, d_sum, d_mean));

    int nt;
    const char *worst_name;
    double worst = fixture_grads_err(m, s, fx, name, &nt, &worst_name);
    printf("  %-16s bf16 grads: %d tensors, worst rel err %.2e (%s; tol %.0e)\n", name, nt, worst, worst_name,
           TOL_GRAD);
    CHECK(worst < TOL_GRAD, "%s: bf16 gradient of %s rel err %.3e >= %.1e", name, worst_name, worst, TOL_GRAD);

    /* Determinism: the same forward + backward again gives the same gradient bits. */
    float *g1, *g2;
    int64_t n = fixture_grads_again(m, s, fx, d_sum, d_mean, true, &g1, &g2);
    CHECK(same_bits(g1, g2, (size_t)n), "%s: two bf16 backwards give different gradients", name);
    free(g1);
    free(g2);
    free(tl);
    free(ref);
    free(d_sum);
    free(d_mean);
}

/* The bf16 copy follows the master: after an optimizer step (an op writing the flat buffer)
 * the logits equal those of a fresh clone (whose copy is made from scratch), and differ
 * from before. Switching to f32 and back leaves f32 results as a never-switched model's. */
static void test_refresh(sea_model *m, const fixture *fx, const char *name)
{
    sea_stream *s = sea_device_stream(g_dev);
    size_t nl = (size_t)fx->B * fx->T * sea_model_vocab_size(m);
    float *before = logits(m, fx);
    sea_tensor p, g;
    CHECK_OK(sea_model_params(m, &p, &g));
    int64_t n = sea_tensor_numel(&p);
    sea_tensor mom, var;
    CHECK_OK(sea_tensor_alloc(g_dev, SEA_F32, 1, &n, &mom));
    CHECK_OK(sea_tensor_alloc(g_dev, SEA_F32, 1, &n, &var));
    CHECK_OK(sea_fill(s, &mom, 0.0));
    CHECK_OK(sea_fill(s, &var, 0.0));
    CHECK_OK(sea_fill(s, &g, 0.01));
    CHECK_OK(sea_adamw(s, &p, &g, &mom, &var, 1e-2f, 0.9f, 0.999f, 1e-8f, 0.0f, 0.0f, 1));
    float *after = logits(m, fx);
    sea_model *c = NULL;
    CHECK_OK(sea_model_clone(m, NULL, &c));
    CHECK(c && sea_model_compute_dtype(c) == SEA_BF16, "%s: the clone is not bf16", name);
    float *fresh = c ? logits(c, fx) : NULL;
    CHECK(!same_bits(before, after, nl), "%s: logits unchanged after an optimizer step (stale bf16 copy)", name);
    CHECK(fresh && same_bits(after, fresh, nl), "%s: logits after a step differ from a fresh clone's", name);
    /* f32 after a bf16 detour = f32 of the clone switched to f32 directly. */
    CHECK_OK(sea_model_set_compute_dtype(m, SEA_F32));
    float *f32a = logits(m, fx);
    CHECK_OK(sea_model_set_compute_dtype(m, SEA_BF16));
    CHECK_OK(sea_model_set_compute_dtype(m, SEA_F32));
    float *f32b = logits(m, fx);
    CHECK(same_bits(f32a, f32b, nl), "%s: f32 logits changed by a bf16 round trip", name);
    printf("  %-16s bf16 copy refreshed after an AdamW step; f32 unchanged by switching\n", name);
    sea_model_free(c);
    sea_tensor_free(&mom);
    sea_tensor_free(&var);
    free(before);
    free(after);
    free(fresh);
    free(f32a);
    free(f32b);
}

/* Generation in bf16: greedy matches HF on most tokens (bf16 can flip near-ties), sampling is
 * deterministic and its logp agrees with a full forward to the bf16 tolerance. */
static void test_generate(sea_model *m, const fixture *fx, const char *name)
{
    sea_stream *s = sea_device_stream(g_dev);
    greedy_ref gr;
    greedy_ref_open(fx, &gr);
    int32_t **prompts = gr.prompts, **want = gr.want;
    int *lens = gr.lens, n_new = gr.n_new, match = 0;
    sea_gen_params p = sea_gen_params_default();
    p.greedy = true;
    p.max_new_tokens = n_new;
    sea_gen_output g, a, b;
    CHECK_OK(sea_gen_output_alloc(3, n_new, &g));
    CHECK_OK(sea_generate(m, s, &p, (const int32_t *const *)prompts, lens, 3, NULL, &g));
    for (int i = 0; i < 3; i++)   /* count the agreeing prefix: after a flip the contexts differ */
        for (int k = 0; k < n_new && g.tokens[i * n_new + k] == want[i][k]; k++) match++;
    p.greedy = false;
    p.temperature = 0.9f;
    p.seed = 99;
    CHECK_OK(sea_gen_output_alloc(3, n_new, &a));
    CHECK_OK(sea_gen_output_alloc(3, n_new, &b));
    CHECK_OK(sea_generate(m, s, &p, (const int32_t *const *)prompts, lens, 3, NULL, &a));
    CHECK_OK(sea_generate(m, s, &p, (const int32_t *const *)prompts, lens, 3, NULL, &b));
    CHECK(!memcmp(a.tokens, b.tokens, (size_t)3 * n_new * sizeof *a.tokens) &&
          same_bits(a.logp, b.logp, (size_t)3 * n_new), "%s: two bf16 samplings differ", name);
    double lpe = sampled_logp_err(m, s, &gr, &a);
    printf("  %-16s bf16 greedy: %d/%d tokens agree with transformers before a first flip; sampling "
           "deterministic, logp vs forward max err %.2e\n", name, match, 3 * n_new, lpe);
    CHECK(match >= 3 * n_new / 2, "%s: bf16 greedy agrees with transformers on only %d of %d tokens", name,
          match, 3 * n_new);
    CHECK(lpe < TOL_LOGP, "%s: bf16 sampling-time logp differs from forward by %.3e", name, lpe);
    sea_gen_output_free(&g);
    sea_gen_output_free(&a);
    sea_gen_output_free(&b);
    greedy_ref_close(&gr);
}

static void test_causal(const char *name)
{
    printf("%s\n", name);
    fixture fx;
    fixture_open(g_dir, name, &fx);
    sea_model *m = load(name);
    if (m) {
        test_logits(m, &fx, name);
        test_grads(m, &fx, name);
        test_generate(m, &fx, name);
        test_refresh(m, &fx, name);
        sea_model_free(m);
    }
    fixture_close(&fx);
}

static void test_reward_model(void)
{
    const char *name = "neox_rm";
    printf("%s\n", name);
    fixture fx;
    fixture_open(g_dir, name, &fx);
    sea_model *m = load(name);
    if (m) {
        sea_stream *s = sea_device_stream(g_dev);
        int64_t n, nh;
        float *ref = ref_f32(fx.ref, "score", &n), *sc = malloc((size_t)n * sizeof(float));
        float *href = ref_f32(fx.ref, "hidden_last", &nh), *h = malloc((size_t)nh * sizeof(float));
        CHECK_OK(sea_model_score(m, s, fx.ids, fx.kv, fx.B, fx.T, sc));
        CHECK_OK(sea_model_hidden(m, s, fx.ids, fx.kv, fx.B, fx.T, NULL, h));
        double e = rel_err(sc, ref, n), eh = rel_err(h, href, nh);
        printf("  %-16s bf16 score rel err %.2e, hidden (f32 to the host) rel err %.2e\n", name, e, eh);
        CHECK(e < TOL_SCORE, "%s: bf16 score rel err %.3e", name, e);
        CHECK(eh < TOL_HIDDEN, "%s: bf16 hidden rel err %.3e", name, eh);
        free(ref);
        free(sc);
        free(href);
        free(h);
        sea_model_free(m);
    }
    fixture_close(&fx);
}

int main(int argc, char **argv)
{
    g_dev = test_device(argc, argv);
    g_dir = argc > 2 ? argv[2] : "tests/models/fixtures/models";
    if (!fixture_bf16_supported(g_dev, g_dir)) {
        fprintf(stderr, "bf16 compute unavailable on %s: %s\n", sea_device_label(g_dev), sea_last_error());
        sea_device_close(g_dev);
        return 77;
    }
    const char *causal[] = {"neox_par", "neox_ser", "llama_gqa_bf16"};
    for (size_t i = 0; i < sizeof causal / sizeof causal[0]; i++) test_causal(causal[i]);
    test_reward_model();
    return test_finish(g_dev, "all bf16 model checks passed");
}
