/* Op names (for messages, the selftest table and --filter) and which ops have a backward. */
#include "op.h"

static const char *const op_names[SEA_OP_COUNT] = {
    [SEA_OP_FILL] = "fill",
    [SEA_OP_COPY] = "copy",
    [SEA_OP_EMBEDDING] = "embedding",
    [SEA_OP_MATMUL] = "matmul",
    [SEA_OP_LAYERNORM] = "layernorm",
    [SEA_OP_RMSNORM] = "rmsnorm",
    [SEA_OP_ROPE] = "rope",
    [SEA_OP_ATTENTION] = "attention",
    [SEA_OP_DECODE_ATTENTION] = "decode_attention",
    [SEA_OP_GELU] = "gelu",
    [SEA_OP_SILU] = "silu",
    [SEA_OP_RELU] = "relu",
    [SEA_OP_SWIGLU] = "swiglu",
    [SEA_OP_ADD] = "add",
    [SEA_OP_MUL] = "mul",
    [SEA_OP_SCALE] = "scale",
    [SEA_OP_SOFTMAX] = "softmax",
    [SEA_OP_LOGSOFTMAX_GATHER] = "logsoftmax_gather",
    [SEA_OP_CROSS_ENTROPY] = "cross_entropy",
    [SEA_OP_MASKED_SUM] = "masked_sum",
    [SEA_OP_SAMPLE] = "sample",
    [SEA_OP_ENSEMBLE_MLP] = "ensemble_mlp",
    [SEA_OP_ADAMW] = "adamw",
    [SEA_OP_GLOBAL_NORM] = "global_norm",
    [SEA_OP_CLIP] = "clip",
    [SEA_OP_SET_ROWS] = "set_rows",
};

const char *sea_op_name(sea_op_kind k)
{
    if ((unsigned)k >= SEA_OP_COUNT || !op_names[k]) return "invalid-op";
    return op_names[k];
}

bool sea_op_has_backward(sea_op_kind k)
{
    switch (k) {
    case SEA_OP_FILL:
    case SEA_OP_DECODE_ATTENTION:
    case SEA_OP_SAMPLE:
    case SEA_OP_ADAMW:
    case SEA_OP_GLOBAL_NORM:
    case SEA_OP_CLIP:
    case SEA_OP_SET_ROWS:
    case SEA_OP_COUNT:
        return false;
    default:
        return (unsigned)k < SEA_OP_COUNT;
    }
}


bool sea_op_mixed_precision_ok(sea_op_kind kind, sea_dtype in0, sea_dtype out0)
{
    switch (kind) {
    case SEA_OP_FILL:
    case SEA_OP_COPY:
    case SEA_OP_SET_ROWS: return true;
    case SEA_OP_MATMUL: return sea_dtype_is_float(in0) && (out0 == in0 || out0 == SEA_F32);
    case SEA_OP_GELU:
    case SEA_OP_SILU:
    case SEA_OP_RELU:
    case SEA_OP_SWIGLU:
    case SEA_OP_ADD:
    case SEA_OP_MUL:
    case SEA_OP_SCALE:
    case SEA_OP_SOFTMAX:
    case SEA_OP_ATTENTION:
    case SEA_OP_DECODE_ATTENTION:
    case SEA_OP_ROPE:
    case SEA_OP_LAYERNORM:
    case SEA_OP_RMSNORM:
    case SEA_OP_EMBEDDING: return sea_dtype_is_float(in0) && sea_dtype_is_float(out0);
    case SEA_OP_LOGSOFTMAX_GATHER:
    case SEA_OP_CROSS_ENTROPY: return sea_dtype_is_float(in0) && out0 == SEA_F32;
    case SEA_OP_SAMPLE: return in0 == SEA_F32 && out0 == SEA_I32;
    case SEA_OP_MASKED_SUM:
    case SEA_OP_ENSEMBLE_MLP:
    case SEA_OP_ADAMW:
    case SEA_OP_GLOBAL_NORM:
    case SEA_OP_CLIP: return in0 == SEA_F32 && out0 == SEA_F32;
    default: return false;
    }
}

static bool half(const sea_tensor *t) { return t && (t->dtype == SEA_BF16 || t->dtype == SEA_F16); }

bool sea_op_has_half(const sea_op *op, bool backward)
{
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (half(op->in[i]) || (backward && half(op->gin[i]))) return true;
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (half(op->out[j]) || (backward && half(op->gout[j]))) return true;
    return false;
}
