/* Which attention kernels run, and with which tiles: pure host logic, shared by the CUDA
 * glue (cuda_attention.cu) and a host test that needs no GPU (tests/cuda_attn_plan_host.c).
 *
 * Two kernel families implement SEA_OP_ATTENTION:
 *   basic  fp32 SIMT flash-style kernels (cuda_attention.cu): every dtype, head dim 1..256.
 *   flash  tensor-core kernels (cuda_flash_attn.cu): bf16/f16 q, k, v (and out, dout),
 *          mma.sync m16n8k16 with fp32 accumulation, head dim a multiple of 8 up to 256
 *          (kernels for 64, 128 and 256; a head dim in between runs on the next larger,
 *          zero-padded).
 * The tile macros below are the single source of the kernels' template parameters and of
 * the shared-memory sizes the planner checks against the device, so the two cannot drift.
 * Plain C (no CUDA headers): macros only, usable from host and device code. */
#ifndef SEA_CUDA_ATTN_PLAN_H
#define SEA_CUDA_ATTN_PLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Forward and dQ kernels: 4 warps, each owning 16 query rows (one mma M tile). */
#define SEA_FA_BM 64
#define SEA_FA_THREADS 128
/* Keys per tile in the forward and dQ kernels: at head dim 256 the fp32 O (or dQ) accumulator
 * already takes 128 registers per thread, so the score tile is halved. */
#define SEA_FA_BN(hd) ((hd) > 128 ? 32 : 64)
/* dK/dV kernel: a block owns KV_BN keys and steps over the queries KV_BM at a time with 8
 * warps = (KV_BN / 16) key slices of 16 x KV_WD slices of the head dim. The fp32 dK and dV
 * of a warp are 16 x hd/KV_WD each: at hd 256 a 2-way split would need 128 accumulator
 * registers, so there the block holds 32 keys and splits the head dim 4 ways (64 registers). */
#define SEA_FA_KV_BN(hd) ((hd) > 128 ? 32 : 64)
#define SEA_FA_KV_WD(hd) ((hd) > 128 ? 4 : 2)
#define SEA_FA_KV_BM 64
#define SEA_FA_KV_THREADS 256
/* Shared-memory rows are padded by 8 elements (16 bytes): with a row pitch of 16 (mod 128)
 * bytes, the 8 row addresses of an ldmatrix phase fall in 8 different bank groups. */
#define SEA_FA_PAD 8
#define SEA_FA_PITCH(hd) ((hd) + SEA_FA_PAD)

/* Dynamic shared memory, bytes (16-bit elements; int flags per key; f32 lse/delta per query). */
/* forward: Q (BM rows), K and V (BN rows each), key flags (BN) */
#define SEA_FA_FWD_SMEM(hd) \
    ((size_t)(SEA_FA_BM + 2 * SEA_FA_BN(hd)) * SEA_FA_PITCH(hd) * 2 + (size_t)SEA_FA_BN(hd) * 4)
/* dQ: Q and dO (BM rows each), K and V (BN rows each), key flags (BN) */
#define SEA_FA_DQ_SMEM(hd) \
    ((size_t)(2 * SEA_FA_BM + 2 * SEA_FA_BN(hd)) * SEA_FA_PITCH(hd) * 2 + (size_t)SEA_FA_BN(hd) * 4)
/* dK/dV: K and V (KV_BN rows), Q and dO (KV_BM rows), P^T and dS^T (KV_BN x KV_BM, padded),
 * key flags (KV_BN), lse and delta (KV_BM each) */
#define SEA_FA_KV_SMEM(hd)                                                          \
    ((size_t)(2 * SEA_FA_KV_BN(hd) + 2 * SEA_FA_KV_BM) * SEA_FA_PITCH(hd) * 2 +     \
     (size_t)2 * SEA_FA_KV_BN(hd) * (SEA_FA_KV_BM + SEA_FA_PAD) * 2 +               \
     (size_t)(SEA_FA_KV_BN(hd) + 2 * SEA_FA_KV_BM) * 4)

/* Causal iteration bounds, shared by the kernels and the host test that checks every
 * admissible (query, key) pair is visited exactly once per kernel:
 * a forward/dQ block of queries [q0, q0 + BM) visits the key tiles [0, KEY_TILES) (keys up
 * to its last query); a dK/dV block of keys [s0, s0 + KV_BN) visits the query tiles from
 * KV_FIRST_Q to T (the tile holding query s0 onwards). */
#define SEA_FA_KEY_TILES(q0, T, bn) \
    ((((q0) + SEA_FA_BM < (T) ? (q0) + SEA_FA_BM : (T)) + (bn) - 1) / (bn))
#define SEA_FA_KV_FIRST_Q(s0) ((s0) / SEA_FA_KV_BM * SEA_FA_KV_BM)

/* SEA_CUDA_ATTN: unset, "" or "auto" = flash where supported, else basic; "basic" = always
 * the fp32 SIMT kernels (for comparison); "flash" = the flash kernels or an error saying
 * why not (tests and benchmarks use it to be sure which kernel ran). */
typedef enum sea_cuda_attn_mode {
    SEA_CUDA_ATTN_AUTO = 0,
    SEA_CUDA_ATTN_BASIC,
    SEA_CUDA_ATTN_FLASH
} sea_cuda_attn_mode;

/* SEA_CUDA_FA_DQ: how the flash backward gets dQ.
 *   gemm (default; unset, "" or "auto"): the dK/dV kernel, which computes dS^T tile by tile
 *        anyway, also writes it (16-bit, (B, H, T, T), zeros above the causal diagonal) to a
 *        temporary, and cuBLAS computes dQ += scale dS K per head: 5 products instead of 7
 *        (S and dP are not computed a second time), the dQ product at cuBLAS's rate, still
 *        without atomics (deterministic);
 *   kernel: k_fa_dq, which recomputes S and dP and needs no (T, T) memory.
 * The GEMM path needs B H T^2 2 bytes; above SEA_FA_DQ_GEMM_MAX_BYTES it falls back to the
 * kernel (Pythia-1B's DPO shape, B 16 H 8 T 512: 64 MiB). */
typedef enum sea_cuda_fa_dq_mode {
    SEA_CUDA_FA_DQ_AUTO = 0,
    SEA_CUDA_FA_DQ_GEMM,
    SEA_CUDA_FA_DQ_KERNEL
} sea_cuda_fa_dq_mode;
#define SEA_FA_DQ_GEMM_MAX_BYTES ((size_t)1 << 30)

/* Parse SEA_CUDA_FA_DQ (NULL = unset). Unknown values are an error naming the variable. */
sea_status sea_cuda_fa_dq_mode_parse(const char *value, sea_cuda_fa_dq_mode *mode);
/* Whether a flash backward of B sequences, H query heads and T tokens computes dQ by GEMM. */
bool sea_cuda_fa_dq_by_gemm(sea_cuda_fa_dq_mode mode, int64_t B, int64_t H, int64_t T);

typedef struct sea_cuda_attn_plan {
    bool flash;         /* run the tensor-core kernels */
    bool dq_gemm;       /* flash backward: dQ from dS^T by cuBLAS (set by the caller, which
                         * knows B, H and T: sea_cuda_fa_dq_by_gemm) */
    int hd;             /* flash: the head dim of the kernels that run (64, 128 or 256: the
                         * tensors' own, or the next larger one, zero-padded) */
    int bn;             /* flash: keys per tile in the forward and dQ kernels */
    size_t smem_fwd;    /* flash: dynamic shared memory per block, bytes */
    size_t smem_dq;
    size_t smem_dkv;
    char why[200];      /* basic: why not flash ("" when flash) */
} sea_cuda_attn_plan;

/* Parse SEA_CUDA_ATTN (NULL = unset). Unknown values are an error naming the variable. */
sea_status sea_cuda_attn_mode_parse(const char *value, sea_cuda_attn_mode *mode);

/* The kernel family and tiles for attention with q/k/v of dtype dt and head dim hd.
 * aligned16: every 16-bit tensor the kernels read or write with 16-byte accesses (q, k, v,
 * out; and dout for the backward) starts at a multiple of 16 bytes. smem_optin: the
 * device's largest dynamic shared memory per block (cudaDevAttrMaxSharedMemoryPerBlockOptin).
 * backward: plan the backward's kernels (dQ and dK/dV) instead of the forward's. */
void sea_cuda_attn_plan_make(sea_cuda_attn_mode mode, sea_dtype dt, int64_t hd, bool aligned16,
                             size_t smem_optin, bool backward, sea_cuda_attn_plan *p);

#ifdef __cplusplus
}
#endif
#endif
