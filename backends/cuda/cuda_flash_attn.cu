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

extern "C" sea_status sea_cuda_flash_attention_bwd(sea_cuda_stream *cs, const sea_cuda_attn_plan *p,
                                                   const sea_cuda_fa_args *a)
{
    if (a->dq) SEA_TRY(launch(cs, FA_DQ, p, a, "attention backward (flash dq)"));
    if (a->dk || a->dv) SEA_TRY(launch(cs, FA_DKV, p, a, "attention backward (flash dk, dv)"));
    return SEA_OK;
}
