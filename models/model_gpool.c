/* The gradient pool of a model (see model_internal.h): device memory for activation gradients
 * that live only part of a backward walk. Lifetimes are not nested (the residual stream's
 * gradient outlives the gradients of a block's branches, which come and go in between), so
 * this is a small free-list allocator rather than a stack: first fit, neighbours merged on
 * return. The walk repeats the same sequence every step, so placements repeat too. */
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"

#define GPOOL_ALIGN 256             /* sub-buffer offset rules, as in the arena */
#define GPOOL_MIN_CHUNK (4u << 20)

void sea_model_gpool_init(sea_model_gpool *g, sea_device *dev)
{
    memset(g, 0, sizeof *g);
    g->dev = dev;
}

static void drop_chunks(sea_model_gpool *g)
{
    for (int i = 0; i < g->n; i++) sea_buffer_release(g->chunk[i]);
    free(g->chunk);
    free(g->size);
    free(g->extent);
    g->chunk = NULL;
    g->size = g->extent = NULL;
    g->n = 0;
    g->n_fr = 0;
}

void sea_model_gpool_free_all(sea_model_gpool *g)
{
    drop_chunks(g);
    free(g->fr);
    g->fr = NULL;
    g->cap_fr = 0;
    g->live = 0;
}

static size_t max_chunk(const sea_model_gpool *g)
{
    size_t lim = g->dev->props.max_buffer_size;
    return lim ? lim : (size_t)-1;
}

/* Insert a free span at index i. */
static sea_status fr_insert(sea_model_gpool *g, int i, int chunk, size_t off, size_t len)
{
    if (g->n_fr == g->cap_fr) {
        int cap = g->cap_fr ? 2 * g->cap_fr : 64;
        sea_model_gpool_free *f = realloc(g->fr, (size_t)cap * sizeof *f);
        if (!f) return sea_error(SEA_ERR_OOM, "model gradients: out of host memory for %d free spans", cap);
        g->fr = f;
        g->cap_fr = cap;
    }
    memmove(&g->fr[i + 1], &g->fr[i], (size_t)(g->n_fr - i) * sizeof *g->fr);
    g->fr[i] = (sea_model_gpool_free){.chunk = chunk, .off = off, .len = len};
    g->n_fr++;
    return SEA_OK;
}

static void fr_remove(sea_model_gpool *g, int i)
{
    memmove(&g->fr[i], &g->fr[i + 1], (size_t)(g->n_fr - i - 1) * sizeof *g->fr);
    g->n_fr--;
}

/* Append a chunk of `size` bytes, all of it free. */
static sea_status add_chunk(sea_model_gpool *g, size_t size)
{
    sea_buffer **c = realloc(g->chunk, (size_t)(g->n + 1) * sizeof *c);
    if (!c) return sea_error(SEA_ERR_OOM, "model gradients: out of host memory");
    g->chunk = c;
    size_t *sz = realloc(g->size, (size_t)(g->n + 1) * sizeof *sz);
    if (!sz) return sea_error(SEA_ERR_OOM, "model gradients: out of host memory");
    g->size = sz;
    size_t *ex = realloc(g->extent, (size_t)(g->n + 1) * sizeof *ex);
    if (!ex) return sea_error(SEA_ERR_OOM, "model gradients: out of host memory");
    g->extent = ex;
    sea_status st = sea_buffer_alloc(g->dev, size, &g->chunk[g->n]);
    if (st) return sea_error_context(st, "model gradients: a chunk of %zu bytes", size);
    g->size[g->n] = size;
    g->extent[g->n] = 0;
    g->n++;
    return fr_insert(g, g->n_fr, g->n - 1, 0, size);
}

sea_status sea_model_gpool_reset(sea_model_gpool *g)
{
    if (g->grew) {
        /* Next time, the same walk in chunks as large as the device allows, with 1/8 slack
         * (at most SEA_MODEL_SLACK_MAX):
         * the sum of what each chunk needed is enough for the same first-fit sequence in
         * practice, and if it is not, the pool grows again and converges. */
        size_t want = 0;
        for (int i = 0; i < g->n; i++) want += g->extent[i];
        want = sea_model_with_slack(want);
        drop_chunks(g);
        SEA_TRY(sea_device_memory_trim(g->dev)); /* as the arena: the old chunks' sizes are done with */
        g->grew = false;
        while (want > 0) {
            size_t c = want < max_chunk(g) ? want : max_chunk(g);
            SEA_TRY(add_chunk(g, c));
            want -= c;
        }
    }
    g->n_fr = 0;
    for (int i = 0; i < g->n; i++) {
        SEA_TRY(fr_insert(g, g->n_fr, i, 0, g->size[i]));
        g->extent[i] = 0;
    }
    g->live = 0;
    if (g->restart_peak) g->peak = 0;
    g->restart_peak = false;
    return SEA_OK;
}

sea_status sea_model_gpool_alloc(sea_model_gpool *g, size_t bytes, sea_buffer **buf, size_t *off)
{
    size_t need = (bytes + GPOOL_ALIGN - 1) / GPOOL_ALIGN * GPOOL_ALIGN;
    if (need == 0) need = GPOOL_ALIGN;
    int i = 0;
    while (i < g->n_fr && g->fr[i].len < need) i++;
    if (i == g->n_fr) {
        if (need > max_chunk(g))
            return sea_error(SEA_ERR_OOM, "model gradients: a gradient of %zu bytes exceeds the device's "
                             "largest buffer (%zu bytes)", need, max_chunk(g));
        size_t size = sea_model_grow_size(need, GPOOL_MIN_CHUNK, g->high_water);
        if (size > max_chunk(g)) size = max_chunk(g);
        SEA_TRY(add_chunk(g, size));
        g->grew = true;
        i = g->n_fr - 1;
    }
    sea_model_gpool_free *f = &g->fr[i];
    int c = f->chunk;
    *buf = g->chunk[c];
    *off = f->off;
    f->off += need;
    f->len -= need;
    if (f->len == 0) fr_remove(g, i);
    if (*off + need > g->extent[c]) g->extent[c] = *off + need;
    g->live += need;
    if (g->live > g->high_water) g->high_water = g->live;
    if (g->live > g->peak) g->peak = g->live;
    return SEA_OK;
}

sea_status sea_model_gpool_put(sea_model_gpool *g, sea_buffer *buf, size_t off, size_t bytes)
{
    size_t len = (bytes + GPOOL_ALIGN - 1) / GPOOL_ALIGN * GPOOL_ALIGN;
    if (len == 0) len = GPOOL_ALIGN;
    int c = 0;
    while (c < g->n && g->chunk[c] != buf) c++;
    if (c == g->n) return sea_error(SEA_ERR_INTERNAL, "model gradients: returned memory is not the pool's");
    int i = 0;
    while (i < g->n_fr && (g->fr[i].chunk < c || (g->fr[i].chunk == c && g->fr[i].off < off))) i++;
    g->live -= len;
    bool prev = i > 0 && g->fr[i - 1].chunk == c && g->fr[i - 1].off + g->fr[i - 1].len == off;
    bool next = i < g->n_fr && g->fr[i].chunk == c && off + len == g->fr[i].off;
    if (prev && next) {
        g->fr[i - 1].len += len + g->fr[i].len;
        fr_remove(g, i);
    } else if (prev) {
        g->fr[i - 1].len += len;
    } else if (next) {
        g->fr[i].off = off;
        g->fr[i].len += len;
    } else {
        return fr_insert(g, i, c, off, len);
    }
    return SEA_OK;
}
