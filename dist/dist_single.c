/* sea_dist without MPI: a one-rank world. Collectives are local copies. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dist/dist.h"

struct sea_dist {
    double timeout_s;
};

sea_status sea_dist_init(sea_dist **out)
{
    if (getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMI_SIZE"))
        fprintf(stderr, "sea: started by an MPI launcher, but this build has no MPI support: running one rank "
                        "per process independently (rebuild with libopenmpi-dev installed)\n");
    *out = calloc(1, sizeof **out);
    return *out ? SEA_OK : sea_error(SEA_ERR_OOM, "dist: out of host memory");
}

void sea_dist_finalize(sea_dist *d) { free(d); }
int sea_dist_world_rank(const sea_dist *d, int rank) { (void)d; return rank; }

sea_status sea_dist_split(sea_dist *d, int color, const char *name, sea_dist **out)
{
    (void)name;
    *out = NULL;
    if (color < 0) return SEA_OK;
    *out = calloc(1, sizeof **out);
    if (!*out) return sea_error(SEA_ERR_OOM, "dist: out of host memory");
    (*out)->timeout_s = d->timeout_s;
    return SEA_OK;
}
void sea_dist_abort(sea_dist *d, int code) { (void)d; (void)code; }
int sea_dist_rank(const sea_dist *d) { (void)d; return 0; }
int sea_dist_size(const sea_dist *d) { (void)d; return 1; }
bool sea_dist_is_mpi(const sea_dist *d) { (void)d; return false; }
void sea_dist_set_timeout(sea_dist *d, double seconds) { d->timeout_s = seconds; }
double sea_dist_timeout(const sea_dist *d) { return d && d->timeout_s > 0 ? d->timeout_s : 300; }
sea_status sea_dist_allreduce_sum(sea_dist *d, float *buf, size_t n) { (void)d; (void)buf; (void)n; return SEA_OK; }
sea_status sea_dist_allreduce_sum_f64(sea_dist *d, double *buf, size_t n) { (void)d; (void)buf; (void)n; return SEA_OK; }
sea_status sea_dist_barrier(sea_dist *d) { (void)d; return SEA_OK; }

sea_status sea_dist_broadcast(sea_dist *d, void *buf, size_t bytes, int root, size_t bucket_bytes, double *seconds)
{
    (void)d; (void)buf; (void)bytes; (void)bucket_bytes;
    if (root != 0) return sea_error(SEA_ERR_INVALID, "broadcast: root %d outside 0..0", root);
    if (seconds) *seconds = 0;
    return SEA_OK;
}

sea_status sea_dist_allgather(sea_dist *d, const void *send, size_t send_bytes, void **recv, size_t *recv_bytes,
                              size_t *counts)
{
    (void)d;
    *recv = malloc(send_bytes ? send_bytes : 1);
    if (!*recv) return sea_error(SEA_ERR_OOM, "allgather: %zu bytes", send_bytes);
    memcpy(*recv, send, send_bytes);
    *recv_bytes = send_bytes;
    if (counts) counts[0] = send_bytes;
    return SEA_OK;
}

sea_status sea_dist_scatter(sea_dist *d, int root, const void *send, const size_t *counts, void **recv,
                            size_t *recv_bytes)
{
    if (root != 0) return sea_error(SEA_ERR_INVALID, "scatter: root %d outside 0..0", root);
    size_t counts0 = counts[0];
    return sea_dist_allgather(d, send, counts0, recv, recv_bytes, NULL);
}

sea_status sea_dist_transfer(sea_dist *d, int src, int dst, const void *send, size_t send_bytes, void **recv,
                             size_t *recv_bytes)
{
    if (src != 0 || dst != 0) return sea_error(SEA_ERR_INVALID, "transfer: %d -> %d outside 0..0", src, dst);
    return sea_dist_allgather(d, send, send_bytes, recv, recv_bytes, NULL);
}
