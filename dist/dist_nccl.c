/* NCCL loaded with dlopen (see nccl.h): the library table, the collective decision to use it,
 * and bounded collectives on the device's own stream. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/nccl.h"
#include "dist/nccl_abi.h"

typedef struct nccl_lib {
    void *handle, *cuda;
    sea_nccl_get_version_fn get_version;
    sea_nccl_get_unique_id_fn get_unique_id;
    sea_nccl_comm_init_rank_fn comm_init_rank;
    sea_nccl_all_reduce_fn all_reduce;
    sea_nccl_broadcast_fn broadcast;
    sea_nccl_comm_destroy_fn comm_destroy;
    sea_nccl_comm_abort_fn comm_abort;
    sea_nccl_comm_get_async_error_fn comm_get_async_error;
    sea_nccl_get_error_string_fn get_error_string;
    sea_cu_stream_query_fn stream_query;
} nccl_lib;

struct sea_nccl {
    const nccl_lib *lib;
    sea_nccl_comm_t comm;
    sea_dist *group;
    sea_stream *stream;
    void *native;          /* cudaStream_t of `stream` */
    unsigned long long seq;
};

static void *sym(void *h, const char *name, char *why, size_t n, const char *lib)
{
    void *p = dlsym(h, name);
    if (!p && !why[0]) snprintf(why, n, "%s has no %s (NCCL older than 2.4?)", lib, name);
    return p;
}

/* Fills *l, or says in `why` what is missing. */
static void lib_load(const char *name, nccl_lib *l, char *why, size_t n)
{
    memset(l, 0, sizeof *l);
    why[0] = '\0';
    l->handle = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!l->handle) {
        const char *e = dlerror();
        snprintf(why, n, "%s not found (%s)", name, e ? e : "dlopen failed");
        return;
    }
    l->get_version = (sea_nccl_get_version_fn)sym(l->handle, "ncclGetVersion", why, n, name);
    l->get_unique_id = (sea_nccl_get_unique_id_fn)sym(l->handle, "ncclGetUniqueId", why, n, name);
    l->comm_init_rank = (sea_nccl_comm_init_rank_fn)sym(l->handle, "ncclCommInitRank", why, n, name);
    l->all_reduce = (sea_nccl_all_reduce_fn)sym(l->handle, "ncclAllReduce", why, n, name);
    l->broadcast = (sea_nccl_broadcast_fn)sym(l->handle, "ncclBroadcast", why, n, name);
    l->comm_destroy = (sea_nccl_comm_destroy_fn)sym(l->handle, "ncclCommDestroy", why, n, name);
    l->comm_abort = (sea_nccl_comm_abort_fn)sym(l->handle, "ncclCommAbort", why, n, name);
    l->comm_get_async_error = (sea_nccl_comm_get_async_error_fn)sym(l->handle, "ncclCommGetAsyncError", why, n, name);
    l->get_error_string = (sea_nccl_get_error_string_fn)sym(l->handle, "ncclGetErrorString", why, n, name);
    if (why[0]) return;
    /* the driver is loaded already when a CUDA device is open; this only takes a reference */
    l->cuda = dlopen("libcuda.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!l->cuda) {
        snprintf(why, n, "libcuda.so.1 not found (no NVIDIA driver)");
        return;
    }
    l->stream_query = (sea_cu_stream_query_fn)sym(l->cuda, "cuStreamQuery", why, n, "libcuda.so.1");
}

sea_status sea_nccl_library_check(const char *name, int *version, char *why, size_t why_n)
{
    nccl_lib l;
    *version = 0;
    lib_load(name, &l, why, why_n);
    /* a machine without a driver still resolves NCCL's own symbols: judge those alone */
    bool all = l.get_version && l.get_unique_id && l.comm_init_rank && l.all_reduce && l.broadcast && l.comm_destroy &&
               l.comm_abort && l.comm_get_async_error && l.get_error_string;
    if (!all) {
        if (l.handle) dlclose(l.handle);
        return sea_error(SEA_ERR_UNSUPPORTED, "%s", why);
    }
    if (l.get_version(version) != SEA_NCCL_SUCCESS) *version = 0;
    /* dlclose is skipped on purpose: NCCL does not support being unloaded */
    return SEA_OK;
}

/* The process-wide library, loaded once. */
static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static nccl_lib the_lib;
static char the_why[512];

static void lib_load_once(void)
{
    const char *name = getenv("SEA_NCCL_LIBRARY");
    lib_load(name && name[0] ? name : "libnccl.so.2", &the_lib, the_why, sizeof the_why);
}

/* Why this rank cannot use NCCL ("" = it can); *quiet: the host path is simply the design here. */
static void local_reason(sea_device *dev, void **native, char *why, size_t n, bool *quiet)
{
    why[0] = '\0';
    *quiet = false;
    if (!dev || strcmp(dev->backend->name, "cuda") != 0) {
        snprintf(why, n, "%s is not a CUDA device", dev ? sea_device_label(dev) : "no device");
        *quiet = true;
        return;
    }
    const char *env = getenv("SEA_NCCL");
    if (env && !strcmp(env, "0")) {
        snprintf(why, n, "SEA_NCCL=0");
        return;
    }
    if (sea_stream_native(sea_device_stream(dev), native)) {
        snprintf(why, n, "%s", sea_last_error());
        return;
    }
    pthread_once(&lib_once, lib_load_once);
    if (the_why[0]) snprintf(why, n, "%s", the_why);
}

static const char *nccl_err(const nccl_lib *l, sea_nccl_result rc)
{
    const char *s = l->get_error_string ? l->get_error_string(rc) : NULL;
    return s ? s : "unknown NCCL error";
}

sea_status sea_nccl_open(sea_dist *group, sea_device *dev, sea_nccl **out, char *why, size_t why_n)
{
    *out = NULL;
    why[0] = '\0';
    int rank = sea_dist_rank(group), size = sea_dist_size(group), me = sea_dist_world_rank(group, rank);
    if (size < 2) return SEA_OK;
    void *native = NULL;
    bool quiet;
    char mine[512];
    local_reason(dev, &native, mine, sizeof mine, &quiet);
    /* every member must take the same path: count the members that cannot, and the loud ones */
    double count[2] = {mine[0] ? 1 : 0, mine[0] && !quiet ? 1 : 0};
    SEA_TRY(sea_dist_allreduce_sum_f64(group, count, 2));
    if (count[0] > 0) {
        /* each rank with a reason of its own reports it; the others have nothing to add */
        if (mine[0] && !quiet) snprintf(why, why_n, "rank %d: %s", me, mine);
        else if (!mine[0] && count[1] == 0) snprintf(why, why_n, "rank %d: %.0f rank(s) of the group are not on CUDA devices", me, count[0]);
        return SEA_OK;
    }
    const nccl_lib *l = &the_lib;
    /* rank 0 makes the id; the flag travels with it so a failure there reaches everyone */
    struct {
        sea_nccl_unique_id id;
        int32_t ok;
    } msg;
    memset(&msg, 0, sizeof msg);
    sea_nccl_result rc = SEA_NCCL_SUCCESS;
    if (rank == 0) {
        rc = l->get_unique_id(&msg.id);
        msg.ok = rc == SEA_NCCL_SUCCESS;
    }
    SEA_TRY(sea_dist_broadcast(group, &msg, sizeof msg, 0, 0, NULL));
    if (!msg.ok) {
        if (rank == 0) snprintf(why, why_n, "rank %d: ncclGetUniqueId: %s", me, nccl_err(l, rc));
        return SEA_OK;
    }
    /* blocks until every member has called it: all of them agreed above to do so */
    sea_nccl_comm_t comm = NULL;
    rc = l->comm_init_rank(&comm, size, msg.id, rank);
    double failed = rc != SEA_NCCL_SUCCESS;
    SEA_TRY(sea_dist_allreduce_sum_f64(group, &failed, 1));
    if (failed > 0) {
        if (rc == SEA_NCCL_SUCCESS) l->comm_destroy(comm);
        if (rc != SEA_NCCL_SUCCESS) snprintf(why, why_n, "rank %d: ncclCommInitRank: %s", me, nccl_err(l, rc));
        return SEA_OK;
    }
    sea_nccl *c = calloc(1, sizeof *c);
    if (!c) {
        l->comm_destroy(comm);
        return sea_error(SEA_ERR_OOM, "nccl: out of host memory");
    }
    c->lib = l;
    c->comm = comm;
    c->group = group;
    c->stream = sea_device_stream(dev);
    c->native = native;
    *out = c;
    return SEA_OK;
}

void sea_nccl_close(sea_nccl *c)
{
    if (!c) return;
    c->lib->comm_destroy(c->comm);
    free(c);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* Poll the stream and NCCL's error state until the enqueued call finished, at most the group's
 * timeout: a peer that died inside the call would otherwise leave this rank waiting forever. */
static sea_status wait_done(sea_nccl *c, const char *what)
{
    const nccl_lib *l = c->lib;
    int me = sea_dist_world_rank(c->group, sea_dist_rank(c->group));
    double t0 = now_s(), limit = sea_dist_timeout(c->group);
    for (;;) {
        int q = l->stream_query(c->native);
        if (q == 0) return SEA_OK;
        if (q != SEA_CU_ERROR_NOT_READY)
            return sea_error(SEA_ERR_DEVICE, "rank %d: NCCL %s #%llu: the CUDA stream failed (CUresult %d)", me, what, c->seq, q);
        sea_nccl_result async = SEA_NCCL_SUCCESS;
        if (l->comm_get_async_error(c->comm, &async) == SEA_NCCL_SUCCESS && async != SEA_NCCL_SUCCESS &&
            async != SEA_NCCL_IN_PROGRESS) {
            l->comm_abort(c->comm);
            return sea_error(SEA_ERR_EXTERNAL, "rank %d: NCCL %s #%llu failed: %s", me, what, c->seq, nccl_err(l, async));
        }
        if (now_s() - t0 > limit) {
            l->comm_abort(c->comm);
            return sea_error(SEA_ERR_EXTERNAL, "rank %d: NCCL %s #%llu did not complete within %.0f s: a peer rank died "
                             "or hangs inside it", me, what, c->seq, limit);
        }
        struct timespec ts = {0, 100000};
        nanosleep(&ts, NULL);
    }
}

/* Every member checks in over MPI first, so a missing rank is named there instead of NCCL
 * waiting for it without a word. */
static sea_status enter(sea_nccl *c, const char *what)
{
    c->seq++;
    SEA_TRY(sea_error_context(sea_dist_barrier(c->group), "before NCCL %s", what));
    void *native;
    SEA_TRY(sea_stream_native(c->stream, &native)); /* makes the device current on this thread */
    return SEA_OK;
}

sea_status sea_nccl_allreduce_sum(sea_nccl *c, sea_buffer *buf, size_t offset, size_t n)
{
    SEA_TRY(enter(c, "all-reduce"));
    float *p = (float *)((char *)buf->handle + offset);
    sea_nccl_result rc = c->lib->all_reduce(p, p, n, SEA_NCCL_FLOAT32, SEA_NCCL_SUM, c->comm, c->native);
    if (rc != SEA_NCCL_SUCCESS)
        return sea_error(SEA_ERR_EXTERNAL, "rank %d: ncclAllReduce of %zu floats: %s",
                         sea_dist_world_rank(c->group, sea_dist_rank(c->group)), n, nccl_err(c->lib, rc));
    return wait_done(c, "all-reduce");
}

sea_status sea_nccl_broadcast(sea_nccl *c, sea_buffer *buf, size_t offset, size_t bytes, int root)
{
    SEA_TRY(enter(c, "broadcast"));
    char *p = (char *)buf->handle + offset;
    sea_nccl_result rc = c->lib->broadcast(p, p, bytes, SEA_NCCL_UINT8, root, c->comm, c->native);
    if (rc != SEA_NCCL_SUCCESS)
        return sea_error(SEA_ERR_EXTERNAL, "rank %d: ncclBroadcast of %zu bytes: %s",
                         sea_dist_world_rank(c->group, sea_dist_rank(c->group)), bytes, nccl_err(c->lib, rc));
    return wait_done(c, "broadcast");
}
