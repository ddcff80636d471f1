/* Public op functions: validate, dispatch to the tensor's device, record on the tape.
 *
 * Every function checks shapes, dtypes and devices and returns SEA_ERR_SHAPE /
 * SEA_ERR_DTYPE / SEA_ERR_DEVICE with a message naming the op, the tensors' shapes and
 * dtypes and the device ("matmul: a (4, 8) f32 and b (7, 3) f32: inner dims 8 != 7 on cpu").
 * Outputs are caller-allocated. When s->tape is set and the op has a backward, the op is
 * recorded (views of its inputs and outputs are kept: the caller keeps that memory alive
 * until sea_tape_backward). Semantics of each op: runtime/op.h. */
#ifndef SEA_OPS_H
#define SEA_OPS_H

#include "backend.h"
#include "op.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Generic entry points: validate + dispatch (+ record) one op. */
sea_status sea_op_run(sea_stream *s, const sea_op *op);
/* Validate + dispatch a backward (used by the tape and by tests). */
sea_status sea_op_run_backward(sea_stream *s, const sea_op *op);
/* Validation alone (used by sea_op_run; exposed for tests). */
sea_status sea_op_validate(const sea_op *op, bool backward);

sea_status sea_fill(sea_stream *s, sea_tensor *out, double value);
sea_status sea_copy(sea_stream *s, const sea_tensor *in, sea_tensor *out); /* also casts */
sea_status sea_embedding(sea_stream *s, const sea_tensor *table, const sea_tensor *ids, sea_tensor *out);
/* dst (M, R)[rows[n]] = x (N, R)[n], in place (op.h SEA_OP_SET_ROWS). */
sea_status sea_set_rows(sea_stream *s, const sea_tensor *x, const sea_tensor *rows, sea_tensor *dst);
sea_status sea_matmul(sea_stream *s, const sea_tensor *a, const sea_tensor *b, const sea_tensor *bias,
                      bool trans_a, bool trans_b, sea_act act, sea_tensor *out, sea_tensor *preact);
sea_status sea_layernorm(sea_stream *s, const sea_tensor *x, const sea_tensor *w, const sea_tensor *b,
                         float eps, sea_tensor *out, sea_tensor *mean, sea_tensor *rstd);
sea_status sea_rmsnorm(sea_stream *s, const sea_tensor *x, const sea_tensor *w, float eps,
                       sea_tensor *out, sea_tensor *rstd);
sea_status sea_rope(sea_stream *s, const sea_tensor *x, const sea_tensor *positions,
                    const sea_op_params *rope_params, sea_tensor *out);
sea_status sea_attention(sea_stream *s, const sea_tensor *q, const sea_tensor *k, const sea_tensor *v,
                         const sea_tensor *key_valid, float scale, sea_tensor *out, sea_tensor *lse);
/* prefix_k, prefix_v, prefix_valid: the optional shared prefix (op.h), all three or NULL. */
sea_status sea_decode_attention(sea_stream *s, const sea_tensor *q, const sea_tensor *k_cache,
                                const sea_tensor *v_cache, const sea_tensor *key_valid,
                                const sea_tensor *prefix_k, const sea_tensor *prefix_v,
                                const sea_tensor *prefix_valid, int n_keys, float scale, sea_tensor *out);
sea_status sea_gelu(sea_stream *s, const sea_tensor *x, bool approximate, sea_tensor *out);
sea_status sea_silu(sea_stream *s, const sea_tensor *x, sea_tensor *out);
sea_status sea_relu(sea_stream *s, const sea_tensor *x, sea_tensor *out);
sea_status sea_swiglu(sea_stream *s, const sea_tensor *gate, const sea_tensor *up, sea_tensor *out);
sea_status sea_add(sea_stream *s, const sea_tensor *a, const sea_tensor *b, sea_tensor *out);
sea_status sea_mul(sea_stream *s, const sea_tensor *a, const sea_tensor *b, sea_tensor *out);
sea_status sea_scale(sea_stream *s, const sea_tensor *x, float alpha, sea_tensor *out);
sea_status sea_softmax(sea_stream *s, const sea_tensor *x, sea_tensor *out);
sea_status sea_logsoftmax_gather(sea_stream *s, const sea_tensor *logits, const sea_tensor *targets,
                                 sea_tensor *logp, sea_tensor *lse);
sea_status sea_cross_entropy(sea_stream *s, const sea_tensor *logits, const sea_tensor *targets,
                             sea_tensor *loss, sea_tensor *lse);
sea_status sea_masked_sum(sea_stream *s, const sea_tensor *x, const sea_tensor *mask, bool mean,
                          sea_tensor *out);
sea_status sea_sample(sea_stream *s, const sea_tensor *logits, const sea_tensor *seq_ids,
                      float temperature, int top_k, float top_p, uint64_t seed, uint32_t step,
                      sea_tensor *tokens, sea_tensor *logp);
/* w[0..5] = W1, b1, W2, b2, W3, b3; saved[0..1] = h1, h2 (may be NULL when not differentiated). */
sea_status sea_ensemble_mlp(sea_stream *s, const sea_tensor *x, const sea_tensor *const w[6],
                            sea_tensor *r, sea_tensor *h1, sea_tensor *h2);
sea_status sea_adamw(sea_stream *s, sea_tensor *param, const sea_tensor *grad, sea_tensor *m,
                     sea_tensor *v, float lr, float beta1, float beta2, float eps,
                     float weight_decay, float l2, int step);
sea_status sea_global_norm(sea_stream *s, const sea_tensor *x, sea_tensor *out);
sea_status sea_clip(sea_stream *s, sea_tensor *grad, const sea_tensor *norm, float max_norm);

#ifdef __cplusplus
}
#endif
#endif
