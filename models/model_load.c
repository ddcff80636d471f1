/* Loading weights: Hugging Face directories (safetensors, single or sharded) and GGUF files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/model_internal.h"
#include "models/safetensors.h"

static bool has_suffix(const char *s, const char *suffix)
{
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && !strcmp(s + a - b, suffix);
}

/* Checkpoint tensors that are buffers, not parameters (old Pythia files carry them). */
static bool ignorable(const char *name)
{
    return has_suffix(name, ".rotary_emb.inv_freq") || has_suffix(name, ".attention.bias") ||
           has_suffix(name, ".attention.masked_bias");
}

/* Write host floats (HF layout) of parameter i into the flat buffer. */
sea_status sea_model_put_param_hf(sea_model *m, sea_stream *s, int i, float *hf, float *tmp)
{
    sea_model_param *p = &m->params[i];
    int64_t n = p->shape[0] * p->shape[1];
    const float *src = hf;
    if (p->layout != SEA_LAYOUT_PLAIN) {
        sea_model_layout_to_internal(m, p, hf, tmp);
        src = tmp;
    }
    return sea_buffer_write(s, m->pbuf, (size_t)p->offset * sizeof(float), src, (size_t)n * sizeof(float));
}

int64_t sea_model_max_param_numel(const sea_model *m)
{
    int64_t mx = 0;
    for (int i = 0; i < m->n_tensors; i++)
        if (m->params[i].shape[0] * m->params[i].shape[1] > mx) mx = m->params[i].shape[0] * m->params[i].shape[1];
    return mx;
}

const char *sea_model_shape_str(int ndim, const int64_t *shape, char *buf, size_t n)
{
    size_t k = (size_t)snprintf(buf, n, "[");
    for (int i = 0; i < ndim && k < n; i++)
        k += (size_t)snprintf(buf + k, n - k, "%s%lld", i ? ", " : "", (long long)shape[i]);
    if (k < n) snprintf(buf + k, n - k, "]");
    return buf;
}

static sea_status load_safetensors(sea_model *m, const char *dir, const sea_model_load_opts *o)
{
    sea_safetensors *f;
    SEA_TRY(sea_safetensors_open_dir(dir, &f));
    sea_stream *s = sea_device_stream(m->dev);
    int64_t mx = sea_model_max_param_numel(m);
    float *hf = malloc((size_t)mx * sizeof(float)), *tmp = malloc((size_t)mx * sizeof(float));
    sea_status st = (!hf || !tmp) ? sea_error(SEA_ERR_OOM, "%s: out of host memory", dir) : SEA_OK;
    uint64_t total = (uint64_t)m->n_flat * sizeof(float), done = 0;
    for (int i = 0; i < m->n_tensors && !st; i++) {
        sea_model_param *p = &m->params[i];
        const sea_st_tensor *t = sea_safetensors_find(f, p->name);
        if (!t) {
            st = sea_error(SEA_ERR_FORMAT, "%s: tensor '%s' missing (architecture %s, %d layers)", dir, p->name,
                           m->cfg.architecture[0] ? m->cfg.architecture : m->cfg.model_type, m->L);
            break;
        }
        char a[96], b[96];
        int64_t numel = sea_st_tensor_numel(t);
        bool same = t->ndim == p->ndim && t->shape[0] == p->shape[0] && (p->ndim < 2 || t->shape[1] == p->shape[1]);
        if (!same) {
            st = sea_error(SEA_ERR_SHAPE, "%s: tensor '%s' has shape %s but the config implies %s", t->file, p->name,
                           sea_model_shape_str(t->ndim, t->shape, a, sizeof a), sea_model_shape_str(p->ndim, p->shape, b, sizeof b));
            break;
        }
        (void)numel;
        st = sea_st_tensor_to_f32(t, hf);
        if (st) {
            sea_error_context(st, "%s: tensor '%s'", t->file, p->name);
            break;
        }
        st = sea_model_put_param_hf(m, s, i, hf, tmp);
        done += (uint64_t)(p->shape[0] * p->shape[1]) * sizeof(float);
        if (o && o->progress) o->progress(o->progress_ctx, p->name, done, total);
    }
    /* A tensor the file has and the architecture does not use means the config and the
     * weights disagree (e.g. an lm_head next to tie_word_embeddings=true is fine, others not). */
    for (size_t k = 0; k < sea_safetensors_count(f) && !st; k++) {
        const sea_st_tensor *t = sea_safetensors_at(f, k);
        if (sea_model_tensor_find(m, t->name) >= 0 || ignorable(t->name)) continue;
        if (m->tied && (!strcmp(t->name, "lm_head.weight") || !strcmp(t->name, "embed_out.weight"))) continue;
        if (m->classifier && (!strcmp(t->name, "lm_head.weight") || !strcmp(t->name, "embed_out.weight"))) continue;
        st = sea_error(SEA_ERR_FORMAT, "%s: tensor '%s' is not part of %s with this config.json (%d layers)",
                       t->file, t->name, m->cfg.architecture[0] ? m->cfg.architecture : m->cfg.model_type, m->L);
    }
    free(hf);
    free(tmp);
    sea_safetensors_close(f);
    return st;
}

sea_status sea_model_load(sea_device *dev, const char *path, const sea_model_load_opts *opts, sea_model **out)
{
    *out = NULL;
    struct stat sb;
    if (stat(path, &sb))
        return sea_error(SEA_ERR_IO, "model: '%s' does not exist (an HF model directory or a .gguf file)", path);
    if (S_ISREG(sb.st_mode) && has_suffix(path, ".gguf")) {
        SEA_TRY(sea_model_load_gguf(dev, path, opts, out));
        sea_model_set_recompute(*out, opts && opts->recompute);
        return SEA_OK;
    }
    if (!S_ISDIR(sb.st_mode))
        return sea_error(SEA_ERR_INVALID, "model: '%s' is neither a directory with config.json nor a .gguf file",
                         path);
    sea_hf_config cfg;
    SEA_TRY(sea_hf_config_load(path, &cfg));
    sea_model *m;
    sea_status st = sea_model_alloc(dev, &cfg, opts ? opts->dtype : SEA_F32, &m);
    if (st) return sea_error_context(st, "%s/config.json", path);
    st = load_safetensors(m, path, opts);
    sea_stream *s = sea_device_stream(dev);
    if (!st) st = sea_model_zero_grad(m, s);
    if (!st) st = sea_stream_sync(s);
    if (st) {
        sea_model_free(m);
        return st;
    }
    sea_model_set_recompute(m, opts && opts->recompute);
    *out = m;
    return SEA_OK;
}
