/* Embedding gather and its deterministic scatter-add backward.
 *
 * Backward without float atomics or a sort: one block per token n. A block whose id already
 * occurred at an earlier position does nothing; the first occurrence sums the output-gradient
 * rows of every position with that id, in position order, and adds the sum to the table row.
 * Each table row is therefore written by one block in a fixed order. The id scan is
 * O(N^2) compares on cached data, cheap for the N (tokens per batch) of a training step. */
#include "cuda_common.cuh"

SEA_CUDA_ABI_UNIT(embedding)

#define THREADS 256
#define ID_TILE 1024

__global__ void k_embedding(const void *table, int t, const int32_t *ids, void *out, int ot, int64_t V, int64_t D)
{
    int64_t n = blockIdx.x;
    int32_t id = ids[n];
    bool ok = id >= 0 && id < V;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x)
        stf(out, ot, n * D + j, ok ? ldf(table, t, (int64_t)id * D + j) : 0.0f);
}

extern "C" sea_status sea_cuda_embedding_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *table = op->in[0], *ids = op->in[1];
    int64_t V = table->shape[0], D = table->shape[1], N = numel_of(ids);
    if (N == 0 || D == 0) return SEA_OK;
    if (N > 0x7fffffffLL)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: embedding: %lld ids exceed one grid", cs->cdev->label, (long long)N);
    k_embedding<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(table), table->dtype,
                                                         (const int32_t *)sea_cuda_ptr(ids), sea_cuda_ptr(op->out[0]),
                                                         op->out[0]->dtype, V, D);
    return sea_cuda_launch_check(cs, "embedding");
}

/* Positions matching the block's id are compacted, in order, into a shared list; each
 * flush adds the list's gradient rows (in list order) to the table row. */
__device__ void flush_rows(const int32_t *list, int cnt, const void *g, int gt, void *gtab, int tt, int64_t id, int64_t D)
{
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float s = 0.0f;
        for (int k = 0; k < cnt; k++) s += ldf(g, gt, (int64_t)list[k] * D + j);
        int64_t i = id * D + j;
        stf(gtab, tt, i, ldf(gtab, tt, i) + s);
    }
}

__global__ void k_embedding_bw(const int32_t *ids, int64_t N, const void *g, int gt, void *gtab, int tt, int64_t V,
                               int64_t D)
{
    __shared__ int32_t list[ID_TILE];
    __shared__ int warp_count[THREADS / 32];
    __shared__ int list_len;
    int64_t n = blockIdx.x;
    int32_t id = ids[n];
    if (id < 0 || id >= V) return;
    /* Is n the first occurrence of id? */
    int earlier = 0;
    for (int64_t m = threadIdx.x; m < n; m += blockDim.x) earlier |= ids[m] == id;
    if (__syncthreads_or(earlier)) return;
    if (threadIdx.x == 0) list_len = 0;
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    for (int64_t m0 = n; m0 < N; m0 += blockDim.x) {
        int64_t m = m0 + threadIdx.x;
        bool hit = m < N && ids[m] == id;
        unsigned ballot = __ballot_sync(0xffffffffu, hit);
        if (lane == 0) warp_count[w] = __popc(ballot);
        __syncthreads();
        int before = list_len;
        for (int k = 0; k < w; k++) before += warp_count[k];
        if (hit) list[before + __popc(ballot & ((1u << lane) - 1u))] = (int32_t)m;
        __syncthreads();
        if (threadIdx.x == 0) {
            int total = 0;
            for (int k = 0; k < (int)(blockDim.x >> 5); k++) total += warp_count[k];
            list_len += total;
        }
        __syncthreads();
        bool last = m0 + blockDim.x >= N;
        if (list_len > ID_TILE - (int)blockDim.x || last) {
            flush_rows(list, list_len, g, gt, gtab, tt, id, D);
            __syncthreads();
            if (threadIdx.x == 0) list_len = 0;
            __syncthreads();
        }
    }
}

extern "C" sea_status sea_cuda_embedding_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *table = op->in[0], *ids = op->in[1], *g = op->gout[0];
    sea_tensor *gt = op->gin[0];
    if (!g || !gt) return SEA_OK;
    int64_t V = table->shape[0], D = table->shape[1], N = numel_of(ids);
    if (N == 0 || D == 0) return SEA_OK;
    k_embedding_bw<<<(unsigned)N, THREADS, 0, cs->stream>>>((const int32_t *)sea_cuda_ptr(ids), N, sea_cuda_ptr(g),
                                                            g->dtype, sea_cuda_ptr(gt), gt->dtype, V, D);
    return sea_cuda_launch_check(cs, "embedding backward");
}

/* set_rows: dst[rows[n]] = x[n], one block per row, copying the widest word the row's bytes
 * and both base addresses allow (the dtype does not matter: bytes move). A row outside
 * [0, M) is skipped: the index lives on the device, so there is no one to tell. */
template <typename W>
__global__ void k_set_rows(const W *x, int64_t x_words, const int32_t *rows, W *dst, int64_t M, int64_t words)
{
    int64_t n = blockIdx.x;
    int32_t r = rows[n];
    if (r < 0 || r >= M) return;
    const W *src = x + n * x_words;   /* x's rows may be strided (a slice of a fused q/k/v) */
    W *d = dst + (int64_t)r * words;
    for (int64_t j = threadIdx.x; j < words; j += blockDim.x) d[j] = src[j];
}

extern "C" sea_status sea_cuda_set_rows_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    sea_tensor *dst = op->out[0];
    int64_t N = x->shape[0], M = dst->shape[0];
    size_t row_bytes = (size_t)x->shape[1] * sea_dtype_size(x->dtype);
    size_t x_row_bytes = N > 1 ? (size_t)x->stride[0] * sea_dtype_size(x->dtype) : row_bytes;
    if (N == 0 || row_bytes == 0) return SEA_OK;
    if (N > 0x7fffffffLL)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: set_rows: %lld rows exceed one grid", cs->cdev->label, (long long)N);
    const void *xp = sea_cuda_ptr(x);
    void *dp = sea_cuda_ptr(dst);
    const int32_t *rows = (const int32_t *)sea_cuda_ptr(op->in[1]);
    uintptr_t align = (uintptr_t)xp | (uintptr_t)dp | (uintptr_t)row_bytes | (uintptr_t)x_row_bytes;
    if (align % 16 == 0)
        k_set_rows<uint4><<<(unsigned)N, THREADS, 0, cs->stream>>>((const uint4 *)xp, (int64_t)(x_row_bytes / 16), rows, (uint4 *)dp, M,
                                                                    (int64_t)(row_bytes / 16));
    else if (align % 4 == 0)
        k_set_rows<uint32_t><<<(unsigned)N, THREADS, 0, cs->stream>>>((const uint32_t *)xp, (int64_t)(x_row_bytes / 4), rows, (uint32_t *)dp, M,
                                                                        (int64_t)(row_bytes / 4));
    else if (align % 2 == 0)
        k_set_rows<uint16_t><<<(unsigned)N, THREADS, 0, cs->stream>>>((const uint16_t *)xp, (int64_t)(x_row_bytes / 2), rows, (uint16_t *)dp, M,
                                                                        (int64_t)(row_bytes / 2));
    else
        k_set_rows<uint8_t><<<(unsigned)N, THREADS, 0, cs->stream>>>((const uint8_t *)xp, (int64_t)x_row_bytes, rows, (uint8_t *)dp, M,
                                                                       (int64_t)row_bytes);
    return sea_cuda_launch_check(cs, "set_rows");
}
