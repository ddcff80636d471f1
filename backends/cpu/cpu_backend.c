/* The CPU backend: one device (the host), synchronous streams, host memory buffers, and the
 * dispatch of every op of runtime/op.h to its kernel file. */
#include "cpu_backend.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cpu_internal.h"

static int cpu_device_count(void) { return 1; }

static const char *cpu_unavailable_reason(void) { return NULL; }

/* "model name : AMD EPYC ..." from /proc/cpuinfo, else a generic name. */
static void cpu_model_name(char *out, size_t n)
{
    snprintf(out, n, "host CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *colon = strchr(line, ':');
        if (!colon) break;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        size_t len = strcspn(colon, "\n");
        if (len >= n) len = n - 1;
        memcpy(out, colon, len);
        out[len] = '\0';
        break;
    }
    fclose(f);
}

static sea_status cpu_device_props(int index, sea_device_props *out)
{
    if (index != 0) return sea_error(SEA_ERR_DEVICE, "cpu: device index %d does not exist (only 0)", index);
    memset(out, 0, sizeof *out);
    cpu_model_name(out->name, sizeof out->name);
    out->kind = SEA_DEVICE_CPU;
    long page = sysconf(_SC_PAGESIZE), phys = sysconf(_SC_PHYS_PAGES), avail = sysconf(_SC_AVPHYS_PAGES);
    if (page > 0 && phys > 0) out->mem_total = (size_t)page * (size_t)phys;
    if (page > 0 && avail > 0) out->mem_free = (size_t)page * (size_t)avail;
    out->numa_node = -1;
    out->fp16 = out->bf16 = false;   /* storage only: the kernels compute in f32 */
#if defined(__x86_64__) && defined(__GNUC__)
    out->subgroup_size = __builtin_cpu_supports("avx2") ? 8 : 4;
    snprintf(out->driver, sizeof out->driver, "sea cpu kernels (%s)", __builtin_cpu_supports("avx2") ? "avx2" : "sse2");
#else
    out->subgroup_size = 4;
    snprintf(out->driver, sizeof out->driver, "sea cpu kernels");
#endif
    out->compute_units = sea_threadpool_size(sea_threadpool_global());
    return SEA_OK;
}

static sea_status cpu_device_open(sea_device *dev)
{
    dev->ctx = NULL;
    return sea_threadpool_global_check();
}

static void cpu_device_close(sea_device *dev) { (void)dev; }

static sea_status cpu_stream_create(sea_device *dev, sea_stream *s)
{
    s->dev = dev;
    s->ctx = NULL;
    return SEA_OK;
}

static void cpu_stream_destroy(sea_stream *s) { (void)s; }

/* Kernels run synchronously on the calling thread (and the pool), so there is nothing to wait for. */
static sea_status cpu_stream_sync(sea_stream *s)
{
    (void)s;
    return SEA_OK;
}

static sea_status cpu_buffer_alloc(sea_device *dev, size_t size, sea_buffer *buf)
{
    /* 64-byte alignment: cache lines and any vector width; aligned_alloc needs a multiple. */
    size_t rounded = (size + 63) & ~(size_t)63;
    if (rounded < size) return sea_error(SEA_ERR_OOM, "cpu: buffer of %zu bytes is too large", size);
    void *p = aligned_alloc(64, rounded ? rounded : 64);
    if (!p)
        return sea_error(SEA_ERR_OOM, "%s: out of host memory allocating %zu bytes",
                         dev ? sea_device_label(dev) : "cpu", size);
    buf->handle = p;
    buf->host = p;
    return SEA_OK;
}

static void cpu_buffer_free(sea_device *dev, sea_buffer *buf)
{
    (void)dev;
    free(buf->handle);
    buf->handle = buf->host = NULL;
}

static sea_status cpu_buffer_write(sea_stream *s, sea_buffer *buf, size_t off, const void *src, size_t n)
{
    if (off > buf->size || n > buf->size - off)
        return sea_error(SEA_ERR_INVALID, "cpu: write of %zu bytes at %zu overruns a buffer of %zu bytes", n, off, buf->size);
    if (n) memcpy((char *)buf->host + off, src, n);
    return SEA_OK;
}

static sea_status cpu_buffer_read(sea_stream *s, const sea_buffer *buf, size_t off, void *dst, size_t n)
{
    if (off > buf->size || n > buf->size - off)
        return sea_error(SEA_ERR_INVALID, "cpu: read of %zu bytes at %zu overruns a buffer of %zu bytes", n, off, buf->size);
    if (n) memcpy(dst, (const char *)buf->host + off, n);
    return SEA_OK;
}

/* Fill and copy move any dtype. The network ops also take bf16/f16 tensors: they run on f32
 * shadows (cpu_half.c), so the CPU accepts what the CUDA backend accepts and a bf16 model
 * runs here too. The optimizer, the ensemble and sampling stay f32, as on CUDA. */
static bool cpu_supports(sea_op_kind kind, sea_dtype in0, sea_dtype out0)
{
    return sea_op_mixed_precision_ok(kind, in0, out0);
}

static sea_status forward_f32(const sea_op *op)
{
    switch (op->kind) {
    case SEA_OP_FILL: return sea_cpu_fill(op);
    case SEA_OP_COPY: return sea_cpu_copy(op);
    case SEA_OP_EMBEDDING: return sea_cpu_embedding(op);
    case SEA_OP_MATMUL: return sea_cpu_matmul(op);
    case SEA_OP_LAYERNORM: return sea_cpu_layernorm(op);
    case SEA_OP_RMSNORM: return sea_cpu_rmsnorm(op);
    case SEA_OP_ROPE: return sea_cpu_rope(op);
    case SEA_OP_ATTENTION: return sea_cpu_attention(op);
    case SEA_OP_DECODE_ATTENTION: return sea_cpu_decode_attention(op);
    case SEA_OP_GELU:
    case SEA_OP_SILU:
    case SEA_OP_RELU:
    case SEA_OP_SCALE: return sea_cpu_unary(op);
    case SEA_OP_SWIGLU: return sea_cpu_swiglu(op);
    case SEA_OP_ADD:
    case SEA_OP_MUL: return sea_cpu_binary(op);
    case SEA_OP_SOFTMAX: return sea_cpu_softmax(op);
    case SEA_OP_LOGSOFTMAX_GATHER: return sea_cpu_logsoftmax_gather(op);
    case SEA_OP_CROSS_ENTROPY: return sea_cpu_cross_entropy(op);
    case SEA_OP_MASKED_SUM: return sea_cpu_masked_sum(op);
    case SEA_OP_SAMPLE: return sea_cpu_sample(op);
    case SEA_OP_ENSEMBLE_MLP: return sea_cpu_ensemble_mlp(op);
    case SEA_OP_ADAMW: return sea_cpu_adamw(op);
    case SEA_OP_GLOBAL_NORM: return sea_cpu_global_norm(op);
    case SEA_OP_CLIP: return sea_cpu_clip(op);
    case SEA_OP_SET_ROWS: return sea_cpu_set_rows(op);
    default: return sea_error(SEA_ERR_UNSUPPORTED, "cpu: unknown op kind %d", (int)op->kind);
    }
}

static sea_status backward_f32(const sea_op *op)
{
    switch (op->kind) {
    case SEA_OP_COPY: return sea_cpu_copy_backward(op);
    case SEA_OP_EMBEDDING: return sea_cpu_embedding_backward(op);
    case SEA_OP_MATMUL: return sea_cpu_matmul_backward(op);
    case SEA_OP_LAYERNORM: return sea_cpu_layernorm_backward(op);
    case SEA_OP_RMSNORM: return sea_cpu_rmsnorm_backward(op);
    case SEA_OP_ROPE: return sea_cpu_rope_backward(op);
    case SEA_OP_ATTENTION: return sea_cpu_attention_backward(op);
    case SEA_OP_GELU:
    case SEA_OP_SILU:
    case SEA_OP_RELU:
    case SEA_OP_SCALE: return sea_cpu_unary_backward(op);
    case SEA_OP_SWIGLU: return sea_cpu_swiglu_backward(op);
    case SEA_OP_ADD:
    case SEA_OP_MUL: return sea_cpu_binary_backward(op);
    case SEA_OP_SOFTMAX: return sea_cpu_softmax_backward(op);
    case SEA_OP_LOGSOFTMAX_GATHER: return sea_cpu_logsoftmax_gather_backward(op);
    case SEA_OP_CROSS_ENTROPY: return sea_cpu_cross_entropy_backward(op);
    case SEA_OP_MASKED_SUM: return sea_cpu_masked_sum_backward(op);
    case SEA_OP_ENSEMBLE_MLP: return sea_cpu_ensemble_mlp_backward(op);
    default: return sea_error(SEA_ERR_UNSUPPORTED, "cpu: %s has no backward", sea_op_name(op->kind));
    }
}

static sea_status cpu_op_forward(sea_stream *s, const sea_op *op)
{
    (void)s;
    if (op->kind != SEA_OP_FILL && op->kind != SEA_OP_COPY && op->kind != SEA_OP_SET_ROWS && sea_op_has_half(op, false))
        return sea_cpu_run_half(op, false, forward_f32);
    return forward_f32(op);
}

static sea_status cpu_op_backward(sea_stream *s, const sea_op *op)
{
    (void)s;
    if (op->kind != SEA_OP_COPY && sea_op_has_half(op, true)) return sea_cpu_run_half(op, true, backward_f32);
    return backward_f32(op);
}

static const struct sea_backend_ops cpu_ops = {
    .name = "cpu",
    .device_count = cpu_device_count,
    .unavailable_reason = cpu_unavailable_reason,
    .device_props = cpu_device_props,
    .device_open = cpu_device_open,
    .device_close = cpu_device_close,
    .stream_create = cpu_stream_create,
    .stream_destroy = cpu_stream_destroy,
    .stream_sync = cpu_stream_sync,
    .buffer_alloc = cpu_buffer_alloc,
    .buffer_free = cpu_buffer_free,
    .buffer_write = cpu_buffer_write,
    .buffer_read = cpu_buffer_read,
    .supports = cpu_supports,
    .op_forward = cpu_op_forward,
    .op_backward = cpu_op_backward,
};

const struct sea_backend_ops *sea_cpu_backend(void) { return &cpu_ops; }
