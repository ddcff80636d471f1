/* Attention kernel selection (see cuda_attn_plan.h). Host-only C, no CUDA calls: the caller
 * passes what it knows about the device, so every rule is testable without a GPU. */
#include "cuda_attn_plan.h"

#include <stdio.h>
#include <string.h>

sea_status sea_cuda_attn_mode_parse(const char *value, sea_cuda_attn_mode *mode)
{
    if (!value || !value[0] || !strcmp(value, "auto")) {
        *mode = SEA_CUDA_ATTN_AUTO;
    } else if (!strcmp(value, "basic")) {
        *mode = SEA_CUDA_ATTN_BASIC;
    } else if (!strcmp(value, "flash")) {
        *mode = SEA_CUDA_ATTN_FLASH;
    } else {
        *mode = SEA_CUDA_ATTN_AUTO;
        return sea_error(SEA_ERR_INVALID, "SEA_CUDA_ATTN=%.40s: expected auto, basic or flash", value);
    }
    return SEA_OK;
}

sea_status sea_cuda_fa_dq_mode_parse(const char *value, sea_cuda_fa_dq_mode *mode)
{
    if (!value || !value[0] || !strcmp(value, "auto")) {
        *mode = SEA_CUDA_FA_DQ_AUTO;
    } else if (!strcmp(value, "gemm")) {
        *mode = SEA_CUDA_FA_DQ_GEMM;
    } else if (!strcmp(value, "kernel")) {
        *mode = SEA_CUDA_FA_DQ_KERNEL;
    } else {
        *mode = SEA_CUDA_FA_DQ_AUTO;
        return sea_error(SEA_ERR_INVALID, "SEA_CUDA_FA_DQ=%.40s: expected auto, gemm or kernel", value);
    }
    return SEA_OK;
}

bool sea_cuda_fa_dq_by_gemm(sea_cuda_fa_dq_mode mode, int64_t B, int64_t H, int64_t T)
{
    if (mode == SEA_CUDA_FA_DQ_KERNEL || B <= 0 || H <= 0 || T <= 0) return false;
    /* cuBLAS dims are ints; the (T, T) temporary has a size limit */
    if (T > 0x7fffffffLL / 8) return false;
    double bytes = (double)B * (double)H * (double)T * (double)T * 2.0;
    return bytes <= (double)SEA_FA_DQ_GEMM_MAX_BYTES;
}

/* The head dims the flash kernels are instantiated for (cuda_flash_attn.cu), each a separate
 * set of kernels in the module: 64, 128 and 256 (Pythia 70M-410M and Llama's 64, Pythia-1.4B,
 * 6.9B and Llama's 128, Pythia-1B's 256). Other head dims that are a multiple of 8 (one 16-byte
 * load) run on the next larger one with the extra dims read as zeros and never written
 * (Pythia-2.8B's 80 on the 128 kernels: 60% more tensor-core work, against ~50x slower fp32
 * SIMT kernels otherwise). 0 = none. */
static int flash_kernel_head_dim(int64_t hd)
{
    if (hd < 8 || hd % 8 != 0 || hd > 256) return 0;
    return hd <= 64 ? 64 : hd <= 128 ? 128 : 256;
}

void sea_cuda_attn_plan_make(sea_cuda_attn_mode mode, sea_dtype dt, int64_t hd, bool aligned16,
                             size_t smem_optin, bool backward, sea_cuda_attn_plan *p)
{
    memset(p, 0, sizeof *p);
    if (mode == SEA_CUDA_ATTN_BASIC) {
        snprintf(p->why, sizeof p->why, "SEA_CUDA_ATTN=basic");
        return;
    }
    if (dt != SEA_BF16 && dt != SEA_F16) {
        snprintf(p->why, sizeof p->why, "%s inputs (the flash kernels take bf16 or f16)", sea_dtype_name(dt));
        return;
    }
    int khd = flash_kernel_head_dim(hd);
    if (!khd) {
        snprintf(p->why, sizeof p->why, "head dim %lld (the flash kernels take multiples of 8 up to 256)",
                 (long long)hd);
        return;
    }
    if (!aligned16) {
        snprintf(p->why, sizeof p->why, "a tensor's data does not start at a multiple of 16 bytes");
        return;
    }
    p->hd = khd;
    p->bn = SEA_FA_BN(p->hd);
    p->smem_fwd = SEA_FA_FWD_SMEM(p->hd);
    p->smem_dq = SEA_FA_DQ_SMEM(p->hd);
    p->smem_dkv = SEA_FA_KV_SMEM(p->hd);
    size_t need = backward ? (p->smem_dq > p->smem_dkv ? p->smem_dq : p->smem_dkv) : p->smem_fwd;
    if (need > smem_optin) {
        snprintf(p->why, sizeof p->why, "the %s kernels need %zu bytes of shared memory per block, the device allows %zu",
                 backward ? "backward" : "forward", need, smem_optin);
        return;
    }
    p->flash = true;
}
