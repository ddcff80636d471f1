/* Multi-process communication for SEA runs over MPI (Open MPI; `mpirun` or Slurm's `srun`).
 *
 * One process per device. Every collective here is bounded in time: it is started
 * non-blocking and polled against a deadline, and before it every rank checks in with the
 * group's first rank (its coordinator), so a rank that died or hangs is NAMED ("rank 2 did not
 * reach allreduce #14 (learners) within 30 s") instead of the job hanging silently. The caller
 * then stops the job (sea_dist_abort).
 *
 * Groups: the world can be split into sub-groups (sea_dist_split: the actors, the learners,
 * ...) whose collectives are bounded the same way. A rank waiting in any bounded call answers
 * "are you alive?" pings from any other rank, so when a wait passes its deadline the waiter
 * can tell a rank that hangs or died (silent) from one that is alive but blocked on a third
 * rank in another group (it answers: keep waiting, that group names the culprit; at most
 * four deadlines in all). Messages always give world ranks.
 *
 * Reductions are deterministic whatever MPI's algorithm: contributions are gathered to
 * the group's rank 0, summed there in rank order, and the result broadcast, so every rank gets
 * the same bits as a single process summing the same per-rank partial results in rank order.
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
/* The world: finalizes MPI. A group: frees the group only. */
void sea_dist_finalize(sea_dist *d);
/* Stop every rank of the job (MPI_Abort) after printing `why`; single process: returns. */
void sea_dist_abort(sea_dist *d, int code);

int sea_dist_rank(const sea_dist *d);
int sea_dist_size(const sea_dist *d);
bool sea_dist_is_mpi(const sea_dist *d);
/* Deadline for each collective, seconds (default 300, env SEA_DIST_TIMEOUT). */
void sea_dist_set_timeout(sea_dist *d, double seconds);
double sea_dist_timeout(const sea_dist *d);

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

/* Groups. Ranks of d that pass the same color >= 0 form one group, ordered by their rank in d;
 * color < 0: *out = NULL (not a member of any). Collective over d. `name` ("learners") appears
 * in messages. A group has its own rank/size and collective counter; free it with
 * sea_dist_finalize before its parent. */
sea_status sea_dist_split(sea_dist *d, int color, const char *name, sea_dist **out);
/* World rank of member `rank` of d (for messages and tests). */
int sea_dist_world_rank(const sea_dist *d, int rank);
/* root sends counts[r] bytes to member r (root's `send` holds the parts concatenated in rank
 * order; counts and send are read on root only); every member receives its part in *recv
 * (malloc'ed, *recv_bytes; an empty part gives a 1-byte allocation). */
sea_status sea_dist_scatter(sea_dist *d, int root, const void *send, const size_t *counts, void **recv,
                            size_t *recv_bytes);
/* Member src sends `send` (send_bytes, any size) to member dst, which receives a malloc'ed
 * copy in *recv / *recv_bytes. Every member calls it (the others return after the check-in),
 * so a missing sender or receiver is named like in any collective. */
sea_status sea_dist_transfer(sea_dist *d, int src, int dst, const void *send, size_t send_bytes, void **recv,
                             size_t *recv_bytes);

#ifdef __cplusplus
}
#endif
#endif
