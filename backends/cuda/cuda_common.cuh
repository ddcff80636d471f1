/* Device helpers shared by the kernels: dtype loads/stores, deterministic reductions,
 * strided views, launch shapes. Header-only, included by the .cu files. */
#ifndef SEA_CUDA_COMMON_CUH
#define SEA_CUDA_COMMON_CUH

#include <cuda_runtime.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "cuda_internal.h"

#define SEA_HD __host__ __device__ __forceinline__

/* bf16 and f16 bit conversions, identical to runtime/dtype.c (round to nearest even),
 * so a cast gives the same bits on every backend. */
SEA_HD float sea_cu_bf16_to_f32(uint16_t h)
{
    uint32_t u = (uint32_t)h << 16;
    float f;
    memcpy(&f, &u, 4);
    return f;
}

SEA_HD uint16_t sea_cu_f32_to_bf16(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (uint16_t)(u >> 16);
}

SEA_HD float sea_cu_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    uint32_t u;
    if (exp == 0) {
        float v = (float)mant * 5.9604644775390625e-8f;
        return sign ? -v : v;
    }
    if (exp == 31) u = sign | 0x7f800000u | (mant << 13);
    else u = sign | ((exp + 112) << 23) | (mant << 13);
    float f;
    memcpy(&f, &u, 4);
    return f;
}

SEA_HD uint16_t sea_cu_f32_to_f16(float f)
{
    uint32_t x;
    memcpy(&x, &f, 4);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u);
    if (ax < 0x38800000u) {
        float a;
        memcpy(&a, &ax, 4);
        float v = a + 0.5f;
        uint32_t vb;
        memcpy(&vb, &v, 4);
        return (uint16_t)(sign | (vb - 0x3f000000u));
    }
    uint32_t mant_odd = (ax >> 13) & 1u;
    ax += 0xc8000fffu + mant_odd;
    return (uint16_t)(sign | (ax >> 13));
}

__device__ __forceinline__ int sea_dtype_size_dev(int t) { return t == SEA_BF16 || t == SEA_F16 ? 2 : 4; }

/* Load element i of a float tensor of dtype t as f32 (i32 by value). */
__device__ __forceinline__ float ldf(const void *p, int t, int64_t i)
{
    switch (t) {
    case SEA_F32: return ((const float *)p)[i];
    case SEA_BF16: return sea_cu_bf16_to_f32(((const uint16_t *)p)[i]);
    case SEA_F16: return sea_cu_f16_to_f32(((const uint16_t *)p)[i]);
    default: return (float)((const int32_t *)p)[i];
    }
}

__device__ __forceinline__ void stf(void *p, int t, int64_t i, float v)
{
    switch (t) {
    case SEA_F32: ((float *)p)[i] = v; break;
    case SEA_BF16: ((uint16_t *)p)[i] = sea_cu_f32_to_bf16(v); break;
    case SEA_F16: ((uint16_t *)p)[i] = sea_cu_f32_to_f16(v); break;
    default: ((int32_t *)p)[i] = __float2int_rn(v); break;
    }
}

/* Deterministic reductions: a fixed shuffle tree inside the warp, then warp 0 over the
 * per-warp partials in warp order. The same inputs give the same bits on every run. */
__device__ __forceinline__ float warp_sum(float v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

__device__ __forceinline__ float warp_max(float v)
{
    for (int o = 16; o > 0; o >>= 1) v = fmaxf(v, __shfl_xor_sync(0xffffffffu, v, o));
    return v;
}

__device__ __forceinline__ double warp_sum_d(double v)
{
    for (int o = 16; o > 0; o >>= 1) v += __shfl_xor_sync(0xffffffffu, v, o);
    return v;
}

/* Sum over the block (blockDim.x a multiple of 32, <= 1024); every thread gets the result.
 * `red` is __shared__ float[33]. */
__device__ __forceinline__ float block_sum(float v, float *red)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum(v);
    __syncthreads(); /* red may still be read by a previous call */
    if (lane == 0) red[w] = v;
    __syncthreads();
    if (w == 0) {
        float x = lane < nw ? red[lane] : 0.0f;
        x = warp_sum(x);
        if (lane == 0) red[32] = x;
    }
    __syncthreads();
    return red[32];
}

__device__ __forceinline__ float block_max(float v, float *red)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_max(v);
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    if (w == 0) {
        float x = lane < nw ? red[lane] : -INFINITY;
        x = warp_max(x);
        if (lane == 0) red[32] = x;
    }
    __syncthreads();
    return red[32];
}

__device__ __forceinline__ double block_sum_d(double v, double *red)
{
    int lane = threadIdx.x & 31, w = threadIdx.x >> 5, nw = blockDim.x >> 5;
    v = warp_sum_d(v);
    __syncthreads();
    if (lane == 0) red[w] = v;
    __syncthreads();
    if (w == 0) {
        double x = lane < nw ? red[lane] : 0.0;
        x = warp_sum_d(x);
        if (lane == 0) red[32] = x;
    }
    __syncthreads();
    return red[32];
}

/* Row statistics: returns lse = max + log(sum exp(x - max)) for every thread of the block. */
__device__ __forceinline__ float row_lse(const void *x, int t, int64_t base, int64_t V, float *red)
{
    float m = -INFINITY, s = 0.0f;
    for (int64_t j = threadIdx.x; j < V; j += blockDim.x) {
        float v = ldf(x, t, base + j);
        if (v == -INFINITY) continue; /* masked entries: exp(-inf - m) is 0, never NaN */
        if (v > m) {
            s = s * expf(m - v) + 1.0f; /* m = -inf: s is 0, expf(-inf) = 0 */
            m = v;
        } else {
            s += expf(v - m);
        }
    }
    float M = block_max(m, red);
    float contrib = (m == -INFINITY) ? 0.0f : s * expf(m - M);
    float S = block_sum(contrib, red);
    return M + logf(S);
}

/* A tensor as a right-aligned 4-d strided view (missing leading dims have size 1). */
struct cu_view {
    char *p;
    int dtype;
    int64_t shape[4];
    int64_t stride[4];
};

static inline cu_view make_view(const sea_tensor *t)
{
    cu_view v;
    v.p = (char *)sea_cuda_ptr(t);
    v.dtype = t->dtype;
    int pad = 4 - t->ndim;
    for (int d = 0; d < 4; d++) {
        if (d < pad) {
            v.shape[d] = 1;
            v.stride[d] = 0;
        } else {
            v.shape[d] = t->shape[d - pad];
            v.stride[d] = t->shape[d - pad] == 1 ? 0 : t->stride[d - pad];
        }
    }
    return v;
}

/* Offset (elements) of linear index i (row-major over `shape`) in view v. */
__device__ __forceinline__ int64_t view_offset(const cu_view &v, const int64_t *shape, int64_t i)
{
    int64_t off = 0;
    for (int d = 3; d >= 0; d--) {
        int64_t s = shape[d];
        int64_t q = i / s;
        off += (i - q * s) * v.stride[d];
        i = q;
    }
    return off;
}

static inline int64_t numel_of(const sea_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}

static inline int64_t last_dim_of(const sea_tensor *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }

static inline unsigned grid_for(int64_t n, int threads)
{
    int64_t b = (n + threads - 1) / threads;
    if (b < 1) b = 1;
    if (b > 65535LL * 16) b = 65535LL * 16; /* grid-stride loops cover the rest */
    return (unsigned)b;
}

#define GRID_STRIDE(i, n)                                                                  \
    for (int64_t i = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; i < (n);               \
         i += (int64_t)gridDim.x * blockDim.x)

#endif
