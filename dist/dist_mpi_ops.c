/* The collectives of sea_dist over MPI: each one checks in (so a missing rank is named), then
 * runs non-blocking MPI calls under sea_dist_wait's deadline. */
#include <stdlib.h>
#include <string.h>

#include "dist/dist_mpi_internal.h"

#define DEFAULT_BUCKET (256u << 20)
#define REDUCE_BUCKET_BYTES (16u << 20) /* per rank per reduction step */
#define XFER_CHUNK ((size_t)1 << 30)    /* MPI counts are ints */

/* A non-blocking call just started with return code rc: wait for it under the deadline
 * (peer as in sea_dist_wait). */
static sea_status await_started(sea_dist *d, int rc, MPI_Request *req, const char *what, int peer)
{
    if (rc != MPI_SUCCESS) return sea_dist_mpi_fail(d, what, rc);
    return sea_dist_wait(d, req, what, peer);
}

/* The end of a collective that returns a buffer: the caller gets out (bytes) on success; on
 * failure out is freed. */
static sea_status hand_out(sea_status st, void *out, size_t bytes, void **recv, size_t *recv_bytes)
{
    if (st) {
        free(out);
        return st;
    }
    *recv = out;
    *recv_bytes = bytes;
    return SEA_OK;
}

sea_status sea_dist_barrier(sea_dist *d)
{
    SEA_TRY(sea_dist_check_in(d, "barrier"));
    if (d->size == 1) return SEA_OK;
    MPI_Request req;
    int rc = MPI_Ibarrier(d->comm, &req);
    return await_started(d, rc, &req, "barrier", -1);
}

sea_status sea_dist_broadcast(sea_dist *d, void *buf, size_t bytes, int root, size_t bucket_bytes, double *seconds)
{
    double t0 = sea_dist_now();
    if (root < 0 || root >= d->size)
        return sea_error(SEA_ERR_INVALID, "broadcast: root %d outside 0..%d", root, d->size - 1);
    SEA_TRY(sea_dist_check_in(d, "broadcast"));
    if (!bucket_bytes || bucket_bytes > (size_t)INT32_MAX) bucket_bytes = DEFAULT_BUCKET;
    for (size_t off = 0; d->size > 1 && off < bytes; off += bucket_bytes) {
        size_t len = bytes - off < bucket_bytes ? bytes - off : bucket_bytes;
        MPI_Request req;
        int rc = MPI_Ibcast((char *)buf + off, (int)len, MPI_BYTE, root, d->comm, &req);
        SEA_TRY(await_started(d, rc, &req, "broadcast", -1));
    }
    if (seconds) *seconds = sea_dist_now() - t0;
    return SEA_OK;
}

/* Fixed order: rank 0 + rank 1 + ... : the same bits on every run and every MPI. */
static void sum_f32(void *dst, const void *gathered, int ranks, size_t len)
{
    const float *g = gathered;
    for (size_t i = 0; i < len; i++) {
        float s = g[i];
        for (int r = 1; r < ranks; r++) s += g[(size_t)r * len + i];
        ((float *)dst)[i] = s;
    }
}

static void sum_f64(void *dst, const void *gathered, int ranks, size_t len)
{
    const double *g = gathered;
    for (size_t i = 0; i < len; i++) {
        double s = g[i];
        for (int r = 1; r < ranks; r++) s += g[(size_t)r * len + i];
        ((double *)dst)[i] = s;
    }
}

/* Gather to rank 0 in buckets, sum there in rank order, broadcast the sums. */
static sea_status allreduce(sea_dist *d, void *buf, size_t n, MPI_Datatype type, size_t esz,
                            void (*sum)(void *, const void *, int, size_t))
{
    SEA_TRY(sea_dist_check_in(d, "allreduce"));
    if (d->size == 1) return SEA_OK;
    size_t bucket = n < REDUCE_BUCKET_BYTES / esz ? n : REDUCE_BUCKET_BYTES / esz;
    char *gathered = NULL; /* (size, bucket) elements at rank 0 */
    if (d->rank == 0) {
        gathered = malloc((size_t)d->size * (bucket ? bucket : 1) * esz);
        if (!gathered) return sea_error(SEA_ERR_OOM, "allreduce: %zu bytes at rank %d", (size_t)d->size * bucket * esz,
                                        d->world[0]);
    }
    sea_status st = SEA_OK;
    for (size_t off = 0; off < n && !st; off += bucket) {
        size_t len = n - off < bucket ? n - off : bucket;
        char *part = (char *)buf + off * esz;
        MPI_Request req;
        int rc = MPI_Igather(part, (int)len, type, gathered, (int)len, type, 0, d->comm, &req);
        st = await_started(d, rc, &req, "allreduce (gather)", -1);
        if (!st && d->rank == 0) sum(part, gathered, d->size, len);
        if (!st) {
            rc = MPI_Ibcast(part, (int)len, type, 0, d->comm, &req);
            st = await_started(d, rc, &req, "allreduce (broadcast)", -1);
        }
    }
    free(gathered);
    return st;
}

sea_status sea_dist_allreduce_sum(sea_dist *d, float *buf, size_t n)
{
    return allreduce(d, buf, n, MPI_FLOAT, sizeof(float), sum_f32);
}

sea_status sea_dist_allreduce_sum_f64(sea_dist *d, double *buf, size_t n)
{
    return allreduce(d, buf, n, MPI_DOUBLE, sizeof(double), sum_f64);
}

sea_status sea_dist_allgather(sea_dist *d, const void *send, size_t send_bytes, void **recv, size_t *recv_bytes,
                              size_t *counts)
{
    *recv = NULL;
    *recv_bytes = 0;
    SEA_TRY(sea_dist_check_in(d, "allgather"));
    if (send_bytes > (size_t)INT32_MAX) return sea_error(SEA_ERR_INVALID, "allgather: %zu bytes from one rank (max 2 GiB)", send_bytes);
    int n = d->size;
    uint64_t mine = send_bytes;
    uint64_t *all = calloc((size_t)n, sizeof *all);
    int *cnt = calloc((size_t)n, sizeof *cnt), *displ = calloc((size_t)n, sizeof *displ);
    if (!all || !cnt || !displ) {
        free(all); free(cnt); free(displ);
        return sea_error(SEA_ERR_OOM, "allgather: out of host memory");
    }
    sea_status st = SEA_OK;
    if (n == 1) {
        all[0] = mine;
    } else {
        MPI_Request req;
        int rc = MPI_Iallgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, d->comm, &req);
        st = await_started(d, rc, &req, "allgather (sizes)", -1);
    }
    size_t total = 0;
    for (int r = 0; r < n && !st; r++) {
        if (total + all[r] > (size_t)INT32_MAX) st = sea_error(SEA_ERR_INVALID, "allgather: more than 2 GiB in total");
        cnt[r] = (int)all[r];
        displ[r] = (int)total;
        total += all[r];
        if (counts) counts[r] = all[r];
    }
    char *out = st ? NULL : malloc(total ? total : 1);
    if (!st && !out) st = sea_error(SEA_ERR_OOM, "allgather: %zu bytes", total);
    if (!st) {
        if (n == 1) {
            memcpy(out, send, send_bytes);
        } else {
            MPI_Request req;
            int rc = MPI_Iallgatherv(send, (int)send_bytes, MPI_BYTE, out, cnt, displ, MPI_BYTE, d->comm, &req);
            st = await_started(d, rc, &req, "allgather", -1);
        }
    }
    free(all);
    free(cnt);
    free(displ);
    return hand_out(st, out, total, recv, recv_bytes);
}

sea_status sea_dist_scatter(sea_dist *d, int root, const void *send, const size_t *counts, void **recv,
                            size_t *recv_bytes)
{
    *recv = NULL;
    *recv_bytes = 0;
    if (root < 0 || root >= d->size)
        return sea_error(SEA_ERR_INVALID, "scatter: root %d outside 0..%d", root, d->size - 1);
    SEA_TRY(sea_dist_check_in(d, "scatter"));
    int n = d->size;
    uint64_t *sizes = calloc((size_t)n, sizeof *sizes), mine = 0;
    int *cnt = calloc((size_t)n, sizeof *cnt), *displ = calloc((size_t)n, sizeof *displ);
    sea_status st = sizes && cnt && displ ? SEA_OK : sea_error(SEA_ERR_OOM, "scatter: out of host memory");
    if (!st && d->rank == root) {
        size_t total = 0;
        for (int r = 0; r < n && !st; r++) {
            if (total + counts[r] > (size_t)INT32_MAX) st = sea_error(SEA_ERR_INVALID, "scatter: more than 2 GiB in total");
            sizes[r] = counts[r];
            cnt[r] = (int)counts[r];
            displ[r] = (int)total;
            total += counts[r];
        }
    }
    if (!st && n == 1) mine = sizes[0];
    if (!st && n > 1) {
        MPI_Request req;
        int rc = MPI_Iscatter(sizes, 1, MPI_UINT64_T, &mine, 1, MPI_UINT64_T, root, d->comm, &req);
        st = await_started(d, rc, &req, "scatter (sizes)", -1);
    }
    char *out = st ? NULL : malloc(mine ? mine : 1);
    if (!st && !out) st = sea_error(SEA_ERR_OOM, "scatter: %llu bytes", (unsigned long long)mine);
    if (!st) {
        if (n == 1) {
            memcpy(out, send, mine);
        } else {
            MPI_Request req;
            int rc = MPI_Iscatterv(send, cnt, displ, MPI_BYTE, out, (int)mine, MPI_BYTE, root, d->comm, &req);
            st = await_started(d, rc, &req, "scatter", -1);
        }
    }
    free(sizes);
    free(cnt);
    free(displ);
    return hand_out(st, out, mine, recv, recv_bytes);
}

sea_status sea_dist_transfer(sea_dist *d, int src, int dst, const void *send, size_t send_bytes, void **recv,
                             size_t *recv_bytes)
{
    if (recv) *recv = NULL;
    if (recv_bytes) *recv_bytes = 0;
    if (src < 0 || src >= d->size || dst < 0 || dst >= d->size)
        return sea_error(SEA_ERR_INVALID, "transfer: %d -> %d outside 0..%d", src, dst, d->size - 1);
    SEA_TRY(sea_dist_check_in(d, "transfer"));
    if (d->rank != src && d->rank != dst) return SEA_OK;
    if (src == dst) {
        *recv = malloc(send_bytes ? send_bytes : 1);
        if (!*recv) return sea_error(SEA_ERR_OOM, "transfer: %zu bytes", send_bytes);
        memcpy(*recv, send, send_bytes);
        *recv_bytes = send_bytes;
        return SEA_OK;
    }
    bool sender = d->rank == src;
    int peer = sender ? dst : src;
    uint64_t size = send_bytes;
    MPI_Request req;
    int rc = sender ? MPI_Isend(&size, 1, MPI_UINT64_T, peer, SEA_DIST_TAG_XFER, d->comm, &req)
                    : MPI_Irecv(&size, 1, MPI_UINT64_T, peer, SEA_DIST_TAG_XFER, d->comm, &req);
    SEA_TRY(await_started(d, rc, &req, "transfer", peer));
    char *buf = sender ? (char *)send : malloc(size ? size : 1);
    if (!buf) return sea_error(SEA_ERR_OOM, "transfer: %llu bytes from rank %d", (unsigned long long)size, d->world[src]);
    sea_status st = SEA_OK;
    for (size_t off = 0; off < size && !st; off += XFER_CHUNK) {
        size_t len = size - off < XFER_CHUNK ? size - off : XFER_CHUNK;
        rc = sender ? MPI_Isend(buf + off, (int)len, MPI_BYTE, peer, SEA_DIST_TAG_XFER, d->comm, &req)
                    : MPI_Irecv(buf + off, (int)len, MPI_BYTE, peer, SEA_DIST_TAG_XFER, d->comm, &req);
        st = await_started(d, rc, &req, "transfer", peer);
    }
    if (sender) return st;
    return hand_out(st, buf, size, recv, recv_bytes);
}
