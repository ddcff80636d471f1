/* Token sampling (forward only), as op.h specifies: greedy argmax at temperature 0; else
 * top-k (ties by lower index), then top-p over the kept tokens' softmax(logits / T), then
 * Gumbel-max with u = Philox(seed, seq_id, step * V + i), the same numbers as every backend.
 *
 * Without truncation (top_k 0, top_p 1) one block per row scans the logits once. With
 * truncation the rows are sorted first (CUB segmented radix sort, descending; radix sort is
 * stable, so equal logits keep ascending index order, which is the tie rule of top-k), and the
 * top-p cut is found with a block-wide prefix sum in sorted order. */
#include <cub/block/block_scan.cuh>
#include <cub/device/device_segmented_radix_sort.cuh>

#include "cuda_common.cuh"
#include "cuda_philox.cuh"

SEA_CUDA_ABI_UNIT(sample)

#define THREADS 1024

/* (score, index) argmax merge: larger score wins, ties go to the lower index. */
__device__ __forceinline__ void better(float &bs, int &bi, float s, int i)
{
    if (i < 0) return; /* an empty candidate never replaces anything */
    if (bi < 0 || s > bs || (s == bs && i < bi)) {
        bs = s;
        bi = i;
    }
}

__device__ void block_argmax(float &bs, int &bi, float *rs, int *ri)
{
    for (int o = 16; o > 0; o >>= 1) {
        float s = __shfl_xor_sync(0xffffffffu, bs, o);
        int i = __shfl_xor_sync(0xffffffffu, bi, o);
        better(bs, bi, s, i);
    }
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    __syncthreads();
    if (lane == 0) {
        rs[w] = bs;
        ri[w] = bi;
    }
    __syncthreads();
    if (w == 0) {
        bs = lane < (int)(blockDim.x >> 5) ? rs[lane] : -INFINITY;
        bi = lane < (int)(blockDim.x >> 5) ? ri[lane] : -1;
        for (int o = 16; o > 0; o >>= 1) {
            float s = __shfl_xor_sync(0xffffffffu, bs, o);
            int i = __shfl_xor_sync(0xffffffffu, bi, o);
            better(bs, bi, s, i);
        }
        if (lane == 0) {
            rs[32] = bs;
            ri[32] = bi;
        }
    }
    __syncthreads();
    bs = rs[32];
    bi = ri[32];
}

struct sample_args {
    const float *logits;    /* (B, V) */
    const int32_t *seq_ids; /* (B) */
    int32_t *tokens;        /* (B) */
    float *logp;            /* (B) */
    int64_t V;
    float temperature;
    int top_k;
    float top_p;
    uint64_t seed;
    uint32_t step;
    const float *sorted;    /* (B, V) descending, or NULL */
    const int32_t *order;   /* (B, V) original indices of sorted */
};

__device__ void finish(const sample_args &a, int64_t b, int tok, float lse)
{
    if (threadIdx.x == 0) {
        a.tokens[b] = tok;
        if (a.logp) a.logp[b] = tok >= 0 ? a.logits[b * a.V + tok] - lse : -INFINITY; /* out[1] is optional */
    }
}

__global__ void __launch_bounds__(THREADS) k_sample_plain(sample_args a)
{
    __shared__ float red[33];
    __shared__ float rs[33];
    __shared__ int ri[33];
    const int64_t b = blockIdx.x;
    const float *x = a.logits + b * a.V;
    float lse = row_lse(a.logits, SEA_F32, b * a.V, a.V, red);
    const uint32_t stream = (uint32_t)a.seq_ids[b];
    const uint64_t ctr0 = (uint64_t)a.step * (uint64_t)a.V;
    const float invT = a.temperature > 0.0f ? 1.0f / a.temperature : 0.0f;
    float bs = -INFINITY;
    int bi = -1;
    for (int64_t i = threadIdx.x; i < a.V; i += blockDim.x) {
        float s = a.temperature == 0.0f ? x[i] : x[i] * invT - logf(-logf(sea_cu_rng_uniform(a.seed, stream, ctr0 + i)));
        better(bs, bi, s, (int)i);
    }
    block_argmax(bs, bi, rs, ri);
    finish(a, b, bi, lse);
}

__global__ void __launch_bounds__(THREADS) k_sample_sorted(sample_args a)
{
    typedef cub::BlockScan<double, THREADS> scan_t;
    __shared__ typename scan_t::TempStorage scan_tmp;
    __shared__ float red[33];
    __shared__ float rs[33];
    __shared__ int ri[33];
    __shared__ int cut;
    __shared__ double dred[33];
    const int64_t b = blockIdx.x;
    const float *sk = a.sorted + b * a.V;
    const int32_t *si = a.order + b * a.V;
    float lse = row_lse(a.logits, SEA_F32, b * a.V, a.V, red);
    const float T = a.temperature, invT = 1.0f / T; /* multiply by 1/T, as the CPU does */
    const int64_t K = (a.top_k > 0 && a.top_k < a.V) ? a.top_k : a.V;
    int64_t keep = K;
    if (a.top_p < 1.0f) {
        /* Probabilities in double, as the CPU reference computes them, so the two agree on
         * the cut except at float-level ties of the cumulative mass. */
        const double top = sk[0], invTd = 1.0 / (double)T;
        double z = 0.0;
        for (int64_t i = threadIdx.x; i < K; i += blockDim.x) z += exp(((double)sk[i] - top) * invTd);
        z = block_sum_d(z, dred);
        if (threadIdx.x == 0) cut = (int)K;
        __syncthreads();
        double carry = 0.0;
        for (int64_t c0 = 0; c0 < K; c0 += blockDim.x) {
            int64_t i = c0 + threadIdx.x;
            double e = i < K ? exp(((double)sk[i] - top) * invTd) / z : 0.0;
            double incl, total;
            scan_t(scan_tmp).InclusiveSum(e, incl, total);
            incl += carry;
            if (i < K && incl >= (double)a.top_p) atomicMin(&cut, (int)i + 1); /* an int min: order-free */
            __syncthreads();
            if (cut < (int)K) break; /* uniform: read after the barrier */
            carry += total;
            __syncthreads();
        }
        keep = cut;
    }
    const uint32_t stream = (uint32_t)a.seq_ids[b];
    const uint64_t ctr0 = (uint64_t)a.step * (uint64_t)a.V;
    float bs = -INFINITY;
    int bi = -1;
    for (int64_t i = threadIdx.x; i < keep; i += blockDim.x) {
        int idx = si[i];
        better(bs, bi, sk[i] * invT - logf(-logf(sea_cu_rng_uniform(a.seed, stream, ctr0 + (uint64_t)idx))), idx);
    }
    block_argmax(bs, bi, rs, ri);
    finish(a, b, bi, lse);
}

__global__ void k_iota_rows(int32_t *idx, int *offsets, int64_t B, int64_t V)
{
    GRID_STRIDE(i, B * V) idx[i] = (int32_t)(i % V);
    GRID_STRIDE(j, B + 1) offsets[j] = (int)(j * V);
}

extern "C" sea_status sea_cuda_sample_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *logits = op->in[0];
    int64_t B = logits->shape[0], V = logits->shape[1];
    if (B == 0) return SEA_OK;
    if (V <= 0 || B * V > 0x7fffffffLL || B > 0x7fffffffLL)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: sample: logits (%lld, %lld) outside the supported size",
                         cs->cdev->label, (long long)B, (long long)V);
    sample_args a;
    memset(&a, 0, sizeof a);
    a.logits = (const float *)sea_cuda_ptr(logits);
    a.seq_ids = (const int32_t *)sea_cuda_ptr(op->in[1]);
    a.tokens = (int32_t *)sea_cuda_ptr(op->out[0]);
    a.logp = op->out[1] ? (float *)sea_cuda_ptr(op->out[1]) : NULL;
    a.V = V;
    a.temperature = op->p.sample.temperature;
    a.top_k = op->p.sample.top_k;
    a.top_p = op->p.sample.top_p;
    a.seed = op->p.sample.seed;
    a.step = op->p.sample.step;
    bool truncate = a.temperature > 0.0f && ((a.top_k > 0 && a.top_k < V) || a.top_p < 1.0f);
    if (!truncate) {
        k_sample_plain<<<(unsigned)B, THREADS, 0, cs->stream>>>(a);
        return sea_cuda_launch_check(cs, "sample");
    }
    /* Sorted copies: keys (B*V f32), index in/out (2 * B*V i32), offsets (B+1), CUB scratch. */
    size_t n = (size_t)(B * V);
    size_t cub_bytes = 0;
    cudaError_t e = cub::DeviceSegmentedRadixSort::SortPairsDescending(
        NULL, cub_bytes, a.logits, (float *)NULL, (const int32_t *)NULL, (int32_t *)NULL, (int)n, (int)B, (const int *)NULL,
        (const int *)NULL, 0, 32, cs->stream);
    SEA_TRY(sea_cuda_check(e, cs, "sample: sort workspace size"));
    size_t off_keys = 0, off_in = off_keys + n * 4, off_out = off_in + n * 4, off_ofs = off_out + n * 4;
    size_t off_cub = (off_ofs + (size_t)(B + 1) * 4 + 255) & ~(size_t)255;
    size_t total = off_cub + cub_bytes;
    char *tmp;
    SEA_TRY(sea_cuda_tmp_alloc(cs, total, (void **)&tmp));
    float *keys = (float *)(tmp + off_keys);
    int32_t *idx_in = (int32_t *)(tmp + off_in), *idx_out = (int32_t *)(tmp + off_out);
    int *offsets = (int *)(tmp + off_ofs);
    k_iota_rows<<<grid_for((int64_t)n, 256), 256, 0, cs->stream>>>(idx_in, offsets, B, V);
    sea_status st = sea_cuda_launch_check(cs, "sample (index)");
    if (!st) {
        e = cub::DeviceSegmentedRadixSort::SortPairsDescending(tmp + off_cub, cub_bytes, a.logits, keys, idx_in, idx_out,
                                                               (int)n, (int)B, offsets, offsets + 1, 0, 32, cs->stream);
        st = sea_cuda_check(e, cs, "sample: segmented sort");
    }
    if (!st) {
        a.sorted = keys;
        a.order = idx_out;
        k_sample_sorted<<<(unsigned)B, THREADS, 0, cs->stream>>>(a);
        st = sea_cuda_launch_check(cs, "sample");
    }
    sea_cuda_tmp_free(cs, tmp, total);
    return st;
}

extern "C" sea_status sea_cuda_sample_backward(sea_cuda_stream *cs, const sea_op *op)
{
    (void)op;
    return sea_error(SEA_ERR_INVALID, "%s: sample has no backward", cs->cdev->label);
}
