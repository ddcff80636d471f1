/* Key/value cache for batched decoding: per layer k and v of shape (B, S, Hkv, hd) (post-rotary
 * keys), plus key_valid (B, S) i32 marking slots that hold a real token. Each layer's k and v
 * get their own buffer so no single allocation exceeds a backend's buffer limit needlessly. */
#ifndef SEA_KV_CACHE_H
#define SEA_KV_CACHE_H

#include "runtime/backend.h"
#include "runtime/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_kv_cache {
    int L, B, S, Hkv, hd;
    sea_dtype dtype;       /* of k and v: the model's compute dtype (attention takes one dtype) */
    sea_tensor *k, *v;     /* (L) tensors, each (B, S, Hkv, hd) */
    sea_tensor valid;      /* (B, S) i32 */
} sea_kv_cache;

/* Allocate for L layers, B sequences of up to S tokens, k/v in dtype; valid is zeroed. */
sea_status sea_kv_cache_alloc(sea_device *dev, sea_stream *s, sea_dtype dtype, int L, int B, int S, int Hkv,
                              int hd, sea_kv_cache *out);
void sea_kv_cache_free(sea_kv_cache *c);
/* Bytes a cache of these dimensions takes (for capacity planning and messages). */
size_t sea_kv_cache_bytes(sea_dtype dtype, int L, int B, int S, int Hkv, int hd);

#ifdef __cplusplus
}
#endif
#endif
