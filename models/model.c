/* sea_model: construction, the parameter table, flat buffers, copies. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"
#include "runtime/rng.h"
#include "runtime/threadpool.h"

sea_model_load_opts sea_model_load_opts_default(void)
{
    sea_model_load_opts o;
    memset(&o, 0, sizeof o);
    o.dtype = SEA_F32;
    return o;
}

sea_status sea_model_param_add(sea_model *m, const char *name, int ndim, int64_t d0, int64_t d1,
                               sea_param_layout layout, bool optional)
{
    sea_model_param *p = realloc(m->params, (size_t)(m->n_tensors + 1) * sizeof *p);
    if (!p) return sea_error(SEA_ERR_OOM, "model: out of host memory for the tensor table");
    m->params = p;
    sea_model_param *q = &p[m->n_tensors++];
    memset(q, 0, sizeof *q);
    snprintf(q->name, sizeof q->name, "%s", name);
    q->ndim = ndim;
    q->shape[0] = d0;
    q->shape[1] = ndim > 1 ? d1 : 1;
    q->layout = layout;
    q->optional = optional;
    q->offset = m->n_flat;
    /* Keep every tensor 64-element aligned in the flat buffer (256 bytes): backends may bind
     * sub-buffers only at aligned offsets. */
    int64_t n = q->shape[0] * q->shape[1];
    m->n_flat += (n + 63) / 64 * 64;
    return SEA_OK;
}

int sea_model_tensor_find(const sea_model *m, const char *name)
{
    for (int i = 0; i < m->n_tensors; i++)
        if (!strcmp(m->params[i].name, name)) return i;
    return -1;
}

sea_tensor sea_model_param_view(sea_model *m, const char *name)
{
    int i = sea_model_tensor_find(m, name);
    sea_tensor t;
    memset(&t, 0, sizeof t);
    if (i >= 0) t = m->params[i].c;
    return t;
}

sea_tensor sea_model_param_rows(sea_model *m, const char *name, int64_t r0, int64_t nr)
{
    sea_tensor t = sea_model_param_view(m, name), v;
    memset(&v, 0, sizeof v);
    if (!t.buf) return v;
    if (sea_tensor_slice(&t, 0, r0, nr, &v)) memset(&v, 0, sizeof v);
    return v;
}

static void bind_views(sea_model *m)
{
    for (int i = 0; i < m->n_tensors; i++) {
        sea_model_param *p = &m->params[i];
        p->p = sea_tensor_make(m->pbuf, (size_t)p->offset * sizeof(float), SEA_F32, p->ndim, p->shape);
    }
    int64_t n = m->n_flat;
    m->flat_p = sea_tensor_make(m->pbuf, 0, SEA_F32, 1, &n);
    sea_model_bind_compute(m);
}

/* The gradient buffer is made (zeroed) when something first asks for gradients: a frozen
 * reference, the sampler's copy or a feature backbone never holds one. */
sea_status sea_model_ensure_grads(sea_model *m)
{
    if (m->gbuf) return SEA_OK;
    /* Every path to gradients (train forward, params/tensor/read_hf with a gradient) comes here. */
    if (m->frozen) return sea_model_frozen_error(m, "gradients");
    size_t bytes = (size_t)m->n_flat * sizeof(float);
    sea_status st = sea_buffer_alloc(m->dev, bytes, &m->gbuf);
    if (st) return sea_error_context(st, "model gradients (%zu bytes)", bytes);
    for (int i = 0; i < m->n_tensors; i++) {
        sea_model_param *p = &m->params[i];
        p->g = sea_tensor_make(m->gbuf, (size_t)p->offset * sizeof(float), SEA_F32, p->ndim, p->shape);
    }
    int64_t n = m->n_flat;
    m->flat_g = sea_tensor_make(m->gbuf, 0, SEA_F32, 1, &n);
    st = sea_fill(sea_device_stream(m->dev), &m->flat_g, 0.0);
    if (st) {
        sea_buffer_release(m->gbuf);
        m->gbuf = NULL;
        memset(&m->flat_g, 0, sizeof m->flat_g);
    }
    return st;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

sea_status sea_model_alloc(sea_device *dev, const sea_hf_config *cfg, sea_dtype dtype, sea_model **out)
{
    *out = NULL;
    if (dtype != SEA_F32 && dtype != SEA_BF16)
        return sea_error(SEA_ERR_UNSUPPORTED, "model: compute dtype %s not supported (f32, or bf16 with f32 "
                         "master weights)", sea_dtype_name(dtype));
    sea_model *m = calloc(1, sizeof *m);
    if (!m) return sea_error(SEA_ERR_OOM, "model: out of host memory");
    m->dev = dev;
    m->cfg = *cfg;
    m->dtype = SEA_F32;   /* sea_model_precision_init below switches */
    m->head_chunk_bytes = SEA_MODEL_HEAD_CHUNK_DEFAULT;
    m->arena = sea_model_arena_new(dev);
    if (!m->arena) {
        free(m);
        return sea_error(SEA_ERR_OOM, "model: out of host memory");
    }
    sea_model_gpool_init(&m->gpool, dev);
    sea_status st;
    const char *arch = cfg->architecture;
    m->classifier = ends_with(arch, "ForSequenceClassification");
    if (!strcmp(cfg->model_type, "gpt_neox") || !strncmp(arch, "GPTNeoX", 7)) {
        m->arch = SEA_ARCH_GPTNEOX;
        st = sea_gptneox_describe(m);
    } else if (!strcmp(cfg->model_type, "llama") || !strncmp(arch, "Llama", 5)) {
        m->arch = SEA_ARCH_LLAMA;
        st = sea_llama_describe(m);
    } else {
        st = sea_error(SEA_ERR_UNSUPPORTED,
                       "model: unknown architecture '%s' (model_type '%s'); supported: "
                       "GPTNeoXForCausalLM, LlamaForCausalLM and their *ForSequenceClassification",
                       arch[0] ? arch : "?", cfg->model_type);
    }
    if (!st && arch[0] && !ends_with(arch, "ForCausalLM") && !m->classifier)
        st = sea_error(SEA_ERR_UNSUPPORTED, "model: unsupported architecture '%s' (a causal LM or "
                       "sequence classifier is needed)", arch);
    if (!st) st = sea_buffer_alloc(dev, (size_t)m->n_flat * sizeof(float), &m->pbuf);
    if (!st) m->layers = calloc((size_t)m->L, sizeof *m->layers);
    if (!st && !m->layers) st = sea_error(SEA_ERR_OOM, "model: out of host memory");
    if (st) {
        sea_model_free(m);
        return st;
    }
    bind_views(m);
    st = sea_model_precision_init(m, dtype);
    if (st) {
        sea_model_free(m);
        return st;
    }
    *out = m;
    return SEA_OK;
}

void sea_model_free(sea_model *m)
{
    if (!m) return;
    sea_model_arena_unref(m->arena);
    sea_model_gpool_free_all(&m->gpool);
    sea_model_precision_free(m);
    sea_buffer_release(m->pbuf);
    sea_buffer_release(m->gbuf);
    free(m->params);
    free(m->layers);
    free(m->rec);
    sea_model_train_state_free(m);
    free(m);
}

/* Shared by both architectures: check the dimensions the config gives. */
sea_status sea_model_check_dims(sea_model *m)
{
    if (m->C <= 0 || m->L <= 0 || m->H <= 0 || m->Hkv <= 0 || m->hd <= 0 || m->F <= 0 || m->V <= 0)
        return sea_error(SEA_ERR_FORMAT, "config.json: non-positive dimension (hidden %d, layers %d, heads %d, "
                         "kv heads %d, head_dim %d, intermediate %d, vocab %d)",
                         m->C, m->L, m->H, m->Hkv, m->hd, m->F, m->V);
    if (m->H % m->Hkv)
        return sea_error(SEA_ERR_FORMAT, "config.json: num_attention_heads %d not a multiple of "
                         "num_key_value_heads %d", m->H, m->Hkv);
    int rot = m->rope.rope.rot_dims;
    if (rot < 0 || rot > m->hd || rot % 2)
        return sea_error(SEA_ERR_FORMAT, "config.json: rotary dims %d invalid for head_dim %d", rot, m->hd);
    return SEA_OK;
}

sea_status sea_model_rope_from_config(sea_model *m)
{
    const sea_hf_config *c = &m->cfg;
    memset(&m->rope, 0, sizeof m->rope);
    m->rope.rope.rot_dims = (int)sea_hf_config_rotary_dim(c);
    m->rope.rope.theta = (float)(c->rope_theta > 0 ? c->rope_theta : 10000.0);
    m->rope.rope.style = SEA_ROPE_NEOX;
    m->rope.rope.scaling = SEA_ROPE_SCALING_NONE;
    if (!strcmp(c->rope_type, "llama3")) {
        m->rope.rope.scaling = SEA_ROPE_SCALING_LLAMA3;
        m->rope.rope.factor = (float)c->rope_factor;
        m->rope.rope.low_freq_factor = (float)c->rope_low_freq_factor;
        m->rope.rope.high_freq_factor = (float)c->rope_high_freq_factor;
        m->rope.rope.original_max_pos = (int)c->rope_original_max_position_embeddings;
    } else if (c->rope_type[0] && strcmp(c->rope_type, "default")) {
        return sea_error(SEA_ERR_UNSUPPORTED, "config.json: rope type '%s' not supported (default, llama3)",
                         c->rope_type);
    }
    return SEA_OK;
}

/* ---- layouts ---- */

void sea_model_layout_to_internal(const sea_model *m, const sea_model_param *p, const float *src, float *dst)
{
    int64_t cols = p->ndim > 1 ? p->shape[1] : 1;
    if (p->layout == SEA_LAYOUT_PLAIN) {
        memcpy(dst, src, (size_t)(p->shape[0] * cols) * sizeof(float));
        return;
    }
    /* HF row (h, j, d) -> internal row (j, h, d). */
    int H = m->H, hd = m->hd;
    for (int h = 0; h < H; h++)
        for (int j = 0; j < 3; j++)
            memcpy(dst + ((int64_t)(j * H + h) * hd) * cols, src + ((int64_t)(h * 3 + j) * hd) * cols,
                   (size_t)(hd * cols) * sizeof(float));
}

void sea_model_layout_to_hf(const sea_model *m, const sea_model_param *p, const float *src, float *dst)
{
    int64_t cols = p->ndim > 1 ? p->shape[1] : 1;
    if (p->layout == SEA_LAYOUT_PLAIN) {
        memcpy(dst, src, (size_t)(p->shape[0] * cols) * sizeof(float));
        return;
    }
    int H = m->H, hd = m->hd;
    for (int h = 0; h < H; h++)
        for (int j = 0; j < 3; j++)
            memcpy(dst + ((int64_t)(h * 3 + j) * hd) * cols, src + ((int64_t)(j * H + h) * hd) * cols,
                   (size_t)(hd * cols) * sizeof(float));
}

/* ---- accessors ---- */

const sea_hf_config *sea_model_config(const sea_model *m) { return &m->cfg; }
sea_model_arch sea_model_arch_of(const sea_model *m) { return m->arch; }
sea_device *sea_model_device(const sea_model *m) { return m->dev; }
int sea_model_vocab_size(const sea_model *m) { return m->V; }
int sea_model_hidden_size(const sea_model *m) { return m->C; }
int sea_model_num_labels(const sea_model *m) { return m->classifier ? m->n_labels : 0; }
bool sea_model_is_classifier(const sea_model *m) { return m->classifier; }
int64_t sea_model_num_params(const sea_model *m) { return m->n_flat; }
int sea_model_tensor_count(const sea_model *m) { return m->n_tensors; }

const char *sea_model_tensor_name(const sea_model *m, int i)
{
    return i >= 0 && i < m->n_tensors ? m->params[i].name : NULL;
}

void sea_model_set_recompute(sea_model *m, bool on) { m->recompute = on; }
bool sea_model_get_recompute(const sea_model *m) { return m->recompute; }
sea_status sea_model_share_activations(sea_model *m, sea_model *with)
{
    if (m == with || m->arena == with->arena) return SEA_OK;
    char a[96], b[96];
    if (m->dev != with->dev)
        return sea_error(SEA_ERR_INVALID, "share_activations: %s and %s are on different devices",
                         sea_model_label(m, a, sizeof a), sea_model_label(with, b, sizeof b));
    if (m->have_train)   /* its recording points into the arena it is leaving */
        return sea_error(SEA_ERR_INVALID, "share_activations: %s has a train forward awaiting backward",
                         sea_model_label(m, a, sizeof a));
    sea_model_arena_unref(m->arena);
    m->arena = with->arena;
    m->arena->refs++;
    return SEA_OK;
}

void sea_model_set_head_chunk_bytes(sea_model *m, size_t bytes) { m->head_chunk_bytes = bytes; }
size_t sea_model_get_head_chunk_bytes(const sea_model *m) { return m->head_chunk_bytes; }

void sea_model_memory(const sea_model *m, sea_model_memory_stats *out)
{
    memset(out, 0, sizeof *out);
    out->act_peak = m->arena->peak;
    out->grad_peak = m->gpool.peak;
    for (int i = 0; i < m->arena->n; i++) out->act_reserved += m->arena->size[i];
    for (int i = 0; i < m->gpool.n; i++) out->grad_reserved += m->gpool.size[i];
    const sea_buffer *w[3] = {m->pbuf, m->gbuf, m->cbuf};
    for (int i = 0; i < 3; i++)
        if (w[i]) out->weights_reserved += w[i]->size;
}

void sea_model_memory_reset_peaks(sea_model *m)
{
    m->arena->restart_peak = true;
    m->gpool.restart_peak = true;
}

sea_status sea_model_params(sea_model *m, sea_tensor *flat_params, sea_tensor *flat_grads)
{
    if (m->frozen) return sea_model_frozen_error(m, "sea_model_params (optimizer, checkpoint or broadcast access)");
    if (flat_params) *flat_params = m->flat_p;
    if (flat_grads) {
        SEA_TRY(sea_model_ensure_grads(m));
        *flat_grads = m->flat_g;
    }
    return SEA_OK;
}

sea_status sea_model_tensor(sea_model *m, int i, sea_tensor *param, sea_tensor *grad)
{
    if (i < 0 || i >= m->n_tensors)
        return sea_error(SEA_ERR_INVALID, "model: tensor index %d out of range [0, %d)", i, m->n_tensors);
    if (m->frozen) return sea_model_frozen_error(m, "sea_model_tensor");
    if (grad) SEA_TRY(sea_model_ensure_grads(m));
    if (param) *param = m->params[i].p;
    if (grad) *grad = m->params[i].g;
    return SEA_OK;
}

/* The weights param p holds: its f32 master, or (frozen model) its bf16 copy, which the
 * transfers widen to f32 on reading and round to nearest even on writing, as the refresh does. */
static sea_tensor *held_weights(sea_model *m, sea_model_param *p) { return m->frozen ? &p->c : &p->p; }

sea_status sea_model_tensor_read_hf(sea_model *m, sea_stream *s, int i, bool grad, float *dst)
{
    if (i < 0 || i >= m->n_tensors)
        return sea_error(SEA_ERR_INVALID, "model: tensor index %d out of range [0, %d)", i, m->n_tensors);
    if (grad && m->frozen) return sea_model_frozen_error(m, "tensor_read_hf of a gradient");
    if (grad) SEA_TRY(sea_model_ensure_grads(m));
    sea_model_param *p = &m->params[i];
    const sea_tensor *t = grad ? &p->g : held_weights(m, p);
    int64_t n = sea_tensor_numel(t);
    if (p->layout == SEA_LAYOUT_PLAIN) return sea_tensor_read_f32(s, t, dst);
    float *tmp = malloc((size_t)n * sizeof(float));
    if (!tmp) return sea_error(SEA_ERR_OOM, "model: out of host memory reading '%s'", p->name);
    sea_status st = sea_tensor_read_f32(s, t, tmp);
    if (!st) sea_model_layout_to_hf(m, p, tmp, dst);
    free(tmp);
    return st;
}

sea_status sea_model_tensor_write_hf(sea_model *m, sea_stream *s, int i, const float *src)
{
    if (i < 0 || i >= m->n_tensors)
        return sea_error(SEA_ERR_INVALID, "model: tensor index %d out of range [0, %d)", i, m->n_tensors);
    sea_model_param *p = &m->params[i];
    sea_tensor *t = held_weights(m, p);
    int64_t n = sea_tensor_numel(t);
    if (p->layout == SEA_LAYOUT_PLAIN) return sea_tensor_write_f32(s, t, src);
    float *tmp = malloc((size_t)n * sizeof(float));
    if (!tmp) return sea_error(SEA_ERR_OOM, "model: out of host memory writing '%s'", p->name);
    sea_model_layout_to_internal(m, p, src, tmp);
    sea_status st = sea_tensor_write_f32(s, t, tmp);
    free(tmp);
    return st;
}

sea_status sea_model_zero_grad(sea_model *m, sea_stream *s)
{
    if (m->frozen) return sea_model_frozen_error(m, "zero_grad");
    if (!m->gbuf) return SEA_OK;   /* made zeroed when first needed */
    return sea_fill(s, &m->flat_g, 0.0);
}

/* ---- creation and copies ---- */

static bool is_norm_weight(const char *name)
{
    return strstr(name, "norm") && ends_with(name, ".weight");
}

typedef struct init_job {
    float *dst;
    float std;
    uint64_t seed;
    uint32_t stream;
} init_job;

/* Element k of a tensor depends on (seed, tensor index, k) only: any split is deterministic. */
static void init_normal(void *ctx, int64_t begin, int64_t end, int thread_index)
{
    init_job *j = ctx;
    for (int64_t k = begin; k < end; k++) j->dst[k] = j->std * sea_rng_normal(j->seed, j->stream, (uint64_t)k);
}

sea_status sea_model_create(sea_device *dev, const sea_hf_config *cfg, uint64_t seed,
                            float init_std, sea_model **out)
{
    sea_model *m;
    SEA_TRY(sea_model_alloc(dev, cfg, SEA_F32, &m));
    float std = init_std > 0 ? init_std : 0.02f;
    float *host = calloc((size_t)m->n_flat, sizeof(float));
    if (!host) {
        sea_model_free(m);
        return sea_error(SEA_ERR_OOM, "model: out of host memory (%lld parameters)", (long long)m->n_flat);
    }
    for (int i = 0; i < m->n_tensors; i++) {
        sea_model_param *p = &m->params[i];
        int64_t n = p->shape[0] * p->shape[1];
        float *d = host + p->offset;
        if (is_norm_weight(p->name)) {
            for (int64_t k = 0; k < n; k++) d[k] = 1.0f;
        } else if (ends_with(p->name, ".bias")) {
            /* zeros */
        } else {
            /* Stream = tensor index, counter = element: independent of device and threads. */
            init_job j = {.dst = d, .std = std, .seed = seed, .stream = (uint32_t)i};
            sea_parallel_for(sea_threadpool_global(), n, 1 << 14, init_normal, &j);
        }
    }
    sea_stream *s = sea_device_stream(dev);
    sea_status st = sea_buffer_write(s, m->pbuf, 0, host, (size_t)m->n_flat * sizeof(float));
    free(host);
    if (!st) st = sea_model_zero_grad(m, s);
    if (!st) st = sea_stream_sync(s);
    if (st) {
        sea_model_free(m);
        return st;
    }
    *out = m;
    return SEA_OK;
}

sea_status sea_model_copy_params(sea_model *dst, const sea_model *src)
{
    if (dst->n_flat != src->n_flat || dst->n_tensors != src->n_tensors)
        return sea_error(SEA_ERR_SHAPE, "model copy: %lld parameters in %d tensors vs %lld in %d",
                         (long long)dst->n_flat, dst->n_tensors, (long long)src->n_flat, src->n_tensors);
    /* Each side's held weights: f32 masters, or a frozen model's bf16 copy. Into a frozen dst
     * the cast rounds exactly as dst's own refresh would (the same copy op, or the same
     * round-to-nearest-even on the host); out of a frozen src it widens exactly. */
    sea_tensor from = sea_model_weights_rows(src), to = sea_model_weights_rows(dst);
    if (dst->dev == src->dev) {
        sea_stream *s = sea_device_stream(dst->dev);
        SEA_TRY(sea_copy(s, &from, &to));
        return sea_stream_sync(s);
    }
    /* Across devices: through host memory (f32: the transfers convert a bf16 side). */
    size_t bytes = (size_t)src->n_flat * sizeof(float);
    float *tmp = malloc(bytes);
    if (!tmp) return sea_error(SEA_ERR_OOM, "model copy: out of host memory (%zu bytes)", bytes);
    sea_status st = sea_tensor_read_f32(sea_device_stream(src->dev), &from, tmp);
    if (!st) st = sea_tensor_write_f32(sea_device_stream(dst->dev), &to, tmp);
    free(tmp);
    return st;
}

sea_status sea_model_clone(const sea_model *m, sea_device *dev, sea_model **out)
{
    sea_model *c;
    SEA_TRY(sea_model_alloc(dev ? dev : m->dev, &m->cfg, m->dtype, &c));
    c->recompute = m->recompute;
    c->head_chunk_bytes = m->head_chunk_bytes;
    sea_status st = sea_model_copy_params(c, m);
    if (!st) st = sea_model_zero_grad(c, sea_device_stream(c->dev));
    if (st) {
        sea_model_free(c);
        return st;
    }
    *out = c;
    return SEA_OK;
}
