/* sea_dist over MPI: bounded-time collectives with a check-in that names missing ranks. */
#include <mpi.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/dist.h"

#define TAG_CHECKIN 7301
#define TAG_PING 7302     /* rank 0 -> r: "are you alive?" after a collective timed out */
#define TAG_PONG 7303
#define PONG_WAIT_S 3.0
#define DEFAULT_BUCKET (256u << 20)
#define REDUCE_BUCKET_BYTES (16u << 20) /* per rank per reduction step */

struct sea_dist {
    bool mpi;          /* MPI initialized by us */
    int rank, size;
    double timeout_s;
    uint64_t seq;      /* collective counter: identical on every rank */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void nap(void)
{
    struct timespec ts = {0, 200000}; /* 0.2 ms: polling must not burn the cores it shares */
    nanosleep(&ts, NULL);
}

static bool launched_by_mpi(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE") || getenv("PMIX_RANK") || getenv("SLURM_PROCID");
}

sea_status sea_dist_init(sea_dist **out)
{
    sea_dist *d = calloc(1, sizeof *d);
    if (!d) return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    d->size = 1;
    d->timeout_s = 300;
    const char *t = getenv("SEA_DIST_TIMEOUT");
    if (t && atof(t) > 0) d->timeout_s = atof(t);
    if (launched_by_mpi()) {
        int provided, inited = 0;
        MPI_Initialized(&inited);
        if (!inited && MPI_Init_thread(NULL, NULL, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS) {
            free(d);
            return sea_error(SEA_ERR_EXTERNAL, "dist: MPI_Init_thread failed");
        }
        d->mpi = !inited;
        MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
        MPI_Comm_size(MPI_COMM_WORLD, &d->size);
        /* Errors come back as codes so we can name them instead of MPI aborting on its own. */
        MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    }
    *out = d;
    return SEA_OK;
}

void sea_dist_finalize(sea_dist *d)
{
    if (!d) return;
    if (d->mpi) MPI_Finalize();
    free(d);
}

void sea_dist_abort(sea_dist *d, int code)
{
    fflush(stdout);
    fflush(stderr);
    if (d && d->size > 1) MPI_Abort(MPI_COMM_WORLD, code);
}

int sea_dist_rank(const sea_dist *d) { return d ? d->rank : 0; }
int sea_dist_size(const sea_dist *d) { return d ? d->size : 1; }
bool sea_dist_is_mpi(const sea_dist *d) { return d && d->size > 1; }
void sea_dist_set_timeout(sea_dist *d, double seconds) { d->timeout_s = seconds; }

static sea_status mpi_fail(const sea_dist *d, const char *what, int rc)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    MPI_Error_string(rc, msg, &len);
    return sea_error(SEA_ERR_EXTERNAL, "rank %d: %s failed: %s", d->rank, what, msg);
}

/* A waiting rank answers rank 0's pings, so that rank 0 can tell which ranks still run. */
static void answer_pings(sea_dist *d)
{
    int flag = 0;
    MPI_Status status;
    if (d->rank == 0 || MPI_Iprobe(0, TAG_PING, MPI_COMM_WORLD, &flag, &status) != MPI_SUCCESS || !flag) return;
    int v;
    MPI_Recv(&v, 1, MPI_INT, 0, TAG_PING, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
    MPI_Send(&v, 1, MPI_INT, 0, TAG_PONG, MPI_COMM_WORLD);
}

/* Rank 0, after a collective timed out: ping every rank; those silent for PONG_WAIT_S are named
 * in `names` ("1, 3"). Healthy ranks are waiting in the same collective and answer at once. */
static int find_silent_ranks(sea_dist *d, char *names, size_t n)
{
    int peers = d->size - 1, silent = 0;
    static int ping[1024], pong[1024];
    MPI_Request sreq[1024], rreq[1024];
    int answered[1024] = {0};
    if (peers > 1024) peers = 1024;
    for (int i = 0; i < peers; i++) {
        ping[i] = i;
        MPI_Isend(&ping[i], 1, MPI_INT, i + 1, TAG_PING, MPI_COMM_WORLD, &sreq[i]);
        MPI_Irecv(&pong[i], 1, MPI_INT, i + 1, TAG_PONG, MPI_COMM_WORLD, &rreq[i]);
    }
    double t0 = now_s();
    int left = peers;
    while (left > 0 && now_s() - t0 < PONG_WAIT_S) {
        for (int i = 0; i < peers; i++) {
            int flag = 0;
            if (!answered[i] && MPI_Test(&rreq[i], &flag, MPI_STATUS_IGNORE) == MPI_SUCCESS && flag) {
                answered[i] = 1;
                left--;
            }
        }
        nap();
    }
    size_t used = 0;
    names[0] = '\0';
    for (int i = 0; i < peers && used + 8 < n; i++)
        if (!answered[i]) {
            used += (size_t)snprintf(names + used, n - used, "%s%d", used ? ", " : "", i + 1);
            silent++;
        }
    return silent;
}

/* Wait for a request until the deadline; on timeout the request is left pending (the job is
 * about to be aborted anyway). */
static sea_status wait_bounded(sea_dist *d, MPI_Request *req, const char *what, double t0)
{
    for (;;) {
        int done = 0;
        int rc = MPI_Test(req, &done, MPI_STATUS_IGNORE);
        if (rc != MPI_SUCCESS) return mpi_fail(d, what, rc);
        if (done) return SEA_OK;
        answer_pings(d);
        if (now_s() - t0 > d->timeout_s) {
            char names[256];
            if (d->rank == 0 && find_silent_ranks(d, names, sizeof names) > 0)
                return sea_error(SEA_ERR_EXTERNAL, "rank %s did not reach %s #%llu within %.0f s and does not respond "
                                 "(died or hangs)", names, what, (unsigned long long)d->seq, d->timeout_s);
            return sea_error(SEA_ERR_EXTERNAL,
                             "rank %d: %s #%llu did not complete within %.0f s: a peer rank died or hangs%s", d->rank,
                             what, (unsigned long long)d->seq, d->timeout_s,
                             d->rank ? " (rank 0, the coordinator, may be the one)" : "");
        }
        nap();
    }
}

/* Every rank reports to rank 0 before a collective, so rank 0 can name the ranks that never
 * arrive. Non-zero ranks only post their message; rank 0 waits for all, bounded. */
static sea_status check_in(sea_dist *d, const char *what)
{
    d->seq++;
    if (d->size == 1) return SEA_OK;
    static uint64_t token; /* the payload only has to exist while the send is in flight */
    token = d->seq;
    if (d->rank != 0) {
        MPI_Request req;
        int rc = MPI_Isend(&token, 1, MPI_UINT64_T, 0, TAG_CHECKIN, MPI_COMM_WORLD, &req);
        if (rc != MPI_SUCCESS) return mpi_fail(d, what, rc);
        return wait_bounded(d, &req, what, now_s());
    }
    int n = d->size - 1;
    MPI_Request *reqs = calloc((size_t)n, sizeof *reqs);
    uint64_t *got = calloc((size_t)n, sizeof *got);
    int *done = calloc((size_t)n, sizeof *done);
    if (!reqs || !got || !done) {
        free(reqs); free(got); free(done);
        return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    }
    sea_status st = SEA_OK;
    for (int i = 0; i < n && !st; i++) {
        int rc = MPI_Irecv(&got[i], 1, MPI_UINT64_T, i + 1, TAG_CHECKIN, MPI_COMM_WORLD, &reqs[i]);
        if (rc != MPI_SUCCESS) st = mpi_fail(d, what, rc);
    }
    double t0 = now_s();
    int remaining = n;
    while (!st && remaining > 0) {
        for (int i = 0; i < n; i++) {
            if (done[i]) continue;
            int flag = 0;
            int rc = MPI_Test(&reqs[i], &flag, MPI_STATUS_IGNORE);
            if (rc != MPI_SUCCESS) {
                st = mpi_fail(d, what, rc);
                break;
            }
            if (flag) {
                done[i] = 1;
                remaining--;
                if (got[i] != d->seq)
                    st = sea_error(SEA_ERR_INTERNAL, "rank %d is at collective #%llu while rank 0 is at #%llu (%s): "
                                   "the ranks diverged", i + 1, (unsigned long long)got[i],
                                   (unsigned long long)d->seq, what);
            }
        }
        if (!st && remaining > 0) {
            if (now_s() - t0 > d->timeout_s) {
                char names[256] = "";
                size_t used = 0;
                for (int i = 0; i < n && used < sizeof names - 8; i++)
                    if (!done[i]) used += (size_t)snprintf(names + used, sizeof names - used, "%s%d", used ? ", " : "", i + 1);
                st = sea_error(SEA_ERR_EXTERNAL, "rank%s %s did not reach %s #%llu within %.0f s (died or hangs)",
                               remaining > 1 ? "s" : "", names, what, (unsigned long long)d->seq, d->timeout_s);
                break;
            }
            nap();
        }
    }
    free(reqs);
    free(got);
    free(done);
    return st;
}

sea_status sea_dist_barrier(sea_dist *d)
{
    SEA_TRY(check_in(d, "barrier"));
    if (d->size == 1) return SEA_OK;
    MPI_Request req;
    int rc = MPI_Ibarrier(MPI_COMM_WORLD, &req);
    if (rc != MPI_SUCCESS) return mpi_fail(d, "barrier", rc);
    return wait_bounded(d, &req, "barrier", now_s());
}

sea_status sea_dist_broadcast(sea_dist *d, void *buf, size_t bytes, int root, size_t bucket_bytes, double *seconds)
{
    double t0 = now_s();
    if (root < 0 || root >= d->size)
        return sea_error(SEA_ERR_INVALID, "broadcast: root %d outside 0..%d", root, d->size - 1);
    SEA_TRY(check_in(d, "broadcast"));
    if (!bucket_bytes || bucket_bytes > (size_t)INT32_MAX) bucket_bytes = DEFAULT_BUCKET;
    for (size_t off = 0; d->size > 1 && off < bytes; off += bucket_bytes) {
        size_t len = bytes - off < bucket_bytes ? bytes - off : bucket_bytes;
        MPI_Request req;
        int rc = MPI_Ibcast((char *)buf + off, (int)len, MPI_BYTE, root, MPI_COMM_WORLD, &req);
        if (rc != MPI_SUCCESS) return mpi_fail(d, "broadcast", rc);
        SEA_TRY(wait_bounded(d, &req, "broadcast", now_s()));
    }
    if (seconds) *seconds = now_s() - t0;
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
    SEA_TRY(check_in(d, "allreduce"));
    if (d->size == 1) return SEA_OK;
    size_t bucket = n < REDUCE_BUCKET_BYTES / esz ? n : REDUCE_BUCKET_BYTES / esz;
    char *gathered = NULL; /* (size, bucket) elements at rank 0 */
    if (d->rank == 0) {
        gathered = malloc((size_t)d->size * (bucket ? bucket : 1) * esz);
        if (!gathered) return sea_error(SEA_ERR_OOM, "allreduce: %zu bytes at rank 0", (size_t)d->size * bucket * esz);
    }
    sea_status st = SEA_OK;
    for (size_t off = 0; off < n && !st; off += bucket) {
        size_t len = n - off < bucket ? n - off : bucket;
        char *part = (char *)buf + off * esz;
        MPI_Request req;
        int rc = MPI_Igather(part, (int)len, type, gathered, (int)len, type, 0, MPI_COMM_WORLD, &req);
        if (rc != MPI_SUCCESS) st = mpi_fail(d, "allreduce (gather)", rc);
        if (!st) st = wait_bounded(d, &req, "allreduce (gather)", now_s());
        if (!st && d->rank == 0) sum(part, gathered, d->size, len);
        if (!st) {
            rc = MPI_Ibcast(part, (int)len, type, 0, MPI_COMM_WORLD, &req);
            if (rc != MPI_SUCCESS) st = mpi_fail(d, "allreduce (broadcast)", rc);
            if (!st) st = wait_bounded(d, &req, "allreduce (broadcast)", now_s());
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
    SEA_TRY(check_in(d, "allgather"));
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
        int rc = MPI_Iallgather(&mine, 1, MPI_UINT64_T, all, 1, MPI_UINT64_T, MPI_COMM_WORLD, &req);
        if (rc != MPI_SUCCESS) st = mpi_fail(d, "allgather (sizes)", rc);
        if (!st) st = wait_bounded(d, &req, "allgather (sizes)", now_s());
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
            int rc = MPI_Iallgatherv(send, (int)send_bytes, MPI_BYTE, out, cnt, displ, MPI_BYTE, MPI_COMM_WORLD, &req);
            if (rc != MPI_SUCCESS) st = mpi_fail(d, "allgather", rc);
            if (!st) st = wait_bounded(d, &req, "allgather", now_s());
        }
    }
    free(all);
    free(cnt);
    free(displ);
    if (st) {
        free(out);
        return st;
    }
    *recv = out;
    *recv_bytes = total;
    return SEA_OK;
}
