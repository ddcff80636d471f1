/* The fixed, coarse op list: the contract between the runtime and every backend.
 *
 * An op is {kind, inputs, outputs, params}. A backend's op_forward computes outputs from
 * inputs; op_backward ACCUMULATES (+=) into the input gradients gin[i] that are non-NULL,
 * given the output gradients gout[j] (NULL = zero) and the op's saved outputs.
 * The dispatcher in runtime/ops.c has already validated shapes and dtypes and that every
 * tensor lives on the op's device; backends may assume what is documented here.
 *
 * Unless said otherwise: float tensors are SEA_F32 and contiguous; index tensors are SEA_I32.
 * A gradient has its tensor's dtype, except that the gradient of a bf16/f16 weight (matmul's
 * B and bias, layernorm's weights and biases, rmsnorm's weight, the embedding table) may be
 * f32: the mixed-precision master gradient, accumulated without rounding to 16 bits.
 * Backends that support more dtypes for an op say so through sea_backend_ops.supports().
 * Reductions must be deterministic: the same inputs give the same bits on every run
 * (fixed reduction order; no float atomics).
 *
 * Shapes below: (B)atch, (T)ime, (H)eads, head dim (hd), (N) rows, (D) features, (V)ocab.
 */
#ifndef SEA_OP_H
#define SEA_OP_H

#include <stdbool.h>
#include <stdint.h>

#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SEA_OP_MAX_IN 7
#define SEA_OP_MAX_OUT 4

typedef enum sea_op_kind {
    /* out[0] (any dtype, any strides) = p.fill.value. No backward. */
    SEA_OP_FILL = 0,
    /* out[0] = cast(in[0]); same shape, any strides, any dtype pair (f32/bf16/f16/i32).
     * Also how KV caches are written (strided destination view).
     * Backward (float only): gin[0] += cast(gout[0]). */
    SEA_OP_COPY,
    /* in[0] table (V, D), in[1] ids i32 (N) -> out[0] (N, D). ids outside [0, V) are an error
     * on backends that can report it, a zero row elsewhere. Backward: gin[0] rows += gout rows
     * (scatter-add, deterministic). */
    SEA_OP_EMBEDDING,
    /* out[0] = act(op(A) @ op(B) + bias).
     * A = in[0]: (M, K) or (..., M, K); with p.matmul.trans_a it is stored (..., K, M).
     * B = in[1]: (K, N), or (N, K) with trans_b (the HF Linear weight layout); it may carry the
     *   same leading batch dims as A (batched matmul), or none (shared across the batch).
     * bias = in[2] (N) or NULL. out[0] (..., M, N). out[1] = pre-activation (..., M, N):
     * required when act != NONE and the op will be differentiated, else may be NULL.
     * residual = in[3] or NULL: out[0]'s shape and dtype, contiguous, not overlapping out[0],
     *   only with act == NONE and no out[1]: out[0] = op(A) @ op(B) + bias + residual (a transformer's
     *   residual connection folded into its output projection: one kernel and one pass over
     *   the activations fewer).
     * Leading batch dims: up to 2. Backward: gin[0], gin[1], gin[2], gin[3] += gout[0]
     * (any may be NULL).
     * Dtypes: A, B and bias share one dtype; the outputs have it too, or are f32 when A is
     * bf16/f16 (mixed precision: f32 logits from bf16 weights); gradients follow their tensors. */
    SEA_OP_MATMUL,
    /* in[0] x (N, D), in[1] weight (D), in[2] bias (D) or NULL -> out[0] y (N, D),
     * out[1] mean (N), out[2] rstd (N) (saved for backward). p.norm.eps.
     * A second affine of the same normalized x: in[3] weight2 (D) or NULL, in[4] bias2 (D) or
     * NULL (only with weight2) -> out[3] y2 (N, D) = (x - mean) * rstd * weight2 + bias2,
     * present exactly when weight2 is (GPT-NeoX's parallel residual normalizes x twice: one
     * kernel and one read of x instead of two). weight2, bias2 and y2 follow weight, bias and y.
     * Backward: gin[0], gin[1], gin[2] from gout[0]; gin[3], gin[4] from gout[3]; gin[0] takes
     * both in one pass (the backward is linear in gout * weight: dy*w + dy2*w2 in one formula). */
    SEA_OP_LAYERNORM,
    /* in[0] x (N, D), in[1] weight (D) -> out[0] y, out[1] rstd (N). p.norm.eps. */
    SEA_OP_RMSNORM,
    /* in[0] x (B, T, H, hd) (any strides; last stride 1), in[1] positions i32 (B, T)
     * -> out[0] (B, T, H, hd) contiguous. Rotates the first p.rope.rot_dims dims of each
     * head; the rest is copied. Style NEOX ("rotate half": pairs (i, i + rot_dims/2)) or
     * GPTJ (interleaved pairs (2i, 2i+1)). Frequency i: theta^(-2i/rot_dims), then llama3
     * scaling if p.rope.scaling == SEA_ROPE_SCALING_LLAMA3 (as HF's _compute_llama3_parameters).
     * Angles are computed in float64 on the host or in f32 as pos * inv_freq; backends agree
     * to ~1e-6 relative. Backward: gin[0] += R(-angle) gout. out[0] may be in[0] itself when
     * that is contiguous (in place: the same values as into other memory; every backend reads
     * both elements of a pair before writing either); no other overlap. An in-place rope's
     * gradient is then the same memory as its input's: the caller rotates it in place
     * (models/model_grad.c: copy gout aside, zero it, run the backward from the copy). */
    SEA_OP_ROPE,
    /* Causal self-attention with key padding (prefill and training).
     * in[0] q (B, T, H, hd), in[1] k (B, T, Hkv, hd), in[2] v (B, T, Hkv, hd); H % Hkv == 0
     * (head h uses kv head h / (H/Hkv)); in[3] key_valid i32 (B, T) or NULL (1 = real token).
     * Query t attends keys s <= t with key_valid[s] != 0; scale p.attn.scale.
     * out[0] (B, T, H, hd); out[1] lse f32 (B, H, T) (log-sum-exp of scaled scores, saved).
     * A query with no admissible key outputs zeros and lse = -INFINITY.
     * Backward: gin[0], gin[1], gin[2]. */
    SEA_OP_ATTENTION,
    /* One new query per sequence over a KV cache (forward only).
     * in[0] q (B, H, hd) (any strides, last stride 1: a head slice of a fused q/k rope output),
     * in[1] k_cache (B, S, Hkv, hd), in[2] v_cache (B, S, Hkv, hd),
     * in[3] key_valid i32 (B, S) (1 = real token, 0 = padding or not yet written),
     * p.attn.n_keys = number of cache positions filled (keys 0..n_keys-1 are considered).
     * Optional shared prefix (the samples of one prompt share its keys and values, stored
     * once): in[4] prefix_k (Bp, Sp, Hkv, hd), in[5] prefix_v (Bp, Sp, Hkv, hd), in[6]
     * prefix_valid i32 (Bp, Sp), all three or none, contiguous, the caches' dtype; B a
     * multiple of Bp. Sequence b attends the keys s < Sp of prefix row b / (B / Bp) with
     * prefix_valid != 0, then its own cache's keys as above: one softmax over both sets, as
     * if the prefix row were copied in front of its own cache.
     * out[0] (B, H, hd). */
    SEA_OP_DECODE_ATTENTION,
    /* Elementwise activations: in[0] x -> out[0] y (same shape). Backward uses in[0].
     * GELU: p.act.approximate false = erf form, true = tanh form. */
    SEA_OP_GELU,
    SEA_OP_SILU,
    SEA_OP_RELU,
    /* in[0] gate, in[1] up -> out[0] = silu(gate) * up. Backward: gin[0], gin[1]. */
    SEA_OP_SWIGLU,
    /* out[0] = in[0] + in[1] / in[0] * in[1]. in[1] is either the same shape as in[0] or
     * broadcast over leading dims: its shape equals a suffix of in[0]'s shape (e.g. a (D)
     * bias over (N, D)). Backward: gin[0], gin[1] (reduced over the broadcast dims). */
    SEA_OP_ADD,
    SEA_OP_MUL,
    /* out[0] = p.scale.alpha * in[0]. */
    SEA_OP_SCALE,
    /* Softmax over the last dim: in[0] (N, D) -> out[0] (N, D). Backward uses out[0]. */
    SEA_OP_SOFTMAX,
    /* in[0] logits (N, V), in[1] targets i32 (N) -> out[0] logp (N) = log_softmax(logits)[target],
     * out[1] lse (N) saved. Never materializes the (N, V) log-softmax. A target < 0 gives
     * logp 0 and no gradient. Backward: gin[0] += gout[n] * (onehot - softmax). */
    SEA_OP_LOGSOFTMAX_GATHER,
    /* in[0] logits (N, V), in[1] targets i32 (N) (< 0 = ignored) -> out[0] loss (1) = mean over
     * non-ignored rows of -log_softmax[target] (0 if none), out[1] lse (N). */
    SEA_OP_CROSS_ENTROPY,
    /* in[0] x (B, T), in[1] mask f32 (B, T) -> out[0] (B) = sum_t x*mask, divided by sum_t mask
     * when p.masked.mean (0 when the mask is empty). Backward: gin[0]. */
    SEA_OP_MASKED_SUM,
    /* Token sampling (forward only). in[0] logits f32 (B, V), in[1] seq_ids i32 (B) (stable
     * per-sequence RNG stream ids). out[0] tokens i32 (B), out[1] logp f32 (B) =
     * log_softmax(logits)[token] at temperature 1, untruncated (what the learner recomputes).
     * temperature 0 = greedy (argmax, lowest index on ties). Otherwise: keep the top_k largest
     * logits (0 = all; ties by lower index), then the smallest set of highest-probability
     * tokens whose softmax(logits/T) mass reaches top_p (1 = all), then Gumbel-max:
     * token = argmax over kept i of logits[i]/T + g_i, g_i = -log(-log(u_i)),
     * u_i = sea_rng_uniform(seed, seq_ids[b], (uint64)p.sample.step * V + i). Gumbel-max needs
     * no cumulative sum, so backends agree on the token except on exact float ties. */
    SEA_OP_SAMPLE,
    /* K independent MLPs d -> h -> ReLU -> h -> ReLU -> 1 over shared inputs.
     * in[0] x (N, d), in[1] W1 (K, d, h), in[2] b1 (K, h), in[3] W2 (K, h, h), in[4] b2 (K, h),
     * in[5] W3 (K, h), in[6] b3 (K) -> out[0] r (K, N); out[1] h1 (K, N, h), out[2] h2 (K, N, h)
     * post-ReLU activations (saved for backward). Backward: gin[0..6]. */
    SEA_OP_ENSEMBLE_MLP,
    /* In place over flat f32 buffers of n elements: in[0] grad (n); out[0] param, out[1] m,
     * out[2] v. g' = grad + p.adamw.l2 * param (coupled L2); m = b1 m + (1-b1) g';
     * v = b2 v + (1-b2) g'^2; param -= lr * (mhat / (sqrt(vhat) + eps) + weight_decay * param),
     * mhat = m / (1 - b1^step), vhat = v / (1 - b2^step). No backward. */
    SEA_OP_ADAMW,
    /* in[0] x (n) -> out[0] (1) = sqrt(sum x^2), accumulated in a fixed order. No backward. */
    SEA_OP_GLOBAL_NORM,
    /* in[0] norm (1); out[0] grad (n) scaled in place by min(1, max_norm / (norm + 1e-6)).
     * No backward. */
    SEA_OP_CLIP,
    /* Row scatter into an existing tensor: in[0] x (N, R), in[1] rows i32 (N) -> out[0] dst
     * (M, R), written in place: dst[rows[n], :] = x[n, :]; the other rows keep their values.
     * x and dst share one dtype (any: the bytes are copied); dst is contiguous, x has last
     * stride 1 and any row stride >= R (a column slice of a fused q/k/v output). rows must be
     * distinct. A row outside [0, M) is an error on backends that can report it (the CPU)
     * and is not written elsewhere. How KV caches are written when the slot lives on the
     * device: a captured decode step (runtime/graph.h) replays with new slots. No backward. */
    SEA_OP_SET_ROWS,
    SEA_OP_COUNT
} sea_op_kind;

typedef enum sea_act { SEA_ACT_NONE = 0, SEA_ACT_GELU, SEA_ACT_GELU_TANH, SEA_ACT_RELU, SEA_ACT_SILU } sea_act;
typedef enum sea_rope_style { SEA_ROPE_NEOX = 0, SEA_ROPE_GPTJ } sea_rope_style;
typedef enum sea_rope_scaling { SEA_ROPE_SCALING_NONE = 0, SEA_ROPE_SCALING_LLAMA3 } sea_rope_scaling;

typedef union sea_op_params {
    struct { double value; } fill;
    struct { bool trans_a, trans_b; sea_act act; } matmul;
    struct { float eps; } norm;
    struct {
        int rot_dims;
        float theta;
        sea_rope_style style;
        sea_rope_scaling scaling;
        float factor, low_freq_factor, high_freq_factor;
        int original_max_pos;
    } rope;
    struct { float scale; int n_keys; } attn;
    struct { bool approximate; } act;
    struct { float alpha; } scale;
    struct { bool mean; } masked;
    struct { float temperature; int top_k; float top_p; uint64_t seed; uint32_t step; } sample;
    struct { float lr, beta1, beta2, eps, weight_decay, l2; int step; } adamw;
    struct { float max_norm; } clip;
} sea_op_params;

typedef struct sea_op {
    sea_op_kind kind;
    const sea_tensor *in[SEA_OP_MAX_IN];  /* NULL = absent optional input */
    sea_tensor *out[SEA_OP_MAX_OUT];       /* NULL = absent optional output */
    /* Backward only: gradients, same shapes as in[]/out[]; NULL = not needed / zero. */
    sea_tensor *gin[SEA_OP_MAX_IN];
    const sea_tensor *gout[SEA_OP_MAX_OUT];
    sea_op_params p;
} sea_op;

const char *sea_op_name(sea_op_kind k); /* "matmul", "layernorm", ... */
bool sea_op_has_backward(sea_op_kind k);
/* The mixed-precision dtype contract (first input / first output) that the CPU and CUDA
 * backends implement: fill and copy any dtype; the network ops f32/bf16/f16 (matmul also
 * half in, f32 out; log-softmax and cross-entropy half in, f32 out); sampling, the ensemble,
 * masked sums and the optimizer f32 only. A backend's supports() may return this. */
bool sea_op_mixed_precision_ok(sea_op_kind kind, sea_dtype in0, sea_dtype out0);
/* Whether any tensor of the op (with backward: also gin/gout) is bf16 or f16: backends that
 * compute in f32 route such ops through f32 copies (cpu_half.c, ocl_op_f32_twin.c). */
bool sea_op_has_half(const sea_op *op, bool backward);

#ifdef __cplusplus
}
#endif
#endif
