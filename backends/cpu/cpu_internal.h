/* Shared helpers of the CPU backend's kernels (not a public header).
 *
 * The dispatcher (runtime/ops.c) has validated every op before it reaches a kernel, so the
 * kernels only assert what op.h documents: f32 contiguous data unless the op says otherwise.
 * Hot loops are written so the compiler vectorizes them; SEA_CPU_CLONES builds an AVX2
 * variant next to the baseline one and picks by CPU feature at load time (ifunc; an
 * "arch=" clone would be chosen by CPU model and never run on AMD), which keeps one binary
 * portable. Reductions run in a fixed order so results do not depend on scheduling. */
#ifndef SEA_CPU_INTERNAL_H
#define SEA_CPU_INTERNAL_H

/* The build is -O2, whose "very cheap" vectorizer cost model leaves most kernel loops scalar,
 * and -ftrapping-math blocks if-conversion of clamps/selects. Neither flag changes results
 * (no fast-math: IEEE semantics and evaluation order are kept; ISO C mode keeps FMA
 * contraction off), so kernel files opt into both. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC optimize("O3", "no-trapping-math")
#endif

#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "backend.h"
#include "threadpool.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(__SANITIZE_ADDRESS__)
#define SEA_CPU_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define SEA_CPU_CLONES
#endif

static inline float *cpu_f32(const sea_tensor *t) { return (float *)((char *)t->buf->host + t->offset); }
static inline int32_t *cpu_i32(const sea_tensor *t) { return (int32_t *)((char *)t->buf->host + t->offset); }
static inline void *cpu_ptr(const sea_tensor *t) { return (char *)t->buf->host + t->offset; }

static inline int64_t cpu_numel(const sea_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}
static inline int64_t cpu_last(const sea_tensor *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }
static inline int64_t cpu_rows(const sea_tensor *t) { return cpu_last(t) ? cpu_numel(t) / cpu_last(t) : 0; }

/* Items per thread so that each thread gets at least ~16K elements of work: waking the
 * pool costs more than that much arithmetic. */
static inline int64_t cpu_min_items(int64_t work_per_item)
{
    return work_per_item >= 16384 ? 1 : 16384 / (work_per_item > 0 ? work_per_item : 1);
}

/* Parallel-for on the global pool; chunks of at least min_chunk items. */
static inline void cpu_for(int64_t n, int64_t min_chunk, sea_parallel_fn fn, void *ctx)
{
    if (n <= 0) return;
    sea_parallel_for(sea_threadpool_global(), n, min_chunk < 1 ? 1 : min_chunk, fn, ctx);
}

/* exp(x) for x <= 88 in plain arithmetic the compiler vectorizes (Cephes' expf: range
 * reduction by ln 2, degree-6 polynomial, exponent by bit construction); within 2 ulp of
 * expf over [-87, 88], exactly 0 below -87.3 (and for -inf). */
static inline float sea_cpu_vexpf(float x)
{
    float xc = x > -87.3f ? x : -87.3f;
    xc = xc < 88.0f ? xc : 88.0f;
    float k = (xc * 1.44269504f + 12582912.0f) - 12582912.0f;   /* round to nearest */
    float r = xc - k * 0.693359375f + k * 2.12194440e-4f;
    float p = 1.9875691500e-4f;
    p = p * r + 1.3981999507e-3f;
    p = p * r + 8.3334519073e-3f;
    p = p * r + 4.1665795894e-2f;
    p = p * r + 1.6666665459e-1f;
    p = p * r + 5.0000001201e-1f;
    float y = p * r * r + r + 1.0f;
    union { uint32_t u; float f; } sc;
    sc.u = (uint32_t)((int32_t)k + 127) << 23;
    y *= sc.f;
    return x >= -87.3f ? y : 0.0f;
}

/* erf(x) by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7) on sea_cpu_vexpf: vectorizes,
 * unlike libm's erff. */
static inline float sea_cpu_verff(float x)
{
    float a = x < 0 ? -x : x;
    float t = 1.0f / (1.0f + 0.3275911f * a);
    float y = t * (0.254829592f + t * (-0.284496736f + t * (1.421413741f + t * (-1.453152027f + t * 1.061405429f))));
    float e = 1.0f - y * sea_cpu_vexpf(-a * a);
    return x < 0 ? -e : e;
}

/* tanh(u) = 1 - 2 / (exp(2u) + 1): absolute error ~1e-7, enough where tanh is added to 1 (gelu). */
static inline float sea_cpu_vtanhf(float u) { return 1.0f - 2.0f / (sea_cpu_vexpf(2.0f * u) + 1.0f); }

/* Activations and their derivatives, inline so callers' loops vectorize. */
static inline float sea_cpu_gelu(float x) { return 0.5f * x * (1.0f + sea_cpu_verff(x * 0.70710678f)); }
static inline float sea_cpu_gelu_grad(float x)
{
    return 0.5f * (1.0f + sea_cpu_verff(x * 0.70710678f)) + x * 0.39894228f * sea_cpu_vexpf(-0.5f * x * x);
}
static inline float sea_cpu_gelu_tanh(float x)
{
    return 0.5f * x * (1.0f + sea_cpu_vtanhf(0.79788456f * (x + 0.044715f * x * x * x)));
}
static inline float sea_cpu_gelu_tanh_grad(float x)
{
    float t = sea_cpu_vtanhf(0.79788456f * (x + 0.044715f * x * x * x));
    return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * 0.79788456f * (1.0f + 3.0f * 0.044715f * x * x);
}
static inline float sea_cpu_sigmoid(float x) { return 1.0f / (1.0f + sea_cpu_vexpf(-x)); }
static inline float sea_cpu_silu(float x) { return x * sea_cpu_sigmoid(x); }
static inline float sea_cpu_silu_grad(float x)
{
    float s = sea_cpu_sigmoid(x);
    return s * (1.0f + x * (1.0f - s));
}

/* Vector helpers (cpu_vec.c). Fixed 8-lane summation order: the same bits on every CPU. */
/* The dot product's summation order (8 lanes, then pairs): inline so kernels that need it
 * per row of a tiny loop (decode attention) get it without a call, with the same bits as
 * sea_cpu_dot, which is this in a function compiled per instruction set. */
static inline float sea_cpu_dot_inline(const float *a, const float *b, int64_t n)
{
    float s[8] = {0};
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) s[j] += a[i + j] * b[i + j];
    for (int j = 0; i < n; i++, j++) s[j] += a[i] * b[i];
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}
float sea_cpu_dot(const float *a, const float *b, int64_t n);
void sea_cpu_axpy(float *y, float alpha, const float *x, int64_t n); /* y += alpha x */
float sea_cpu_max(const float *x, int64_t n);
/* y[i] = exp(x[i] - shift); returns the sum (8 float lanes per block of 1024, blocks in double). */
double sea_cpu_exp_sum(float *y, const float *x, float shift, int64_t n);
double sea_cpu_sum_exp(const float *x, float shift, int64_t n); /* sum exp(x - shift), no store */
void sea_cpu_axpy_exp(float *y, float alpha, const float *x, float shift, int64_t n); /* y += alpha exp(x - shift) */

/* y[i] = act(x[i]) and g[i] = gout[i] * act'(x[i]) (+= when accumulate) over n elements; y may be x. */
void sea_cpu_act_rows(sea_act act, float *y, const float *x, int64_t n);
void sea_cpu_act_grad_rows(sea_act act, float *g, const float *gout, const float *x, int64_t n, bool accumulate);

/* Per-op kernels. Forward computes outputs; backward accumulates into non-NULL gin. */
sea_status sea_cpu_fill(const sea_op *op);
sea_status sea_cpu_copy(const sea_op *op);
sea_status sea_cpu_set_rows(const sea_op *op);   /* any dtype: bytes */

/* cpu_half.c: ops with bf16/f16 tensors (sea_op_has_half) run the f32 kernel on f32 shadows. */
sea_status sea_cpu_run_half(const sea_op *op, bool backward, sea_status (*kernel)(const sea_op *));
sea_status sea_cpu_copy_backward(const sea_op *op);
sea_status sea_cpu_embedding(const sea_op *op);
sea_status sea_cpu_embedding_backward(const sea_op *op);
sea_status sea_cpu_matmul(const sea_op *op);
sea_status sea_cpu_matmul_backward(const sea_op *op);
sea_status sea_cpu_layernorm(const sea_op *op);
sea_status sea_cpu_layernorm_backward(const sea_op *op);
sea_status sea_cpu_rmsnorm(const sea_op *op);
sea_status sea_cpu_rmsnorm_backward(const sea_op *op);
sea_status sea_cpu_rope(const sea_op *op);
sea_status sea_cpu_rope_backward(const sea_op *op);
sea_status sea_cpu_attention(const sea_op *op);
sea_status sea_cpu_attention_backward(const sea_op *op);
sea_status sea_cpu_decode_attention(const sea_op *op);
sea_status sea_cpu_unary(const sea_op *op);          /* gelu, silu, relu, scale */
sea_status sea_cpu_unary_backward(const sea_op *op);
sea_status sea_cpu_swiglu(const sea_op *op);
sea_status sea_cpu_swiglu_backward(const sea_op *op);
sea_status sea_cpu_binary(const sea_op *op);         /* add, mul (with broadcast) */
sea_status sea_cpu_binary_backward(const sea_op *op);
sea_status sea_cpu_softmax(const sea_op *op);
sea_status sea_cpu_softmax_backward(const sea_op *op);
sea_status sea_cpu_logsoftmax_gather(const sea_op *op);
sea_status sea_cpu_logsoftmax_gather_backward(const sea_op *op);
sea_status sea_cpu_cross_entropy(const sea_op *op);
sea_status sea_cpu_cross_entropy_backward(const sea_op *op);
sea_status sea_cpu_masked_sum(const sea_op *op);
sea_status sea_cpu_masked_sum_backward(const sea_op *op);
sea_status sea_cpu_sample(const sea_op *op);
sea_status sea_cpu_ensemble_mlp(const sea_op *op);
sea_status sea_cpu_ensemble_mlp_backward(const sea_op *op);
sea_status sea_cpu_adamw(const sea_op *op);
sea_status sea_cpu_global_norm(const sea_op *op);
sea_status sea_cpu_clip(const sea_op *op);

#endif
