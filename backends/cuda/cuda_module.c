/* The CUDA backend module: enumeration, devices, streams, buffers and the op table.
 *
 * The CUDA runtime is linked statically (nvcc's default), and it loads libcuda.so.1 only
 * when first used, so this module loads on machines without an NVIDIA driver; there
 * device_count() is 0 and unavailable_reason() says why. */
#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cuda_internal.h"

static pthread_once_t enum_once = PTHREAD_ONCE_INIT;
static int n_devices;
static char unavailable[512];

/* The kernel objects, checked against this file's struct layouts before any device is offered. */
#define ABI_UNIT_ROW(unit) {"cuda_" #unit ".cu", sea_cuda_abi_##unit},
static const sea_cuda_abi_unit abi_units[] = {SEA_CUDA_KERNEL_UNITS(ABI_UNIT_ROW)};
#undef ABI_UNIT_ROW

static void enumerate(void)
{
    const sea_cuda_abi_unit *stale =
        sea_cuda_abi_stale_unit(abi_units, sizeof abi_units / sizeof abi_units[0], SEA_CUDA_ABI_FINGERPRINT);
    if (stale) {
        /* Wrong results without an error is the alternative: offer no device. */
        snprintf(unavailable, sizeof unavailable,
                 "this sea-cuda module mixes objects built from different sources: %s was compiled against "
                 "other versions of runtime/op.h, runtime/tensor.h or cuda_internal.h than the rest (meson 1.0 "
                 "does not track the headers nvcc reads); delete the build folder's "
                 "backends/cuda/sea-cuda.so.p/*.cu.o and rebuild",
                 stale->file);
        return;
    }
#ifndef SEA_CUDA_EMULATED /* the CUDA emulator (emu/) needs no driver */
    /* Ask the dynamic loader first: cudart's own message for a missing driver
     * ("CUDA driver version is insufficient") would send people looking for the wrong fix. */
    void *h = dlopen("libcuda.so.1", RTLD_LAZY | RTLD_LOCAL);
    if (!h) {
        const char *why = dlerror();
        snprintf(unavailable, sizeof unavailable, "libcuda.so.1 not found (no NVIDIA driver): %s",
                 why ? why : "dlopen failed");
        return;
    }
    dlclose(h);
#endif
    int n = 0; /* left unwritten by cudaGetDeviceCount on failure */
    cudaError_t e = cudaGetDeviceCount(&n);
    if (e != cudaSuccess) {
        int drv = 0, rt = 0;
        cudaDriverGetVersion(&drv);
        cudaRuntimeGetVersion(&rt);
        snprintf(unavailable, sizeof unavailable,
                 "cudaGetDeviceCount failed: %s (%s, error %d); driver supports CUDA %d.%d, module built "
                 "for CUDA %d.%d",
                 cudaGetErrorString(e), cudaGetErrorName(e), (int)e, drv / 1000, drv % 1000 / 10, rt / 1000,
                 rt % 1000 / 10);
        cudaGetLastError();
        n_devices = 0;
        return;
    }
    if (n == 0) snprintf(unavailable, sizeof unavailable, "the NVIDIA driver reports no CUDA devices");
    n_devices = n;
}

static int cuda_device_count(void)
{
    pthread_once(&enum_once, enumerate);
    return n_devices;
}

static const char *cuda_unavailable_reason(void)
{
    pthread_once(&enum_once, enumerate);
    return n_devices > 0 ? NULL : unavailable;
}

static sea_status cuda_device_props(int index, sea_device_props *out)
{
    if (index < 0 || index >= cuda_device_count())
        return sea_error(SEA_ERR_DEVICE, "cuda:%d: no such device (%d present)", index, cuda_device_count());
    struct cudaDeviceProp p;
    SEA_TRY(sea_cuda_check_dev(cudaGetDeviceProperties(&p, index), index, "cudaGetDeviceProperties"));
    memset(out, 0, sizeof *out);
    snprintf(out->name, sizeof out->name, "%.127s", p.name);
    out->kind = p.integrated ? SEA_DEVICE_IGPU : SEA_DEVICE_GPU;
    out->mem_total = p.totalGlobalMem;
    size_t free_b = 0, total_b = 0;
    if (cudaSetDevice(index) == cudaSuccess && cudaMemGetInfo(&free_b, &total_b) == cudaSuccess)
        out->mem_free = free_b;
    cudaGetLastError();
    /* hwloc's spelling, so discovery can match the GPU to its PCI object. */
    snprintf(out->pci_bus_id, sizeof out->pci_bus_id, "%04x:%02x:%02x.0", (unsigned)p.pciDomainID,
             (unsigned)p.pciBusID, (unsigned)p.pciDeviceID);
    out->numa_node = -1;
    out->fp16 = p.major >= 6;
    out->bf16 = p.major >= 8;
    out->subgroup_size = p.warpSize;
    out->max_buffer_size = 0;
    out->compute_units = p.multiProcessorCount;
    int drv = 0, rt = 0;
    cudaDriverGetVersion(&drv);
    cudaRuntimeGetVersion(&rt);
    snprintf(out->driver, sizeof out->driver, "CUDA driver %d.%d, runtime %d.%d, sm_%d%d", drv / 1000,
             drv % 1000 / 10, rt / 1000, rt % 1000 / 10, p.major, p.minor);
    return SEA_OK;
}

static sea_status cuda_device_open(sea_device *dev)
{
    sea_cuda_device *d = calloc(1, sizeof *d);
    if (!d) return sea_error(SEA_ERR_OOM, "cuda:%d: device state: host out of memory", dev->index);
    d->ordinal = dev->index;
    snprintf(d->label, sizeof d->label, "cuda:%d (%s)", dev->index, dev->props.name);
    sea_status st = sea_cuda_check_dev(cudaSetDevice(d->ordinal), d->ordinal, "cudaSetDevice");
    int smem = 0; /* the attention planner checks its kernels' shared memory against this */
    if (!st)
        st = sea_cuda_check_dev(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, d->ordinal),
                                d->ordinal, "cudaDeviceGetAttribute(MaxSharedMemoryPerBlockOptin)");
    d->smem_optin = smem > 0 ? (size_t)smem : 0;
    if (!st) st = sea_cuda_cache_create(d);
    if (st) {
        free(d);
        return st;
    }
    dev->ctx = d;
    return SEA_OK;
}

static void cuda_device_close(sea_device *dev)
{
    sea_cuda_device *d = dev->ctx;
    if (!d) return;
    cudaSetDevice(d->ordinal);
    cudaDeviceSynchronize();
    sea_cuda_cache_destroy(d);
    free(d);
    dev->ctx = NULL;
}

static bool env_flag(const char *name)
{
    const char *v = getenv(name);
    return v && v[0] && strcmp(v, "0") != 0;
}

static sea_status cuda_stream_create(sea_device *dev, sea_stream *s)
{
    sea_cuda_device *d = dev->ctx;
    sea_cuda_stream *cs = calloc(1, sizeof *cs);
    if (!cs) return sea_error(SEA_ERR_OOM, "%s: stream state: host out of memory", d->label);
    cs->dev = dev;
    cs->cdev = d;
    cs->ordinal = d->ordinal;
    cs->sync_each_op = env_flag("SEA_CUDA_SYNC");
    cs->tf32 = env_flag("SEA_CUDA_TF32");
    sea_status st = sea_cuda_check(cudaSetDevice(d->ordinal), cs, "cudaSetDevice");
    if (!st) st = sea_cuda_check(cudaStreamCreateWithFlags(&cs->stream, cudaStreamNonBlocking), cs, "cudaStreamCreate");
    if (st) {
        free(cs);
        return st;
    }
    st = sea_cuda_blas_check(cublasCreate(&cs->blas), cs, "cublasCreate");
    if (!st) st = sea_cuda_blas_check(cublasSetStream(cs->blas, cs->stream), cs, "cublasSetStream");
    /* A fixed workspace of our own: cuBLAS then never allocates behind our back, and the
     * algorithm choice (hence the bits) does not depend on what memory happened to be free. */
    cs->blas_ws_size = (size_t)32 << 20;
    if (!st) st = sea_cuda_mem_alloc(d, cs->blas_ws_size, &cs->blas_ws);
    if (!st) st = sea_cuda_blas_check(cublasSetWorkspace(cs->blas, cs->blas_ws, cs->blas_ws_size), cs,
                                      "cublasSetWorkspace");
    /* Full fp32 unless asked: TF32 would break the f32 op suite's tolerances. */
    if (!st)
        st = sea_cuda_blas_check(cublasSetMathMode(cs->blas, cs->tf32 ? CUBLAS_TF32_TENSOR_OP_MATH
                                                                                        : CUBLAS_DEFAULT_MATH),
                                 cs, "cublasSetMathMode");
    /* cuBLASLt for bias epilogues, unless SEA_CUDA_LT=0; without it matmuls take the
     * two-kernel path. */
    const char *lt = getenv("SEA_CUDA_LT");
    if (!st && !(lt && strcmp(lt, "0") == 0) && cublasLtCreate(&cs->lt) != CUBLAS_STATUS_SUCCESS) cs->lt = NULL;
    if (st) {
        if (cs->lt) cublasLtDestroy(cs->lt);
        if (cs->blas) cublasDestroy(cs->blas);
        if (cs->blas_ws) sea_cuda_mem_free(d, cs->blas_ws, cs->blas_ws_size);
        cudaStreamDestroy(cs->stream);
        free(cs);
        return st;
    }
    d->n_streams++;
    s->ctx = cs;
    return SEA_OK;
}

static void cuda_stream_destroy(sea_stream *s)
{
    sea_cuda_stream *cs = s->ctx;
    if (!cs) return;
    cudaSetDevice(cs->ordinal);
    cudaStreamSynchronize(cs->stream);
    if (cs->lt) cublasLtDestroy(cs->lt);
    cublasDestroy(cs->blas);
    sea_cuda_mem_free(cs->cdev, cs->blas_ws, cs->blas_ws_size);
    cudaStreamDestroy(cs->stream);
    cs->cdev->n_streams--;
    free(cs);
    s->ctx = NULL;
}

static sea_status cuda_stream_sync(sea_stream *s)
{
    sea_cuda_stream *cs = s->ctx;
    return sea_cuda_check(cudaStreamSynchronize(cs->stream), cs, "stream sync (an earlier op failed on the device)");
}

static sea_status cuda_buffer_alloc(sea_device *dev, size_t size, sea_buffer *buf)
{
    sea_cuda_device *d = dev->ctx;
    cudaSetDevice(d->ordinal);
    void *p;
    SEA_TRY(sea_cuda_mem_alloc(d, size, &p));
    buf->handle = p;
    buf->host = NULL;
    return SEA_OK;
}

static void cuda_buffer_free(sea_device *dev, sea_buffer *buf)
{
    sea_cuda_device *d = dev->ctx;
    cudaSetDevice(d->ordinal);
    sea_cuda_mem_free(d, buf->handle, buf->size);
    buf->handle = NULL;
}

static sea_status cuda_buffer_write(sea_stream *s, sea_buffer *buf, size_t off, const void *src, size_t n)
{
    sea_cuda_stream *cs = s->ctx;
    if (off > buf->size || n > buf->size - off)
        return sea_error(SEA_ERR_INVALID, "%s: buffer_write of %zu bytes at %zu beyond buffer of %zu bytes",
                         cs->cdev->label, n, off, buf->size);
    cudaSetDevice(cs->ordinal);
    SEA_TRY(sea_cuda_check(cudaMemcpyAsync((char *)buf->handle + off, src, n, cudaMemcpyHostToDevice, cs->stream), cs,
                           "buffer_write (host to device copy)"));
    return sea_cuda_check(cudaStreamSynchronize(cs->stream), cs, "buffer_write (sync)");
}

static sea_status cuda_buffer_read(sea_stream *s, const sea_buffer *buf, size_t off, void *dst, size_t n)
{
    sea_cuda_stream *cs = s->ctx;
    if (off > buf->size || n > buf->size - off)
        return sea_error(SEA_ERR_INVALID, "%s: buffer_read of %zu bytes at %zu beyond buffer of %zu bytes",
                         cs->cdev->label, n, off, buf->size);
    cudaSetDevice(cs->ordinal);
    SEA_TRY(sea_cuda_check(cudaMemcpyAsync(dst, (const char *)buf->handle + off, n, cudaMemcpyDeviceToHost, cs->stream),
                           cs, "buffer_read (device to host copy)"));
    return sea_cuda_check(cudaStreamSynchronize(cs->stream), cs, "buffer_read (sync; an earlier op may have failed)");
}

/* What the kernels here take: runtime/op.h's mixed-precision contract. */
static bool cuda_supports(sea_op_kind kind, sea_dtype in0, sea_dtype out0)
{
    return sea_op_mixed_precision_ok(kind, in0, out0);
}

typedef sea_status (*op_fn)(sea_cuda_stream *, const sea_op *);

static sea_status dispatch(sea_stream *s, const sea_op *op, bool backward)
{
    sea_cuda_stream *cs = s->ctx;
    op_fn f = NULL;
#define CASE(K, name)                                                              \
    case K: f = backward ? sea_cuda_##name##_backward : sea_cuda_##name##_forward; break;
    switch (op->kind) {
        CASE(SEA_OP_FILL, fill)
        CASE(SEA_OP_COPY, copy)
        CASE(SEA_OP_EMBEDDING, embedding)
        CASE(SEA_OP_MATMUL, matmul)
        CASE(SEA_OP_LAYERNORM, layernorm)
        CASE(SEA_OP_RMSNORM, rmsnorm)
        CASE(SEA_OP_ROPE, rope)
        CASE(SEA_OP_ATTENTION, attention)
        CASE(SEA_OP_DECODE_ATTENTION, decode_attention)
        CASE(SEA_OP_GELU, unary)
        CASE(SEA_OP_SILU, unary)
        CASE(SEA_OP_RELU, unary)
        CASE(SEA_OP_SCALE, unary)
        CASE(SEA_OP_SWIGLU, swiglu)
        CASE(SEA_OP_ADD, binary)
        CASE(SEA_OP_MUL, binary)
        CASE(SEA_OP_SOFTMAX, softmax)
        CASE(SEA_OP_LOGSOFTMAX_GATHER, logsoftmax_gather)
        CASE(SEA_OP_CROSS_ENTROPY, cross_entropy)
        CASE(SEA_OP_MASKED_SUM, masked_sum)
        CASE(SEA_OP_SAMPLE, sample)
        CASE(SEA_OP_ENSEMBLE_MLP, ensemble_mlp)
        CASE(SEA_OP_ADAMW, adamw)
        CASE(SEA_OP_GLOBAL_NORM, global_norm)
        CASE(SEA_OP_CLIP, clip)
    case SEA_OP_SET_ROWS: f = backward ? NULL : sea_cuda_set_rows_forward; break;
    default: break;
    }
#undef CASE
    if (!f)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: op kind %d is not implemented by the cuda backend", cs->cdev->label,
                         (int)op->kind);
    cudaSetDevice(cs->ordinal);
    sea_status st = f(cs, op);
    if (st) return st;
    if (cs->sync_each_op && !cs->capturing) {
        cudaError_t e = cudaStreamSynchronize(cs->stream);
        if (e != cudaSuccess)
            return sea_error(SEA_ERR_DEVICE, "%s: %s %s failed on the device: %s (%s)", cs->cdev->label,
                             sea_op_name(op->kind), backward ? "backward" : "forward", cudaGetErrorName(e),
                             cudaGetErrorString(e));
    }
    return SEA_OK;
}

static sea_status cuda_op_forward(sea_stream *s, const sea_op *op) { return dispatch(s, op, false); }
static sea_status cuda_op_backward(sea_stream *s, const sea_op *op) { return dispatch(s, op, true); }

/* For NCCL (dist/nccl.c): the cudaStream_t, with the device made current on this thread. */
static sea_status cuda_stream_native(sea_stream *s, void **out)
{
    sea_cuda_stream *cs = s->ctx;
    SEA_TRY(sea_cuda_check(cudaSetDevice(cs->ordinal), cs, "cudaSetDevice"));
    *out = (void *)cs->stream;
    return SEA_OK;
}

static const struct sea_backend_ops cuda_ops = {
    .name = "cuda",
    .device_count = cuda_device_count,
    .unavailable_reason = cuda_unavailable_reason,
    .device_props = cuda_device_props,
    .device_open = cuda_device_open,
    .device_close = cuda_device_close,
    .stream_create = cuda_stream_create,
    .stream_destroy = cuda_stream_destroy,
    .stream_sync = cuda_stream_sync,
    .buffer_alloc = cuda_buffer_alloc,
    .buffer_free = cuda_buffer_free,
    .buffer_write = cuda_buffer_write,
    .buffer_read = cuda_buffer_read,
    .supports = cuda_supports,
    .op_forward = cuda_op_forward,
    .op_backward = cuda_op_backward,
    .stream_native = cuda_stream_native,
    .graph_begin = sea_cuda_graph_begin,
    .graph_end = sea_cuda_graph_end,
    .graph_launch = sea_cuda_graph_launch,
    .graph_free = sea_cuda_graph_free,
    .memory_stats = sea_cuda_memory_stats,
    .memory_trim = sea_cuda_memory_trim,
};

__attribute__((visibility("default"))) const struct sea_backend_ops *sea_backend_module_entry(void)
{
    return &cuda_ops;
}
