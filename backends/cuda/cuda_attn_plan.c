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

/* The head dims the flash kernels are instantiated for (cuda_flash_attn.cu): each one is a
 * separate set of kernels in the module, so only the ones models use (Pythia 64/128/256,
 * Llama 64/128). The dK/dV split in two halves of the head dim needs hd/2 % 16 == 0. */
static bool flash_head_dim(int64_t hd) { return hd == 64 || hd == 128 || hd == 256; }

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
    if (!flash_head_dim(hd)) {
        snprintf(p->why, sizeof p->why, "head dim %lld (the flash kernels take 64, 128 or 256)", (long long)hd);
        return;
    }
    if (!aligned16) {
        snprintf(p->why, sizeof p->why, "a tensor's data does not start at a multiple of 16 bytes");
        return;
    }
    p->hd = (int)hd;
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
