/* Multi-process communication for SEA runs over MPI (Open MPI; `mpirun` or Slurm's `srun`).
 *
 * One process per device. Every collective here is bounded in time: it is started
 * non-blocking and polled against a deadline, and before it every rank checks in with rank 0,
 * so a rank that died or hangs is NAMED ("rank 2 did not reach allreduce #14 within 30 s")
 * instead of the job hanging silently. The caller then stops the job (sea_dist_abort).
 *
 * Reductions are deterministic whatever MPI's algorithm: contributions are gathered to
 * rank 0, summed there in rank order, and the result broadcast, so every rank gets the same
 * bits as a single process summing the same per-rank partial results in rank order.
 *
 * Built without MPI (or run without a launcher) this is a one-rank world and every call is
 * a local no-op or copy. */
#ifndef SEA_DIST_H
#define SEA_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "runtime/status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_dist sea_dist;

/* Initializes MPI when the process was started by mpirun/srun (OMPI_COMM_WORLD_SIZE,
 * PMI_SIZE or PMIX_RANK in the environment), else a one-rank world. */
sea_status sea_dist_init(sea_dist **out);
void sea_dist_finalize(sea_dist *d);
/* Stop every rank of the job (MPI_Abort) after printing `why`; single process: returns. */
void sea_dist_abort(sea_dist *d, int code);

int sea_dist_rank(const sea_dist *d);
int sea_dist_size(const sea_dist *d);
bool sea_dist_is_mpi(const sea_dist *d);
/* Deadline for each collective, seconds (default 300, env SEA_DIST_TIMEOUT). */
void sea_dist_set_timeout(sea_dist *d, double seconds);

/* buf (n) on every rank <- sum over ranks of buf, in rank order (deterministic). */
sea_status sea_dist_allreduce_sum(sea_dist *d, float *buf, size_t n);
sea_status sea_dist_allreduce_sum_f64(sea_dist *d, double *buf, size_t n);
/* buf (bytes) on every rank <- root's, sent in buckets of bucket_bytes (0 = 256 MiB).
 * *seconds (may be NULL) receives the wall time of the whole broadcast. */
sea_status sea_dist_broadcast(sea_dist *d, void *buf, size_t bytes, int root, size_t bucket_bytes, double *seconds);
/* Every rank contributes `send` (send_bytes); every rank receives all contributions
 * concatenated in rank order in *recv (malloc'ed, *recv_bytes total) and, per rank, the
 * byte counts in counts (size entries, caller-allocated) when non-NULL. */
sea_status sea_dist_allgather(sea_dist *d, const void *send, size_t send_bytes, void **recv, size_t *recv_bytes,
                              size_t *counts);
sea_status sea_dist_barrier(sea_dist *d);

#ifdef __cplusplus
}
#endif
#endif
