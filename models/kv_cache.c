/* KV cache allocation (see kv_cache.h). */
#include <stdlib.h>
#include <string.h>

#include "models/kv_cache.h"
#include "runtime/ops.h"

size_t sea_kv_cache_bytes(sea_dtype dtype, int L, int B, int S, int Hkv, int hd)
{
    return 2 * (size_t)L * B * S * Hkv * hd * sea_dtype_size(dtype) + (size_t)B * S * sizeof(int32_t);
}

void sea_kv_cache_free(sea_kv_cache *c)
{
    if (!c) return;
    for (int l = 0; c->k && l < c->L; l++) sea_tensor_free(&c->k[l]);
    for (int l = 0; c->v && l < c->L; l++) sea_tensor_free(&c->v[l]);
    sea_tensor_free(&c->valid);
    free(c->k);
    free(c->v);
    memset(c, 0, sizeof *c);
}

sea_status sea_kv_cache_alloc(sea_device *dev, sea_stream *s, sea_dtype dtype, int L, int B, int S, int Hkv,
                              int hd, sea_kv_cache *out)
{
    memset(out, 0, sizeof *out);
    if (L <= 0 || B <= 0 || S <= 0 || Hkv <= 0 || hd <= 0)
        return sea_error(SEA_ERR_INVALID, "kv cache: bad dimensions L %d B %d S %d Hkv %d hd %d",
                         L, B, S, Hkv, hd);
    out->L = L;
    out->B = B;
    out->S = S;
    out->Hkv = Hkv;
    out->hd = hd;
    out->dtype = dtype;
    out->k = calloc((size_t)L, sizeof *out->k);
    out->v = calloc((size_t)L, sizeof *out->v);
    if (!out->k || !out->v) {
        sea_kv_cache_free(out);
        return sea_error(SEA_ERR_OOM, "kv cache: out of host memory");
    }
    int64_t shape[4] = {B, S, Hkv, hd};
    int64_t vshape[2] = {B, S};
    sea_status st = SEA_OK;
    for (int l = 0; l < L && !st; l++) {
        st = sea_tensor_alloc(dev, dtype, 4, shape, &out->k[l]);
        if (!st) st = sea_tensor_alloc(dev, dtype, 4, shape, &out->v[l]);
        /* Unwritten slots are masked, but a kernel that multiplies masked weights (0) by
         * uninitialized memory (NaN) would still be poisoned: start from zeros. */
        if (!st) st = sea_fill(s, &out->k[l], 0.0);
        if (!st) st = sea_fill(s, &out->v[l], 0.0);
    }
    if (!st) st = sea_tensor_alloc(dev, SEA_I32, 2, vshape, &out->valid);
    if (!st) st = sea_fill(s, &out->valid, 0.0);
    if (st) {
        sea_status keep = st;
        sea_error_context(keep, "kv cache (%d layers x %d seqs x %d tokens, %zu bytes)", L, B, S,
                          sea_kv_cache_bytes(dtype, L, B, S, Hkv, hd));
        sea_kv_cache_free(out);
        return keep;
    }
    return SEA_OK;
}
