/* Decode attention: one new query per sequence over a KV cache (forward only).
 * One block per (b, h); its 8 warps take keys round-robin, each keeping an online softmax
 * (m, l, o) with o spread over the lanes; the warps' partial results are merged in warp order
 * (deterministic). Memory-bound: each key row is read once with coalesced lane accesses. */
#include "cuda_common.cuh"

#define WARPS 8
#define MAX_NV 8

template <int NV>
__global__ void k_decode(const void *q, int64_t qs_b, int64_t qs_h, const void *kc, const void *vc, int t,
                         const int32_t *key_valid, void *out, int64_t H, int64_t S, int64_t Hkv, int hd, int n_keys,
                         float scale)
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
    for (int s = w; s < n_keys; s += WARPS) {
        if (!key_valid[b * S + s]) continue; /* uniform across the warp */
        const int64_t base = ((b * S + s) * Hkv + g) * hd;
        float dot = 0.0f;
#pragma unroll
        for (int i = 0; i < NV; i++) {
            int d = lane + 32 * i;
            if (d < hd) dot += qv[i] * ldf(kc, t, base + d);
        }
        float x = warp_sum(dot) * scale;
        float mn = fmaxf(m, x);
        float corr = expf(m - mn), p = expf(x - mn);
        l = l * corr + p;
        m = mn;
#pragma unroll
        for (int i = 0; i < NV; i++) {
            int d = lane + 32 * i;
            o[i] = o[i] * corr + (d < hd ? p * ldf(vc, t, base + d) : 0.0f);
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
    float M = -INFINITY;
    for (int k = 0; k < WARPS; k++) M = fmaxf(M, wm[k]);
    for (int d = threadIdx.x; d < hd; d += blockDim.x) {
        float L = 0.0f, acc = 0.0f;
        for (int k = 0; k < WARPS; k++) {
            if (wm[k] == -INFINITY) continue;
            float c = expf(wm[k] - M);
            L += wl[k] * c;
            acc += wo[k * hd + d] * c;
        }
        stf(out, t, (b * H + h) * hd + d, L > 0.0f ? acc / L : 0.0f);
    }
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
    void (*k)(const void *, int64_t, int64_t, const void *, const void *, int, const int32_t *, void *, int64_t,
              int64_t, int64_t, int, int, float);
    switch ((hd + 31) / 32) {
    case 1: k = k_decode<1>; break;
    case 2: k = k_decode<2>; break;
    case 3: k = k_decode<3>; break;
    case 4: k = k_decode<4>; break;
    case 5: k = k_decode<5>; break;
    case 6: k = k_decode<6>; break;
    case 7: k = k_decode<7>; break;
    default: k = k_decode<8>; break;
    }
    size_t smem = (size_t)(WARPS * hd) * sizeof(float);
    k<<<dim3((unsigned)H, (unsigned)B), WARPS * 32, smem, cs->stream>>>(
        sea_cuda_ptr(q), q->stride[0], q->stride[1], sea_cuda_ptr(kc), sea_cuda_ptr(op->in[2]), q->dtype, (const int32_t *)sea_cuda_ptr(op->in[3]),
        sea_cuda_ptr(op->out[0]), H, S, Hkv, (int)hd, op->p.attn.n_keys, op->p.attn.scale);
    return sea_cuda_launch_check(cs, "decode_attention");
}

extern "C" sea_status sea_cuda_decode_attention_backward(sea_cuda_stream *cs, const sea_op *op)
{
    (void)op;
    return sea_error(SEA_ERR_INVALID, "%s: decode_attention has no backward", cs->cdev->label);
}
