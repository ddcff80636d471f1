/* Activation arena of a model (see model_internal.h): bump allocation in device chunks, with
 * optional mirror chunks for activation gradients. */
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"

/* Offsets are aligned for every backend's sub-buffer rules (OpenCL base-address alignment,
 * Vulkan minStorageBufferOffsetAlignment are at most 256 bytes in practice). */
#define ARENA_ALIGN 256
#define ARENA_MIN_CHUNK (4u << 20)

void sea_model_arena_init(sea_model_arena *a, sea_device *dev)
{
    memset(a, 0, sizeof *a);
    a->dev = dev;
}

static void arena_drop(sea_model_arena *a)
{
    for (int i = 0; i < a->n; i++) {
        sea_buffer_release(a->chunk[i]);
        if (a->grad) sea_buffer_release(a->grad[i]);
    }
    free(a->chunk);
    free(a->grad);
    free(a->size);
    a->chunk = a->grad = NULL;
    a->size = NULL;
    a->n = 0;
}

void sea_model_arena_free(sea_model_arena *a)
{
    arena_drop(a);
    a->cur = 0;
    a->used = a->total = 0;
}

static size_t max_chunk(const sea_model_arena *a)
{
    size_t lim = a->dev->props.max_buffer_size;
    return lim ? lim : (size_t)-1;
}

/* Append one chunk of `size` bytes (and its mirror when with_grad). */
static sea_status arena_add(sea_model_arena *a, size_t size)
{
    sea_buffer **c = realloc(a->chunk, (size_t)(a->n + 1) * sizeof *c);
    if (!c) return sea_error(SEA_ERR_OOM, "model activations: out of host memory");
    a->chunk = c;
    sea_buffer **g = realloc(a->grad, (size_t)(a->n + 1) * sizeof *g);
    if (!g) return sea_error(SEA_ERR_OOM, "model activations: out of host memory");
    a->grad = g;
    size_t *sz = realloc(a->size, (size_t)(a->n + 1) * sizeof *sz);
    if (!sz) return sea_error(SEA_ERR_OOM, "model activations: out of host memory");
    a->size = sz;
    a->chunk[a->n] = NULL;
    a->grad[a->n] = NULL;
    SEA_TRY(sea_buffer_alloc(a->dev, size, &a->chunk[a->n]));
    if (a->with_grad) {
        sea_status st = sea_buffer_alloc(a->dev, size, &a->grad[a->n]);
        if (st) {
            sea_buffer_release(a->chunk[a->n]);
            return st;
        }
    }
    a->size[a->n] = size;
    a->n++;
    return SEA_OK;
}

sea_status sea_model_arena_reset(sea_model_arena *a, bool with_grad)
{
    if (a->total > a->high_water) a->high_water = a->total;
    bool mirrors_ok = true;
    for (int i = 0; with_grad && i < a->n; i++)
        if (!a->grad[i]) mirrors_ok = false;
    if (a->n > 1 || (a->n == 1 && a->size[0] < a->high_water) || !mirrors_ok) arena_drop(a);
    a->with_grad = with_grad;
    a->cur = 0;
    a->used = 0;
    a->total = 0;
    if (a->n == 0 && a->high_water > 0) {
        size_t want = a->high_water + a->high_water / 8;
        if (want > max_chunk(a)) want = max_chunk(a);
        SEA_TRY(arena_add(a, want));
    }
    return SEA_OK;
}

sea_status sea_model_arena_tensor(sea_model_arena *a, sea_dtype dt, int ndim, const int64_t *shape,
                                  sea_tensor *out)
{
    int64_t numel = 1;
    for (int i = 0; i < ndim; i++) numel *= shape[i];
    size_t bytes = (size_t)numel * sea_dtype_size(dt);
    size_t need = (bytes + ARENA_ALIGN - 1) / ARENA_ALIGN * ARENA_ALIGN;
    if (need == 0) need = ARENA_ALIGN;
    while (a->cur < a->n && a->used + need > a->size[a->cur]) {
        a->cur++;
        a->used = 0;
    }
    if (a->cur >= a->n) {
        size_t size = need > ARENA_MIN_CHUNK ? need : ARENA_MIN_CHUNK;
        if (size < a->high_water / 4) size = a->high_water / 4;
        if (size > max_chunk(a) && need <= max_chunk(a)) size = max_chunk(a);
        SEA_TRY(arena_add(a, size));
        a->cur = a->n - 1;
        a->used = 0;
    }
    *out = sea_tensor_make(a->chunk[a->cur], a->used, dt, ndim, shape);
    a->used += need;
    a->total += need;
    return SEA_OK;
}

bool sea_model_arena_grad(const sea_model_arena *a, const sea_tensor *t, sea_tensor *g)
{
    if (!a->with_grad) return false;
    for (int i = 0; i < a->n; i++)
        if (a->chunk[i] == t->buf) {
            if (!a->grad[i]) return false;
            *g = *t;
            g->buf = a->grad[i];
            return true;
        }
    return false;
}

sea_status sea_model_arena_zero_grad(sea_model_arena *a, sea_stream *s)
{
    if (!a->with_grad) return SEA_OK;
    for (int i = 0; i < a->n && i <= a->cur; i++) {
        size_t used = i < a->cur ? a->size[i] : a->used;
        if (!used) continue;
        int64_t n = (int64_t)(used / sizeof(float));
        sea_tensor z = sea_tensor_make(a->grad[i], 0, SEA_F32, 1, &n);
        SEA_TRY(sea_fill(s, &z, 0.0));
    }
    return SEA_OK;
}
