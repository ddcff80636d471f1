/* LayerNorm and RMSNorm: one block per row, fixed-order block reductions, two passes over
 * the row (mean, then centred variance: more accurate than E[x^2] - E[x]^2). Weight and
 * bias gradients go through a per-element product and the chunked column sum, so they
 * are deterministic without atomics. LayerNorm's optional second affine (op.h: weight2,
 * bias2 -> y2) rides in the same kernels: one launch and one read of x for both.
 * Rows of a multiple of 8 up to 2560 elements, 16-byte aligned, run a warp per row instead
 * (k_layernorm_warp, k_layernorm_bw_warp, k_rmsnorm_warp, k_rmsnorm_bw_warp): the same
 * formulas, 16-byte accesses, warp shuffles in a fixed order, no barriers. */
#include <initializer_list>

#include "cuda_common.cuh"

SEA_CUDA_ABI_UNIT(norm)

#define THREADS 256

__global__ void k_layernorm(const void *x, int t, const void *w, const void *b, const void *w2, const void *b2,
                            void *y, void *y2, float *mean_out, float *rstd_out, int64_t D, float eps)
{
    __shared__ float red[33];
    int64_t r = blockIdx.x;
    const int64_t base = r * D;
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) s += ldf(x, t, base + j);
    float mean = block_sum(s, red) / (float)D;
    float q = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float d = ldf(x, t, base + j) - mean;
        q += d * d;
    }
    float var = block_sum(q, red) / (float)D;
    float rstd = 1.0f / sqrtf(var + eps); /* correctly rounded, like the CPU reference */
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xv = ldf(x, t, base + j);
        float v = (xv - mean) * rstd * ldf(w, t, j);
        if (b) v += ldf(b, t, j);
        stf(y, t, base + j, v);
        if (y2) {   /* the same expression as y: y's bits do not depend on the pair */
            float v2 = (xv - mean) * rstd * ldf(w2, t, j);
            if (b2) v2 += ldf(b2, t, j);
            stf(y2, t, base + j, v2);
        }
    }
    if (threadIdx.x == 0) {
        if (mean_out) mean_out[r] = mean;
        if (rstd_out) rstd_out[r] = rstd;
    }
}

/* ---- LayerNorm forward, a warp per row ----
 * For rows of up to 32 x 8 x MAXC elements (D a multiple of 8, every pointer 16-byte
 * aligned): lane l holds the 8-element chunks l, l + 32, ... of its row in registers, read
 * once with 16-byte loads; mean and centred variance (the same two-pass formula as
 * k_layernorm) by warp shuffles in a fixed order; weights, biases and both outputs in
 * 16-byte accesses. No shared memory and no barriers: 8 rows per 256-thread block. (One
 * block of 256 threads per row spent its time in block-wide reductions and 2-byte loads:
 * the third call's profile had the forward at ~130 us per (8192, 2048) bf16 call, 4x the
 * bytes it moves at the card's bandwidth; not measured yet on a GPU.) */
#define LN_ROWS_PER_BLOCK 8
#define LN_WARP_THREADS (32 * LN_ROWS_PER_BLOCK)

template <int T> struct vec8;
template <> struct vec8<SEA_F32> {
    static __device__ __forceinline__ void load(const void *p, int64_t i, float *f)
    {
        const float4 a = *(const float4 *)((const float *)p + i), b = *(const float4 *)((const float *)p + i + 4);
        f[0] = a.x, f[1] = a.y, f[2] = a.z, f[3] = a.w, f[4] = b.x, f[5] = b.y, f[6] = b.z, f[7] = b.w;
    }
    static __device__ __forceinline__ void store(void *p, int64_t i, const float *f)
    {
        *(float4 *)((float *)p + i) = make_float4(f[0], f[1], f[2], f[3]);
        *(float4 *)((float *)p + i + 4) = make_float4(f[4], f[5], f[6], f[7]);
    }
};
template <int T> struct vec8_16 {
    static __device__ __forceinline__ float cvt(uint16_t h)
    {
        return T == SEA_BF16 ? sea_cu_bf16_to_f32(h) : sea_cu_f16_to_f32(h);
    }
    static __device__ __forceinline__ uint32_t pack(float lo, float hi)
    {
        uint16_t a = T == SEA_BF16 ? sea_cu_f32_to_bf16(lo) : sea_cu_f32_to_f16(lo);
        uint16_t b = T == SEA_BF16 ? sea_cu_f32_to_bf16(hi) : sea_cu_f32_to_f16(hi);
        return (uint32_t)a | ((uint32_t)b << 16);
    }
    static __device__ __forceinline__ void load(const void *p, int64_t i, float *f)
    {
        const uint4 u = *(const uint4 *)((const uint16_t *)p + i);
        const uint32_t w[4] = {u.x, u.y, u.z, u.w};
        for (int k = 0; k < 4; k++) {
            f[2 * k] = cvt((uint16_t)(w[k] & 0xffffu));
            f[2 * k + 1] = cvt((uint16_t)(w[k] >> 16));
        }
    }
    static __device__ __forceinline__ void store(void *p, int64_t i, const float *f)
    {
        *(uint4 *)((uint16_t *)p + i) = make_uint4(pack(f[0], f[1]), pack(f[2], f[3]), pack(f[4], f[5]), pack(f[6], f[7]));
    }
};
template <> struct vec8<SEA_BF16> : vec8_16<SEA_BF16> {};
template <> struct vec8<SEA_F16> : vec8_16<SEA_F16> {};

/* o = (v - mean) rstd w + b for chunk c of the weight and bias (b may be NULL). */
template <int T>
__device__ __forceinline__ void ln_affine8(const float *v, float mean, float rstd, const void *w, const void *b,
                                           int64_t c, float *o)
{
    float wv[8];
    vec8<T>::load(w, 8 * c, wv);
    if (b) {
        float bv[8];
        vec8<T>::load(b, 8 * c, bv);
#pragma unroll
        for (int e = 0; e < 8; e++) o[e] = (v[e] - mean) * rstd * wv[e] + bv[e];
    } else {
#pragma unroll
        for (int e = 0; e < 8; e++) o[e] = (v[e] - mean) * rstd * wv[e];
    }
}

template <int T, int MAXC>
__global__ void __launch_bounds__(LN_WARP_THREADS)
    k_layernorm_warp(const void *x, const void *w, const void *b, const void *w2, const void *b2, void *y, void *y2,
                     float *mean_out, float *rstd_out, int64_t N, int64_t D, float eps)
{
    const int lane = threadIdx.x & 31;
    const int64_t r = (int64_t)blockIdx.x * LN_ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (r >= N) return;   /* a whole warp: no barrier below */
    const int64_t base = r * D, chunks = D / 8;
    float v[MAXC][8] = {}; /* (lanes past the row keep zeros, never read) */
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < MAXC; k++) {
        const int64_t c = lane + 32 * k;
        if (c < chunks) {
            vec8<T>::load(x, base + 8 * c, v[k]);
#pragma unroll
            for (int e = 0; e < 8; e++) s += v[k][e];
        }
    }
    const float mean = warp_sum(s) / (float)D;
    float q = 0.0f;
#pragma unroll
    for (int k = 0; k < MAXC; k++)
        if (lane + 32 * k < chunks)
#pragma unroll
            for (int e = 0; e < 8; e++) {
                const float d = v[k][e] - mean;
                q += d * d;
            }
    const float rstd = 1.0f / sqrtf(warp_sum(q) / (float)D + eps); /* correctly rounded, as k_layernorm */
#pragma unroll
    for (int k = 0; k < MAXC; k++) {
        const int64_t c = lane + 32 * k;
        if (c >= chunks) continue;
        float o[8];
        ln_affine8<T>(v[k], mean, rstd, w, b, c, o);
        vec8<T>::store(y, base + 8 * c, o);
        if (y2) {
            ln_affine8<T>(v[k], mean, rstd, w2, b2, c, o);
            vec8<T>::store(y2, base + 8 * c, o);
        }
    }
    if (lane == 0) {
        if (mean_out) mean_out[r] = mean;
        if (rstd_out) rstd_out[r] = rstd;
    }
}

typedef void (*ln_warp_kernel)(const void *, const void *, const void *, const void *, const void *, void *, void *,
                               float *, float *, int64_t, int64_t, float);

/* dy*w + dy2*w2 at (row offset base, column j); either gradient may be absent (zero).
 * Exactly dy*w without dy2, so the single-affine bits are unchanged. */
__device__ __forceinline__ float ln_dyw(const void *w, const void *w2, int t, const void *dy, const void *dy2, int dyt,
                                        int64_t base, int64_t j)
{
    float gw = dy ? ldf(dy, dyt, base + j) * ldf(w, t, j) : 0.0f;
    if (dy2) gw += ldf(dy2, dyt, base + j) * ldf(w2, t, j);
    return gw;
}

/* dx += rstd * (gw - mean(gw) - xhat * mean(gw*xhat)), gw = dy*w + dy2*w2 (the backward is
 * linear in it: both affines of a pair in one pass); pw = dy * xhat, pw2 = dy2 * xhat (for
 * dw, dw2). dy and dy2 share one dtype (each follows its output, and y, y2 follow x). */
__global__ void k_layernorm_bw(const void *x, int t, const void *w, const void *w2, const void *dy, const void *dy2,
                               int dyt, const float *mean, const float *rstd, void *dx, int dxt, float *pw, float *pw2,
                               int64_t D)
{
    __shared__ float red[33];
    int64_t r = blockIdx.x;
    const int64_t base = r * D;
    float mu = mean[r], rs = rstd[r];
    float s1 = 0.0f, s2 = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xh = (ldf(x, t, base + j) - mu) * rs;
        float gw = ln_dyw(w, w2, t, dy, dy2, dyt, base, j);
        s1 += gw;
        s2 += gw * xh;
        if (pw) pw[base + j] = ldf(dy, dyt, base + j) * xh;
        if (pw2) pw2[base + j] = ldf(dy2, dyt, base + j) * xh;
    }
    if (!dx) return;
    s1 = block_sum(s1, red) / (float)D;
    s2 = block_sum(s2, red) / (float)D;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xh = (ldf(x, t, base + j) - mu) * rs;
        float gw = ln_dyw(w, w2, t, dy, dy2, dyt, base, j);
        stf(dx, dxt, base + j, ldf(dx, dxt, base + j) + rs * (gw - s1 - xh * s2));
    }
}

/* The backward of k_layernorm_bw a warp per row (same conditions as the forward's warp path:
 * D a multiple of 8 up to 2560, 16-byte aligned, and dy, dy2, dx of x's dtype): two passes
 * over the row's 8-element chunks in 16-byte loads (the second reads x, dy and the weights
 * again, from cache), warp-shuffle sums in a fixed order, no barriers. */
template <int T, int MAXC>
__global__ void __launch_bounds__(LN_WARP_THREADS)
    k_layernorm_bw_warp(const void *x, const void *w, const void *w2, const void *dy, const void *dy2,
                        const float *mean, const float *rstd, void *dx, float *pw, float *pw2, int64_t N, int64_t D)
{
    const int lane = threadIdx.x & 31;
    const int64_t r = (int64_t)blockIdx.x * LN_ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (r >= N) return;
    const int64_t base = r * D, chunks = D / 8;
    const float mu = mean[r], rs = rstd[r];
    float s1 = 0.0f, s2 = 0.0f;
#pragma unroll
    for (int k = 0; k < MAXC; k++) {
        const int64_t c = lane + 32 * k;
        if (c >= chunks) continue;
        float xv[8], g[8], wv[8], g2[8];
        vec8<T>::load(x, base + 8 * c, xv);
#pragma unroll
        for (int e = 0; e < 8; e++) xv[e] = (xv[e] - mu) * rs; /* xhat */
        float gw[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        if (dy) {
            vec8<T>::load(dy, base + 8 * c, g);
            vec8<T>::load(w, 8 * c, wv);
#pragma unroll
            for (int e = 0; e < 8; e++) gw[e] = g[e] * wv[e];
            if (pw) {
                float p8[8];
#pragma unroll
                for (int e = 0; e < 8; e++) p8[e] = g[e] * xv[e];
                vec8<SEA_F32>::store(pw, base + 8 * c, p8);
            }
        }
        if (dy2) {
            vec8<T>::load(dy2, base + 8 * c, g2);
            vec8<T>::load(w2, 8 * c, wv);
#pragma unroll
            for (int e = 0; e < 8; e++) gw[e] += g2[e] * wv[e];
            if (pw2) {
                float p8[8];
#pragma unroll
                for (int e = 0; e < 8; e++) p8[e] = g2[e] * xv[e];
                vec8<SEA_F32>::store(pw2, base + 8 * c, p8);
            }
        }
#pragma unroll
        for (int e = 0; e < 8; e++) {
            s1 += gw[e];
            s2 += gw[e] * xv[e];
        }
    }
    if (!dx) return;
    s1 = warp_sum(s1) / (float)D;
    s2 = warp_sum(s2) / (float)D;
#pragma unroll
    for (int k = 0; k < MAXC; k++) {
        const int64_t c = lane + 32 * k;
        if (c >= chunks) continue;
        float xv[8], g[8], wv[8], o[8], gw[8] = {0, 0, 0, 0, 0, 0, 0, 0};
        vec8<T>::load(x, base + 8 * c, xv);
        if (dy) {
            vec8<T>::load(dy, base + 8 * c, g);
            vec8<T>::load(w, 8 * c, wv);
#pragma unroll
            for (int e = 0; e < 8; e++) gw[e] = g[e] * wv[e];
        }
        if (dy2) {
            vec8<T>::load(dy2, base + 8 * c, g);
            vec8<T>::load(w2, 8 * c, wv);
#pragma unroll
            for (int e = 0; e < 8; e++) gw[e] += g[e] * wv[e];
        }
        vec8<T>::load(dx, base + 8 * c, o);
#pragma unroll
        for (int e = 0; e < 8; e++) o[e] += rs * (gw[e] - s1 - (xv[e] - mu) * rs * s2);
        vec8<T>::store(dx, base + 8 * c, o);
    }
}

typedef void (*ln_bw_warp_kernel)(const void *, const void *, const void *, const void *, const void *, const float *,
                                  const float *, void *, float *, float *, int64_t, int64_t);

/* The warp-per-row instantiations, forward and backward, by dtype and chunks per lane. */
template <int T, int C> struct ln_fwd_warp {
    static ln_warp_kernel get() { return k_layernorm_warp<T, C>; }
};
template <int T, int C> struct ln_bwd_warp {
    static ln_bw_warp_kernel get() { return k_layernorm_bw_warp<T, C>; }
};

template <template <int, int> class K, int T>
static auto ln_warp_by_chunks(int64_t chunks_per_lane) -> decltype(K<T, 1>::get())
{
    switch (chunks_per_lane) {
    case 1: return K<T, 1>::get();
    case 2: return K<T, 2>::get();
    case 3: case 4: return K<T, 4>::get();
    case 5: case 6: case 7: case 8: return K<T, 8>::get();
    case 9: case 10: return K<T, 10>::get();
    default: return nullptr;
    }
}

/* The kernel of family K for dtype t and row length D, or NULL (the block-per-row kernels then
 * run): D a multiple of 8, at most 32 x 8 x 10 = 2560 (Pythia up to 2.8B; more chunks per
 * lane would spill registers). */
template <template <int, int> class K>
static auto ln_warp_pick(int t, int64_t D) -> decltype(K<SEA_F32, 1>::get())
{
    if (D <= 0 || D % 8 != 0) return nullptr;
    const int64_t per_lane = (D / 8 + 31) / 32;
    switch (t) {
    case SEA_F32: return ln_warp_by_chunks<K, SEA_F32>(per_lane);
    case SEA_BF16: return ln_warp_by_chunks<K, SEA_BF16>(per_lane);
    case SEA_F16: return ln_warp_by_chunks<K, SEA_F16>(per_lane);
    default: return nullptr;
    }
}

/* Whether every pointer (NULL included) starts at a multiple of 16 bytes: the warp kernels'
 * 16-byte accesses need it. */
static bool all_al16(std::initializer_list<const void *> ps)
{
    for (const void *p : ps)
        if ((uintptr_t)p & 15u) return false;
    return true;
}

static unsigned ln_warp_blocks(int64_t N) { return (unsigned)((N + LN_ROWS_PER_BLOCK - 1) / LN_ROWS_PER_BLOCK); }

extern "C" sea_status sea_cuda_layernorm_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    int64_t D = last_dim_of(x), N = D ? numel_of(x) / D : 0;
    if (N == 0) return SEA_OK;
    const void *xp = sea_cuda_ptr(x), *w = sea_cuda_ptr(op->in[1]), *b = sea_cuda_ptr(op->in[2]);
    const void *w2 = sea_cuda_ptr(op->in[3]), *b2 = sea_cuda_ptr(op->in[4]);
    void *y = sea_cuda_ptr(op->out[0]), *y2 = sea_cuda_ptr(op->out[3]);
    ln_warp_kernel wk = all_al16({xp, w, b, w2, b2, y, y2}) ? ln_warp_pick<ln_fwd_warp>(x->dtype, D) : nullptr;
    if (wk) {
        wk<<<ln_warp_blocks(N), LN_WARP_THREADS, 0, cs->stream>>>(xp, w, b, w2, b2, y, y2,
                                                                  (float *)sea_cuda_ptr(op->out[1]),
                                                                  (float *)sea_cuda_ptr(op->out[2]), N, D, op->p.norm.eps);
        return sea_cuda_launch_check(cs, "layernorm (a warp per row)");
    }
    k_layernorm<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(op->in[1]),
                                                         sea_cuda_ptr(op->in[2]), sea_cuda_ptr(op->in[3]),
                                                         sea_cuda_ptr(op->in[4]), sea_cuda_ptr(op->out[0]),
                                                         sea_cuda_ptr(op->out[3]), (float *)sea_cuda_ptr(op->out[1]),
                                                         (float *)sea_cuda_ptr(op->out[2]), D, op->p.norm.eps);
    return sea_cuda_launch_check(cs, "layernorm");
}

/* gw += colsum(pw), gb += colsum(dy) for one affine (either gradient may be absent). */
static sea_status ln_affine_grads(sea_cuda_stream *cs, const float *pw, const sea_tensor *dy, sea_tensor *gw,
                                  sea_tensor *gb, int64_t N, int64_t D)
{
    if (gw) SEA_TRY(sea_cuda_colsum_acc(cs, pw, SEA_F32, 1, N, D, sea_cuda_ptr(gw), gw->dtype, "layernorm backward"));
    if (gb)
        SEA_TRY(sea_cuda_colsum_acc(cs, sea_cuda_ptr(dy), dy->dtype, 1, N, D, sea_cuda_ptr(gb), gb->dtype,
                                    "layernorm backward"));
    return SEA_OK;
}

extern "C" sea_status sea_cuda_layernorm_backward(sea_cuda_stream *cs, const sea_op *op)
{
    /* dy2: the gradient of the pair's y2 (op.h), NULL = zero like an absent dy */
    const sea_tensor *x = op->in[0], *dy = op->gout[0], *dy2 = op->in[3] ? op->gout[3] : NULL;
    sea_tensor *gx = op->gin[0];
    sea_tensor *gw = dy ? op->gin[1] : NULL, *gb = dy && op->in[2] ? op->gin[2] : NULL;
    sea_tensor *gw2 = dy2 ? op->gin[3] : NULL, *gb2 = dy2 && op->in[4] ? op->gin[4] : NULL;
    if ((!dy && !dy2) || (!gx && !gw && !gb && !gw2 && !gb2)) return SEA_OK;
    int64_t D = last_dim_of(x), N = D ? numel_of(x) / D : 0;
    if (N == 0) return SEA_OK;
    float *pw = NULL, *pw2 = NULL;
    size_t bytes = (size_t)(N * D) * sizeof(float);
    if (gw) SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, (void **)&pw));
    sea_status st = gw2 ? sea_cuda_tmp_alloc(cs, bytes, (void **)&pw2) : SEA_OK;
    const int dyt = dy ? dy->dtype : dy2->dtype;
    const void *xp = sea_cuda_ptr(x), *w = sea_cuda_ptr(op->in[1]), *w2 = sea_cuda_ptr(op->in[3]);
    const void *g = sea_cuda_ptr(dy), *g2 = sea_cuda_ptr(dy2);
    const float *mean = (const float *)sea_cuda_ptr(op->out[1]), *rstd = (const float *)sea_cuda_ptr(op->out[2]);
    void *dx = sea_cuda_ptr(gx);
    ln_bw_warp_kernel wk = dyt == x->dtype && (!gx || gx->dtype == x->dtype) && all_al16({xp, w, w2, g, g2, dx})
                               ? ln_warp_pick<ln_bwd_warp>(x->dtype, D)
                               : nullptr;
    if (!st && wk && (gx || pw || pw2)) {
        wk<<<ln_warp_blocks(N), LN_WARP_THREADS, 0, cs->stream>>>(xp, w, w2, g, g2, mean, rstd, dx, pw, pw2, N, D);
        st = sea_cuda_launch_check(cs, "layernorm backward (a warp per row)");
    } else if (!st && (gx || pw || pw2)) {
        k_layernorm_bw<<<(unsigned)N, THREADS, 0, cs->stream>>>(xp, x->dtype, w, w2, g, g2, dyt, mean, rstd, dx,
                                                                gx ? gx->dtype : SEA_F32, pw, pw2, D);
        st = sea_cuda_launch_check(cs, "layernorm backward");
    }
    if (!st) st = ln_affine_grads(cs, pw, dy, gw, gb, N, D);
    if (!st) st = ln_affine_grads(cs, pw2, dy2, gw2, gb2, N, D);
    if (pw2) sea_cuda_tmp_free(cs, pw2, bytes);
    if (pw) sea_cuda_tmp_free(cs, pw, bytes);
    return st;
}

__global__ void k_rmsnorm(const void *x, int t, const void *w, void *y, float *rstd_out, int64_t D, float eps)
{
    __shared__ float red[33];
    int64_t r = blockIdx.x;
    const int64_t base = r * D;
    float q = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float v = ldf(x, t, base + j);
        q += v * v;
    }
    float ms = block_sum(q, red) / (float)D;
    float rstd = 1.0f / sqrtf(ms + eps);
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x)
        stf(y, t, base + j, ldf(x, t, base + j) * rstd * ldf(w, t, j));
    if (threadIdx.x == 0 && rstd_out) rstd_out[r] = rstd;
}

/* RMSNorm a warp per row (Llama's rows; conditions as LayerNorm's warp path): forward, and
 * the backward's row part (dx and the per-element product for dw) in two passes. */
template <int T, int MAXC>
__global__ void __launch_bounds__(LN_WARP_THREADS)
    k_rmsnorm_warp(const void *x, const void *w, void *y, float *rstd_out, int64_t N, int64_t D, float eps)
{
    const int lane = threadIdx.x & 31;
    const int64_t r = (int64_t)blockIdx.x * LN_ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (r >= N) return;
    const int64_t base = r * D, chunks = D / 8;
    float v[MAXC][8] = {};
    float q = 0.0f;
#pragma unroll
    for (int k = 0; k < MAXC; k++)
        if (lane + 32 * k < chunks) {
            vec8<T>::load(x, base + 8 * (lane + 32 * k), v[k]);
#pragma unroll
            for (int e = 0; e < 8; e++) q += v[k][e] * v[k][e];
        }
    const float rstd = 1.0f / sqrtf(warp_sum(q) / (float)D + eps);
#pragma unroll
    for (int k = 0; k < MAXC; k++) {
        const int64_t c = lane + 32 * k;
        if (c >= chunks) continue;
        float wv[8], o[8];
        vec8<T>::load(w, 8 * c, wv);
#pragma unroll
        for (int e = 0; e < 8; e++) o[e] = v[k][e] * rstd * wv[e];
        vec8<T>::store(y, base + 8 * c, o);
    }
    if (lane == 0 && rstd_out) rstd_out[r] = rstd;
}

template <int T, int MAXC>
__global__ void __launch_bounds__(LN_WARP_THREADS)
    k_rmsnorm_bw_warp(const void *x, const void *w, const void *dy, const float *rstd, void *dx, float *pw, int64_t N,
                      int64_t D)
{
    const int lane = threadIdx.x & 31;
    const int64_t r = (int64_t)blockIdx.x * LN_ROWS_PER_BLOCK + (threadIdx.x >> 5);
    if (r >= N) return;
    const int64_t base = r * D, chunks = D / 8;
    const float rs = rstd[r];
    float s = 0.0f;
#pragma unroll
    for (int k = 0; k < MAXC; k++) {
        const int64_t c = lane + 32 * k;
        if (c >= chunks) continue;
        float xv[8], g[8], wv[8];
        vec8<T>::load(x, base + 8 * c, xv);
        vec8<T>::load(dy, base + 8 * c, g);
        vec8<T>::load(w, 8 * c, wv);
#pragma unroll
        for (int e = 0; e < 8; e++) s += g[e] * wv[e] * xv[e];
        if (pw) {
            float p8[8];
#pragma unroll
            for (int e = 0; e < 8; e++) p8[e] = g[e] * xv[e] * rs;
            vec8<SEA_F32>::store(pw, base + 8 * c, p8);
        }
    }
    if (!dx) return;
    const float cm = warp_sum(s) / (float)D;
#pragma unroll
    for (int k = 0; k < MAXC; k++) {
        const int64_t c = lane + 32 * k;
        if (c >= chunks) continue;
        float xv[8], g[8], wv[8], o[8];
        vec8<T>::load(x, base + 8 * c, xv);
        vec8<T>::load(dy, base + 8 * c, g);
        vec8<T>::load(w, 8 * c, wv);
        vec8<T>::load(dx, base + 8 * c, o);
#pragma unroll
        for (int e = 0; e < 8; e++) o[e] += rs * g[e] * wv[e] - xv[e] * rs * rs * rs * cm;
        vec8<T>::store(dx, base + 8 * c, o);
    }
}

typedef void (*rms_warp_kernel)(const void *, const void *, void *, float *, int64_t, int64_t, float);
typedef void (*rms_bw_warp_kernel)(const void *, const void *, const void *, const float *, void *, float *, int64_t,
                                   int64_t);
template <int T, int C> struct rms_fwd_warp {
    static rms_warp_kernel get() { return k_rmsnorm_warp<T, C>; }
};
template <int T, int C> struct rms_bwd_warp {
    static rms_bw_warp_kernel get() { return k_rmsnorm_bw_warp<T, C>; }
};

extern "C" sea_status sea_cuda_rmsnorm_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    int64_t D = last_dim_of(x), N = D ? numel_of(x) / D : 0;
    if (N == 0) return SEA_OK;
    const void *xp = sea_cuda_ptr(x), *wp = sea_cuda_ptr(op->in[1]), *yp = sea_cuda_ptr(op->out[0]);
    rms_warp_kernel wk = all_al16({xp, wp, yp}) ? ln_warp_pick<rms_fwd_warp>(x->dtype, D) : nullptr;
    if (wk) {
        wk<<<ln_warp_blocks(N), LN_WARP_THREADS, 0, cs->stream>>>(xp, wp, (void *)yp,
                                                                       (float *)sea_cuda_ptr(op->out[1]), N, D,
                                                                       op->p.norm.eps);
        return sea_cuda_launch_check(cs, "rmsnorm (a warp per row)");
    }
    k_rmsnorm<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(op->in[1]),
                                                       sea_cuda_ptr(op->out[0]), (float *)sea_cuda_ptr(op->out[1]), D,
                                                       op->p.norm.eps);
    return sea_cuda_launch_check(cs, "rmsnorm");
}

/* dx += rstd * dy*w - x * rstd^3 * mean(dy*w*x); pw = dy * x * rstd (for dw). */
__global__ void k_rmsnorm_bw(const void *x, int t, const void *w, const void *dy, int dyt, const float *rstd, void *dx,
                             int dxt, float *pw, int64_t D)
{
    __shared__ float red[33];
    int64_t r = blockIdx.x;
    const int64_t base = r * D;
    float rs = rstd[r];
    float s = 0.0f;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xv = ldf(x, t, base + j), g = ldf(dy, dyt, base + j);
        s += g * ldf(w, t, j) * xv;
        if (pw) pw[base + j] = g * xv * rs;
    }
    if (!dx) return;
    float c = block_sum(s, red) / (float)D;
    for (int64_t j = threadIdx.x; j < D; j += blockDim.x) {
        float xv = ldf(x, t, base + j), gw = ldf(dy, dyt, base + j) * ldf(w, t, j);
        stf(dx, dxt, base + j, ldf(dx, dxt, base + j) + rs * gw - xv * rs * rs * rs * c);
    }
}

extern "C" sea_status sea_cuda_rmsnorm_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *dy = op->gout[0];
    sea_tensor *gx = op->gin[0], *gw = op->gin[1];
    if (!dy || (!gx && !gw)) return SEA_OK;
    int64_t D = last_dim_of(x), N = D ? numel_of(x) / D : 0;
    if (N == 0) return SEA_OK;
    float *pw = NULL;
    size_t bytes = (size_t)(N * D) * sizeof(float);
    if (gw) SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, (void **)&pw));
    rms_bw_warp_kernel wk = nullptr;
    if (dy->dtype == x->dtype && (!gx || gx->dtype == x->dtype) &&
        all_al16({sea_cuda_ptr(x), sea_cuda_ptr(op->in[1]), sea_cuda_ptr(dy), sea_cuda_ptr(gx)}))
        wk = ln_warp_pick<rms_bwd_warp>(x->dtype, D);
    if (wk) {
        wk<<<ln_warp_blocks(N), LN_WARP_THREADS, 0, cs->stream>>>(
            sea_cuda_ptr(x), sea_cuda_ptr(op->in[1]), sea_cuda_ptr(dy), (const float *)sea_cuda_ptr(op->out[1]),
            sea_cuda_ptr(gx), pw, N, D);
    } else {
        k_rmsnorm_bw<<<(unsigned)N, THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(op->in[1]),
                                                              sea_cuda_ptr(dy), dy->dtype,
                                                              (const float *)sea_cuda_ptr(op->out[1]),
                                                              sea_cuda_ptr(gx), gx ? gx->dtype : SEA_F32, pw, D);
    }
    sea_status st = sea_cuda_launch_check(cs, "rmsnorm backward");
    if (!st && gw) st = sea_cuda_colsum_acc(cs, pw, SEA_F32, 1, N, D, sea_cuda_ptr(gw), gw->dtype, "rmsnorm backward");
    if (pw) sea_cuda_tmp_free(cs, pw, bytes);
    return st;
}
