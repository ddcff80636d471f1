/* Caching device allocator.
 *
 * cudaMalloc/cudaFree synchronize the device and cost tens of microseconds, so freed blocks
 * are kept in free lists by size class (4 classes per power of two, >= 512 B: at most 25%
 * slack) and handed out again; in the steady state of a training or decode loop (the same
 * shapes every step) no cudaMalloc happens. Blocks are never split, so a block's size is a
 * function of the requested size and free() needs no lookup table.
 *
 * Reuse is safe without events because all work of a device normally runs on one stream:
 * a block freed while kernels that use it are still queued is only handed to work queued
 * later on the same stream. When several streams are live, free() waits for the device.
 * SEA_CUDA_NO_CACHE=1 turns caching off (for compute-sanitizer runs). */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

#define N_CLASSES 256

struct cache_node {
    void *ptr;
    struct cache_node *next;
};

struct sea_cuda_cache {
    pthread_mutex_t lock;
    struct cache_node *free_list[N_CLASSES];
    size_t in_use, cached;   /* bytes in size classes: held by live blocks, kept free */
    size_t requested;        /* bytes the live blocks were asked for */
    size_t in_use_peak, requested_peak;
    bool disabled;
};

/* Smallest class >= size and its index. */
static size_t size_class(size_t size, int *index)
{
    if (size <= 512) {
        *index = 0;
        return 512;
    }
    int e = 63 - __builtin_clzll((unsigned long long)size);
    size_t base = (size_t)1 << e;
    size_t step = base / 4;
    size_t q = (size - base + step - 1) / step; /* 0..4 */
    *index = (e - 9) * 4 + (int)q;
    return base + q * step;
}

/* A block of class cls for a request of size bytes goes live. Caller holds the lock. */
static void count_alloc(struct sea_cuda_cache *c, size_t cls, size_t size)
{
    c->in_use += cls;
    c->requested += size;
    if (c->in_use > c->in_use_peak) c->in_use_peak = c->in_use;
    if (c->requested > c->requested_peak) c->requested_peak = c->requested;
}

sea_status sea_cuda_cache_create(sea_cuda_device *d)
{
    struct sea_cuda_cache *c = calloc(1, sizeof *c);
    if (!c) return sea_error(SEA_ERR_OOM, "%s: allocator state: host out of memory", d->label);
    pthread_mutex_init(&c->lock, NULL);
    const char *env = getenv("SEA_CUDA_NO_CACHE");
    c->disabled = env && env[0] && strcmp(env, "0") != 0;
    d->cache = c;
    return SEA_OK;
}

/* Give every cached block back to the driver (on OOM and at close). Caller holds the lock. */
static void release_cached(struct sea_cuda_cache *c)
{
    for (int i = 0; i < N_CLASSES; i++) {
        struct cache_node *n = c->free_list[i];
        while (n) {
            struct cache_node *next = n->next;
            cudaFree(n->ptr);
            free(n);
            n = next;
        }
        c->free_list[i] = NULL;
    }
    c->cached = 0;
}

void sea_cuda_cache_destroy(sea_cuda_device *d)
{
    struct sea_cuda_cache *c = d->cache;
    if (!c) return;
    cudaSetDevice(d->ordinal);
    pthread_mutex_lock(&c->lock);
    release_cached(c);
    pthread_mutex_unlock(&c->lock);
    pthread_mutex_destroy(&c->lock);
    free(c);
    d->cache = NULL;
}

sea_status sea_cuda_mem_alloc(sea_cuda_device *d, size_t size, void **out)
{
    struct sea_cuda_cache *c = d->cache;
    int idx;
    size_t cls = size_class(size ? size : 1, &idx);
    *out = NULL;
    if (idx >= N_CLASSES)
        return sea_error(SEA_ERR_OOM, "%s: allocation of %zu bytes is beyond any device", d->label, size);
    pthread_mutex_lock(&c->lock);
    struct cache_node *n = c->disabled ? NULL : c->free_list[idx];
    if (n) {
        c->free_list[idx] = n->next;
        c->cached -= cls;
        count_alloc(c, cls, size);
        pthread_mutex_unlock(&c->lock);
        *out = n->ptr;
        free(n);
        return SEA_OK;
    }
    void *p = NULL;
    /* Uncached (SEA_CUDA_NO_CACHE), a buffer is exactly its size, so compute-sanitizer (or
     * ASan on the CUDA emulator) sees an access one past its end. */
    const size_t bytes = c->disabled ? (size ? size : 1) : cls;
    cudaError_t e = cudaMalloc(&p, bytes);
    if (e == cudaErrorMemoryAllocation) {
        cudaGetLastError(); /* clear the (non-sticky) error before retrying */
        release_cached(c);
        e = cudaMalloc(&p, bytes);
    }
    if (e != cudaSuccess) {
        size_t in_use = c->in_use;
        pthread_mutex_unlock(&c->lock);
        cudaGetLastError();
        size_t free_b = 0, total_b = 0;
        cudaMemGetInfo(&free_b, &total_b);
        if (e == cudaErrorMemoryAllocation)
            return sea_error(SEA_ERR_OOM,
                             "%s: out of memory allocating %zu bytes (%.2f GiB); sea holds %.2f GiB, "
                             "device free %.2f of %.2f GiB",
                             d->label, size, size / 1073741824.0, in_use / 1073741824.0,
                             free_b / 1073741824.0, total_b / 1073741824.0);
        return sea_error(SEA_ERR_DEVICE, "%s: cudaMalloc(%zu): %s (%s)", d->label, size,
                         cudaGetErrorName(e), cudaGetErrorString(e));
    }
    count_alloc(c, cls, size);
    pthread_mutex_unlock(&c->lock);
    *out = p;
    return SEA_OK;
}

void sea_cuda_mem_free(sea_cuda_device *d, void *ptr, size_t size)
{
    struct sea_cuda_cache *c = d->cache;
    if (!ptr) return;
    int idx;
    size_t cls = size_class(size ? size : 1, &idx);
    struct cache_node *n = c->disabled ? NULL : malloc(sizeof *n);
    if (!n) {
        cudaFree(ptr); /* synchronizes: safe even with work in flight */
        pthread_mutex_lock(&c->lock);
        c->in_use -= cls;
        c->requested -= size;
        pthread_mutex_unlock(&c->lock);
        return;
    }
    if (d->n_streams > 1) cudaDeviceSynchronize();
    n->ptr = ptr;
    pthread_mutex_lock(&c->lock);
    n->next = c->free_list[idx];
    c->free_list[idx] = n;
    c->in_use -= cls;
    c->requested -= size;
    c->cached += cls;
    pthread_mutex_unlock(&c->lock);
}

sea_status sea_cuda_memory_stats(sea_device *dev, bool reset_peak, sea_device_memory *out)
{
    sea_cuda_device *d = dev->ctx;
    struct sea_cuda_cache *c = d->cache;
    pthread_mutex_lock(&c->lock);
    out->allocated = c->requested;
    out->allocated_peak = c->requested_peak;
    out->held = c->in_use;
    out->held_peak = c->in_use_peak;
    out->cached = c->cached;
    if (reset_peak) {
        c->requested_peak = c->requested;
        c->in_use_peak = c->in_use;
    }
    pthread_mutex_unlock(&c->lock);
    return SEA_OK;
}

sea_status sea_cuda_memory_trim(sea_device *dev)
{
    sea_cuda_device *d = dev->ctx;
    struct sea_cuda_cache *c = d->cache;
    cudaSetDevice(d->ordinal);
    pthread_mutex_lock(&c->lock);
    release_cached(c); /* cudaFree waits for the device: blocks freed with work in flight are safe */
    pthread_mutex_unlock(&c->lock);
    return SEA_OK;
}

sea_status sea_cuda_tmp_alloc(sea_cuda_stream *cs, size_t size, void **out)
{
    sea_status st = sea_cuda_mem_alloc(cs->cdev, size, out);
    if (st) return sea_error_context(st, "temporary buffer");
    return SEA_OK;
}

/* During a graph capture the kernels that used ptr have not run yet and will run at every
 * replay: the block goes to the capture (cuda_graph.c), not back to the cache. */
void sea_cuda_tmp_free(sea_cuda_stream *cs, void *ptr, size_t size)
{
    if (cs->capturing && ptr) {
        sea_cuda_graph_keep(cs, ptr, size);
        return;
    }
    sea_cuda_mem_free(cs->cdev, ptr, size);
}
