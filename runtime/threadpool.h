/* One persistent thread pool for the CPU backend, threads pinned to cores with hwloc.
 *
 * Workers spin briefly (SEA_SPIN_US, default 200 us) after a job, then sleep on a condition
 * variable, so an idle pool costs nothing and back-to-back jobs start in ~1 us. A job is a
 * parallel-for over [0, n) split into contiguous chunks; chunk boundaries depend only on
 * (n, thread count), so results that are reduced per chunk in a fixed order are
 * deterministic for a given thread count. Kernels that must give the same bits for any
 * thread count reduce over fixed-size blocks independent of the thread count. */
#ifndef SEA_THREADPOOL_H
#define SEA_THREADPOOL_H

#include <stdint.h>

#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_threadpool sea_threadpool;

/* fn(ctx, begin, end, thread_index) handles items [begin, end). */
typedef void (*sea_parallel_fn)(void *ctx, int64_t begin, int64_t end, int thread_index);

/* n_threads 0 = SEA_NUM_THREADS env or the cores hwloc reports in the allowed cpuset. */
sea_status sea_threadpool_create(int n_threads, sea_threadpool **out);
void sea_threadpool_free(sea_threadpool *p);
int sea_threadpool_size(const sea_threadpool *p);
/* Run fn over [0, n) in chunks of at least min_chunk items; returns when all are done.
 * Runs inline when n is small or the pool has one thread. Not reentrant from workers
 * (a nested call runs inline). */
void sea_parallel_for(sea_threadpool *p, int64_t n, int64_t min_chunk, sea_parallel_fn fn, void *ctx);

/* The process-wide pool used by the CPU backend (created on first use). */
sea_threadpool *sea_threadpool_global(void);
/* Why the global pool could not be made (a bad SEA_NUM_THREADS or SEA_SPIN_US, out of
 * memory), as an error; the CPU device refuses to open on it rather than run on one thread. */
sea_status sea_threadpool_global_check(void);

#ifdef __cplusplus
}
#endif
#endif
