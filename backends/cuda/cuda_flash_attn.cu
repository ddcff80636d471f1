/* Launchers of the tensor-core flash attention kernels (cuda_flash_attn.cuh): kernel choice
 * per head dim and dtype, grid, shared memory, errors naming the op and shape. */
#include <stdio.h>

#include "cuda_flash_attn.cuh"

SEA_CUDA_ABI_UNIT(flash_attn)

namespace {

typedef void (*fa_kernel)(sea_cuda_fa_args);

enum fa_which { FA_FWD, FA_DQ, FA_DKV };

/* The instantiations: head dim 64/128/256 x bf16/f16 x three kernels. Tensors with a head
 * dim in between (a multiple of 8) run on the next larger instantiation: the kernels load the
 * extra dims as zeros and write only the tensors' own (sea_cuda_fa_args.hd). */
template <int HD, bool BF>
fa_kernel pick_hd(fa_which which)
{
    switch (which) {
    case FA_FWD: return k_fa_fwd<HD, BF>;
    case FA_DQ: return k_fa_dq<HD, BF>;
    default: return k_fa_dkv<HD, BF>;
    }
}

fa_kernel pick(fa_which which, int hd, bool bf)
{
    switch (hd) {
    case 64: return bf ? pick_hd<64, true>(which) : pick_hd<64, false>(which);
    case 128: return bf ? pick_hd<128, true>(which) : pick_hd<128, false>(which);
    case 256: return bf ? pick_hd<256, true>(which) : pick_hd<256, false>(which);
    default: return nullptr;
    }
}

/* Errors name the device, the kernel and the shape: "cuda:0 (...): attention backward (flash
 * dk, dv) bf16 (B, T, H, Hkv, hd) = (8, 512, 8, 8, 256): kernel launch failed: ...". */
sea_status launch(sea_cuda_stream *cs, fa_which which, const sea_cuda_attn_plan *p, const sea_cuda_fa_args *a,
                  const char *kname)
{
    char name[192];
    int len = snprintf(name, sizeof name, "%s %s (B, T, H, Hkv, hd) = (%lld, %lld, %lld, %lld, %lld)", kname,
                       sea_dtype_name(a->dt), (long long)a->B, (long long)a->T, (long long)a->H, (long long)a->Hkv,
                       (long long)a->hd);
    if (a->hd != p->hd && len > 0 && (size_t)len < sizeof name)
        snprintf(name + len, sizeof name - (size_t)len, " on the hd %d kernels", p->hd);
    if (a->hd > p->hd || a->hd % 8 != 0)
        return sea_error(SEA_ERR_INTERNAL, "%s: %s: head dim does not fit the kernels", cs->cdev->label, name);
    fa_kernel k = pick(which, p->hd, a->dt == SEA_BF16);
    if (!k) return sea_error(SEA_ERR_INTERNAL, "%s: %s: no flash kernel for this head dim", cs->cdev->label, name);
    const int64_t rows = which == FA_DKV ? SEA_FA_KV_BN(p->hd) : SEA_FA_BM;
    const int64_t heads = which == FA_DKV ? a->Hkv : a->H;
    const size_t smem = which == FA_FWD ? p->smem_fwd : which == FA_DQ ? p->smem_dq : p->smem_dkv;
    const int threads = which == FA_DKV ? SEA_FA_KV_THREADS : SEA_FA_THREADS;
    const int64_t blocks = (a->T + rows - 1) / rows;
    if (blocks > 0x7fffffffLL || heads > 65535 || a->B > 65535)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: exceeds the launch grid (heads and batch <= 65535)",
                         cs->cdev->label, name);
    if (blocks == 0 || heads == 0 || a->B == 0) return SEA_OK;
    SEA_TRY(sea_cuda_check(cudaFuncSetAttribute((const void *)k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem),
                           cs, name));
    k<<<dim3((unsigned)blocks, (unsigned)heads, (unsigned)a->B), threads, smem, cs->stream>>>(*a);
    return sea_cuda_launch_check(cs, name);
}

} /* namespace */

extern "C" sea_status sea_cuda_flash_attention_fwd(sea_cuda_stream *cs, const sea_cuda_attn_plan *p,
                                                   const sea_cuda_fa_args *a)
{
    return launch(cs, FA_FWD, p, a, "attention (flash)");
}

namespace {

/* dQ += scale dS K for every (b, h), from dS^T (B, H, T, T) as k_fa_dkv wrote it: per head the
 * row-major dQ (T, hd) = dS (T, T) K (T, hd), dS being the transpose of the stored dS^T (tx),
 * K and dQ a head's columns of their (T, Hkv, hd) and (T, H, hd) rows (leading dimensions
 * Hkv hd and H hd). One strided batch per (sequence, member hh of a GQA group) covers the Hkv
 * kv heads: its query heads h = kh * group + hh are group apart. */
sea_status dq_by_gemm(sea_cuda_stream *cs, const sea_cuda_fa_args *a, const void *ds_t)
{
    const int64_t B = a->B, T = a->T, H = a->H, Hkv = a->Hkv, group = H / Hkv, hd = a->hd;
    const size_t es = 2, gs = sea_dtype_size((sea_dtype)a->gt);
    sea_cuda_gemm g{}; /* every field zero: packed leading dims unless set below */
    g.tx = true;
    g.M = T;
    g.N = hd;
    g.K = T;
    g.xt = g.yt = a->dt;
    g.ct = (sea_dtype)a->gt;
    g.sx = group * T * T;
    g.sy = hd;
    g.sc = group * hd;
    g.batch = Hkv;
    g.alpha = a->scale;
    g.beta = 1.0f;
    g.ldy = Hkv * hd;
    g.ldc = H * hd;
    for (int64_t b = 0; b < B; b++)
        for (int64_t hh = 0; hh < group; hh++) {
            g.x = (const char *)ds_t + (size_t)((b * H + hh) * T * T) * es;
            g.y = (const char *)a->k + (size_t)(b * T * Hkv * hd) * es;
            g.c = (char *)a->dq + (size_t)(b * T * H * hd + hh * hd) * gs;
            SEA_TRY(sea_cuda_gemm_run(cs, &g, "attention backward (flash, dq = dS K by cuBLAS)"));
        }
    return SEA_OK;
}

} /* namespace */

extern "C" sea_status sea_cuda_flash_attention_bwd(sea_cuda_stream *cs, const sea_cuda_attn_plan *p,
                                                   const sea_cuda_fa_args *a)
{
    if (a->dq && p->dq_gemm && a->B > 0 && a->T > 0 && a->H > 0) {
        /* dK/dV's kernel writes dS^T; the causal upper part it never visits must read as 0 */
        const size_t bytes = (size_t)(a->B * a->H) * (size_t)a->T * (size_t)a->T * 2;
        void *ds;
        SEA_TRY(sea_cuda_tmp_alloc(cs, bytes, &ds));
        sea_cuda_fa_args f = *a;
        f.ds_t = ds;
        sea_status st = sea_cuda_check(cudaMemsetAsync(ds, 0, bytes, cs->stream), cs, "attention backward (dS^T)");
        if (!st) st = launch(cs, FA_DKV, p, &f, "attention backward (flash dk, dv, dS)");
        if (!st) st = dq_by_gemm(cs, a, ds);
        sea_cuda_tmp_free(cs, ds, bytes);
        return st;
    }
    if (a->dq) SEA_TRY(launch(cs, FA_DQ, p, a, "attention backward (flash dq)"));
    if (a->dk || a->dv) SEA_TRY(launch(cs, FA_DKV, p, a, "attention backward (flash dk, dv)"));
    return SEA_OK;
}
