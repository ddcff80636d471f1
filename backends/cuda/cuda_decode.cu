/* Decode attention: one new query per sequence over a KV cache (forward only).
 * Memory-bound: every valid key's K and V rows are read once; the query and the output are
 * tiny. Two kernels, one block per (b, h) and 8 warps each, every partial result merged in a
 * fixed order (deterministic):
 *
 * - k_decode_vec, for bf16/f16 caches with hd a multiple of 8 up to 256 and 16-byte aligned
 *   rows: G lanes per key (hd / 8 rounded up to a power of two), each lane holding 8
 *   consecutive dims (one 16-byte load per row and lane), 32 / G keys per warp step, and the
 *   next step's K and V rows loaded before the current step's math (a register double buffer: two rows in flight per lane). The dot
 *   product is reduced over the G lanes of a key by a fixed xor-shuffle tree; each lane group
 *   keeps its own online softmax (m, l, o); the groups are merged through shared memory, in
 *   (warp, group) order.
 * - k_decode, anything else (f32, odd head dims, unaligned views): lanes strided over the
 *   head dim, one key per warp step, the warps' partials merged in warp order.
 *
 * With the optional shared prefix (op.h: in[4..6], a prompt's keys/values stored once for its
 * samples) both kernels walk two key segments, the prefix row then the own cache, through the
 * same loop and online softmax; the merge is unchanged.
 *
 * SEA_CUDA_DECODE=basic forces k_decode (for comparison; check.sh's benchmark A/B); auto or
 * unset picks; anything else is an error naming the variable. */
#include <stdlib.h>

#include "cuda_common.cuh"

SEA_CUDA_ABI_UNIT(decode)

#define WARPS 8
#define MAX_NV 8

/* The block's n partial softmaxes (max pm[k], sum pl[k], unnormalized output po[k * ld ..])
 * merged in order k = 0..n-1 (deterministic) into out[base + d] (dtype t), d < hd. Called by
 * every thread of the block after the partials are in shared memory. */
__device__ __forceinline__ void merge_partials(const float *pm, const float *pl, const float *po, int n, int ld,
                                               int hd, void *out, int t, int64_t base)
{
    float M = -INFINITY;
    for (int k = 0; k < n; k++) M = fmaxf(M, pm[k]);
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float L = 0.0f, acc = 0.0f;
        for (int k = 0; k < n; k++) {
            if (pm[k] == -INFINITY) continue;
            const float c = expf(pm[k] - M);
            L += pl[k] * c;
            acc += po[k * ld + d] * c;
        }
        stf(out, t, base + d, L > 0.0f ? acc / L : 0.0f);
    }
}

/* The optional shared prefix (op.h: in[4..6]): prefix_k, prefix_v (Bp, Sp, Hkv, hd) and
 * prefix_valid (Bp, Sp); sequence b reads row b / group_b. k == NULL: none. */
struct decode_prefix {
    const void *k, *v;
    const int32_t *valid;
    int64_t Sp, group_b;
};

template <int NV>
__global__ void k_decode(const void *q, int64_t qs_b, int64_t qs_h, const void *kc, const void *vc, int t,
                         const int32_t *key_valid, void *out, int64_t H, int64_t S, int64_t Hkv, int hd, int n_keys,
                         float scale, decode_prefix pre)
{
    __shared__ float wm[WARPS], wl[WARPS];
    extern __shared__ float wo[]; /* WARPS x hd */
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const int64_t h = blockIdx.x, b = blockIdx.y, g = h / (H / Hkv);
    float qv[NV], o[NV];
#pragma unroll
    for (int i = 0; i < NV; i++) {
        int d = lane + 32 * i;
        qv[i] = d < hd ? ldf(q, t, b * qs_b + h * qs_h + d) : 0.0f;   /* q may be a head slice */
        o[i] = 0.0f;
    }
    float m = -INFINITY, l = 0.0f;
    /* segment 0: the prefix row's Sp keys (when there is one), 1: the own cache's n_keys; each
     * warp walks its share of both with one online softmax */
    for (int seg = pre.k ? 0 : 1; seg < 2; seg++) {
        const void *K = seg ? kc : pre.k, *V = seg ? vc : pre.v;
        const int64_t row0 = seg ? b * S : b / pre.group_b * pre.Sp; /* first key's row in (rows, Hkv, hd) */
        const int32_t *valid = seg ? key_valid : pre.valid;
        const int n = seg ? n_keys : (int)pre.Sp;
        for (int s = w; s < n; s += WARPS) {
            if (!valid[row0 + s]) continue; /* uniform across the warp */
            const int64_t base = ((row0 + s) * Hkv + g) * hd;
            float dot = 0.0f;
#pragma unroll
            for (int i = 0; i < NV; i++) {
                int d = lane + 32 * i;
                if (d < hd) dot += qv[i] * ldf(K, t, base + d);
            }
            float x = warp_sum(dot) * scale;
            float mn = fmaxf(m, x);
            float corr = expf(m - mn), p = expf(x - mn);
            l = l * corr + p;
            m = mn;
#pragma unroll
            for (int i = 0; i < NV; i++) {
                int d = lane + 32 * i;
                o[i] = o[i] * corr + (d < hd ? p * ldf(V, t, base + d) : 0.0f);
            }
        }
    }
    if (lane == 0) {
        wm[w] = m;
        wl[w] = l;
    }
#pragma unroll
    for (int i = 0; i < NV; i++) {
        int d = lane + 32 * i;
        if (d < hd) wo[w * hd + d] = o[i];
    }
    __syncthreads();
    merge_partials(wm, wl, wo, WARPS, hd, hd, out, t, (b * H + h) * hd);
}

/* 8 packed 16-bit floats to f32. */
template <bool BF>
__device__ __forceinline__ void unpack8(const uint4 &u, float *f)
{
    const uint32_t w[4] = {u.x, u.y, u.z, u.w};
#pragma unroll
    for (int i = 0; i < 4; i++) {
        const uint16_t lo = (uint16_t)(w[i] & 0xffffu), hi = (uint16_t)(w[i] >> 16);
        f[2 * i] = BF ? sea_cu_bf16_to_f32(lo) : sea_cu_f16_to_f32(lo);
        f[2 * i + 1] = BF ? sea_cu_bf16_to_f32(hi) : sea_cu_f16_to_f32(hi);
    }
}

/* G lanes a key (a power of two), hd <= 8 G: lanes whose 8 dims lie past hd (hd 80 in groups
 * of 16, say) hold zeros, load nothing and write nothing. */
template <int G, bool BF>
__global__ void __launch_bounds__(WARPS * 32)
    k_decode_vec(const uint16_t *q, int64_t qs_b, int64_t qs_h, const uint16_t *kc, const uint16_t *vc,
                 const int32_t *key_valid, uint16_t *out, int64_t H, int64_t S, int64_t Hkv, int hd, int n_keys,
                 float scale, decode_prefix pre)
{
    constexpr int KPW = 32 / G, HD = 8 * G, SLOTS = WARPS * KPW, STEP = WARPS * KPW;
    __shared__ float pm[SLOTS], pl[SLOTS];
    __shared__ float po[SLOTS * HD]; /* KPW * HD = 256: 8 KiB whatever the head dim */
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5, sub = lane / G, part = lane % G;
    const bool dims = 8 * part < hd; /* this lane's 8 dims exist */
    const int64_t h = blockIdx.x, b = blockIdx.y, g = h / (H / Hkv);
    float qv[8], o[8];
#pragma unroll
    for (int i = 0; i < 8; i++) qv[i] = o[i] = 0.0f;
    if (dims) unpack8<BF>(*(const uint4 *)(q + b * qs_b + h * qs_h + 8 * part), qv);
    float m = -INFINITY, l = 0.0f;
    const int64_t row = Hkv * hd;
    /* segment 0: the prefix row's Sp keys (when there is one), 1: the own cache's n_keys; one
     * online softmax over both, the same pipelined walk for each */
    for (int seg = pre.k ? 0 : 1; seg < 2; seg++) {
        /* key s's row of either cache: ((row0 + s) * Hkv + g) * hd elements in */
        const int64_t row0 = seg ? b * S : b / pre.group_b * pre.Sp;
        const uint16_t *kb = (seg ? kc : (const uint16_t *)pre.k) + (row0 * Hkv + g) * hd + 8 * part;
        const uint16_t *vb = (seg ? vc : (const uint16_t *)pre.v) + (row0 * Hkv + g) * hd + 8 * part;
        const int32_t *valid = (seg ? key_valid : pre.valid) + row0;
        const int n = seg ? n_keys : (int)pre.Sp;
        int s = w * KPW + sub;
        bool next_ok = s < n && valid[s] != 0;
        uint4 kn = make_uint4(0, 0, 0, 0), vn = make_uint4(0, 0, 0, 0);
        if (next_ok && dims) {
            kn = *(const uint4 *)(kb + s * row);
            vn = *(const uint4 *)(vb + s * row);
        }
        for (int s0 = w * KPW; s0 < n; s0 += STEP) { /* uniform across the warp */
            const uint4 ku = kn, vu = vn;
            const bool ok = next_ok;
            s += STEP;
            next_ok = s < n && valid[s] != 0;
            if (next_ok && dims) {
                kn = *(const uint4 *)(kb + s * row);
                vn = *(const uint4 *)(vb + s * row);
            }
            float kf[8];
            unpack8<BF>(ku, kf);
            float dot = 0.0f;
#pragma unroll
            for (int i = 0; i < 8; i++) dot += qv[i] * kf[i];
#pragma unroll
            for (int off = G / 2; off > 0; off >>= 1) dot += __shfl_xor_sync(0xffffffffu, dot, off);
            if (ok) {
                const float x = dot * scale, mn = fmaxf(m, x);
                const float corr = expf(m - mn), p = expf(x - mn);
                l = l * corr + p;
                m = mn;
                float vf[8];
                unpack8<BF>(vu, vf);
#pragma unroll
                for (int i = 0; i < 8; i++) o[i] = o[i] * corr + p * vf[i];
            }
        }
    }
    const int slot = w * KPW + sub;
    if (part == 0) {
        pm[slot] = m;
        pl[slot] = l;
    }
#pragma unroll
    for (int i = 0; i < 8; i++) po[slot * HD + 8 * part + i] = o[i];
    __syncthreads();
    merge_partials(pm, pl, po, SLOTS, HD, hd, out, BF ? SEA_BF16 : SEA_F16, (b * H + h) * hd);
}

typedef void (*decode_vec_fn)(const uint16_t *, int64_t, int64_t, const uint16_t *, const uint16_t *, const int32_t *,
                              uint16_t *, int64_t, int64_t, int64_t, int, int, float, decode_prefix);

/* The smallest lane group holding hd / 8 lanes: hd a multiple of 8 up to 256 (Pythia-2.8B's
 * 80 takes groups of 16, 10 lanes busy). */
template <bool BF>
static decode_vec_fn decode_vec_for(int64_t hd)
{
    if (hd <= 0 || hd % 8 || hd > 256) return NULL;
    if (hd <= 8) return k_decode_vec<1, BF>;
    if (hd <= 16) return k_decode_vec<2, BF>;
    if (hd <= 32) return k_decode_vec<4, BF>;
    if (hd <= 64) return k_decode_vec<8, BF>;
    if (hd <= 128) return k_decode_vec<16, BF>;
    return k_decode_vec<32, BF>;
}

/* The vectorized kernel for this op, or NULL (k_decode runs). */
static decode_vec_fn decode_vec_pick(const sea_op *op)
{
    const sea_tensor *q = op->in[0], *kc = op->in[1], *vc = op->in[2], *out = op->out[0];
    if (q->dtype != kc->dtype || (q->dtype != SEA_BF16 && q->dtype != SEA_F16)) return NULL;
    /* 16-byte loads: every base 16-byte aligned, q's strides whole multiples of 8 elements */
    uintptr_t a = (uintptr_t)sea_cuda_ptr(q) | (uintptr_t)sea_cuda_ptr(kc) | (uintptr_t)sea_cuda_ptr(vc) |
                  (uintptr_t)sea_cuda_ptr(out);
    if (op->in[4]) a |= (uintptr_t)sea_cuda_ptr(op->in[4]) | (uintptr_t)sea_cuda_ptr(op->in[5]);
    if ((a & 15) || (q->stride[0] & 7) || (q->stride[1] & 7)) return NULL;
    return q->dtype == SEA_BF16 ? decode_vec_for<true>(q->shape[2]) : decode_vec_for<false>(q->shape[2]);
}

extern "C" sea_status sea_cuda_decode_attention_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *q = op->in[0], *kc = op->in[1];
    int64_t B = q->shape[0], H = q->shape[1], hd = q->shape[2], S = kc->shape[1], Hkv = kc->shape[2];
    if (B == 0 || H == 0) return SEA_OK;
    if (hd > 32 * MAX_NV || hd < 1)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: decode_attention: head dim %lld not in [1, %d]", cs->cdev->label,
                         (long long)hd, 32 * MAX_NV);
    if (B > 65535) return sea_error(SEA_ERR_UNSUPPORTED, "%s: decode_attention: batch %lld too large", cs->cdev->label, (long long)B);
    /* SEA_CUDA_DECODE: unset or auto (the vectorized kernel where it applies), or basic */
    const char *mode = getenv("SEA_CUDA_DECODE");
    bool basic = mode && !strcmp(mode, "basic");
    if (mode && *mode && !basic && strcmp(mode, "auto"))
        return sea_error(SEA_ERR_INVALID, "%s: SEA_CUDA_DECODE=%.40s: expected auto or basic", cs->cdev->label, mode);
    decode_vec_fn k_vec = basic ? NULL : decode_vec_pick(op);
    decode_prefix pre = {NULL, NULL, NULL, 0, 1};
    if (op->in[4]) {
        pre.k = sea_cuda_ptr(op->in[4]);
        pre.v = sea_cuda_ptr(op->in[5]);
        pre.valid = (const int32_t *)sea_cuda_ptr(op->in[6]);
        pre.Sp = op->in[4]->shape[1];
        pre.group_b = B / op->in[4]->shape[0];
    }
    if (k_vec) {
        k_vec<<<dim3((unsigned)H, (unsigned)B), WARPS * 32, 0, cs->stream>>>(
            (const uint16_t *)sea_cuda_ptr(q), q->stride[0], q->stride[1], (const uint16_t *)sea_cuda_ptr(kc),
            (const uint16_t *)sea_cuda_ptr(op->in[2]), (const int32_t *)sea_cuda_ptr(op->in[3]),
            (uint16_t *)sea_cuda_ptr(op->out[0]), H, S, Hkv, (int)hd, op->p.attn.n_keys, op->p.attn.scale, pre);
        return sea_cuda_launch_check(cs, "decode_attention");
    }
    void (*k_basic)(const void *, int64_t, int64_t, const void *, const void *, int, const int32_t *, void *, int64_t,
                    int64_t, int64_t, int, int, float, decode_prefix);
    switch ((hd + 31) / 32) {
    case 1: k_basic = k_decode<1>; break;
    case 2: k_basic = k_decode<2>; break;
    case 3: k_basic = k_decode<3>; break;
    case 4: k_basic = k_decode<4>; break;
    case 5: k_basic = k_decode<5>; break;
    case 6: k_basic = k_decode<6>; break;
    case 7: k_basic = k_decode<7>; break;
    default: k_basic = k_decode<8>; break;
    }
    size_t smem = (size_t)(WARPS * hd) * sizeof(float);
    k_basic<<<dim3((unsigned)H, (unsigned)B), WARPS * 32, smem, cs->stream>>>(
        sea_cuda_ptr(q), q->stride[0], q->stride[1], sea_cuda_ptr(kc), sea_cuda_ptr(op->in[2]), q->dtype, (const int32_t *)sea_cuda_ptr(op->in[3]),
        sea_cuda_ptr(op->out[0]), H, S, Hkv, (int)hd, op->p.attn.n_keys, op->p.attn.scale, pre);
    return sea_cuda_launch_check(cs, "decode_attention");
}

extern "C" sea_status sea_cuda_decode_attention_backward(sea_cuda_stream *cs, const sea_op *op)
{
    (void)op;
    return sea_error(SEA_ERR_INVALID, "%s: decode_attention has no backward", cs->cdev->label);
}
