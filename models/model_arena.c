/* Activation arena of a model (see model_internal.h): bump allocation in device chunks, marks
 * to give back a block's intermediates, and (training) a span per allocation. */
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"

#define ARENA_ALIGN SEA_MODEL_VIEW_ALIGN
#define ARENA_MIN_CHUNK (4u << 20)

sea_model_arena *sea_model_arena_new(sea_device *dev)
{
    sea_model_arena *a = calloc(1, sizeof *a);
    if (!a) return NULL;
    a->dev = dev;
    a->refs = 1;
    return a;
}

static void arena_drop(sea_model_arena *a)
{
    for (int i = 0; i < a->n; i++) sea_buffer_release(a->chunk[i]);
    free(a->chunk);
    free(a->size);
    a->chunk = NULL;
    a->size = NULL;
    a->n = 0;
}

void sea_model_arena_unref(sea_model_arena *a)
{
    if (!a || --a->refs > 0) return;
    arena_drop(a);
    free(a->span);
    free(a);
}

static size_t max_chunk(const sea_model_arena *a)
{
    size_t lim = a->dev->props.max_buffer_size;
    return lim ? lim : (size_t)-1;
}

static sea_status arena_add(sea_model_arena *a, size_t size)
{
    sea_buffer **c = realloc(a->chunk, (size_t)(a->n + 1) * sizeof *c);
    if (!c) return sea_error(SEA_ERR_OOM, "model activations: out of host memory");
    a->chunk = c;
    size_t *sz = realloc(a->size, (size_t)(a->n + 1) * sizeof *sz);
    if (!sz) return sea_error(SEA_ERR_OOM, "model activations: out of host memory");
    a->size = sz;
    sea_status st = sea_buffer_alloc(a->dev, size, &a->chunk[a->n]);
    if (st) return sea_error_context(st, "model activations: a chunk of %zu bytes", size);
    a->size[a->n] = size;
    a->n++;
    return SEA_OK;
}

void sea_model_arena_forget_growth(sea_model_arena *a, size_t high_water)
{
    arena_drop(a);
    a->high_water = high_water;
    a->n_span = 0;
    a->cur = 0;
    a->used = 0;
    a->total = 0;
}

sea_status sea_model_arena_reset(sea_model_arena *a, bool train)
{
    if (a->n > 1 || (a->n == 1 && a->size[0] < a->high_water)) {
        arena_drop(a);
        /* The dropped chunks will not be asked for again in those sizes (one chunk replaces
         * them): a caching allocator would keep them, as much device memory as the pass used. */
        SEA_TRY(sea_device_memory_trim(a->dev));
    }
    if (a->restart_peak) a->peak = 0;
    a->restart_peak = false;
    a->passes++;
    a->track = train;
    a->n_span = 0;
    a->cur = 0;
    a->used = 0;
    a->total = 0;
    if (a->n == 0 && a->high_water > 0) {
        size_t want = sea_model_with_slack(a->high_water);
        if (want > max_chunk(a)) want = max_chunk(a);
        SEA_TRY(arena_add(a, want));
    }
    return SEA_OK;
}

static sea_status add_span(sea_model_arena *a, size_t off, size_t bytes)
{
    if (a->n_span == a->cap_span) {
        int cap = a->cap_span ? 2 * a->cap_span : 256;
        sea_model_span *sp = realloc(a->span, (size_t)cap * sizeof *sp);
        if (!sp) return sea_error(SEA_ERR_OOM, "model activations: out of host memory for %d spans", cap);
        a->span = sp;
        a->cap_span = cap;
    }
    sea_model_span *sp = &a->span[a->n_span++];
    memset(sp, 0, sizeof *sp);
    sp->chunk = a->cur;
    sp->off = off;
    sp->bytes = bytes;
    sp->first_rec = -1;
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
        size_t size = sea_model_grow_size(need, ARENA_MIN_CHUNK, a->high_water);
        if (size > max_chunk(a) && need <= max_chunk(a)) size = max_chunk(a);
        SEA_TRY(arena_add(a, size));
        a->cur = a->n - 1;
        a->used = 0;
    }
    if (a->track) SEA_TRY(add_span(a, a->used, need));
    *out = sea_tensor_make(a->chunk[a->cur], a->used, dt, ndim, shape);
    a->used += need;
    a->total += need;
    if (a->total > a->high_water) a->high_water = a->total;
    if (a->total > a->peak) a->peak = a->total;
    return SEA_OK;
}

sea_model_arena_mark sea_model_arena_get_mark(const sea_model_arena *a)
{
    sea_model_arena_mark mk = {.cur = a->cur, .n_span = a->n_span, .used = a->used, .total = a->total};
    return mk;
}

void sea_model_arena_release(sea_model_arena *a, const sea_model_arena_mark *mk)
{
    a->cur = mk->cur;
    a->used = mk->used;
    a->total = mk->total;
    if (a->n_span > mk->n_span) a->n_span = mk->n_span;
}

int sea_model_arena_find(const sea_model_arena *a, const sea_tensor *t)
{
    if (!a->track) return -1;
    int c = -1;
    for (int i = 0; i < a->n && c < 0; i++)
        if (a->chunk[i] == t->buf) c = i;
    if (c < 0) return -1;
    /* Last span starting at or before (c, t->offset). */
    int lo = 0, hi = a->n_span - 1, found = -1;
    while (lo <= hi) {
        int mid = lo + (hi - lo) / 2;
        const sea_model_span *sp = &a->span[mid];
        if (sp->chunk < c || (sp->chunk == c && sp->off <= t->offset)) {
            found = mid;
            lo = mid + 1;
        } else {
            hi = mid - 1;
        }
    }
    if (found < 0) return -1;
    const sea_model_span *sp = &a->span[found];
    return sp->chunk == c && t->offset < sp->off + sp->bytes ? found : -1;
}
