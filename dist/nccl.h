/* NCCL for the gradient all-reduce of CUDA ranks, loaded at run time: no build-time dependency.
 *
 * dlopen("libnccl.so.2") ($SEA_NCCL_LIBRARY overrides the name) with our own declarations of the
 * few functions used (nccl_abi.h); the unique id is made by the group's rank 0 and shared with
 * a bounded MPI broadcast (sea_dist_broadcast). It is used when every member of the group is on
 * a CUDA device whose backend exposes its native stream (backend.h: stream_native) and the
 * library loads and initializes on every member; otherwise every member falls back to the host
 * MPI path together, and the reason is returned for a one-line log. SEA_NCCL=0 forces the host
 * path.
 *
 * Determinism: NCCL sums in ring/tree order, fixed for a given rank count and topology, not in
 * rank order as the host path does (dist.h): runs repeat bit for bit on the same machines, and
 * agree with the host path and with other layouts only to rounding.
 *
 * NOT YET RUN ON GPUS: no machine with NCCL and CUDA devices was available while writing it.
 * What is tested (tests/dist): the library and symbol loading, the ABI of our declarations
 * against nccl.h, and the fallback decision on non-CUDA devices. */
#ifndef SEA_DIST_NCCL_H
#define SEA_DIST_NCCL_H

#include <stddef.h>

#include "dist/dist.h"
#include "runtime/backend.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_nccl sea_nccl;

/* Collective over `group` (every member calls it with its device). *out: an NCCL communicator
 * over the group, or NULL when the host path is to be used, the same decision on every member;
 * then `why` (why_n bytes) holds this rank's own reason for a log line ("rank 3: libnccl.so.2
 * not found (...)"), or "" when it has none to add (a one-rank group; this rank is not on CUDA,
 * where the host path is the design; or another rank's reason, which that rank reports). Errors
 * only when the group's own (MPI) messages fail. */
sea_status sea_nccl_open(sea_dist *group, sea_device *dev, sea_nccl **out, char *why, size_t why_n);
void sea_nccl_close(sea_nccl *c);
/* In-place sum over the group of n floats at byte `offset` of `buf` (device memory), on the
 * device's stream; returns when done. Bounded like sea_dist: every member checks in first (a
 * missing rank is named), and a call that outlives the group's timeout aborts the communicator
 * with an error naming this rank. */
sea_status sea_nccl_allreduce_sum(sea_nccl *c, sea_buffer *buf, size_t offset, size_t n);
/* `bytes` at byte `offset` of `buf` on every member <- root's. */
sea_status sea_nccl_broadcast(sea_nccl *c, sea_buffer *buf, size_t offset, size_t bytes, int root);

/* For tests and logs: load library `name` and resolve every entry point; *version is
 * ncclGetVersion's (e.g. 22805). SEA_ERR_UNSUPPORTED with `why` naming what is missing. */
sea_status sea_nccl_library_check(const char *name, int *version, char *why, size_t why_n);

#ifdef __cplusplus
}
#endif
#endif
