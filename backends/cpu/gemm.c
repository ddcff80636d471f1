/* The GEMM driver: cache blocking, packing, threading and the choice of implementation.
 *
 * GotoBLAS/BLIS structure with one change to suit a fork-join pool: each call packs
 * op(B) for a block of columns and op(A) for a block of rows over the whole K at once, then
 * computes, in a single pool dispatch (threads claim pack items, wait for the packing to
 * finish, then claim compute items), instead of packing per KC slice. A pool wake-up costs
 * ~0.1 ms in these VMs; one per block instead of two per KC slice keeps small and mid sizes
 * (512^3 takes ~2 ms) from paying for tens of them. The packed blocks are capped in size
 * (PACK_MAX_BYTES), so memory stays bounded for large K.
 *
 * Compute work items are (column chunk, MC row block) pairs, taken chunk by chunk so the
 * chunk's packed B (~2 MiB) stays in L3 while the row blocks pass over it. Inside an item
 * the loops are KC slice (outer), B micro-panel, A micro-panel (inner): the B micro-panel
 * (KC x NR, 16 KiB) stays in L1 across the A panels, the A block (MC x KC, ~150 KiB) in L2.
 * Items never split K, so the K-reduction order of every C element is fixed (see gemm.h).
 *
 * Few rows against a transposed B (decode: x . W^T) skip packing altogether: dot
 * products stream W once (gemm_dot.c). Packing W every call would triple its traffic.
 */
#include "gemm.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gemm_kernel.h"

#if SEA_HAVE_OPENBLAS
#include <cblas.h>
#endif

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

#ifndef GEMM_KC
#define GEMM_KC 256           /* B micro-panel KC x NR x 4 B = 16 KiB: half of L1d */
#endif
#ifndef GEMM_MC
#define GEMM_MC 144           /* A block MC x KC x 4 B = 144 KiB: well inside a 512 KiB L2 */
#endif
enum {
    GEMM_MR = SEA_GEMM_MR,
    GEMM_NR = SEA_GEMM_NR,
    GEMM_NC_MAX = 4096,       /* columns packed per block at most */
};
_Static_assert(GEMM_MC % SEA_GEMM_MR == 0, "MC must be a multiple of MR");
#define PACK_MAX_BYTES ((int64_t)16 << 20) /* default cap for each packed block (A and B) */
/* Packed B per column chunk of work: a share of L3 that survives the A and C traffic. */
#define GEMM_B_CHUNK_BYTES ((int64_t)2 << 20)
/* Up to this many rows, x . W^T runs as dot products (gemm_dot.c): packing W (the whole
 * weight, every call) would cost more memory traffic than the product itself. */
#ifndef GEMM_DOT_M_MAX
#define GEMM_DOT_M_MAX 8
#endif
/* Below this many FLOPs the pool's wake-up (13 us on a quiet host, ~100 us on a loaded VM)
 * costs more than a second thread saves. */
#define GEMM_PARALLEL_MIN_FLOPS (1 << 21)

/* ---- per-thread packing workspace --------------------------------------------------- */

/* Kept between calls (page-faulting megabytes on every call costs ~10% at 512^3) and freed
 * by a key destructor when its thread exits. Each calling thread has its own, so calls
 * from several threads at once do not share it. It only grows, to at most about
 * 2 x PACK_MAX_BYTES (more only when a single K x NR panel is larger than that). */
typedef struct gemm_ws {
    float *buf;
    size_t cap;   /* floats */
} gemm_ws;

static pthread_key_t ws_key;
static pthread_once_t ws_once = PTHREAD_ONCE_INIT;

static void ws_destroy(void *p)
{
    gemm_ws *ws = p;
    free(ws->buf);
    free(ws);
}

static void ws_key_init(void) { (void)pthread_key_create(&ws_key, ws_destroy); }

float *sea_gemm_workspace(size_t nfloats)
{
    pthread_once(&ws_once, ws_key_init);
    gemm_ws *ws = pthread_getspecific(ws_key);
    if (!ws) {
        ws = calloc(1, sizeof *ws);
        if (!ws) return NULL;
        if (pthread_setspecific(ws_key, ws)) {
            free(ws);
            return NULL;
        }
    }
    if (ws->cap < nfloats) {
        free(ws->buf);
        size_t bytes = (nfloats * sizeof(float) + 63) & ~(size_t)63;
        ws->buf = aligned_alloc(64, bytes);
        ws->cap = ws->buf ? nfloats : 0;
    }
    return ws->buf;
}

/* ---- packing ------------------------------------------------------------------------ */

/* Packed layout (A and B alike): KC slice by slice, and within a slice panel by panel, so
 * the A block and the B chunk a thread works on in one slice are contiguous (few pages, no
 * power-of-two strides between panels). Panel p of the slice starting at pc, of kc steps:
 *   base + pc*panels*width + p*kc*width,  element (k, c) at + k*width + c. */
static inline float *panel_at(float *base, int64_t pc, int64_t kc, int64_t panels, int width,
                              int64_t p)
{
    return base + pc * panels * width + p * kc * width;
}

/* One `width`-wide panel from a source whose rows run along K: a plain A (M, K) gives MR-row
 * panels, a transposed B (N, K) gives NR-column panels; rows [r0, r0+width) of the source
 * (zero from r_end), every slice: (k, r) = src[(r0 + r)*ld + k]. A transpose: the fast packer
 * does full panels 8x8 at a time. p: the panel's index in the block; panels: how many. */
static void pack_k_contiguous_panel(const float *src, int64_t ld, int64_t r_end, int64_t K, int64_t r0, int width,
                                    float *base, int64_t panels, int64_t p, sea_gemm_pack_fn fast)
{
    int64_t rows = r_end - r0 < width ? r_end - r0 : width;
    for (int64_t pc = 0; pc < K; pc += GEMM_KC) {
        int64_t kc = K - pc < GEMM_KC ? K - pc : GEMM_KC;
        float *dst = panel_at(base, pc, kc, panels, width, p); /* (kc, width) */
        if (fast && rows == width) {
            fast(src + r0 * ld + pc, ld, kc, dst);
            continue;
        }
        int64_t r = 0;
        for (; r < rows; r++) {
            const float *row = src + (r0 + r) * ld + pc;
            for (int64_t k = 0; k < kc; k++) dst[k * width + r] = row[k];
        }
        for (; r < width; r++)
            for (int64_t k = 0; k < kc; k++) dst[k * width + r] = 0.0f;
    }
}

/* Panels [p0, p1) from a source whose rows are k (a transposed A stored (K, M), or a
 * plain B stored (K, N)): one pass over k copies `width` values per panel, so each source
 * row (and its page) is visited once per group rather than once per panel.
 * (k, c) of panel p = src[k*ld + first + p*width + c], zero from column `end` on. */
static inline __attribute__((always_inline)) void
pack_kmajor_panels(const float *src, int64_t ld, int64_t first, int64_t end, int64_t K,
                   const int width /* a constant at each call: memcpy inlines */, int64_t p0,
                   int64_t p1, float *base, int64_t panels)
{
    for (int64_t pc = 0; pc < K; pc += GEMM_KC) {
        int64_t kc = K - pc < GEMM_KC ? K - pc : GEMM_KC;
        for (int64_t k = 0; k < kc; k++) {
            const float *row = src + (pc + k) * ld;
            for (int64_t p = p0; p < p1; p++) {
                int64_t c0 = first + p * width;
                int64_t n = end - c0 < width ? end - c0 : width;
                float *d = panel_at(base, pc, kc, panels, width, p) + k * width;
                const float *r = row + c0;
                if (n == width) {
                    memcpy(d, r, (size_t)width * sizeof(float));
                } else {
                    int64_t c = 0;
                    for (; c < n; c++) d[c] = r[c];
                    for (; c < width; c++) d[c] = 0.0f;
                }
            }
        }
    }
}

/* ---- one block: rows [i_begin, i_end) x columns [j_begin, j_end) of C, all of K ------ */

typedef struct gemm_job {
    bool trans_a, trans_b;
    int64_t M, N, K;
    float alpha, beta;
    const float *A, *B;
    int64_t lda, ldb, ldc;
    float *C;
    sea_gemm_ukernel_fn kern;
    sea_gemm_pack_fn packer_a, packer_bt; /* vectorized transposing packers, or NULL */

    int64_t i_begin, j_begin;     /* block origin in C */
    int64_t m, n;                 /* block extent */
    float *pa;                    /* (m_panels * MR * K): see panel_at */
    float *pb;                    /* (n_panels * NR * K) */
    bool pack_a, pack_b;          /* whether this block must (re)pack A / B */
    int64_t m_panels, n_panels;
    int64_t a_items;              /* A panels are packed in groups of PACK_A_GROUP */
    int64_t panels_per_mblock, n_mblocks;
    int64_t panels_per_nchunk, n_nchunks;
    int64_t pack_items, compute_items;
    /* Work is claimed, not assigned: whichever thread is running takes the next item, so a
     * late-waking worker or a core shared with another process does not stall the call. */
    atomic_int_fast64_t next_pack, packs_done, next_compute;
} gemm_job;

/* Pack items: groups of panels. 8 A panels (48 rows) weigh about 3 B panels (48 columns). */
#define PACK_A_GROUP 8
#define PACK_B_GROUP 3

static void pack_item(gemm_job *job, int64_t it)
{
    int64_t b_items = job->pack_b ? (job->n_panels + PACK_B_GROUP - 1) / PACK_B_GROUP : 0;
    if (it < b_items) {
        int64_t p0 = it * PACK_B_GROUP;
        int64_t p1 = p0 + PACK_B_GROUP < job->n_panels ? p0 + PACK_B_GROUP : job->n_panels;
        /* Columns past the block (not just past N) pack as zeros. */
        int64_t n_end = job->j_begin + job->n;
        if (!job->trans_b) {
            pack_kmajor_panels(job->B, job->ldb, job->j_begin, n_end, job->K, GEMM_NR, p0, p1,
                               job->pb, job->n_panels);
            return;
        }
        for (int64_t p = p0; p < p1; p++)
            pack_k_contiguous_panel(job->B, job->ldb, n_end, job->K, job->j_begin + p * GEMM_NR, GEMM_NR, job->pb,
                                    job->n_panels, p, job->packer_bt);
        return;
    }
    int64_t p0 = (it - b_items) * PACK_A_GROUP;
    int64_t p1 = p0 + PACK_A_GROUP < job->m_panels ? p0 + PACK_A_GROUP : job->m_panels;
    int64_t m_end = job->i_begin + job->m;
    if (job->trans_a) {
        pack_kmajor_panels(job->A, job->lda, job->i_begin, m_end, job->K, GEMM_MR, p0, p1, job->pa,
                           job->m_panels);
        return;
    }
    for (int64_t p = p0; p < p1; p++)
        pack_k_contiguous_panel(job->A, job->lda, m_end, job->K, job->i_begin + p * GEMM_MR, GEMM_MR, job->pa,
                                job->m_panels, p, job->packer_a);
}

static void compute_item(const gemm_job *job, int64_t it)
{
    const int64_t K = job->K;
    /* Column-chunk major: consecutive items share the chunk of packed B (in L3). */
    int64_t nb = it / job->n_mblocks, mb = it % job->n_mblocks;
    int64_t ip0 = mb * job->panels_per_mblock;
    int64_t ip1 = ip0 + job->panels_per_mblock < job->m_panels ? ip0 + job->panels_per_mblock
                                                               : job->m_panels;
    int64_t jp0 = nb * job->panels_per_nchunk;
    int64_t jp1 = jp0 + job->panels_per_nchunk < job->n_panels ? jp0 + job->panels_per_nchunk
                                                               : job->n_panels;
    for (int64_t pc = 0; pc < K; pc += GEMM_KC) {
        int64_t kc = K - pc < GEMM_KC ? K - pc : GEMM_KC;
        /* The first KC slice applies beta; later slices accumulate onto it. */
        bool first = pc == 0;
        bool read_c = !first || job->beta != 0.0f;
        float beta = first ? job->beta : 1.0f;
        for (int64_t jp = jp0; jp < jp1; jp++) {
            const float *b = panel_at(job->pb, pc, kc, job->n_panels, GEMM_NR, jp);
            int64_t j = jp * GEMM_NR;
            int nr = (int)(job->n - j < GEMM_NR ? job->n - j : GEMM_NR);
            for (int64_t ip = ip0; ip < ip1; ip++) {
                const float *a = panel_at(job->pa, pc, kc, job->m_panels, GEMM_MR, ip);
                int64_t i = ip * GEMM_MR;
                int mr = (int)(job->m - i < GEMM_MR ? job->m - i : GEMM_MR);
                float *c = job->C + (job->i_begin + i) * job->ldc + job->j_begin + j;
                job->kern(kc, a, b, c, job->ldc, mr, nr, job->alpha, beta, read_c);
            }
        }
    }
}

/* One pass per block, for every thread: pack (claiming items), wait until every pack item
 * is finished, compute (claiming items). One pool dispatch instead of two; the wait only
 * waits on items some running thread has claimed, so it ends even if this participant is
 * the only one (nested call run inline, fewer workers than asked). */
static void block_task(void *ctx, int64_t begin, int64_t end, int thread_index)
{
    gemm_job *job = ctx;
    for (int64_t it; (it = atomic_fetch_add(&job->next_pack, 1)) < job->pack_items;) {
        pack_item(job, it);
        atomic_fetch_add(&job->packs_done, 1);
    }
    for (int spins = 0; atomic_load(&job->packs_done) < job->pack_items; spins++) {
        if (spins < 4096) cpu_relax();
        else sched_yield();
    }
    for (int64_t it; (it = atomic_fetch_add(&job->next_compute, 1)) < job->compute_items;)
        compute_item(job, it);
}

static void run_parallel(sea_threadpool *pool, int64_t n, sea_parallel_fn fn, void *ctx)
{
    if (pool && n > 1) sea_parallel_for(pool, n, 1, fn, ctx);
    else fn(ctx, 0, n, 0);
}

/* Split the block's panels into work items: rows in MC blocks; columns in chunks whose
 * packed B (K x chunk) stays in L3 while every row block passes over it (items are taken
 * chunk by chunk), and small enough to give each thread about 4 items (claimed
 * dynamically, so they need not divide evenly). */
static void plan_items(gemm_job *job, int threads)
{
    int64_t mpb_max = GEMM_MC / GEMM_MR;
    int64_t n_mb = (job->m_panels + mpb_max - 1) / mpb_max;
    /* Even out the row blocks (e.g. 25 panels: 13 + 12, not 24 + 1). */
    job->panels_per_mblock = (job->m_panels + n_mb - 1) / n_mb;
    job->n_mblocks = (job->m_panels + job->panels_per_mblock - 1) / job->panels_per_mblock;
    int64_t ppc = GEMM_B_CHUNK_BYTES / (job->K * GEMM_NR * (int64_t)sizeof(float));
    if (threads > 1) {
        int64_t want = (4 * threads + job->n_mblocks - 1) / job->n_mblocks; /* chunks */
        int64_t even = (job->n_panels + want - 1) / want;
        if (even < ppc) ppc = even;
    }
    if (ppc < 8) ppc = 8; /* chunks of at least 128 columns */
    if (ppc > job->n_panels) ppc = job->n_panels;
    job->panels_per_nchunk = ppc;
    job->n_nchunks = (job->n_panels + ppc - 1) / ppc;
    if (threads > 1 && job->n_mblocks * job->n_nchunks < 2 * threads) {
        /* Small products (e.g. 128^3): thinner row blocks, so every thread gets work. */
        int64_t want = (2 * threads + job->n_nchunks - 1) / job->n_nchunks;
        if (want > job->m_panels) want = job->m_panels;
        job->panels_per_mblock = (job->m_panels + want - 1) / want;
        job->n_mblocks = (job->m_panels + job->panels_per_mblock - 1) / job->panels_per_mblock;
    }
}

/* Scale C by beta (beta == 0: set to 0 without reading). For K == 0 or alpha == 0. */
static void scale_c(int64_t M, int64_t N, float beta, float *C, int64_t ldc)
{
    for (int64_t i = 0; i < M; i++) {
        float *c = C + i * ldc;
        if (beta == 0.0f) memset(c, 0, (size_t)N * sizeof(float));
        else if (beta != 1.0f)
            for (int64_t j = 0; j < N; j++) c[j] *= beta;
    }
}

static sea_gemm_ukernel_fn pick_kernel(sea_cpu_gemm_impl impl)
{
#if defined(__x86_64__) || defined(__i386__)
    if (impl != SEA_CPU_GEMM_OWN_GENERIC && __builtin_cpu_supports("avx2") &&
        __builtin_cpu_supports("fma"))
        return sea_gemm_ukernel_avx2;
#endif
    return sea_gemm_ukernel_generic;
}

static sea_status sgemm_own(sea_cpu_gemm_impl impl, sea_threadpool *pool, int64_t pack_max, bool trans_a,
                            bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                            const float *A, int64_t lda, const float *B, int64_t ldb, float beta,
                            float *C, int64_t ldc)
{
    double flops = 2.0 * (double)M * (double)N * (double)K;
    if (flops < GEMM_PARALLEL_MIN_FLOPS) pool = NULL;
    else if (!pool) pool = sea_threadpool_global();
    int threads = pool ? sea_threadpool_size(pool) : 1;
    if (threads <= 1) pool = NULL;

    /* Block sizes: whole M and N when the packed copies fit pack_max bytes. */
    if (pack_max <= 0) pack_max = PACK_MAX_BYTES;
    int64_t bytes_per_col = K * (int64_t)sizeof(float);
    int64_t nc = pack_max / bytes_per_col / GEMM_NR * GEMM_NR;
    if (nc < GEMM_NR) nc = GEMM_NR;
    if (nc > GEMM_NC_MAX) nc = GEMM_NC_MAX;
    /* A last block of a few columns (rows) costs a dispatch of its own: allow 25% more. */
    if (nc > N || N - nc < nc / 4) nc = N;
    int64_t mc = pack_max / bytes_per_col / GEMM_MC * GEMM_MC;
    if (mc < GEMM_MC) mc = GEMM_MC;
    if (mc > M || M - mc < mc / 4) mc = M;
    int64_t nc_panels = (nc + GEMM_NR - 1) / GEMM_NR;
    int64_t mc_panels = (mc + GEMM_MR - 1) / GEMM_MR;
    size_t b_floats = (size_t)(nc_panels * GEMM_NR * K);
    size_t a_floats = (size_t)(mc_panels * GEMM_MR * K);
    /* B first: its panels are multiples of 64 bytes, so A starts aligned too. */
    float *ws = sea_gemm_workspace(b_floats + a_floats);
    if (!ws)
        return sea_error(SEA_ERR_OOM, "sgemm: packing buffers of %zu bytes for M=%lld N=%lld K=%lld",
                         (b_floats + a_floats) * sizeof(float), (long long)M, (long long)N,
                         (long long)K);

    gemm_job job = {
        .trans_a = trans_a, .trans_b = trans_b, .M = M, .N = N, .K = K,
        .alpha = alpha, .beta = beta, .A = A, .B = B, .lda = lda, .ldb = ldb, .ldc = ldc,
        .C = C, .kern = pick_kernel(impl), .pb = ws, .pa = ws + b_floats,
    };
#if defined(__x86_64__) || defined(__i386__)
    if (job.kern == sea_gemm_ukernel_avx2) {
        job.packer_a = sea_gemm_pack_a_avx2;
        job.packer_bt = sea_gemm_pack_bt_avx2;
    }
#endif
    bool one_m_block = mc >= M, one_n_block = nc >= N;
    for (int64_t jc = 0; jc < N; jc += nc) {
        for (int64_t ic = 0; ic < M; ic += mc) {
            job.i_begin = ic;
            job.j_begin = jc;
            job.m = M - ic < mc ? M - ic : mc;
            job.n = N - jc < nc ? N - jc : nc;
            job.m_panels = (job.m + GEMM_MR - 1) / GEMM_MR;
            job.n_panels = (job.n + GEMM_NR - 1) / GEMM_NR;
            /* A single block of rows (columns) stays packed across column (row) blocks. */
            job.pack_a = !one_m_block || jc == 0;
            job.pack_b = !one_n_block || ic == 0;
            job.a_items = job.pack_a ? (job.m_panels + PACK_A_GROUP - 1) / PACK_A_GROUP : 0;
            job.pack_items = (job.pack_b ? (job.n_panels + PACK_B_GROUP - 1) / PACK_B_GROUP : 0) + job.a_items;
            plan_items(&job, threads);
            job.compute_items = job.n_mblocks * job.n_nchunks;
            atomic_store(&job.next_pack, 0);
            atomic_store(&job.packs_done, 0);
            atomic_store(&job.next_compute, 0);
            run_parallel(pool, threads, block_task, &job);
        }
    }
    return SEA_OK;
}

/* ---- public entry points ------------------------------------------------------------ */

bool sea_cpu_gemm_have_openblas(void) { return SEA_HAVE_OPENBLAS; }

const char *sea_cpu_gemm_openblas_info(char *buf, size_t n)
{
#if SEA_HAVE_OPENBLAS
    /* The config string is "OpenBLAS 0.3.21 NO_LAPACKE DYNAMIC_ARCH ...": keep the version. */
    const char *cfg = openblas_get_config();
    int len = 0;
    for (int spaces = 0; cfg && cfg[len] && !(cfg[len] == ' ' && ++spaces == 2); len++) {}
    snprintf(buf, n, "%.*s, core %s, %d threads", len, cfg ? cfg : "OpenBLAS", openblas_get_corename(),
             openblas_get_num_threads());
#else
    snprintf(buf, n, "not built");
#endif
    return buf;
}

#if SEA_HAVE_OPENBLAS
void sea_cpu_sgemm_openblas(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K,
                            float alpha, const float *A, int64_t lda, const float *B, int64_t ldb,
                            float beta, float *C, int64_t ldc)
{
    cblas_sgemm(CblasRowMajor, trans_a ? CblasTrans : CblasNoTrans,
                trans_b ? CblasTrans : CblasNoTrans, (blasint)M, (blasint)N, (blasint)K, alpha,
                A, (blasint)lda, B, (blasint)ldb, beta, C, (blasint)ldc);
}
#endif

static sea_cpu_gemm_impl env_impl = SEA_CPU_GEMM_DEFAULT;
static pthread_once_t env_once = PTHREAD_ONCE_INIT;

static void env_read(void)
{
    const char *s = getenv("SEA_CPU_GEMM");
    env_impl = SEA_CPU_GEMM_OWN;
    if (!s) return;
    if (!strcmp(s, "openblas") && SEA_HAVE_OPENBLAS) env_impl = SEA_CPU_GEMM_OPENBLAS;
    else if (!strcmp(s, "own-generic")) env_impl = SEA_CPU_GEMM_OWN_GENERIC;
}

static sea_cpu_gemm_impl resolve(sea_cpu_gemm_impl impl)
{
    if (impl != SEA_CPU_GEMM_DEFAULT) return impl;
    pthread_once(&env_once, env_read);
    return env_impl;
}

const char *sea_cpu_gemm_impl_name(sea_cpu_gemm_impl impl)
{
    impl = resolve(impl);
    if (impl == SEA_CPU_GEMM_OPENBLAS) return "openblas";
    return pick_kernel(impl) == sea_gemm_ukernel_generic ? "own-generic" : "own-avx2";
}

sea_status sea_cpu_sgemm_ex(const sea_cpu_gemm_opts *opts, bool trans_a, bool trans_b,
                            int64_t M, int64_t N, int64_t K, float alpha, const float *A,
                            int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                            int64_t ldc)
{
    sea_cpu_gemm_impl impl = resolve(opts ? opts->impl : SEA_CPU_GEMM_DEFAULT);
    if (M < 0 || N < 0 || K < 0)
        return sea_error(SEA_ERR_INVALID, "sgemm: negative size M=%lld N=%lld K=%lld",
                         (long long)M, (long long)N, (long long)K);
    /* Leading dimensions: row strides of the stored (not transposed) matrices. A and B
     * are not read when K == 0 or alpha == 0, so their strides do not matter then. */
    int64_t a_cols = trans_a ? M : K, b_cols = trans_b ? K : N;
    bool reads_ab = K > 0 && alpha != 0.0f;
    if ((reads_ab && (lda < (a_cols > 1 ? a_cols : 1) || ldb < (b_cols > 1 ? b_cols : 1))) ||
        ldc < (N > 1 ? N : 1))
        return sea_error(SEA_ERR_INVALID,
                         "sgemm: leading dimensions lda=%lld ldb=%lld ldc=%lld too small for "
                         "%s A, %s B with M=%lld N=%lld K=%lld",
                         (long long)lda, (long long)ldb, (long long)ldc, trans_a ? "transposed" : "plain",
                         trans_b ? "transposed" : "plain", (long long)M, (long long)N, (long long)K);
    if (M == 0 || N == 0) return SEA_OK;
    if ((reads_ab && (!A || !B)) || !C)
        return sea_error(SEA_ERR_INVALID, "sgemm: NULL matrix pointer (M=%lld N=%lld K=%lld)",
                         (long long)M, (long long)N, (long long)K);
    if (!reads_ab) {
        /* C = beta*C for every implementation (BLAS would also reject lda=0 here). */
        scale_c(M, N, beta, C, ldc);
        return SEA_OK;
    }
    if (impl == SEA_CPU_GEMM_OPENBLAS) {
#if SEA_HAVE_OPENBLAS
        if (M > INT32_MAX || N > INT32_MAX || K > INT32_MAX || lda > INT32_MAX ||
            ldb > INT32_MAX || ldc > INT32_MAX)
            return sea_error(SEA_ERR_UNSUPPORTED, "sgemm: openblas takes 32-bit sizes; got M=%lld N=%lld K=%lld",
                             (long long)M, (long long)N, (long long)K);
        sea_cpu_sgemm_openblas(trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
        return SEA_OK;
#else
        return sea_error(SEA_ERR_UNSUPPORTED, "sgemm: this build has no OpenBLAS (SEA_CPU_GEMM=openblas)");
#endif
    }
    if (trans_b && M <= GEMM_DOT_M_MAX) {
        sea_gemm_dot_fn dot = sea_gemm_dot_generic;
#if defined(__x86_64__) || defined(__i386__)
        if (pick_kernel(impl) == sea_gemm_ukernel_avx2) dot = sea_gemm_dot_avx2;
#endif
        sea_threadpool *pool = opts ? opts->pool : NULL;
        if (2.0 * (double)M * (double)N * (double)K < GEMM_PARALLEL_MIN_FLOPS) pool = NULL;
        else if (!pool) pool = sea_threadpool_global();
        return sea_gemm_dot_run(dot, pool, trans_a, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
    }
    return sgemm_own(impl, opts ? opts->pool : NULL, opts ? opts->pack_max_bytes : 0, trans_a, trans_b, M, N, K, alpha, A, lda, B,
                     ldb, beta, C, ldc);
}

void sea_cpu_sgemm(bool trans_a, bool trans_b, int64_t M, int64_t N, int64_t K, float alpha,
                   const float *A, int64_t lda, const float *B, int64_t ldb, float beta, float *C,
                   int64_t ldc)
{
    (void)sea_cpu_sgemm_ex(NULL, trans_a, trans_b, M, N, K, alpha, A, lda, B, ldb, beta, C, ldc);
}
