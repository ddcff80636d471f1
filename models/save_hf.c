/* Writing a model as a Hugging Face directory: config.json + model.safetensors (or shards and
 * an index), f32, HF tensor layout. Each file is written atomically by the writers; the
 * directory is created when missing. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "models/json_util.h"
#include "runtime/dtype.h"
#include "models/model_internal.h"
#include "models/safetensors.h"

sea_status sea_model_save_hf(sea_model *m, const char *dir, uint64_t shard_bytes)
{
    return sea_model_save_hf_as(m, dir, shard_bytes, SEA_F32);
}

sea_status sea_model_save_hf_as(sea_model *m, const char *dir, uint64_t shard_bytes, sea_dtype dtype)
{
    if (dtype != SEA_F32 && dtype != SEA_BF16 && dtype != SEA_F16)
        return sea_error(SEA_ERR_DTYPE, "saving model to %s: weights as %s: need f32, bf16 or f16", dir, sea_dtype_name(dtype));
    /* The bf16 copy would save, but as f32 it would pass for master weights: refuse instead. */
    if (m->frozen) return sea_error_context(sea_model_frozen_error(m, "save_hf"), "saving model to %s", dir);
    if (mkdir(dir, 0755) && errno != EEXIST)
        return sea_error(SEA_ERR_IO, "save: cannot create directory '%s': %s", dir, strerror(errno));
    sea_stream *s = sea_device_stream(m->dev);
    float *host = malloc((size_t)m->n_flat * sizeof(float));
    sea_st_tensor *ts = calloc((size_t)m->n_tensors, sizeof *ts);
    if (!host || !ts) {
        free(host);
        free(ts);
        return sea_error(SEA_ERR_OOM, "save %s: out of host memory (%lld parameters)", dir, (long long)m->n_flat);
    }
    sea_status st = SEA_OK;
    const size_t es = sea_dtype_size(dtype);
    for (int i = 0; i < m->n_tensors && !st; i++) {
        sea_model_param *p = &m->params[i];
        float *dst = host + p->offset;
        size_t n = (size_t)(p->shape[0] * p->shape[1]);
        st = sea_model_tensor_read_hf(m, s, i, false, dst);
        /* 16-bit: rounded to nearest even (runtime/dtype.c) in place, in the first half of the
         * tensor's own f32 span (element k's 2 bytes never overtake element k's 4) */
        if (!st && dtype != SEA_F32) {
            uint16_t *h = (uint16_t *)(void *)dst;
            for (size_t k = 0; k < n; k++) h[k] = dtype == SEA_BF16 ? sea_f32_to_bf16(dst[k]) : sea_f32_to_f16(dst[k]);
        }
        ts[i].name = p->name;
        ts[i].dtype = dtype;
        ts[i].dtype_name = sea_st_dtype_name(dtype);
        ts[i].elem_size = es;
        ts[i].ndim = p->ndim;
        ts[i].shape[0] = p->shape[0];
        ts[i].shape[1] = p->shape[1];
        ts[i].data = dst;
        ts[i].nbytes = n * es;
    }
    if (!st) {
        sea_hf_config cfg = m->cfg;
        snprintf(cfg.torch_dtype, sizeof cfg.torch_dtype, "%s",
                 dtype == SEA_BF16 ? "bfloat16" : dtype == SEA_F16 ? "float16" : "float32");
        char path[4096];
        snprintf(path, sizeof path, "%s/config.json", dir);
        st = sea_hf_config_write(&cfg, path);
    }
    if (!st) {
        size_t shard = shard_bytes ? (size_t)shard_bytes : ((size_t)2 << 30);
        st = sea_safetensors_write_sharded(dir, "model", ts, (size_t)m->n_tensors, shard, NULL);
    }
    free(host);
    free(ts);
    if (st) return sea_error_context(st, "saving model to %s", dir);
    return SEA_OK;
}

sea_status sea_hf_copy_tokenizer_files(const char *src_dir, const char *dir)
{
    static const char *const names[] = {"tokenizer.json", "tokenizer_config.json", "special_tokens_map.json",
                                        "generation_config.json"};
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char *src = sea_path_join(src_dir, names[i]), *dst = sea_path_join(dir, names[i]);
        sea_status st = src && dst ? SEA_OK : sea_error(SEA_ERR_OOM, "copying %s", names[i]);
        char *data = NULL;
        size_t len = 0;
        if (!st && sea_file_exists(src)) {
            st = sea_file_read(src, &data, &len);
            sea_atomic_file af;
            if (!st) st = sea_atomic_open(dst, &af);
            if (!st) {
                sea_atomic_write(&af, data, len);
                st = sea_atomic_commit(&af);
            }
        }
        free(data);
        free(src);
        free(dst);
        if (st) return sea_error_context(st, "copying %s from %s to %s", names[i], src_dir, dir);
    }
    return SEA_OK;
}
