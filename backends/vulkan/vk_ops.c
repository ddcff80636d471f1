/* Op dispatch for the Vulkan backend and the dtype support table. */
#include "vk_internal.h"

bool vk_supports(sea_op_kind kind, sea_dtype in0, sea_dtype out0)
{
    switch (kind) {
    case SEA_OP_FILL: return true;   /* f32, bf16, f16, i32 storage */
    case SEA_OP_COPY: return true;   /* any pair, strided */
    case SEA_OP_SET_ROWS: return in0 == out0;   /* raw bits: any dtype, exact */
    case SEA_OP_SAMPLE: return in0 == SEA_F32 && out0 == SEA_I32;
    case SEA_OP_CLIP: return out0 == SEA_F32;
    default: return in0 == SEA_F32 && out0 == SEA_F32;
    }
}

/* The residual (in[3]) is an add after the GEMM, and backward its gradient is the output's:
 * done here, once per row chunk, so the column-chunked and plain GEMM paths never see it. */
static sea_status matmul_any(sea_stream *s, const sea_op *op, bool backward)
{
    sea_op m = *op;
    m.in[3] = NULL;
    m.gin[3] = NULL;
    if (backward && op->in[3] && op->gin[3] && op->gout[0])
        SEA_TRY(vk_copy(s, op->gout[0], op->gin[3], true, "matmul backward (residual)"));
    bool handled;
    SEA_TRY(vk_matmul_nsplit(s, &m, backward, &handled));
    if (!handled) SEA_TRY(backward ? vk_matmul_bwd(s, &m) : vk_matmul_fwd(s, &m));
    if (!backward && op->in[3]) SEA_TRY(vk_copy(s, op->in[3], op->out[0], true, "matmul (residual)"));
    return SEA_OK;
}

/* Ops over rows whose tensors may exceed one storage-buffer binding go through vk_split.c. */
static sea_status run_rows(sea_stream *s, const sea_op *op, bool backward, sea_status (*fn)(sea_stream *, const sea_op *, bool))
{
    bool handled;
    SEA_TRY(vk_run_split(s, op, backward, fn, &handled));
    return handled ? SEA_OK : fn(s, op, backward);
}

static sea_status copy_fwd(sea_stream *s, const sea_op *op) { return vk_copy(s, op->in[0], op->out[0], false, "copy"); }

static sea_status run_flat(sea_stream *s, const sea_op *op, sea_status (*fn)(sea_stream *, const sea_op *))
{
    bool handled;
    SEA_TRY(vk_run_flat(s, op, fn, &handled));
    return handled ? SEA_OK : fn(s, op);
}

sea_status vk_op_forward(sea_stream *s, const sea_op *op)
{
    switch (op->kind) {
    case SEA_OP_FILL: return run_flat(s, op, vk_fill);
    case SEA_OP_COPY: return run_flat(s, op, copy_fwd);
    case SEA_OP_SET_ROWS: return vk_set_rows(s, op);   /* splits big tensors itself */
    case SEA_OP_EMBEDDING: return vk_embedding(s, op, false);
    case SEA_OP_MATMUL: return run_rows(s, op, false, matmul_any);
    case SEA_OP_LAYERNORM:
    case SEA_OP_RMSNORM: return vk_norm(s, op, false);
    case SEA_OP_ROPE: return vk_rope(s, op, false);
    case SEA_OP_ATTENTION:
    case SEA_OP_DECODE_ATTENTION: return vk_attention(s, op, false);
    case SEA_OP_GELU:
    case SEA_OP_SILU:
    case SEA_OP_RELU:
    case SEA_OP_SWIGLU:
    case SEA_OP_SCALE: return vk_unary(s, op, false);
    case SEA_OP_ADD:
    case SEA_OP_MUL: return vk_binary(s, op, false);
    case SEA_OP_SOFTMAX: return run_rows(s, op, false, vk_softmax);
    case SEA_OP_LOGSOFTMAX_GATHER: return run_rows(s, op, false, vk_logsoftmax);
    case SEA_OP_CROSS_ENTROPY: return vk_logsoftmax(s, op, false);
    case SEA_OP_MASKED_SUM: return vk_masked_sum(s, op, false);
    case SEA_OP_SAMPLE: return vk_sample(s, op);
    case SEA_OP_ENSEMBLE_MLP: return vk_ensemble(s, op, false);
    case SEA_OP_ADAMW:
    case SEA_OP_CLIP: return run_flat(s, op, vk_optim);
    case SEA_OP_GLOBAL_NORM: return vk_optim(s, op);
    default: break;
    }
    return sea_error(SEA_ERR_UNSUPPORTED, "%s: op %s not implemented on vulkan", sea_device_label(s->dev), sea_op_name(op->kind));
}

sea_status vk_op_backward(sea_stream *s, const sea_op *op)
{
    switch (op->kind) {
    case SEA_OP_COPY:
        if (!op->gin[0] || !op->gout[0]) return SEA_OK;
        return vk_copy(s, op->gout[0], op->gin[0], true, "copy backward");
    case SEA_OP_EMBEDDING: return vk_embedding(s, op, true);
    case SEA_OP_MATMUL: return run_rows(s, op, true, matmul_any);
    case SEA_OP_LAYERNORM:
    case SEA_OP_RMSNORM: return vk_norm(s, op, true);
    case SEA_OP_ROPE: return vk_rope(s, op, true);
    case SEA_OP_ATTENTION: return vk_attention(s, op, true);
    case SEA_OP_GELU:
    case SEA_OP_SILU:
    case SEA_OP_RELU:
    case SEA_OP_SWIGLU:
    case SEA_OP_SCALE: return vk_unary(s, op, true);
    case SEA_OP_ADD:
    case SEA_OP_MUL: return vk_binary(s, op, true);
    case SEA_OP_SOFTMAX: return run_rows(s, op, true, vk_softmax);
    case SEA_OP_LOGSOFTMAX_GATHER: return run_rows(s, op, true, vk_logsoftmax);
    case SEA_OP_CROSS_ENTROPY: return vk_logsoftmax(s, op, true);
    case SEA_OP_MASKED_SUM: return vk_masked_sum(s, op, true);
    case SEA_OP_ENSEMBLE_MLP: return vk_ensemble(s, op, true);
    default: break;
    }
    return sea_error(SEA_ERR_UNSUPPORTED, "%s: op %s has no backward on vulkan", sea_device_label(s->dev), sea_op_name(op->kind));
}
