/* Tensor-core flash attention for bf16/f16 (SEA_OP_ATTENTION; selection: cuda_attn_plan.h):
 * the kernels. Launchers: cuda_flash_attn.cu.
 *
 * Same contract as the fp32 kernels in cuda_attention.cu: causal, key padding (key_valid),
 * GQA (head h reads kv head h / (H/Hkv)), lse f32 (B, H, T) in natural-log units, a query
 * with no admissible key gives zeros and lse = -inf. Inputs and out are bf16 or f16; every
 * product runs on mma.sync.m16n8k16 with fp32 accumulation; softmax statistics are fp32.
 *
 * Fragment layouts (PTX ISA, mma.m16n8k16 with 16-bit A/B; lane = 4 g + t):
 *   A 16x16 row-major: a0 (g, 2t..2t+1)  a1 (g+8, 2t..)  a2 (g, 2t+8..)  a3 (g+8, 2t+8..)
 *   B 16x8 ("col"):    b0 (k 2t..2t+1, n g)  b1 (k 2t+8.., n g)
 *   C 16x8 f32:        c0,c1 (g, 2t..2t+1)  c2,c3 (g+8, 2t..2t+1)
 * Operands come from shared memory through ldmatrix.x4: row-major [row][k] tiles give A
 * fragments (and B fragments of a [n][k] tile, e.g. K for Q K^T) without .trans; [k][n] tiles
 * (V for P V) give B fragments with .trans. The C fragments of two adjacent n-tiles of a
 * score tile are exactly the A fragment of the next product (P V, dS K), so P and dS stay in
 * registers in the forward and dQ kernels.
 *
 * Forward (k_fa_fwd): a block owns 64 query rows of one (b, h), 16 per warp; it walks the key
 * tiles up to the diagonal with an online softmax (log2 domain: x = s * scale * log2 e), the
 * load of V_j overlapping S_j = Q K_j^T and the load of K_{j+1} overlapping P_j V_j
 * (cp.async, one buffer each). Blocks are launched last query block first: under the causal
 * mask those have the most key tiles.
 *
 * Backward, deterministic: no atomics; every gradient element is owned by one thread and
 * accumulated in a fixed order, so two runs give the same bits.
 *   delta = rowsum(dO * O) - dlse            k_attn_delta (cuda_attention.cu)
 *   k_fa_dq:  a block owns 64 query rows (16 per warp), walks the key tiles up to the
 *             diagonal: S = Q K^T, dP = dO V^T, P = exp(S - lse) from the saved lse,
 *             dS = P (dP - delta), dQ += dS K. dQ stays in registers, written once.
 *   k_fa_dkv: a block owns 64 keys (32 at hd 256) of one kv head, 8 warps = key slices of
 *             16 x slices of the head dim (2, or 4 at hd 256); it walks, for each query head
 *             of its GQA group in order, the 64-query tiles that reach its keys:
 *             S^T = K Q^T, dP^T = V dO^T (each warp 16 keys x 32 or 16 queries), P^T and
 *             dS^T through shared memory (bf16/f16), then dV += P^T dO and dK += dS^T Q for
 *             the warp's 16 keys x (hd/2 or hd/4) dims. dK and dV are written once.
 * S and dP are computed twice (once per kernel): 7 GEMMs instead of 5, the price of
 * determinism without a (T, T) buffer or atomics. By default (SEA_CUDA_FA_DQ, cuda_attn_plan.h)
 * k_fa_dq does not run: k_fa_dkv also writes its dS^T tiles to a (B, H, T, T) temporary and
 * cuBLAS computes dQ = scale dS K (cuda_flash_attn.cu), 5 products and no atomics.
 *
 * The kernels are written against a few warp-level primitives (FA_* macros, fa_shfl_xor,
 * pack2, mma, ldsm_x4, ldsm_x4_t, cp16, cp_commit, cp_wait_all). This header defines them
 * with PTX; with SEA_FA_EMU, emu/emu_fa.h defines them on the CUDA emulator (a block as
 * cooperative threads on the CPU, the PTX fragment layouts in software), where
 * tests/cuda_flash_emu_host.cu runs this same kernel source against a float64 reference
 * and the emulated module runs it inside the whole backend, so the index arithmetic,
 * masking, softmax and synchronization are tested without a GPU.
 *
 * Not yet run on a GPU (see docs/cuda.md): written and compiled for sm_80/sm_90. */
#ifndef SEA_CUDA_FLASH_ATTN_CUH
#define SEA_CUDA_FLASH_ATTN_CUH

#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include "cuda_common.cuh"

#define FA_LOG2E 1.4426950408889634f
#define FA_LN2 0.6931471805599453f

#ifndef SEA_FA_EMU
#define FA_KERNEL(nt) __global__ void __launch_bounds__(nt)
#define FA_FN __device__ __forceinline__
#define FA_SMEM_DECL extern __shared__ __align__(16) unsigned char fa_smem[]
#define FA_TID ((int)threadIdx.x)
#define FA_BID_X ((int64_t)blockIdx.x)
#define FA_BID_Y ((int64_t)blockIdx.y)
#define FA_BID_Z ((int64_t)blockIdx.z)
#define FA_GRID_X ((int64_t)gridDim.x)
#define FA_SYNC() __syncthreads()
#define FA_SYNCWARP() __syncwarp()

FA_FN float fa_shfl_xor(float v, int lane_mask) { return __shfl_xor_sync(0xffffffffu, v, lane_mask); }

/* Two floats rounded (to nearest even) to one register of two 16-bit values, lo in the low half. */
template <bool BF>
FA_FN uint32_t pack2(float lo, float hi)
{
    uint32_t u;
    if constexpr (BF) {
        __nv_bfloat162 v = __floats2bfloat162_rn(lo, hi);
        memcpy(&u, &v, 4);
    } else {
        __half2 v = __floats2half2_rn(lo, hi);
        memcpy(&u, &v, 4);
    }
    return u;
}

/* c += a b; a 16x16, b 16x8, c 16x8 f32. */
template <bool BF>
FA_FN void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1)
{
    if constexpr (BF)
        asm("mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
            "{%0,%1,%2,%3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
    else
        asm("mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
            "{%0,%1,%2,%3};\n"
            : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
            : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

/* Four 8x8 16-bit matrices; lane l gives the address of row l % 8 of matrix l / 8. The
 * "memory" clobber keeps these reads after the plain shared stores they depend on. */
FA_FN void ldsm_x4(uint32_t (&r)[4], const uint16_t *p)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s)
                 : "memory");
}

FA_FN void ldsm_x4_t(uint32_t (&r)[4], const uint16_t *p)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(p);
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(s)
                 : "memory");
}

/* 16 bytes global -> shared, asynchronously; !ok writes 16 zero bytes and reads nothing. */
FA_FN void cp16(uint16_t *dst, const uint16_t *src, bool ok)
{
    unsigned s = (unsigned)__cvta_generic_to_shared(dst);
    int n = ok ? 16 : 0;
    asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(s), "l"(src), "r"(n) : "memory");
}

FA_FN void cp_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
FA_FN void cp_wait_all() { asm volatile("cp.async.wait_all;\n" ::: "memory"); }

#else
#include "emu/emu_fa.h" /* the same primitives on the CUDA emulator */
#endif /* !SEA_FA_EMU */

/* Rows [row0, row0 + ROWS) of one (b, head) of a (B, T, heads, hd) tensor into shared memory
 * as ROWS x HD (pitch HD + PAD); rows >= T, and dims >= hd when the kernel's HD is larger
 * than the tensors' hd (zero padding, hd a multiple of 8), are zeros. src points at row 0 of
 * (b, head); rstride is heads * hd (elements from one position to the next). */
template <int ROWS, int HD, int NT>
FA_FN void load_rows(uint16_t *dst, const uint16_t *src, int64_t row0, int64_t T, int64_t rstride, int hd)
{
    constexpr int CH = HD / 8, P = SEA_FA_PITCH(HD);
    const int valid_ch = hd / 8;
    for (int i = FA_TID; i < ROWS * CH; i += NT) {
        int r = i / CH, c = i - r * CH;
        int64_t t = row0 + r;
        bool ok = t < T && c < valid_ch;
        cp16(dst + r * P + c * 8, ok ? src + t * rstride + c * 8 : src, ok);
    }
}

/* 1 when key s may be attended at all: inside the sequence and not padding. */
FA_FN int key_flag(const int32_t *kv, int64_t s, int64_t T)
{
    return s < T && (!kv || kv[s] != 0);
}

/* Reductions over the 4 lanes of a quad (the lanes holding one row of a C fragment),
 * in a fixed butterfly order. */
FA_FN float quad_max(float v)
{
    v = fmaxf(v, fa_shfl_xor(v, 1));
    return fmaxf(v, fa_shfl_xor(v, 2));
}

FA_FN float quad_sum(float v)
{
    v += fa_shfl_xor(v, 1);
    return v + fa_shfl_xor(v, 2);
}

/* Element i of a gradient tensor (dtype t: f32, bf16, f16) as f32, and back (round to nearest
 * even, as runtime/dtype.c); host-callable so the emulator runs the same code. */
SEA_HD float fa_ld(const void *p, int t, int64_t i)
{
    if (t == SEA_F32) return ((const float *)p)[i];
    uint16_t h = ((const uint16_t *)p)[i];
    return t == SEA_BF16 ? sea_cu_bf16_to_f32(h) : sea_cu_f16_to_f32(h);
}

SEA_HD void fa_st(void *p, int t, int64_t i, float v)
{
    if (t == SEA_F32) ((float *)p)[i] = v;
    else ((uint16_t *)p)[i] = t == SEA_BF16 ? sea_cu_f32_to_bf16(v) : sea_cu_f32_to_f16(v);
}

/* gin[i] += v for two adjacent elements; one owner thread. */
SEA_HD void acc2(void *gin, int t, int64_t i, float v0, float v1)
{
    fa_st(gin, t, i, fa_ld(gin, t, i) + v0);
    fa_st(gin, t, i + 1, fa_ld(gin, t, i + 1) + v1);
}

/* ---- forward ---- */

template <int HD, bool BF>
FA_KERNEL(SEA_FA_THREADS) k_fa_fwd(sea_cuda_fa_args a)
{
    constexpr int BM = SEA_FA_BM, BN = SEA_FA_BN(HD), P = SEA_FA_PITCH(HD), NT = SEA_FA_THREADS;
    FA_SMEM_DECL;
    uint16_t *Qs = (uint16_t *)fa_smem;          /* BM x P */
    uint16_t *Ks = Qs + BM * P;                  /* BN x P */
    uint16_t *Vs = Ks + BN * P;                  /* BN x P */
    int *kok = (int *)(Vs + BN * P);             /* BN */
    const int lane = FA_TID & 31, w = FA_TID >> 5, g = lane >> 2, tq = lane & 3;
    const int64_t T = a.T, H = a.H, Hkv = a.Hkv, hd = a.hd;   /* hd <= HD: the tensors' head dim */
    const int ihd = (int)hd;
    const int64_t q0 = (FA_GRID_X - 1 - FA_BID_X) * BM, h = FA_BID_Y, b = FA_BID_Z;
    const int64_t kh = h / (H / Hkv);
    const uint16_t *qg = (const uint16_t *)a.q + (b * T * H + h) * hd;       /* (T, H, hd) of sequence b */
    const uint16_t *kg = (const uint16_t *)a.k + (b * T * Hkv + kh) * hd;    /* (T, Hkv, hd) */
    const uint16_t *vg = (const uint16_t *)a.v + (b * T * Hkv + kh) * hd;
    const int32_t *kv = a.key_valid ? a.key_valid + b * T : nullptr;
    const int64_t r0 = q0 + 16 * w + g, r1 = r0 + 8;     /* this thread's two query rows */
    const int nkt = (int)SEA_FA_KEY_TILES(q0, T, (int64_t)BN); /* causal: keys up to the last row */

    load_rows<BM, HD, NT>(Qs, qg, q0, T, H * hd, ihd);
    load_rows<BN, HD, NT>(Ks, kg, 0, T, Hkv * hd, ihd);
    cp_commit();
    if (FA_TID < BN) kok[FA_TID] = key_flag(kv, FA_TID, T);

    float o[HD / 8][4];
#pragma unroll
    for (int n = 0; n < HD / 8; n++) o[n][0] = o[n][1] = o[n][2] = o[n][3] = 0.0f;
    float m0 = -INFINITY, m1 = -INFINITY, l0 = 0.0f, l1 = 0.0f;   /* log2-domain max, partial sums */

    for (int j = 0; j < nkt; j++) {
        const int64_t s0 = (int64_t)j * BN;
        cp_wait_all();
        FA_SYNC(); /* K_j and its flags are in; every warp is done with V_{j-1} */
        load_rows<BN, HD, NT>(Vs, vg, s0, T, Hkv * hd, ihd);
        cp_commit();

        /* S (16 x BN per warp) = Q K_j^T */
        float s[BN / 8][4];
#pragma unroll
        for (int n = 0; n < BN / 8; n++) s[n][0] = s[n][1] = s[n][2] = s[n][3] = 0.0f;
#pragma unroll
        for (int kk = 0; kk < HD / 16; kk++) {
            uint32_t qa[4];
            ldsm_x4(qa, Qs + (16 * w + (lane & 15)) * P + 16 * kk + (lane >> 4) * 8);
#pragma unroll
            for (int np = 0; np < BN / 16; np++) {
                uint32_t kb[4];
                ldsm_x4(kb, Ks + (16 * np + (lane & 7) + ((lane >> 4) << 3)) * P + 16 * kk + ((lane >> 3) & 1) * 8);
                mma<BF>(s[2 * np], qa, kb[0], kb[1]);
                mma<BF>(s[2 * np + 1], qa, kb[2], kb[3]);
            }
        }

        /* mask (only where the tile can hold a masked key for this warp's rows), online softmax */
        const bool need_mask = kv || s0 + BN > T || s0 + BN - 1 > q0 + 16 * w;
        float mx0 = -INFINITY, mx1 = -INFINITY;
#pragma unroll
        for (int n = 0; n < BN / 8; n++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                float x = s[n][i] * a.scale_log2;
                if (need_mask) {
                    const int c = 8 * n + 2 * tq + (i & 1);
                    const int64_t key = s0 + c, row = i < 2 ? r0 : r1;
                    if (!kok[c] || key > row) x = -INFINITY;
                }
                s[n][i] = x;
            }
            mx0 = fmaxf(mx0, fmaxf(s[n][0], s[n][1]));
            mx1 = fmaxf(mx1, fmaxf(s[n][2], s[n][3]));
        }
        const float mn0 = fmaxf(m0, quad_max(mx0)), mn1 = fmaxf(m1, quad_max(mx1));
        /* a row with nothing admissible yet keeps m = -inf: no exp(-inf - -inf) = NaN */
        const float c0 = mn0 == -INFINITY ? 1.0f : exp2f(m0 - mn0), c1 = mn1 == -INFINITY ? 1.0f : exp2f(m1 - mn1);
        const float b0 = mn0 == -INFINITY ? 0.0f : mn0, b1 = mn1 == -INFINITY ? 0.0f : mn1;
        float ps0 = 0.0f, ps1 = 0.0f;
#pragma unroll
        for (int n = 0; n < BN / 8; n++) {
            s[n][0] = exp2f(s[n][0] - b0); /* -inf -> 0 */
            s[n][1] = exp2f(s[n][1] - b0);
            s[n][2] = exp2f(s[n][2] - b1);
            s[n][3] = exp2f(s[n][3] - b1);
            ps0 += s[n][0] + s[n][1];
            ps1 += s[n][2] + s[n][3];
        }
        l0 = l0 * c0 + ps0;
        l1 = l1 * c1 + ps1;
        m0 = mn0;
        m1 = mn1;
#pragma unroll
        for (int n = 0; n < HD / 8; n++) {
            o[n][0] *= c0;
            o[n][1] *= c0;
            o[n][2] *= c1;
            o[n][3] *= c1;
        }

        cp_wait_all();
        FA_SYNC(); /* V_j is in; every warp is done with K_j and its flags */
        if (j + 1 < nkt) {
            load_rows<BN, HD, NT>(Ks, kg, s0 + BN, T, Hkv * hd, ihd);
            cp_commit();
            if (FA_TID < BN) kok[FA_TID] = key_flag(kv, s0 + BN + FA_TID, T);
        }

        /* O (16 x HD per warp) += P V_j; P's C fragments are the A fragments */
#pragma unroll
        for (int kk = 0; kk < BN / 16; kk++) {
            uint32_t pa[4] = {pack2<BF>(s[2 * kk][0], s[2 * kk][1]), pack2<BF>(s[2 * kk][2], s[2 * kk][3]),
                              pack2<BF>(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack2<BF>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
            for (int dp = 0; dp < HD / 16; dp++) {
                uint32_t vb[4];
                ldsm_x4_t(vb, Vs + (16 * kk + (lane & 7) + ((lane >> 3) & 1) * 8) * P + 16 * dp + (lane >> 4) * 8);
                mma<BF>(o[2 * dp], pa, vb[0], vb[1]);
                mma<BF>(o[2 * dp + 1], pa, vb[2], vb[3]);
            }
        }
    }

    l0 = quad_sum(l0);
    l1 = quad_sum(l1);
    const float inv0 = l0 > 0.0f ? 1.0f / l0 : 0.0f, inv1 = l1 > 0.0f ? 1.0f / l1 : 0.0f;
    /* Stage this warp's 16 output rows in its own rows of Qs (no other warp reads them),
     * then write whole 16-byte chunks. */
    uint16_t *Os = Qs + 16 * w * P;
    FA_SYNCWARP();
#pragma unroll
    for (int n = 0; n < HD / 8; n++) {
        *(uint32_t *)(Os + g * P + 8 * n + 2 * tq) = pack2<BF>(o[n][0] * inv0, o[n][1] * inv0);
        *(uint32_t *)(Os + (g + 8) * P + 8 * n + 2 * tq) = pack2<BF>(o[n][2] * inv1, o[n][3] * inv1);
    }
    FA_SYNCWARP();
    uint16_t *og = (uint16_t *)a.out + (b * T * H + h) * hd;
    const int out_ch = ihd / 8; /* the padding dims (zeros) are not written */
    for (int i = lane; i < 16 * out_ch; i += 32) {
        int r = i / out_ch, c = i - r * out_ch;
        int64_t t = q0 + 16 * w + r;
        if (t < T) *(uint4 *)(og + t * H * hd + c * 8) = *(const uint4 *)(Os + r * P + c * 8);
    }
    if (a.lse && tq == 0) {
        if (r0 < T) a.lse[(b * H + h) * T + r0] = l0 > 0.0f ? (m0 + log2f(l0)) * FA_LN2 : -INFINITY;
        if (r1 < T) a.lse[(b * H + h) * T + r1] = l1 > 0.0f ? (m1 + log2f(l1)) * FA_LN2 : -INFINITY;
    }
}

/* ---- backward: dQ ---- */

template <int HD, bool BF>
FA_KERNEL(SEA_FA_THREADS) k_fa_dq(sea_cuda_fa_args a)
{
    constexpr int BM = SEA_FA_BM, BN = SEA_FA_BN(HD), P = SEA_FA_PITCH(HD), NT = SEA_FA_THREADS;
    FA_SMEM_DECL;
    uint16_t *Qs = (uint16_t *)fa_smem;          /* BM x P */
    uint16_t *dOs = Qs + BM * P;                 /* BM x P */
    uint16_t *Ks = dOs + BM * P;                 /* BN x P */
    uint16_t *Vs = Ks + BN * P;                  /* BN x P */
    int *kok = (int *)(Vs + BN * P);             /* BN */
    const int lane = FA_TID & 31, w = FA_TID >> 5, g = lane >> 2, tq = lane & 3;
    const int64_t T = a.T, H = a.H, Hkv = a.Hkv, hd = a.hd;
    const int ihd = (int)hd;
    const int64_t q0 = (FA_GRID_X - 1 - FA_BID_X) * BM, h = FA_BID_Y, b = FA_BID_Z;
    const int64_t kh = h / (H / Hkv);
    const uint16_t *qg = (const uint16_t *)a.q + (b * T * H + h) * hd;
    const uint16_t *dog = (const uint16_t *)a.dout + (b * T * H + h) * hd;
    const uint16_t *kg = (const uint16_t *)a.k + (b * T * Hkv + kh) * hd;
    const uint16_t *vg = (const uint16_t *)a.v + (b * T * Hkv + kh) * hd;
    const int32_t *kv = a.key_valid ? a.key_valid + b * T : nullptr;
    const int64_t r0 = q0 + 16 * w + g, r1 = r0 + 8;
    const int nkt = (int)SEA_FA_KEY_TILES(q0, T, (int64_t)BN);

    load_rows<BM, HD, NT>(Qs, qg, q0, T, H * hd, ihd);
    load_rows<BM, HD, NT>(dOs, dog, q0, T, H * hd, ihd);
    cp_commit();
    /* Row statistics; rows past T or with no admissible key get lse = -inf: P = 0 there. */
    const float *lse = a.lse_in + (b * H + h) * T, *del = a.delta + (b * H + h) * T;
    const float L0 = r0 < T ? lse[r0] * FA_LOG2E : -INFINITY, L1 = r1 < T ? lse[r1] * FA_LOG2E : -INFINITY;
    const float D0 = r0 < T ? del[r0] : 0.0f, D1 = r1 < T ? del[r1] : 0.0f;

    float dq[HD / 8][4];
#pragma unroll
    for (int n = 0; n < HD / 8; n++) dq[n][0] = dq[n][1] = dq[n][2] = dq[n][3] = 0.0f;

    for (int j = 0; j < nkt; j++) {
        const int64_t s0 = (int64_t)j * BN;
        FA_SYNC(); /* every warp is done with K_{j-1}, V_{j-1} and their flags */
        load_rows<BN, HD, NT>(Ks, kg, s0, T, Hkv * hd, ihd);
        load_rows<BN, HD, NT>(Vs, vg, s0, T, Hkv * hd, ihd);
        cp_commit();
        if (FA_TID < BN) kok[FA_TID] = key_flag(kv, s0 + FA_TID, T);
        cp_wait_all();
        FA_SYNC();

        /* S = Q K^T, dP = dO V^T (16 x BN per warp) */
        float s[BN / 8][4], dp[BN / 8][4];
#pragma unroll
        for (int n = 0; n < BN / 8; n++)
#pragma unroll
            for (int i = 0; i < 4; i++) s[n][i] = dp[n][i] = 0.0f;
        /* unrolled by 8, not fully: at hd 256 the full unroll spills (dQ alone holds 128 registers) */
#pragma unroll 8
        for (int kk = 0; kk < HD / 16; kk++) {
            uint32_t qa[4], da[4];
            ldsm_x4(qa, Qs + (16 * w + (lane & 15)) * P + 16 * kk + (lane >> 4) * 8);
            ldsm_x4(da, dOs + (16 * w + (lane & 15)) * P + 16 * kk + (lane >> 4) * 8);
#pragma unroll
            for (int np = 0; np < BN / 16; np++) {
                const int off = (16 * np + (lane & 7) + ((lane >> 4) << 3)) * P + 16 * kk + ((lane >> 3) & 1) * 8;
                uint32_t kb[4], vb[4];
                ldsm_x4(kb, Ks + off);
                ldsm_x4(vb, Vs + off);
                mma<BF>(s[2 * np], qa, kb[0], kb[1]);
                mma<BF>(s[2 * np + 1], qa, kb[2], kb[3]);
                mma<BF>(dp[2 * np], da, vb[0], vb[1]);
                mma<BF>(dp[2 * np + 1], da, vb[2], vb[3]);
            }
        }

        /* P = exp(S - lse) where admissible, dS = P (dP - delta); dS overwrites s */
#pragma unroll
        for (int n = 0; n < BN / 8; n++) {
#pragma unroll
            for (int i = 0; i < 4; i++) {
                const int c = 8 * n + 2 * tq + (i & 1);
                const int64_t key = s0 + c, row = i < 2 ? r0 : r1;
                const float L = i < 2 ? L0 : L1, D = i < 2 ? D0 : D1;
                const bool ok = kok[c] && key <= row && L != -INFINITY;
                const float p = ok ? exp2f(s[n][i] * a.scale_log2 - L) : 0.0f;
                s[n][i] = p * (dp[n][i] - D);
            }
        }

        /* dQ (16 x HD per warp) += dS K; K stored [key][d] is the [k][n] operand: .trans */
#pragma unroll
        for (int kk = 0; kk < BN / 16; kk++) {
            uint32_t sa[4] = {pack2<BF>(s[2 * kk][0], s[2 * kk][1]), pack2<BF>(s[2 * kk][2], s[2 * kk][3]),
                              pack2<BF>(s[2 * kk + 1][0], s[2 * kk + 1][1]), pack2<BF>(s[2 * kk + 1][2], s[2 * kk + 1][3])};
#pragma unroll
            for (int dp2 = 0; dp2 < HD / 16; dp2++) {
                uint32_t kb[4];
                ldsm_x4_t(kb, Ks + (16 * kk + (lane & 7) + ((lane >> 3) & 1) * 8) * P + 16 * dp2 + (lane >> 4) * 8);
                mma<BF>(dq[2 * dp2], sa, kb[0], kb[1]);
                mma<BF>(dq[2 * dp2 + 1], sa, kb[2], kb[3]);
            }
        }
    }

    if (!a.dq) return;
#pragma unroll
    for (int n = 0; n < HD / 8; n++) {
        const int d = 8 * n + 2 * tq;
        if (d >= ihd) break; /* padding dims */
        if (r0 < T) acc2(a.dq, a.gt, ((b * T + r0) * H + h) * hd + d, a.scale * dq[n][0], a.scale * dq[n][1]);
        if (r1 < T) acc2(a.dq, a.gt, ((b * T + r1) * H + h) * hd + d, a.scale * dq[n][2], a.scale * dq[n][3]);
    }
}

/* ---- backward: dK, dV ---- */

template <int HD, bool BF>
FA_KERNEL(SEA_FA_KV_THREADS) k_fa_dkv(sea_cuda_fa_args a)
{
    constexpr int BN = SEA_FA_KV_BN(HD), BM = SEA_FA_KV_BM, WD = SEA_FA_KV_WD(HD), WK = BN / 16;
    constexpr int P = SEA_FA_PITCH(HD), PT = BM + SEA_FA_PAD, NT = SEA_FA_KV_THREADS;
    constexpr int QW = BM / WD, HW = HD / WD; /* a warp's queries (scores), a warp's dims (gradients) */
    static_assert(WK * WD * 32 == NT, "warps = key slices x head-dim slices");
    static_assert(QW % 16 == 0 && HW % 16 == 0, "slices are whole ldmatrix.x4 tiles");
    FA_SMEM_DECL;
    uint16_t *Ks = (uint16_t *)fa_smem;          /* BN x P: this block's keys */
    uint16_t *Vs = Ks + BN * P;                  /* BN x P */
    uint16_t *Qs = Vs + BN * P;                  /* BM x P: the current query tile */
    uint16_t *dOs = Qs + BM * P;                 /* BM x P */
    uint16_t *Pt = dOs + BM * P;                 /* BN x PT: P^T */
    uint16_t *dSt = Pt + BN * PT;                /* BN x PT: dS^T */
    int *kok = (int *)(dSt + BN * PT);           /* BN */
    float *Ls = (float *)(kok + BN);             /* BM: lse * log2 e of the tile's queries */
    float *Ds = Ls + BM;                         /* BM: delta */
    const int lane = FA_TID & 31, w = FA_TID >> 5, g = lane >> 2, tq = lane & 3;
    const int kw = w % WK, dw = w / WK; /* keys 16 kw.. x queries QW dw.. (scores), dims HW dw.. (grads) */
    const int64_t T = a.T, H = a.H, Hkv = a.Hkv, group = H / Hkv, hd = a.hd;
    const int ihd = (int)hd;
    const int64_t s0 = FA_BID_X * BN, kh = FA_BID_Y, b = FA_BID_Z;
    const int32_t *kv = a.key_valid ? a.key_valid + b * T : nullptr;

    load_rows<BN, HD, NT>(Ks, (const uint16_t *)a.k + (b * T * Hkv + kh) * hd, s0, T, Hkv * hd, ihd);
    load_rows<BN, HD, NT>(Vs, (const uint16_t *)a.v + (b * T * Hkv + kh) * hd, s0, T, Hkv * hd, ihd);
    cp_commit();
    if (FA_TID < BN) kok[FA_TID] = key_flag(kv, s0 + FA_TID, T);

    float dk[HW / 8][4], dv[HW / 8][4];
#pragma unroll
    for (int n = 0; n < HW / 8; n++)
#pragma unroll
        for (int i = 0; i < 4; i++) dk[n][i] = dv[n][i] = 0.0f;

    for (int64_t hh = 0; hh < group; hh++) {
        const int64_t h = kh * group + hh;
        const uint16_t *qg = (const uint16_t *)a.q + (b * T * H + h) * hd;
        const uint16_t *dog = (const uint16_t *)a.dout + (b * T * H + h) * hd;
        const float *lse = a.lse_in + (b * H + h) * T, *del = a.delta + (b * H + h) * T;
        /* causal: query tiles that end before s0 see none of these keys */
        for (int64_t t0 = SEA_FA_KV_FIRST_Q(s0); t0 < T; t0 += BM) {
            FA_SYNC(); /* every warp is done with the previous tile's Q, dO, P^T, dS^T */
            load_rows<BM, HD, NT>(Qs, qg, t0, T, H * hd, ihd);
            load_rows<BM, HD, NT>(dOs, dog, t0, T, H * hd, ihd);
            cp_commit();
            if (FA_TID < BM) {
                int64_t t = t0 + FA_TID;
                Ls[FA_TID] = t < T ? lse[t] * FA_LOG2E : -INFINITY;
                Ds[FA_TID] = t < T ? del[t] : 0.0f;
            }
            cp_wait_all();
            FA_SYNC();

            /* S^T = K Q^T and dP^T = V dO^T for keys 16 kw.. x queries QW dw.. */
            float st[QW / 8][4], dpt[QW / 8][4];
#pragma unroll
            for (int n = 0; n < QW / 8; n++)
#pragma unroll
                for (int i = 0; i < 4; i++) st[n][i] = dpt[n][i] = 0.0f;
#pragma unroll
            for (int kk = 0; kk < HD / 16; kk++) {
                uint32_t ka[4], va[4];
                ldsm_x4(ka, Ks + (16 * kw + (lane & 15)) * P + 16 * kk + (lane >> 4) * 8);
                ldsm_x4(va, Vs + (16 * kw + (lane & 15)) * P + 16 * kk + (lane >> 4) * 8);
#pragma unroll
                for (int np = 0; np < QW / 16; np++) {
                    const int off = (QW * dw + 16 * np + (lane & 7) + ((lane >> 4) << 3)) * P + 16 * kk + ((lane >> 3) & 1) * 8;
                    uint32_t qb[4], ob[4];
                    ldsm_x4(qb, Qs + off);
                    ldsm_x4(ob, dOs + off);
                    mma<BF>(st[2 * np], ka, qb[0], qb[1]);
                    mma<BF>(st[2 * np + 1], ka, qb[2], qb[3]);
                    mma<BF>(dpt[2 * np], va, ob[0], ob[1]);
                    mma<BF>(dpt[2 * np + 1], va, ob[2], ob[3]);
                }
            }

            /* P^T, dS^T -> shared (16-bit, the next products' A operands) */
#pragma unroll
            for (int n = 0; n < QW / 8; n++) {
                float p[4], ds[4];
#pragma unroll
                for (int i = 0; i < 4; i++) {
                    const int kr = 16 * kw + g + 8 * (i >> 1), qc = QW * dw + 8 * n + 2 * tq + (i & 1);
                    const int64_t key = s0 + kr, query = t0 + qc;
                    const float L = Ls[qc];
                    const bool ok = kok[kr] && query >= key && L != -INFINITY; /* query >= T: L = -inf */
                    p[i] = ok ? exp2f(st[n][i] * a.scale_log2 - L) : 0.0f;
                    ds[i] = p[i] * (dpt[n][i] - Ds[qc]);
                }
                const int c = QW * dw + 8 * n + 2 * tq;
                *(uint32_t *)(Pt + (16 * kw + g) * PT + c) = pack2<BF>(p[0], p[1]);
                *(uint32_t *)(Pt + (16 * kw + g + 8) * PT + c) = pack2<BF>(p[2], p[3]);
                *(uint32_t *)(dSt + (16 * kw + g) * PT + c) = pack2<BF>(ds[0], ds[1]);
                *(uint32_t *)(dSt + (16 * kw + g + 8) * PT + c) = pack2<BF>(ds[2], ds[3]);
            }
            FA_SYNC();

            /* dQ by GEMM (cuda_attn_plan.h, SEA_CUDA_FA_DQ): this tile of dS^T to global,
             * rows = keys, columns = queries; 16-byte chunks when T keeps them aligned. */
            if (a.ds_t) {
                uint16_t *dg = (uint16_t *)a.ds_t + (b * H + h) * T * T;
                constexpr int CH = BM / 8;
                for (int i = FA_TID; i < BN * CH; i += NT) {
                    const int r = i / CH, c = (i - r * CH) * 8;
                    const int64_t key = s0 + r, query = t0 + c;
                    if (key >= T || query >= T) continue;
                    uint16_t *dst = dg + key * T + query;
                    const uint16_t *src = dSt + r * PT + c;
                    if ((T & 7) == 0) *(uint4 *)dst = *(const uint4 *)src;
                    else
                        for (int e = 0; e < 8 && query + e < T; e++) dst[e] = src[e];
                }
            }

            /* dV += P^T dO, dK += dS^T Q for keys 16 kw.. x dims HW dw..; dO and Q stored
             * [query][d] are [k][n] operands: .trans */
#pragma unroll
            for (int kk = 0; kk < BM / 16; kk++) {
                uint32_t pa[4], sa[4];
                ldsm_x4(pa, Pt + (16 * kw + (lane & 15)) * PT + 16 * kk + (lane >> 4) * 8);
                ldsm_x4(sa, dSt + (16 * kw + (lane & 15)) * PT + 16 * kk + (lane >> 4) * 8);
#pragma unroll
                for (int dp = 0; dp < HW / 16; dp++) {
                    const int off = (16 * kk + (lane & 7) + ((lane >> 3) & 1) * 8) * P + HW * dw + 16 * dp + (lane >> 4) * 8;
                    uint32_t ob[4], qb[4];
                    ldsm_x4_t(ob, dOs + off);
                    ldsm_x4_t(qb, Qs + off);
                    mma<BF>(dv[2 * dp], pa, ob[0], ob[1]);
                    mma<BF>(dv[2 * dp + 1], pa, ob[2], ob[3]);
                    mma<BF>(dk[2 * dp], sa, qb[0], qb[1]);
                    mma<BF>(dk[2 * dp + 1], sa, qb[2], qb[3]);
                }
            }
        }
    }

    const int64_t k0 = s0 + 16 * kw + g, k1 = k0 + 8;
#pragma unroll
    for (int n = 0; n < HW / 8; n++) {
        const int d = HW * dw + 8 * n + 2 * tq;
        if (d >= ihd) break; /* padding dims */
        if (k0 < T) {
            const int64_t i = ((b * T + k0) * Hkv + kh) * hd + d;
            if (a.dk) acc2(a.dk, a.gt, i, a.scale * dk[n][0], a.scale * dk[n][1]);
            if (a.dv) acc2(a.dv, a.gt, i, dv[n][0], dv[n][1]);
        }
        if (k1 < T) {
            const int64_t i = ((b * T + k1) * Hkv + kh) * hd + d;
            if (a.dk) acc2(a.dk, a.gt, i, a.scale * dk[n][2], a.scale * dk[n][3]);
            if (a.dv) acc2(a.dv, a.gt, i, dv[n][2], dv[n][3]);
        }
    }
}

#endif
