/* CUDA graphs for captured op sequences (runtime/graph.h).
 *
 * graph_begin starts stream capture on the stream (relaxed mode: the caching allocator may
 * still cudaMalloc while a capture is open, which the global mode forbids); every op's
 * kernels, cuBLAS calls and async memsets are then recorded instead of run. graph_end
 * instantiates the captured graph. Op temporaries freed during capture are kept by the graph
 * (the replayed kernels use those addresses) and go back to the cache when it is freed.
 * Replays are ordered with other work on the stream like any kernel; SEA_CUDA_SYNC=1 syncs
 * after each launch so a fault is reported there. */
#include <stdlib.h>

#include "cuda_internal.h"

typedef struct cuda_graph {
    cudaGraphExec_t exec;
    sea_cuda_stream *cs;      /* captured on: synced before the graph's temporaries are freed */
    sea_cuda_kept kept;
} cuda_graph;

void sea_cuda_graph_keep(sea_cuda_stream *cs, void *ptr, size_t size)
{
    sea_cuda_kept *k = cs->kept;
    if (k && k->n == k->cap) {
        int cap = k->cap ? 2 * k->cap : 32;
        void **p = realloc(k->ptr, (size_t)cap * sizeof *p);
        if (p) k->ptr = p;
        size_t *sz = p ? realloc(k->size, (size_t)cap * sizeof *sz) : NULL;
        if (sz) k->size = sz;
        if (p && sz) k->cap = cap;
    }
    if (!k || k->n == k->cap) {
        /* Host out of memory: leak the block rather than let the cache hand out memory the
         * graph will write; the capture fails at graph_end. */
        cs->capture_failed = true;
        return;
    }
    k->ptr[k->n] = ptr;
    k->size[k->n] = size;
    k->n++;
}

static void release_kept(sea_cuda_device *d, sea_cuda_kept *k)
{
    for (int i = 0; i < k->n; i++) sea_cuda_mem_free(d, k->ptr[i], k->size[i]);
    free(k->ptr);
    free(k->size);
    k->ptr = NULL;
    k->size = NULL;
    k->n = k->cap = 0;
}

sea_status sea_cuda_graph_begin(sea_stream *s)
{
    sea_cuda_stream *cs = s->ctx;
    if (cs->capturing) return sea_error(SEA_ERR_INVALID, "%s: the stream is already capturing", cs->cdev->label);
    SEA_TRY(sea_cuda_check(cudaSetDevice(cs->ordinal), cs, "cudaSetDevice"));
    cs->kept = calloc(1, sizeof *cs->kept);
    if (!cs->kept) return sea_error(SEA_ERR_OOM, "%s: graph capture: host out of memory", cs->cdev->label);
    sea_status st = sea_cuda_check(cudaStreamBeginCapture(cs->stream, cudaStreamCaptureModeRelaxed), cs,
                                   "cudaStreamBeginCapture");
    if (st) {
        free(cs->kept);
        cs->kept = NULL;
        return st;
    }
    cs->capturing = true;
    cs->capture_failed = false;
    return SEA_OK;
}

sea_status sea_cuda_graph_end(sea_stream *s, void **out)
{
    sea_cuda_stream *cs = s->ctx;
    *out = NULL;
    if (!cs->capturing) return sea_error(SEA_ERR_INVALID, "%s: the stream is not capturing", cs->cdev->label);
    cudaSetDevice(cs->ordinal);
    cudaGraph_t graph = NULL;
    cudaError_t e = cudaStreamEndCapture(cs->stream, &graph);
    cs->capturing = false;
    sea_cuda_kept *kept = cs->kept;
    cs->kept = NULL;
    sea_status st = SEA_OK;
    if (e != cudaSuccess) {
        /* An op did something a capture cannot hold (a sync, a host copy): the capture was
         * invalidated, and the error says which call. */
        st = sea_cuda_check(e, cs, "cudaStreamEndCapture (the capture was invalidated by an op)");
    } else if (cs->capture_failed) {
        st = sea_error(SEA_ERR_OOM, "%s: graph capture: host out of memory keeping op temporaries", cs->cdev->label);
    }
    cuda_graph *g = NULL;
    if (!st) {
        g = calloc(1, sizeof *g);
        if (!g) st = sea_error(SEA_ERR_OOM, "%s: graph: host out of memory", cs->cdev->label);
    }
    if (!st) st = sea_cuda_check(cudaGraphInstantiate(&g->exec, graph, 0), cs, "cudaGraphInstantiate");
    if (graph) cudaGraphDestroy(graph);   /* the executable graph holds its own copy */
    if (st) {
        free(g);
        /* Nothing captured ran, so the temporaries can go straight back to the cache. */
        release_kept(cs->cdev, kept);
        free(kept);
        return st;
    }
    g->cs = cs;
    g->kept = *kept;
    free(kept);
    *out = g;
    return SEA_OK;
}

sea_status sea_cuda_graph_launch(sea_stream *s, void *graph)
{
    sea_cuda_stream *cs = s->ctx;
    cuda_graph *g = graph;
    cudaSetDevice(cs->ordinal);
    SEA_TRY(sea_cuda_check(cudaGraphLaunch(g->exec, cs->stream), cs, "cudaGraphLaunch"));
    if (cs->sync_each_op)
        return sea_cuda_check(cudaStreamSynchronize(cs->stream), cs, "graph launch (a captured op failed on the device)");
    return SEA_OK;
}

/* Graphs are freed before the stream they were captured on (runtime/graph.h users free
 * theirs before closing the device): the sync below needs it. */
void sea_cuda_graph_free(sea_device *dev, void *graph)
{
    cuda_graph *g = graph;
    sea_cuda_device *d = dev->ctx;
    if (!g) return;
    cudaSetDevice(d->ordinal);
    /* A launch may still be running: its temporaries go back to the cache only after it. */
    cudaStreamSynchronize(g->cs->stream);
    cudaGraphExecDestroy(g->exec);
    release_kept(d, &g->kept);
    free(g);
}
