/* Private declarations of the CUDA backend module, shared by its C glue and .cu kernels.
 *
 * The C files (module table, devices, streams, memory, cuBLAS glue) and the .cu files
 * (kernels and their launchers) meet here; everything is extern "C". */
#ifndef SEA_CUDA_INTERNAL_H
#define SEA_CUDA_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime_api.h>

#include "backend.h"
#include "cuda_attn_plan.h"
#include "op.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Per-device state (dev->ctx). */
typedef struct sea_cuda_device {
    int ordinal;
    struct sea_cuda_cache *cache;  /* caching allocator, cuda_alloc.c */
    int n_streams;                 /* live streams: the cache syncs the device on free when > 1 */
    size_t smem_optin;             /* largest dynamic shared memory per block (opt-in), bytes */
    char label[192];               /* "cuda:0 (NVIDIA H100 80GB HBM3)" for messages */
} sea_cuda_device;

/* Per-stream state (s->ctx). */
typedef struct sea_cuda_stream {
    cudaStream_t stream;
    cublasHandle_t blas;
    cublasLtHandle_t lt;           /* bias epilogues (cuda_gemm_lt.c); NULL: unavailable or SEA_CUDA_LT=0 */
    bool tf32;                     /* SEA_CUDA_TF32: f32 GEMMs may use TF32 tensor cores */
    void *blas_ws;                 /* cuBLAS workspace, owned (fixed: keeps results reproducible) */
    size_t blas_ws_size;
    sea_device *dev;
    sea_cuda_device *cdev;
    int ordinal;
    bool sync_each_op;             /* SEA_CUDA_SYNC=1: report async faults at the op that caused them */
    /* Graph capture (cuda_graph.c): while capturing, op temporaries freed by the ops are kept
     * here instead of going back to the cache, because the graph's kernels will use those
     * addresses at every replay; the graph owns them from graph_end on. */
    bool capturing;
    bool capture_failed;           /* a temporary could not be kept (host OOM): graph_end fails */
    struct sea_cuda_kept *kept;
} sea_cuda_stream;

/* Temporaries owned by a capture in progress or by a graph. */
typedef struct sea_cuda_kept {
    void **ptr;
    size_t *size;
    int n, cap;
} sea_cuda_kept;

/* ---- errors (cuda_util.c) ---- */
/* Map a CUDA runtime error to a status whose message names the device and what failed. */
sea_status sea_cuda_check(cudaError_t e, const sea_cuda_stream *cs, const char *what);
sea_status sea_cuda_check_dev(cudaError_t e, int ordinal, const char *what);
sea_status sea_cuda_blas_check(cublasStatus_t e, const sea_cuda_stream *cs, const char *what);
/* cudaGetLastError after a kernel launch, naming the op. */
sea_status sea_cuda_launch_check(const sea_cuda_stream *cs, const char *op);

/* ---- memory (cuda_alloc.c) ---- */
sea_status sea_cuda_cache_create(sea_cuda_device *d);
void sea_cuda_cache_destroy(sea_cuda_device *d);
sea_status sea_cuda_mem_alloc(sea_cuda_device *d, size_t size, void **out);
void sea_cuda_mem_free(sea_cuda_device *d, void *ptr, size_t size);
/* backend.h's memory_stats: the cache's counters (blocks of buffers, temporaries and the
 * cuBLAS workspace). */
sea_status sea_cuda_memory_stats(sea_device *dev, bool reset_peak, sea_device_memory *out);
/* cudaFree every cached free block (the backend's memory_trim). */
sea_status sea_cuda_memory_trim(sea_device *dev);
/* Temporaries of one op: stream-ordered reuse makes freeing right after enqueueing safe. */
sea_status sea_cuda_tmp_alloc(sea_cuda_stream *cs, size_t size, void **out);
void sea_cuda_tmp_free(sea_cuda_stream *cs, void *ptr, size_t size);

static inline void *sea_cuda_ptr(const sea_tensor *t)
{
    return t ? (void *)((char *)t->buf->handle + t->offset) : NULL;
}

/* ---- cuBLAS glue (cuda_gemm.c) ----
 * Row-major C (M, N) = alpha * op(X) @ op(Y) + beta * C, batched.
 * op(X) is (M, Kc): X stored (M, Kc) row-major, or (Kc, M) when tx.
 * op(Y) is (Kc, N): Y stored (Kc, N), or (N, Kc) when ty.
 * Strides are in elements between batch entries (0 = shared). All three share one dtype
 * for X and Y; C may be f32 or the same dtype. Accumulation is f32. */
typedef struct sea_cuda_gemm {
    bool tx, ty;
    int64_t M, N, K;
    const void *x; sea_dtype xt; int64_t sx;
    const void *y; sea_dtype yt; int64_t sy;
    void *c; sea_dtype ct; int64_t sc;
    int64_t batch;
    float alpha, beta;
    /* Leading dimensions of the row-major x, y and c (elements from one row to the next), for
     * matrices that are column blocks of wider rows (a head's columns of (T, H, hd)); 0 =
     * packed. sea_cuda_gemm_run only: sea_cuda_gemm_lt declines when any is set. */
    int64_t ldx, ldy, ldc;
} sea_cuda_gemm;
sea_status sea_cuda_gemm_run(sea_cuda_stream *cs, const sea_cuda_gemm *g, const char *op);
cudaDataType_t sea_cuda_blas_type(sea_dtype t); /* CUDA_R_32F / 16BF / 16F */
/* C = X Y (+ bias per output feature) (+ residual, C's shape and dtype) in one cuBLASLt call
 * (cuda_gemm_lt.c) when it applies; *used = false: not done (the caller runs the GEMM and
 * the epilogue kernel). bias and residual may be NULL (not both). */
sea_status sea_cuda_gemm_lt(sea_cuda_stream *cs, const sea_cuda_gemm *g, const void *bias, sea_dtype bias_dt,
                            const void *residual, const char *op, bool *used);

/* ---- launchers of shared kernels (cuda_elementwise.cu, cuda_reduce.cu) ---- */
/* out[i] (dtype od) = act(c[i] + bias[i % n]) for i < rows*n; pre (pd) gets c + bias
 * when non-NULL. bias_batch: bias advances by n every `rows_per_bias` rows (ensemble heads),
 * 0 = one bias for all rows. c is f32 or dtype cd. */
sea_status sea_cuda_bias_act(sea_cuda_stream *cs, const void *c, sea_dtype cd, const void *bias,
                             sea_dtype bd, int64_t rows_per_bias, void *pre, sea_dtype pd,
                             void *out, sea_dtype od, int64_t rows, int64_t n, sea_act act,
                             const char *op);
/* The same with a residual added last: out[i] = act(c[i] + bias) + res[i] (res NULL: none). */
sea_status sea_cuda_bias_act_residual(sea_cuda_stream *cs, const void *c, sea_dtype cd, const void *bias,
                                      sea_dtype bd, int64_t rows_per_bias, void *pre, sea_dtype pd,
                                      const void *res, sea_dtype rd, void *out, sea_dtype od, int64_t rows,
                                      int64_t n, sea_act act, const char *op);
/* dpre[i] (f32 or dtype dd) = gout[i] * act'(pre[i]) (+ gpre[i] when non-NULL). */
sea_status sea_cuda_act_backward(sea_cuda_stream *cs, const void *gout, sea_dtype gd,
                                 const void *gpre, sea_dtype gpd, const void *pre, sea_dtype pd,
                                 void *dpre, sea_dtype dd, int64_t n, sea_act act, const char *op);
/* dst[b, j] (f32) += sum_r src[b, r, j] for a (batch, rows, cols) contiguous src, in a fixed
 * order (deterministic; no atomics). src may be f32/bf16/f16. */
sea_status sea_cuda_colsum_acc(sea_cuda_stream *cs, const void *src, sea_dtype sd, int64_t batch,
                               int64_t rows, int64_t cols, void *dst, sea_dtype dd, const char *op);

/* ---- tensor-core flash attention (cuda_flash_attn.cu; selection in cuda_attn_plan.h) ---- */
typedef struct sea_cuda_fa_args {
    const void *q, *k, *v;         /* (B, T, H, hd), (B, T, Hkv, hd) x2; bf16 or f16, contiguous */
    sea_dtype dt;                  /* of q, k, v, out, dout */
    const int32_t *key_valid;      /* (B, T) or NULL */
    void *out;                     /* forward: (B, T, H, hd) */
    float *lse;                    /* forward: (B, H, T) or NULL */
    const void *dout;              /* backward: (B, T, H, hd) */
    const float *lse_in;           /* backward: the saved lse (B, H, T) */
    const float *delta;            /* backward: rowsum(dO * O) - dlse (B, H, T) */
    void *dq, *dk, *dv;            /* backward: accumulated (+=), dtype gt; any may be NULL */
    void *ds_t;                    /* backward, dQ by GEMM: k_fa_dkv also writes dS^T (B, H, T, T)
                                    * in dt here (entries it does not visit are left alone); NULL = no */
    int gt;
    int64_t B, T, H, Hkv;
    int64_t hd;                    /* the tensors' head dim: the plan's (kernel) hd, or less
                                    * (a multiple of 8; the kernel zero-pads the rest) */
    float scale, scale_log2;       /* scale, and scale * log2(e) (the kernels use exp2) */
} sea_cuda_fa_args;
sea_status sea_cuda_flash_attention_fwd(sea_cuda_stream *cs, const sea_cuda_attn_plan *p, const sea_cuda_fa_args *a);
/* dQ and dK/dV (delta must be computed first; see cuda_attention.cu). */
sea_status sea_cuda_flash_attention_bwd(sea_cuda_stream *cs, const sea_cuda_attn_plan *p, const sea_cuda_fa_args *a);

/* ---- graphs (cuda_graph.c): the backend's graph_* slots ---- */
sea_status sea_cuda_graph_begin(sea_stream *s);
sea_status sea_cuda_graph_end(sea_stream *s, void **out);
sea_status sea_cuda_graph_launch(sea_stream *s, void *graph);
void sea_cuda_graph_free(sea_device *dev, void *graph);
/* Hand a temporary freed during capture to the capture (the allocator's tmp_free). */
void sea_cuda_graph_keep(sea_cuda_stream *cs, void *ptr, size_t size);

/* ---- ops: one function per op kind and direction ---- */
#define SEA_CUDA_OP(name)                                                 \
    sea_status sea_cuda_##name##_forward(sea_cuda_stream *cs, const sea_op *op); \
    sea_status sea_cuda_##name##_backward(sea_cuda_stream *cs, const sea_op *op);
SEA_CUDA_OP(fill)
SEA_CUDA_OP(copy)
SEA_CUDA_OP(embedding)
SEA_CUDA_OP(matmul)
SEA_CUDA_OP(layernorm)
SEA_CUDA_OP(rmsnorm)
SEA_CUDA_OP(rope)
SEA_CUDA_OP(attention)
SEA_CUDA_OP(decode_attention)
SEA_CUDA_OP(unary)           /* gelu, silu, relu, scale */
SEA_CUDA_OP(swiglu)
SEA_CUDA_OP(binary)          /* add, mul */
SEA_CUDA_OP(softmax)
SEA_CUDA_OP(logsoftmax_gather)
SEA_CUDA_OP(cross_entropy)
SEA_CUDA_OP(masked_sum)
SEA_CUDA_OP(sample)
SEA_CUDA_OP(ensemble_mlp)
SEA_CUDA_OP(adamw)
SEA_CUDA_OP(global_norm)
SEA_CUDA_OP(clip)
#undef SEA_CUDA_OP
sea_status sea_cuda_set_rows_forward(sea_cuda_stream *cs, const sea_op *op);   /* no backward */

/* ---- build consistency (cuda_abi.c) ----
 * Every .cu file reports a fingerprint of the layouts of the structs it reads (sea_op,
 * sea_tensor, sea_buffer, this file's stream and device state), and the module offers no
 * devices when one differs from its C files' (cuda_module.c). Meson 1.0 writes no header
 * dependencies for nvcc: after a change to runtime/op.h an old kernel object could survive
 * the rebuild, read shifted fields, and compute wrong results without any error (this
 * happened on an H200: fill wrote nothing, scale gave zeros). meson.build's cu_wrapper.sh
 * wrappers now recompile the kernels on such changes; this check catches what they miss
 * (a build folder from before them, another build system, a copied object). */
#define SEA_CUDA_ABI_MIX(h, v) (((h) ^ (uint64_t)(v)) * 1099511628211ULL)
#define SEA_CUDA_ABI_STRUCTS                                                                                  \
    SEA_CUDA_ABI_MIX(                                                                                         \
        SEA_CUDA_ABI_MIX(                                                                                     \
            SEA_CUDA_ABI_MIX(                                                                                 \
                SEA_CUDA_ABI_MIX(                                                                             \
                    SEA_CUDA_ABI_MIX(                                                                         \
                        SEA_CUDA_ABI_MIX(                                                                     \
                            SEA_CUDA_ABI_MIX(                                                                 \
                                SEA_CUDA_ABI_MIX(                                                             \
                                    SEA_CUDA_ABI_MIX(                                                         \
                                        SEA_CUDA_ABI_MIX(                                                     \
                                            SEA_CUDA_ABI_MIX(                                                 \
                                                SEA_CUDA_ABI_MIX(14695981039346656037ULL, sizeof(sea_op)),    \
                                                offsetof(sea_op, out)),                                       \
                                            offsetof(sea_op, gin)),                                           \
                                        offsetof(sea_op, p)),                                                 \
                                    sizeof(sea_op_params)),                                                   \
                                SEA_OP_COUNT),                                                                \
                            SEA_DTYPE_COUNT),                                                                 \
                        sizeof(sea_tensor)),                                                                  \
                    offsetof(sea_tensor, shape)),                                                             \
                offsetof(sea_buffer, handle)),                                                                \
            sizeof(sea_cuda_stream)),                                                                         \
        sizeof(sea_cuda_device))
#define SEA_CUDA_ABI_FINGERPRINT \
    SEA_CUDA_ABI_MIX(SEA_CUDA_ABI_MIX(SEA_CUDA_ABI_STRUCTS, sizeof(sea_cuda_fa_args)), sizeof(sea_cuda_attn_plan))
/* In each .cu file: SEA_CUDA_ABI_UNIT(elementwise) defines sea_cuda_abi_elementwise(). */
#define SEA_CUDA_ABI_UNIT(unit)                                                                               \
    extern "C" uint64_t sea_cuda_abi_##unit(void) { return SEA_CUDA_ABI_FINGERPRINT; }
typedef struct sea_cuda_abi_unit {
    const char *file;            /* "cuda_elementwise.cu" */
    uint64_t (*fingerprint)(void);
} sea_cuda_abi_unit;
/* The first unit whose fingerprint differs from `expect`, or NULL when all agree. */
const sea_cuda_abi_unit *sea_cuda_abi_stale_unit(const sea_cuda_abi_unit *units, size_t n, uint64_t expect);
/* The kernel files, cuda_<unit>.cu each (meson.build's cuda_kernel_files): X(unit) for every
 * one (declarations here, the module's check table in cuda_module.c). */
#define SEA_CUDA_KERNEL_UNITS(X)                                                                                  \
    X(elementwise) X(reduce) X(norm) X(softmax) X(embedding) X(rope) X(attention) X(flash_attn) X(decode) X(sample)
#define SEA_CUDA_ABI_DECLARE(unit) uint64_t sea_cuda_abi_##unit(void);
SEA_CUDA_KERNEL_UNITS(SEA_CUDA_ABI_DECLARE)
#undef SEA_CUDA_ABI_DECLARE

#ifdef __cplusplus
}
#endif
#endif
