/* A Hugging Face fixture (tests/models/make_model_fixtures.py) as the model tests use it: the
 * padded batch of ref.safetensors, the model of the same directory, and the comparisons of
 * what sea computes with what transformers computed. Failures count in g_fail. */
#ifndef SEA_TEST_FIXTURE_UTIL_H
#define SEA_TEST_FIXTURE_UTIL_H

#include "models/generate.h"
#include "test_model_util.h"

typedef struct fixture {
    sea_safetensors *ref;
    int B, T;
    int32_t *ids, *kv;   /* (B, T) token ids, key_valid */
    float *resp;         /* (B, T) resp_mask; NULL where the fixture has none (GGUF) */
} fixture;

/* dir/name/ref.safetensors. Exits when it does not open: like ref_f32, a missing fixture is a
 * broken test setup, not a failed check. */
static inline void fixture_open(const char *dir, const char *name, fixture *fx)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/ref.safetensors", dir, name);
    if (sea_safetensors_open(path, &fx->ref)) {
        fprintf(stderr, "%s\n", sea_last_error());
        exit(1);
    }
    const sea_st_tensor *t = sea_safetensors_find(fx->ref, "ids");
    fx->B = (int)t->shape[0];
    fx->T = (int)t->shape[1];
    fx->ids = ref_i32(fx->ref, "ids", NULL);
    fx->kv = ref_i32(fx->ref, "key_valid", NULL);
    fx->resp = sea_safetensors_find(fx->ref, "resp_mask") ? ref_f32(fx->ref, "resp_mask", NULL) : NULL;
}

static inline void fixture_close(fixture *fx)
{
    sea_safetensors_close(fx->ref);
    free(fx->ids);
    free(fx->kv);
    free(fx->resp);
}

/* The model of dir/name computing in dt; NULL, counted as a failure, when it does not load. */
static inline sea_model *fixture_model(sea_device *dev, const char *dir, const char *name, sea_dtype dt)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    sea_model_load_opts o = sea_model_load_opts_default();
    o.dtype = dt;
    sea_model *m = NULL;
    if (sea_model_load(dev, path, &o, &m)) {
        CHECK(0, "loading %s (%s): %s", path, sea_dtype_name(dt), sea_last_error());
        return NULL;
    }
    return m;
}

/* Whether dev runs the network ops in bf16 (loading dir/neox_par that way works); when it
 * does not, why is in sea_last_error(). Not a check: a device without it skips bf16 tests. */
static inline bool fixture_bf16_supported(sea_device *dev, const char *dir)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/neox_par", dir);
    sea_model_load_opts o = sea_model_load_opts_default();
    o.dtype = SEA_BF16;
    sea_model *m = NULL;
    if (sea_model_load(dev, path, &o, &m)) return false;
    sea_model_free(m);
    return true;
}

/* The model's logits (B, T, V) on the fixture batch (malloc'ed). */
static inline float *fixture_logits(sea_model *m, sea_stream *s, const fixture *fx)
{
    size_t n = (size_t)fx->B * fx->T * sea_model_vocab_size(m);
    float *lg = malloc(n * sizeof(float));
    CHECK_OK(sea_model_forward_logits(m, s, fx->ids, fx->kv, fx->B, fx->T, lg));
    return lg;
}

/* Relative L2 of lg (B, T, V) against the fixture's logits, over real positions only: what a
 * padded query computes is unspecified. */
static inline double fixture_logits_err(const fixture *fx, const float *lg, int V)
{
    float *ref = ref_f32(fx->ref, "logits", NULL);
    double num = 0, den = 0;
    for (int i = 0; i < fx->B * fx->T; i++) {
        if (!fx->kv[i]) continue;
        for (int v = 0; v < V; v++) {
            double d = (double)lg[(size_t)i * V + v] - ref[(size_t)i * V + v];
            num += d * d;
            den += (double)ref[(size_t)i * V + v] * ref[(size_t)i * V + v];
        }
    }
    free(ref);
    return sqrt(num / den);
}

/* Max abs error of token log-probs tl (B, T) against ref over the predicted tokens: t >= 1
 * with t and t - 1 both real. */
static inline double token_logp_err(const fixture *fx, const float *tl, const float *ref)
{
    double md = 0;
    for (int b = 0; b < fx->B; b++)
        for (int t = 1; t < fx->T; t++) {
            size_t i = (size_t)b * fx->T + t;
            if (!fx->kv[i] || !fx->kv[i - 1]) continue;
            double d = fabs((double)tl[i] - ref[i]);
            if (!(d <= md)) md = d;   /* NaN propagates as the max */
        }
    return md;
}

/* After a backward: the worst relative L2 of the model's gradients (HF layout) against the
 * fixture's grad.<tensor>, its tensor in *worst_name, how many had a reference in *checked
 * (a missing one is a failure). */
static inline double fixture_grads_err(sea_model *m, sea_stream *s, const fixture *fx, const char *name,
                                       int *checked, const char **worst_name)
{
    double worst = 0;
    *worst_name = "";
    *checked = 0;
    for (int i = 0; i < sea_model_tensor_count(m); i++) {
        const char *tn = sea_model_tensor_name(m, i);
        char key[256];
        snprintf(key, sizeof key, "grad.%s", tn);
        if (!sea_safetensors_find(fx->ref, key)) {
            CHECK(0, "%s: no reference gradient for %s", name, tn);
            continue;
        }
        int64_t n;
        float *rg = ref_f32(fx->ref, key, &n), *g = malloc((size_t)n * sizeof(float));
        CHECK_OK(sea_model_tensor_read_hf(m, s, i, true, g));
        double e = rel_err(g, rg, n);
        if (!(e <= worst)) {
            worst = e;
            *worst_name = tn;
        }
        (*checked)++;
        free(g);
        free(rg);
    }
    return worst;
}

/* Another forward + backward of the fixture batch (loss weights d_sum, d_mean): the flat
 * gradient before it in *g1 and after it in *g2 (malloc'ed); returns their length. zero: the
 * backward starts from zero gradients, else it accumulates. */
static inline int64_t fixture_grads_again(sea_model *m, sea_stream *s, const fixture *fx, const float *d_sum,
                                          const float *d_mean, bool zero, float **g1, float **g2)
{
    sea_tensor fg;
    CHECK_OK(sea_model_params(m, NULL, &fg));
    int64_t n = sea_tensor_numel(&fg);
    *g1 = malloc((size_t)n * sizeof(float));
    *g2 = malloc((size_t)n * sizeof(float));
    CHECK_OK(sea_tensor_read_f32(s, &fg, *g1));
    if (zero) CHECK_OK(sea_model_zero_grad(m, s));
    CHECK_OK(sea_model_forward_logprobs(m, s, fx->ids, fx->kv, fx->resp, fx->B, fx->T, true, NULL, NULL, NULL));
    CHECK_OK(sea_model_backward_logprobs(m, s, d_sum, d_mean));
    CHECK_OK(sea_tensor_read_f32(s, &fg, *g2));
    return n;
}

/* The fixture's three greedy prompts and transformers' continuations (n_new tokens each). */
typedef struct greedy_ref {
    int32_t *prompts[3], *want[3];
    int lens[3];
    int n_new;
} greedy_ref;

static inline void greedy_ref_open(const fixture *fx, greedy_ref *g)
{
    int64_t n = 0;
    for (int i = 0; i < 3; i++) {
        char key[64];
        snprintf(key, sizeof key, "greedy.prompt%d", i);
        g->prompts[i] = ref_i32(fx->ref, key, &n);
        g->lens[i] = (int)n;
        snprintf(key, sizeof key, "greedy.out%d", i);
        g->want[i] = ref_i32(fx->ref, key, &n);
    }
    g->n_new = (int)n;
}

static inline void greedy_ref_close(greedy_ref *g)
{
    for (int i = 0; i < 3; i++) {
        free(g->prompts[i]);
        free(g->want[i]);
    }
}

/* Max abs difference between the logp recorded at sampling time (KV-cached decode) in o, a
 * generation from g's three prompts, and a fresh full forward over prompt + response. */
static inline double sampled_logp_err(sea_model *m, sea_stream *s, const greedy_ref *g, const sea_gen_output *o)
{
    int n_new = g->n_new;
    double lpe = 0;
    for (int i = 0; i < 3; i++) {
        int L = g->lens[i] + o->lengths[i];
        int32_t *seq = malloc((size_t)L * sizeof *seq);
        float *tl = malloc((size_t)L * sizeof *tl);
        memcpy(seq, g->prompts[i], (size_t)g->lens[i] * sizeof *seq);
        memcpy(seq + g->lens[i], &o->tokens[i * n_new], (size_t)o->lengths[i] * sizeof *seq);
        CHECK_OK(sea_model_forward_logprobs(m, s, seq, NULL, NULL, 1, L, false, NULL, NULL, tl));
        for (int k = 0; k < o->lengths[i]; k++) {
            double d = fabs((double)tl[g->lens[i] + k] - o->logp[i * n_new + k]);
            if (!(d <= lpe)) lpe = d;
        }
        free(seq);
        free(tl);
    }
    return lpe;
}

#endif
