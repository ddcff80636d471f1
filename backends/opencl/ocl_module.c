/* The OpenCL backend module: the sea_backend_ops table exported to the runtime's registry.
 * Ops route to ocl_op_*.c; GEMMs go through CLBlast, everything else is OpenCL C 1.2 from
 * kernels/ (embedded at build time). */
#include "ocl.h"

/* fill/copy/set_rows handle every dtype natively; every other op computes in f32, and
 * bf16/f16 tensors go through f32 twins (ocl_op_f32_twin.c). */
static bool native_dtypes(sea_op_kind kind)
{
    return kind == SEA_OP_FILL || kind == SEA_OP_COPY || kind == SEA_OP_SET_ROWS;
}

static bool ocl_supports(sea_op_kind kind, sea_dtype in0, sea_dtype out0)
{
    switch (kind) {
    case SEA_OP_FILL: return true;
    case SEA_OP_COPY: return true; /* f16 via vload_half/vstore_half, bf16 via integer ops */
    case SEA_OP_SET_ROWS: return in0 == out0; /* raw 2- or 4-byte words: any dtype, exact */
    case SEA_OP_SAMPLE: return sea_dtype_is_float(in0) && out0 == SEA_I32;
    default: return sea_dtype_is_float(in0) && sea_dtype_is_float(out0);
    }
}

static sea_status dispatch_f32(sea_stream *s, const sea_op *op, bool backward);

static sea_status dispatch(sea_stream *s, const sea_op *op, bool backward)
{
    if (!native_dtypes(op->kind) && sea_op_has_half(op, backward))
        return ocl_op_via_f32(s, op, backward, dispatch_f32);
    return dispatch_f32(s, op, backward);
}

static sea_status dispatch_f32(sea_stream *s, const sea_op *op, bool backward)
{
    switch (op->kind) {
    case SEA_OP_FILL: return ocl_op_fill(s, op);
    case SEA_OP_COPY: return ocl_op_copy(s, op, backward);
    case SEA_OP_SET_ROWS: return ocl_op_set_rows(s, op);
    case SEA_OP_EMBEDDING: return ocl_op_embedding(s, op, backward);
    case SEA_OP_MATMUL: return ocl_op_matmul(s, op, backward);
    case SEA_OP_LAYERNORM:
    case SEA_OP_RMSNORM: return ocl_op_norm(s, op, backward);
    case SEA_OP_ROPE: return ocl_op_rope(s, op, backward);
    case SEA_OP_ATTENTION:
    case SEA_OP_DECODE_ATTENTION: return ocl_op_attention(s, op, backward);
    case SEA_OP_GELU:
    case SEA_OP_SILU:
    case SEA_OP_RELU:
    case SEA_OP_SWIGLU:
    case SEA_OP_ADD:
    case SEA_OP_MUL:
    case SEA_OP_SCALE: return ocl_op_elementwise(s, op, backward);
    case SEA_OP_SOFTMAX: return ocl_op_softmax(s, op, backward);
    case SEA_OP_LOGSOFTMAX_GATHER:
    case SEA_OP_CROSS_ENTROPY:
    case SEA_OP_MASKED_SUM: return ocl_op_loss(s, op, backward);
    case SEA_OP_SAMPLE: return ocl_op_sample(s, op);
    case SEA_OP_ENSEMBLE_MLP: return ocl_op_ensemble_mlp(s, op, backward);
    case SEA_OP_ADAMW:
    case SEA_OP_GLOBAL_NORM:
    case SEA_OP_CLIP: return ocl_op_optim(s, op);
    default: break;
    }
    return sea_error(SEA_ERR_UNSUPPORTED, "%s: op %s is not implemented", ocl_dev(s)->label, sea_op_name(op->kind));
}

static sea_status ocl_forward(sea_stream *s, const sea_op *op) { return dispatch(s, op, false); }

static sea_status ocl_backward(sea_stream *s, const sea_op *op)
{
    if (!sea_op_has_backward(op->kind))
        return sea_error(SEA_ERR_INVALID, "%s: op %s has no backward", ocl_dev(s)->label, sea_op_name(op->kind));
    return dispatch(s, op, true);
}

static const struct sea_backend_ops ocl_backend = {
    .name = "opencl",
    .device_count = ocl_device_count,
    .unavailable_reason = ocl_unavailable_reason,
    .device_props = ocl_device_props,
    .device_open = ocl_device_open,
    .device_close = ocl_device_close,
    .stream_create = ocl_stream_create,
    .stream_destroy = ocl_stream_destroy,
    .stream_sync = ocl_stream_sync,
    .buffer_alloc = ocl_buffer_alloc,
    .buffer_free = ocl_buffer_free,
    .memory_stats = ocl_memory_stats,
    .buffer_write = ocl_buffer_write,
    .buffer_read = ocl_buffer_read,
    .supports = ocl_supports,
    .op_forward = ocl_forward,
    .op_backward = ocl_backward,
};

__attribute__((visibility("default"))) const struct sea_backend_ops *sea_backend_module_entry(void)
{
    return &ocl_backend;
}
