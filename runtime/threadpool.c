/* A persistent pool: N-1 workers plus the calling thread, pinned one per core with hwloc.
 *
 * Hand-off is lock-free in the common case. A job is published by bumping an atomic ticket
 * (sequence number and participant count in one word); workers that finished the previous
 * job spin on the ticket for a short while (SEA_SPIN_US, default 200 us) before sleeping on
 * a condition variable, and the caller spins on the count of unfinished workers the same
 * way. Why spin: a decode step or a small training step is a chain of ~100 ops of tens of
 * microseconds each; waking a sleeping thread costs 10-100 us on a VM, which would be the
 * step's largest cost. Spinning is bounded, so an idle pool still costs nothing.
 *
 * Sleeping and waking use the Dekker pattern on seq_cst atomics: a sleeper registers
 * (sleepers++ / caller_waiting) and re-checks the condition under the mutex; a publisher
 * changes the condition and then checks for registered sleepers, broadcasting under the
 * mutex. One of the two always sees the other, so no wake-up is lost.
 *
 * Chunking is static (by thread index), which keeps per-chunk work assignment a pure
 * function of (n, threads). */
#include "threadpool.h"

#include <errno.h>
#include <hwloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define cpu_relax() _mm_pause()
#elif defined(__aarch64__)
#define cpu_relax() __asm__ __volatile__("yield")
#else
#define cpu_relax() ((void)0)
#endif

/* The ticket packs a job sequence number with its participant count, so a worker that
 * reads one word knows both which job it is and whether it takes part. */
#define TICKET_ACTIVE_BITS 9          /* participants <= 256 */
#define TICKET_ACTIVE_MASK ((1u << TICKET_ACTIVE_BITS) - 1)

struct worker {
    struct sea_threadpool *pool;
    int index;
    pthread_t thread;
};

struct sea_threadpool {
    int n_threads;
    struct worker *workers;   /* (n_threads - 1) */
    hwloc_topology_t topo;
    bool have_topo;
    hwloc_cpuset_t *core_sets; /* (n_threads) cpuset to pin thread i to */
    int64_t spin_ns;          /* how long a waiter spins before sleeping */

    pthread_mutex_t job_mu;   /* one job at a time when several threads share the pool */
    pthread_mutex_t mu;       /* guards sleeping only */
    pthread_cond_t work_cv, done_cv;
    _Atomic uint64_t ticket;  /* (sequence << TICKET_ACTIVE_BITS) | participants */
    atomic_bool shutdown;
    atomic_int sleepers;      /* workers blocked (or about to block) on work_cv */
    atomic_int remaining;     /* participating workers still running the job */
    atomic_bool caller_waiting;
    /* The current job: written before the ticket is bumped, read by participants after
     * they see it, and not rewritten before every participant has finished. */
    sea_parallel_fn fn;
    void *ctx;
    int64_t n, chunk;
};

static _Thread_local int in_pool_job;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void run_share(sea_threadpool *p, int t)
{
    int64_t begin = (int64_t)t * p->chunk;
    int64_t end = begin + p->chunk;
    if (end > p->n) end = p->n;
    if (begin < end) p->fn(p->ctx, begin, end, t);
}

static void pin_current_thread(sea_threadpool *p, int t)
{
    if (p->have_topo && p->core_sets && p->core_sets[t])
        hwloc_set_cpubind(p->topo, p->core_sets[t], HWLOC_CPUBIND_THREAD);
}

/* The spinning half of a wait: call after each failed check; false once the pool's spin
 * time has passed (then sleep). */
typedef struct spin {
    unsigned n;
    int64_t deadline;
} spin;

static bool keep_spinning(const sea_threadpool *p, spin *s)
{
    if ((s->n++ & 63) == 0) {   /* read the clock now and then, not every pause */
        int64_t now = now_ns();
        if (!s->deadline) s->deadline = now + p->spin_ns;
        else if (now >= s->deadline) return false;
    }
    cpu_relax();
    return true;
}

/* Spin, then sleep, until the ticket differs from `seen` or the pool shuts down. */
static uint64_t wait_for_ticket(sea_threadpool *p, uint64_t seen)
{
    uint64_t t;
    spin sp = {0, 0};
    do {
        t = atomic_load(&p->ticket);
        if (t != seen || atomic_load(&p->shutdown)) return t;
    } while (keep_spinning(p, &sp));
    pthread_mutex_lock(&p->mu);
    atomic_fetch_add(&p->sleepers, 1);
    while ((t = atomic_load(&p->ticket)) == seen && !atomic_load(&p->shutdown))
        pthread_cond_wait(&p->work_cv, &p->mu);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->mu);
    return t;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    sea_threadpool *p = w->pool;
    pin_current_thread(p, w->index);
    in_pool_job = 1;
    uint64_t seen = 0;
    for (;;) {
        seen = wait_for_ticket(p, seen);
        if (atomic_load(&p->shutdown)) break;
        if (w->index >= (int)(seen & TICKET_ACTIVE_MASK)) continue;
        run_share(p, w->index);
        if (atomic_fetch_sub(&p->remaining, 1) == 1 && atomic_load(&p->caller_waiting)) {
            pthread_mutex_lock(&p->mu);
            pthread_cond_signal(&p->done_cv);
            pthread_mutex_unlock(&p->mu);
        }
    }
    return NULL;
}

/* An integer environment variable in [lo, hi]: *out, or the default when unset; any other text
 * is an error naming the variable (atoi would turn a typo into 0 and the default silently). */
static sea_status env_int(const char *name, long lo, long hi, long dflt, long *out)
{
    const char *v = getenv(name);
    *out = dflt;
    if (!v || !*v) return SEA_OK;
    char *end = NULL;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (end == v || *end || errno || x < lo || x > hi)
        return sea_error(SEA_ERR_INVALID, "%s='%s': need a whole number from %ld to %ld", name, v, lo, hi);
    *out = x;
    return SEA_OK;
}

static int default_thread_count(hwloc_topology_t topo, bool have_topo, long from_env)
{
    if (from_env > 0) return (int)from_env;
    if (have_topo) {
        int cores = hwloc_get_nbobjs_by_type(topo, HWLOC_OBJ_CORE);
        if (cores > 0) return cores;
    }
    return 1;
}

sea_status sea_threadpool_create(int n_threads, sea_threadpool **out)
{
    *out = NULL;
    long env_threads, spin_us;
    SEA_TRY(env_int("SEA_NUM_THREADS", 1, 256, 0, &env_threads));
    SEA_TRY(env_int("SEA_SPIN_US", 0, 1000000, 200, &spin_us));
    sea_threadpool *p = calloc(1, sizeof *p);
    if (!p) return sea_error(SEA_ERR_OOM, "threadpool: out of host memory");
    if (hwloc_topology_init(&p->topo) == 0) {
        hwloc_topology_set_io_types_filter(p->topo, HWLOC_TYPE_FILTER_KEEP_NONE);
        if (hwloc_topology_load(p->topo) == 0) p->have_topo = true;
        else hwloc_topology_destroy(p->topo);
    }
    if (n_threads <= 0) n_threads = default_thread_count(p->topo, p->have_topo, env_threads);
    if (n_threads > 256) n_threads = 256;
    p->n_threads = n_threads;
    p->spin_ns = (int64_t)spin_us * 1000;
    if (p->have_topo) {
        /* Thread i -> core i mod cores: one thread per physical core first. */
        int cores = hwloc_get_nbobjs_by_type(p->topo, HWLOC_OBJ_CORE);
        p->core_sets = calloc((size_t)n_threads, sizeof *p->core_sets);
        for (int t = 0; p->core_sets && cores > 0 && t < n_threads; t++) {
            hwloc_obj_t core = hwloc_get_obj_by_type(p->topo, HWLOC_OBJ_CORE, (unsigned)(t % cores));
            if (core && core->cpuset) p->core_sets[t] = hwloc_bitmap_dup(core->cpuset);
        }
    }
    pthread_mutex_init(&p->job_mu, NULL);
    pthread_mutex_init(&p->mu, NULL);
    pthread_cond_init(&p->work_cv, NULL);
    pthread_cond_init(&p->done_cv, NULL);
    atomic_init(&p->ticket, 0);
    atomic_init(&p->shutdown, false);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->remaining, 0);
    atomic_init(&p->caller_waiting, false);
    p->workers = calloc((size_t)(n_threads > 1 ? n_threads - 1 : 1), sizeof *p->workers);
    if (!p->workers) {
        sea_threadpool_free(p);
        return sea_error(SEA_ERR_OOM, "threadpool: out of host memory");
    }
    for (int i = 1; i < n_threads; i++) {
        struct worker *w = &p->workers[i - 1];
        w->pool = p;
        w->index = i;
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
            p->n_threads = i; /* run with the workers we have */
            break;
        }
    }
    *out = p;
    return SEA_OK;
}

void sea_threadpool_free(sea_threadpool *p)
{
    if (!p) return;
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->shutdown, true);
    pthread_cond_broadcast(&p->work_cv);
    pthread_mutex_unlock(&p->mu);
    for (int i = 1; i < p->n_threads; i++) pthread_join(p->workers[i - 1].thread, NULL);
    free(p->workers);
    if (p->core_sets) {
        for (int t = 0; t < p->n_threads; t++)
            if (p->core_sets[t]) hwloc_bitmap_free(p->core_sets[t]);
        free(p->core_sets);
    }
    if (p->have_topo) hwloc_topology_destroy(p->topo);
    pthread_mutex_destroy(&p->job_mu);
    pthread_mutex_destroy(&p->mu);
    pthread_cond_destroy(&p->work_cv);
    pthread_cond_destroy(&p->done_cv);
    free(p);
}

int sea_threadpool_size(const sea_threadpool *p) { return p ? p->n_threads : 1; }

/* Spin, then sleep, until every participating worker has finished the job. */
static void wait_for_workers(sea_threadpool *p)
{
    spin sp = {0, 0};
    do {
        if (atomic_load(&p->remaining) == 0) return;
    } while (keep_spinning(p, &sp));
    pthread_mutex_lock(&p->mu);
    atomic_store(&p->caller_waiting, true);
    while (atomic_load(&p->remaining) > 0) pthread_cond_wait(&p->done_cv, &p->mu);
    atomic_store(&p->caller_waiting, false);
    pthread_mutex_unlock(&p->mu);
}

void sea_parallel_for(sea_threadpool *p, int64_t n, int64_t min_chunk, sea_parallel_fn fn, void *ctx)
{
    if (n <= 0) return;
    if (min_chunk < 1) min_chunk = 1;
    int threads = p ? p->n_threads : 1;
    int64_t max_useful = (n + min_chunk - 1) / min_chunk;
    if (max_useful < threads) threads = (int)max_useful;
    if (threads <= 1 || in_pool_job) {
        fn(ctx, 0, n, 0);
        return;
    }
    pthread_mutex_lock(&p->job_mu);
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    p->chunk = (n + threads - 1) / threads;
    atomic_store(&p->remaining, threads - 1);
    uint64_t seq = (atomic_load(&p->ticket) >> TICKET_ACTIVE_BITS) + 1;
    atomic_store(&p->ticket, (seq << TICKET_ACTIVE_BITS) | (uint64_t)threads);
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mu);
        pthread_cond_broadcast(&p->work_cv);
        pthread_mutex_unlock(&p->mu);
    }

    in_pool_job = 1;
    run_share(p, 0);
    in_pool_job = 0;

    wait_for_workers(p);
    pthread_mutex_unlock(&p->job_mu);
}

static sea_threadpool *global_pool;
static pthread_once_t global_once = PTHREAD_ONCE_INIT;
static char global_error[512];   /* why the global pool could not be made, or "" */

static void global_init(void)
{
    if (sea_threadpool_create(0, &global_pool)) {
        global_pool = NULL; /* NULL pool runs inline */
        snprintf(global_error, sizeof global_error, "%s", sea_last_error());
    }
}

sea_status sea_threadpool_global_check(void)
{
    pthread_once(&global_once, global_init);
    if (global_error[0]) return sea_error(SEA_ERR_INVALID, "CPU thread pool: %s", global_error);
    return SEA_OK;
}

sea_threadpool *sea_threadpool_global(void)
{
    pthread_once(&global_once, global_init);
    return global_pool;
}
