/* Few rows against the HF weight layout (decode: x (M, K) . W^T, W (N, K), M <= 8): dot
 * products of rows, B never packed, so W streams from memory once per call instead of
 * being read, written to a packed copy and read again.
 *
 * Work items are runs of columns; in an item a few columns (whose B rows fit L1) are taken
 * across every group of 4 rows before moving on, so each B row is read from memory once.
 * Items are claimed by whichever thread runs (as in gemm.c); each C element is one dot
 * product in a fixed order, so the bits do not depend on the thread count. */
#include <stdatomic.h>

#include "gemm.h"
#include "gemm_kernel.h"

typedef struct dot_job {
    sea_gemm_dot_fn dot;
    int64_t M, N, K;
    const float *A;   /* (M, K) row stride lda (op(A), gathered when trans_a) */
    int64_t lda;
    const float *B;   /* (N, K) row stride ldb */
    int64_t ldb;
    float *C;
    int64_t ldc;
    float alpha, beta;
    int64_t cols_per_item, cols_per_step;
    int64_t items;
    atomic_int_fast64_t next;   /* items are claimed, as in gemm.c's block_task */
} dot_job;

static void dot_item(dot_job *job, int64_t item)
{
    bool read_c = job->beta != 0.0f;
    int64_t j_end = (item + 1) * job->cols_per_item < job->N ? (item + 1) * job->cols_per_item : job->N;
    /* A few columns at a time across every row group, so those B rows are read from memory
     * once and reused from L1 by the next group of rows. */
    for (int64_t j = item * job->cols_per_item; j < j_end; j += job->cols_per_step) {
        int64_t n = j_end - j < job->cols_per_step ? j_end - j : job->cols_per_step;
        for (int64_t i = 0; i < job->M; i += SEA_GEMM_DOT_MR) {
            int m = (int)(job->M - i < SEA_GEMM_DOT_MR ? job->M - i : SEA_GEMM_DOT_MR);
            job->dot(m, n, job->K, job->A + i * job->lda, job->lda, job->B + j * job->ldb, job->ldb,
                     job->C + i * job->ldc + j, job->ldc, job->alpha, job->beta, read_c);
        }
    }
}

static void dot_task(void *ctx, int64_t begin, int64_t end, int thread_index)
{
    dot_job *job = ctx;
    for (int64_t it; (it = atomic_fetch_add(&job->next, 1)) < job->items;) dot_item(job, it);
}

sea_status sea_gemm_dot_run(sea_gemm_dot_fn dot, sea_threadpool *pool, bool trans_a, int64_t M,
                            int64_t N, int64_t K, float alpha, const float *A, int64_t lda,
                            const float *B, int64_t ldb, float beta, float *C, int64_t ldc)
{
    dot_job job = {.M = M, .N = N, .K = K, .A = A, .lda = lda, .B = B, .ldb = ldb, .C = C,
                   .ldc = ldc, .alpha = alpha, .beta = beta, .dot = dot};
    if (trans_a) {
        /* op(A) rows are strided columns of A: gather them once (M*K floats, small). */
        float *a = sea_gemm_workspace((size_t)(M * K));
        if (!a)
            return sea_error(SEA_ERR_OOM, "sgemm: %lld floats to gather op(A) for M=%lld K=%lld",
                             (long long)(M * K), (long long)M, (long long)K);
        for (int64_t k = 0; k < K; k++)
            for (int64_t i = 0; i < M; i++) a[i * K + k] = A[k * lda + i];
        job.A = a;
        job.lda = K;
    }
    int64_t step = (16 << 10) / (K * (int64_t)sizeof(float)) / 3 * 3;
    job.cols_per_step = step < 3 ? 3 : step;
    /* Items of >= 64 columns (and whole steps): enough to share out, few enough to be cheap. */
    job.cols_per_item = (64 + job.cols_per_step - 1) / job.cols_per_step * job.cols_per_step;
    job.items = (N + job.cols_per_item - 1) / job.cols_per_item;
    atomic_store(&job.next, 0);
    int threads = pool ? sea_threadpool_size(pool) : 1;
    if (threads > 1) sea_parallel_for(pool, threads, 1, dot_task, &job);
    else dot_task(&job, 0, 1, 0);
    return SEA_OK;
}
