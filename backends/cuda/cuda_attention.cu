/* Causal self-attention with key padding: a flash-style tiled forward (online softmax; the
 * (T, T) score matrix is never stored; lse saved) and its backward in two kernels, one owning
 * dQ rows and one owning dK/dV rows, so every gradient element is accumulated by one thread in
 * a fixed order: deterministic, no atomics.
 *
 * Layout of the work: a warp handles 4 rows (queries in the forward and dQ kernels, keys in the
 * dK/dV kernel); lane j of the warp owns the j-th row of the other side's 32-row tile for the
 * dot products, and head-dim elements d = lane + 32 i for the accumulators. Tiles live in
 * shared memory as f32 (inputs may be bf16/f16); rows read with a lane-varying row index are
 * padded by one float to avoid bank conflicts. fp32 SIMT math.
 *
 * These are the f32 path and the fallback: bf16/f16 inputs with a head dim that is a multiple
 * of 8 up to 256 go to the tensor-core kernels of cuda_flash_attn.cu (selection: cuda_attn_plan.h; SEA_CUDA_ATTN=basic
 * forces these kernels for comparison). The delta pass below serves both. */
#include <stdio.h>
#include <stdlib.h>

#include "cuda_common.cuh"

SEA_CUDA_ABI_UNIT(attention)

#define WARPS 4
#define RPW 4                  /* rows per warp */
#define BR (WARPS * RPW)       /* rows per block: 16 */
#define BC 32                  /* tile of the other side: one per lane */
#define MAX_NV 8               /* head dim <= 256 */

struct attn_args {
    const void *q, *k, *v;     /* (B, T, H|Hkv, hd) contiguous */
    int qt;                    /* dtype shared by q, k, v, out */
    const int32_t *key_valid;  /* (B, T) or NULL */
    void *out;                 /* (B, T, H, hd) */
    float *lse;                /* (B, H, T) or NULL */
    const void *dout;          /* backward: (B, T, H, hd) */
    const float *delta;        /* backward: (B, H, T) rowsum(dO * O) - dlse */
    void *dq, *dk, *dv;        /* backward: accumulated, dtype gt */
    int gt;
    int64_t B, T, H, Hkv, hd;
    float scale;
};

__device__ __forceinline__ int64_t qoff(const attn_args &a, int64_t b, int64_t t, int64_t h)
{
    return ((b * a.T + t) * a.H + h) * a.hd;
}

__device__ __forceinline__ int64_t kvoff(const attn_args &a, int64_t b, int64_t s, int64_t g)
{
    return ((b * a.T + s) * a.Hkv + g) * a.hd;
}

/* rows x hd tile from a (B, T, heads, hd) tensor into shared memory with row pitch `pitch`. */
__device__ void load_tile(float *dst, int pitch, const void *src, int t, int64_t b, int64_t row0, int rows,
                          int64_t T, int64_t heads, int64_t head, int64_t hd)
{
    for (int i = threadIdx.x; i < rows * hd; i += blockDim.x) {
        int r = i / (int)hd, d = i - r * (int)hd;
        int64_t row = row0 + r;
        dst[r * pitch + d] = row < T ? ldf(src, t, ((b * T + row) * heads + head) * hd + d) : 0.0f;
    }
}

template <int NV>
__global__ void k_attn_fwd(attn_args a)
{
    extern __shared__ float sm[];
    const int hd = (int)a.hd, kp = hd + 1;
    float *Qs = sm;                  /* BR x hd */
    float *Ks = Qs + BR * hd;        /* BC x (hd+1) */
    float *Vs = Ks + BC * kp;        /* BC x hd */
    __shared__ int valid[BC];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const int64_t t0 = (int64_t)blockIdx.x * BR, h = blockIdx.y, b = blockIdx.z;
    const int64_t g = h / (a.H / a.Hkv);
    load_tile(Qs, hd, a.q, a.qt, b, t0, BR, a.T, a.H, h, a.hd);

    float m[RPW], l[RPW], o[RPW][NV];
#pragma unroll
    for (int r = 0; r < RPW; r++) {
        m[r] = -INFINITY;
        l[r] = 0.0f;
#pragma unroll
        for (int i = 0; i < NV; i++) o[r][i] = 0.0f;
    }
    const int64_t s_end = min(a.T, t0 + BR); /* causal: no key beyond the block's last query */
    for (int64_t s0 = 0; s0 < s_end; s0 += BC) {
        __syncthreads();
        load_tile(Ks, kp, a.k, a.qt, b, s0, BC, a.T, a.Hkv, g, a.hd);
        load_tile(Vs, hd, a.v, a.qt, b, s0, BC, a.T, a.Hkv, g, a.hd);
        if (threadIdx.x < BC) {
            int64_t s = s0 + threadIdx.x;
            valid[threadIdx.x] = s < a.T && (!a.key_valid || a.key_valid[b * a.T + s] != 0);
        }
        __syncthreads();
        float sc[RPW];
#pragma unroll
        for (int r = 0; r < RPW; r++) sc[r] = 0.0f;
        for (int d = 0; d < hd; d++) {
            float kd = Ks[lane * kp + d];
#pragma unroll
            for (int r = 0; r < RPW; r++) sc[r] += Qs[(w * RPW + r) * hd + d] * kd;
        }
        const int64_t s = s0 + lane;
        float p[RPW];
#pragma unroll
        for (int r = 0; r < RPW; r++) {
            const int64_t t = t0 + w * RPW + r;
            float x = (valid[lane] && s <= t) ? sc[r] * a.scale : -INFINITY;
            float mt = warp_max(x);
            float mn = fmaxf(m[r], mt);
            float corr = mn == -INFINITY ? 1.0f : expf(m[r] - mn);
            p[r] = mn == -INFINITY ? 0.0f : expf(x - mn);
            l[r] = l[r] * corr + warp_sum(p[r]);
            m[r] = mn;
#pragma unroll
            for (int i = 0; i < NV; i++) o[r][i] *= corr;
        }
        for (int j = 0; j < BC; j++) {
            float pj[RPW];
#pragma unroll
            for (int r = 0; r < RPW; r++) pj[r] = __shfl_sync(0xffffffffu, p[r], j);
#pragma unroll
            for (int i = 0; i < NV; i++) {
                int d = lane + 32 * i;
                if (d < hd) {
                    float vd = Vs[j * hd + d];
#pragma unroll
                    for (int r = 0; r < RPW; r++) o[r][i] += pj[r] * vd;
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < RPW; r++) {
        const int64_t t = t0 + w * RPW + r;
        if (t >= a.T) continue;
        float inv = l[r] > 0.0f ? 1.0f / l[r] : 0.0f;
#pragma unroll
        for (int i = 0; i < NV; i++) {
            int d = lane + 32 * i;
            if (d < hd) stf(a.out, a.qt, qoff(a, b, t, h) + d, o[r][i] * inv);
        }
        if (a.lse && lane == 0) a.lse[(b * a.H + h) * a.T + t] = l[r] > 0.0f ? m[r] + logf(l[r]) : -INFINITY;
    }
}

/* delta[b, h, t] = sum_d dO * O - dlse: one warp per (b, t, h). */
__global__ void k_attn_delta(const void *dout, int dt, const void *out, int ot, const float *dlse, float *delta,
                             int64_t B, int64_t T, int64_t H, int64_t hd)
{
    int64_t wid = ((int64_t)blockIdx.x * blockDim.x + threadIdx.x) >> 5;
    int lane = threadIdx.x & 31;
    if (wid >= B * T * H) return;
    int64_t h = wid % H, bt = wid / H, t = bt % T, b = bt / T;
    float s = 0.0f;
    for (int64_t d = lane; d < hd; d += 32) s += ldf(dout, dt, wid * hd + d) * ldf(out, ot, wid * hd + d);
    s = warp_sum(s);
    if (lane == 0) {
        int64_t i = (b * H + h) * T + t;
        delta[i] = s - (dlse ? dlse[i] : 0.0f);
    }
}

/* dQ: like the forward, with P recomputed from the saved lse. */
template <int NV>
__global__ void k_attn_dq(attn_args a)
{
    extern __shared__ float sm[];
    const int hd = (int)a.hd, kp = hd + 1;
    float *Qs = sm;               /* BR x hd */
    float *dOs = Qs + BR * hd;    /* BR x hd */
    float *Ks = dOs + BR * hd;    /* BC x (hd+1) */
    float *Vs = Ks + BC * kp;     /* BC x (hd+1) */
    __shared__ int valid[BC];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const int64_t t0 = (int64_t)blockIdx.x * BR, h = blockIdx.y, b = blockIdx.z;
    const int64_t g = h / (a.H / a.Hkv);
    load_tile(Qs, hd, a.q, a.qt, b, t0, BR, a.T, a.H, h, a.hd);
    load_tile(dOs, hd, a.dout, a.qt, b, t0, BR, a.T, a.H, h, a.hd);
    float lse[RPW], del[RPW], dq[RPW][NV];
#pragma unroll
    for (int r = 0; r < RPW; r++) {
        int64_t t = t0 + w * RPW + r;
        lse[r] = t < a.T ? a.lse[(b * a.H + h) * a.T + t] : -INFINITY;
        del[r] = t < a.T ? a.delta[(b * a.H + h) * a.T + t] : 0.0f;
#pragma unroll
        for (int i = 0; i < NV; i++) dq[r][i] = 0.0f;
    }
    const int64_t s_end = min(a.T, t0 + BR);
    for (int64_t s0 = 0; s0 < s_end; s0 += BC) {
        __syncthreads();
        load_tile(Ks, kp, a.k, a.qt, b, s0, BC, a.T, a.Hkv, g, a.hd);
        load_tile(Vs, kp, a.v, a.qt, b, s0, BC, a.T, a.Hkv, g, a.hd);
        if (threadIdx.x < BC) {
            int64_t s = s0 + threadIdx.x;
            valid[threadIdx.x] = s < a.T && (!a.key_valid || a.key_valid[b * a.T + s] != 0);
        }
        __syncthreads();
        float sc[RPW], dp[RPW];
#pragma unroll
        for (int r = 0; r < RPW; r++) sc[r] = dp[r] = 0.0f;
        for (int d = 0; d < hd; d++) {
            float kd = Ks[lane * kp + d], vd = Vs[lane * kp + d];
#pragma unroll
            for (int r = 0; r < RPW; r++) {
                sc[r] += Qs[(w * RPW + r) * hd + d] * kd;
                dp[r] += dOs[(w * RPW + r) * hd + d] * vd;
            }
        }
        const int64_t s = s0 + lane;
        float ds[RPW];
#pragma unroll
        for (int r = 0; r < RPW; r++) {
            const int64_t t = t0 + w * RPW + r;
            bool ok = valid[lane] && s <= t && lse[r] != -INFINITY;
            float p = ok ? expf(sc[r] * a.scale - lse[r]) : 0.0f;
            ds[r] = p * (dp[r] - del[r]);
        }
        for (int j = 0; j < BC; j++) {
            float dj[RPW];
#pragma unroll
            for (int r = 0; r < RPW; r++) dj[r] = __shfl_sync(0xffffffffu, ds[r], j);
#pragma unroll
            for (int i = 0; i < NV; i++) {
                int d = lane + 32 * i;
                if (d < hd) {
                    float kd = Ks[j * kp + d];
#pragma unroll
                    for (int r = 0; r < RPW; r++) dq[r][i] += dj[r] * kd;
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < RPW; r++) {
        const int64_t t = t0 + w * RPW + r;
        if (t >= a.T) continue;
#pragma unroll
        for (int i = 0; i < NV; i++) {
            int d = lane + 32 * i;
            if (d < hd) {
                int64_t o = qoff(a, b, t, h) + d;
                stf(a.dq, a.gt, o, ldf(a.dq, a.gt, o) + a.scale * dq[r][i]);
            }
        }
    }
}

/* dK, dV: a block owns 16 keys of one kv head and loops over the query heads of its group
 * and the query tiles at or after its keys. */
template <int NV>
__global__ void k_attn_dkv(attn_args a)
{
    extern __shared__ float sm[];
    const int hd = (int)a.hd, qp = hd + 1;
    float *Kb = sm;               /* BR x hd: this block's keys */
    float *Vb = Kb + BR * hd;     /* BR x hd */
    float *Qt = Vb + BR * hd;     /* BC x (hd+1) */
    float *dOt = Qt + BC * qp;    /* BC x (hd+1) */
    __shared__ float lse_t[BC], del_t[BC];
    __shared__ int kvalid[BR];
    const int lane = threadIdx.x & 31, w = threadIdx.x >> 5;
    const int64_t s0 = (int64_t)blockIdx.x * BR, g = blockIdx.y, b = blockIdx.z;
    const int64_t group = a.H / a.Hkv;
    load_tile(Kb, hd, a.k, a.qt, b, s0, BR, a.T, a.Hkv, g, a.hd);
    load_tile(Vb, hd, a.v, a.qt, b, s0, BR, a.T, a.Hkv, g, a.hd);
    if (threadIdx.x < BR) {
        int64_t s = s0 + threadIdx.x;
        kvalid[threadIdx.x] = s < a.T && (!a.key_valid || a.key_valid[b * a.T + s] != 0);
    }
    float dk[RPW][NV], dv[RPW][NV];
#pragma unroll
    for (int r = 0; r < RPW; r++)
#pragma unroll
        for (int i = 0; i < NV; i++) dk[r][i] = dv[r][i] = 0.0f;
    for (int64_t hh = 0; hh < group; hh++) {
        const int64_t h = g * group + hh;
        for (int64_t t0 = s0; t0 < a.T; t0 += BC) {
            __syncthreads();
            load_tile(Qt, qp, a.q, a.qt, b, t0, BC, a.T, a.H, h, a.hd);
            load_tile(dOt, qp, a.dout, a.qt, b, t0, BC, a.T, a.H, h, a.hd);
            if (threadIdx.x < BC) {
                int64_t t = t0 + threadIdx.x;
                lse_t[threadIdx.x] = t < a.T ? a.lse[(b * a.H + h) * a.T + t] : -INFINITY;
                del_t[threadIdx.x] = t < a.T ? a.delta[(b * a.H + h) * a.T + t] : 0.0f;
            }
            __syncthreads();
            float sc[RPW], dp[RPW];
#pragma unroll
            for (int r = 0; r < RPW; r++) sc[r] = dp[r] = 0.0f;
            for (int d = 0; d < hd; d++) {
                float qd = Qt[lane * qp + d], od = dOt[lane * qp + d];
#pragma unroll
                for (int r = 0; r < RPW; r++) {
                    sc[r] += qd * Kb[(w * RPW + r) * hd + d];
                    dp[r] += od * Vb[(w * RPW + r) * hd + d];
                }
            }
            const int64_t t = t0 + lane;
            const float lt = lse_t[lane], dl = del_t[lane];
            float p[RPW], ds[RPW];
#pragma unroll
            for (int r = 0; r < RPW; r++) {
                const int64_t s = s0 + w * RPW + r;
                bool ok = kvalid[w * RPW + r] && t < a.T && s <= t && lt != -INFINITY;
                p[r] = ok ? expf(sc[r] * a.scale - lt) : 0.0f;
                ds[r] = p[r] * (dp[r] - dl);
            }
            for (int j = 0; j < BC; j++) {
                float pj[RPW], dj[RPW];
#pragma unroll
                for (int r = 0; r < RPW; r++) {
                    pj[r] = __shfl_sync(0xffffffffu, p[r], j);
                    dj[r] = __shfl_sync(0xffffffffu, ds[r], j);
                }
#pragma unroll
                for (int i = 0; i < NV; i++) {
                    int d = lane + 32 * i;
                    if (d < hd) {
                        float od = dOt[j * qp + d], qd = Qt[j * qp + d];
#pragma unroll
                        for (int r = 0; r < RPW; r++) {
                            dv[r][i] += pj[r] * od;
                            dk[r][i] += dj[r] * qd;
                        }
                    }
                }
            }
        }
    }
#pragma unroll
    for (int r = 0; r < RPW; r++) {
        const int64_t s = s0 + w * RPW + r;
        if (s >= a.T) continue;
#pragma unroll
        for (int i = 0; i < NV; i++) {
            int d = lane + 32 * i;
            if (d >= hd) continue;
            int64_t o = kvoff(a, b, s, g) + d;
            if (a.dk) stf(a.dk, a.gt, o, ldf(a.dk, a.gt, o) + a.scale * dk[r][i]);
            if (a.dv) stf(a.dv, a.gt, o, ldf(a.dv, a.gt, o) + dv[r][i]);
        }
    }
}

typedef void (*attn_kernel)(attn_args);


#define PICK(kname, nv, out)                                 \
    switch (nv) {                                            \
    case 1: out = kname<1>; break;                           \
    case 2: out = kname<2>; break;                           \
    case 3: out = kname<3>; break;                           \
    case 4: out = kname<4>; break;                           \
    case 5: out = kname<5>; break;                           \
    case 6: out = kname<6>; break;                           \
    case 7: out = kname<7>; break;                           \
    default: out = kname<8>; break;                          \
    }

static sea_status launch(sea_cuda_stream *cs, attn_kernel k, dim3 grid, size_t smem, const attn_args &a,
                         const char *name)
{
    if (grid.x == 0 || grid.y == 0 || grid.z == 0) return SEA_OK;
    if (grid.y > 65535 || grid.z > 65535)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: %u heads x %u batch exceed the grid", cs->cdev->label, name,
                         grid.y, grid.z);
    SEA_TRY(sea_cuda_check(cudaFuncSetAttribute((const void *)k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),
                           cs, name));
    k<<<grid, WARPS * 32, smem, cs->stream>>>(a);
    return sea_cuda_launch_check(cs, name);
}

static sea_status fill_args(sea_cuda_stream *cs, const sea_op *op, attn_args *a, const char *name)
{
    const sea_tensor *q = op->in[0], *k = op->in[1];
    memset(a, 0, sizeof *a);
    a->q = sea_cuda_ptr(q);
    a->k = sea_cuda_ptr(k);
    a->v = sea_cuda_ptr(op->in[2]);
    a->qt = q->dtype;
    a->key_valid = (const int32_t *)sea_cuda_ptr(op->in[3]);
    a->out = sea_cuda_ptr(op->out[0]);
    a->lse = (float *)sea_cuda_ptr(op->out[1]);
    a->B = q->shape[0];
    a->T = q->shape[1];
    a->H = q->shape[2];
    a->hd = q->shape[3];
    a->Hkv = k->shape[2];
    a->scale = op->p.attn.scale;
    if (a->hd > 32 * MAX_NV || a->hd < 1)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: head dim %lld not in [1, %d]", cs->cdev->label, name,
                         (long long)a->hd, 32 * MAX_NV);
    return SEA_OK;
}

static bool aligned16(const sea_tensor *t) { return !t || ((uintptr_t)sea_cuda_ptr(t) & 15u) == 0; }

/* Which kernel family runs this op (cuda_attn_plan.h). With SEA_CUDA_ATTN=flash, a shape or
 * dtype the flash kernels do not take is an error that says why. */
static sea_status plan_for(sea_cuda_stream *cs, const sea_op *op, bool backward, sea_cuda_attn_plan *p)
{
    const sea_tensor *q = op->in[0];
    const char *what = backward ? "attention backward" : "attention";
    sea_cuda_attn_mode mode;
    if (sea_cuda_attn_mode_parse(getenv("SEA_CUDA_ATTN"), &mode)) {
        char msg[256];
        snprintf(msg, sizeof msg, "%s", sea_last_error());
        return sea_error(SEA_ERR_INVALID, "%s: %s: %s", cs->cdev->label, what, msg);
    }
    bool al = aligned16(q) && aligned16(op->in[1]) && aligned16(op->in[2]) && aligned16(op->out[0]) &&
              (!backward || aligned16(op->gout[0]));
    sea_cuda_attn_plan_make(mode, q->dtype, q->shape[3], al, cs->cdev->smem_optin, backward, p);
    if (backward && p->flash) {
        sea_cuda_fa_dq_mode dq;
        if (sea_cuda_fa_dq_mode_parse(getenv("SEA_CUDA_FA_DQ"), &dq)) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s", sea_last_error());
            return sea_error(SEA_ERR_INVALID, "%s: %s: %s", cs->cdev->label, what, msg);
        }
        p->dq_gemm = sea_cuda_fa_dq_by_gemm(dq, q->shape[0], q->shape[2], q->shape[1]);
    }
    if (mode == SEA_CUDA_ATTN_FLASH && !p->flash)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: q %s (B, T, H, hd) = (%lld, %lld, %lld, %lld): SEA_CUDA_ATTN=flash "
                         "but the flash kernels do not run this: %s", cs->cdev->label, what, sea_dtype_name(q->dtype),
                         (long long)q->shape[0], (long long)q->shape[1], (long long)q->shape[2], (long long)q->shape[3],
                         p->why);
    return SEA_OK;
}

static sea_cuda_fa_args fa_args_of(const attn_args &a)
{
    sea_cuda_fa_args f;
    memset(&f, 0, sizeof f);
    f.q = a.q;
    f.k = a.k;
    f.v = a.v;
    f.dt = (sea_dtype)a.qt;
    f.key_valid = a.key_valid;
    f.out = a.out;
    f.lse = a.lse;
    f.dout = a.dout;
    f.lse_in = a.lse;
    f.delta = a.delta;
    f.dq = a.dq;
    f.dk = a.dk;
    f.dv = a.dv;
    f.gt = a.gt;
    f.B = a.B;
    f.T = a.T;
    f.H = a.H;
    f.Hkv = a.Hkv;
    f.hd = a.hd;
    f.scale = a.scale;
    f.scale_log2 = a.scale * 1.4426950408889634f;
    return f;
}

extern "C" sea_status sea_cuda_attention_forward(sea_cuda_stream *cs, const sea_op *op)
{
    attn_args a;
    SEA_TRY(fill_args(cs, op, &a, "attention"));
    sea_cuda_attn_plan plan;
    SEA_TRY(plan_for(cs, op, false, &plan));
    if (plan.flash) {
        sea_cuda_fa_args f = fa_args_of(a);
        return sea_cuda_flash_attention_fwd(cs, &plan, &f);
    }
    int nv = (int)((a.hd + 31) / 32);
    attn_kernel k;
    PICK(k_attn_fwd, nv, k);
    size_t smem = (size_t)(BR * a.hd + BC * (a.hd + 1) + BC * a.hd) * sizeof(float);
    dim3 grid((unsigned)((a.T + BR - 1) / BR), (unsigned)a.H, (unsigned)a.B);
    return launch(cs, k, grid, smem, a, "attention");
}

extern "C" sea_status sea_cuda_attention_backward(sea_cuda_stream *cs, const sea_op *op)
{
    attn_args a;
    SEA_TRY(fill_args(cs, op, &a, "attention backward"));
    const sea_tensor *go = op->gout[0], *glse = op->gout[1];
    if (!go || (!op->gin[0] && !op->gin[1] && !op->gin[2])) return SEA_OK;
    a.dout = sea_cuda_ptr(go);
    a.dq = sea_cuda_ptr(op->gin[0]);
    a.dk = sea_cuda_ptr(op->gin[1]);
    a.dv = sea_cuda_ptr(op->gin[2]);
    a.gt = op->gin[0] ? op->gin[0]->dtype : op->gin[1] ? op->gin[1]->dtype : op->gin[2]->dtype;
    if (go->dtype != a.qt)
        return sea_error(SEA_ERR_DTYPE, "%s: attention backward: gradient %s but q %s", cs->cdev->label,
                         sea_dtype_name(go->dtype), sea_dtype_name((sea_dtype)a.qt));
    sea_cuda_attn_plan plan;
    SEA_TRY(plan_for(cs, op, true, &plan));
    int64_t rows = a.B * a.H * a.T;
    if (rows == 0) return SEA_OK;
    float *delta;
    size_t bytes = (size_t)rows * sizeof(float);
    SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, (void **)&delta));
    a.delta = delta;
    int64_t threads = rows * 32;
    k_attn_delta<<<(unsigned)((threads + 255) / 256), 256, 0, cs->stream>>>(
        a.dout, go->dtype, a.out, a.qt, glse ? (const float *)sea_cuda_ptr(glse) : NULL, delta, a.B, a.T, a.H, a.hd);
    sea_status st = sea_cuda_launch_check(cs, "attention backward (delta)");
    if (!st && plan.flash) {
        sea_cuda_fa_args f = fa_args_of(a);
        st = sea_cuda_flash_attention_bwd(cs, &plan, &f);
        sea_cuda_tmp_free(cs, delta, bytes);
        return st;
    }
    int nv = (int)((a.hd + 31) / 32);
    if (!st && a.dq) {
        attn_kernel k;
        PICK(k_attn_dq, nv, k);
        size_t smem = (size_t)(2 * BR * a.hd + 2 * BC * (a.hd + 1)) * sizeof(float);
        dim3 grid((unsigned)((a.T + BR - 1) / BR), (unsigned)a.H, (unsigned)a.B);
        st = launch(cs, k, grid, smem, a, "attention backward (dq)");
    }
    if (!st && (a.dk || a.dv)) {
        attn_kernel k;
        PICK(k_attn_dkv, nv, k);
        size_t smem = (size_t)(2 * BR * a.hd + 2 * BC * (a.hd + 1)) * sizeof(float);
        dim3 grid((unsigned)((a.T + BR - 1) / BR), (unsigned)a.Hkv, (unsigned)a.B);
        st = launch(cs, k, grid, smem, a, "attention backward (dk, dv)");
    }
    sea_cuda_tmp_free(cs, delta, bytes);
    return st;
}
