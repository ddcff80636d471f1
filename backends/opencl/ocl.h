/* Private state of the OpenCL backend module: device/stream contexts, the kernel table and
 * the launch helpers every ocl_op_*.c file uses. Not a public header. */
#ifndef SEA_OCL_H
#define SEA_OCL_H

#ifndef CL_TARGET_OPENCL_VERSION
#define CL_TARGET_OPENCL_VERSION 120
#endif
#include <CL/cl.h>
#include <pthread.h>

#include "runtime/backend.h"

/* Every kernel of the kernels/ folder, by function name. The enum and the name table come from this
 * one list so they cannot drift apart. */
#define OCL_KERNELS(X)                                                                         \
    X(fill_nd) X(copy_nd) X(set_rows)                                                          \
    X(gelu_fwd) X(gelu_bwd) X(silu_fwd) X(silu_bwd) X(relu_fwd) X(relu_bwd)                     \
    X(swiglu_fwd) X(swiglu_bwd) X(binary_fwd) X(binary_bwd_a) X(binary_bwd_b_same)              \
    X(binary_bwd_b_bcast) X(scale_fwd) X(axpy)                                                   \
    X(adamw) X(sumsq_partial) X(sumsq_final) X(clip)                                             \
    X(layernorm_fwd) X(layernorm_bwd_x) X(layernorm_bwd_wb)                                      \
    X(rmsnorm_fwd) X(rmsnorm_bwd_x) X(rmsnorm_bwd_w)                                             \
    X(softmax_fwd) X(softmax_bwd)                                                                \
    X(lsm_gather_fwd) X(lsm_gather_bwd) X(ce_rows) X(ce_final) X(ce_bwd)                         \
    X(masked_sum_fwd) X(masked_sum_bwd)                                                          \
    X(embedding_fwd) X(embedding_bwd)                                                            \
    X(rope_fwd) X(rope_bwd)                                                                      \
    X(attn_fwd) X(attn_bwd_dq) X(attn_bwd_dkv) X(attn_bwd_delta)                                 \
    X(bias_act_fwd) X(act_bwd) X(col_sum_partial) X(col_chunks_acc)                                                    \
    X(sample_rows)                                                                               \
    X(emlp_out_fwd) X(emlp_out_bwd) X(emlp_gz2)

#define OCL_KERNEL_ENUM(name) OCL_K_##name,
typedef enum ocl_kernel_id { OCL_KERNELS(OCL_KERNEL_ENUM) OCL_K_COUNT } ocl_kernel_id;
#undef OCL_KERNEL_ENUM

typedef struct ocl_device_ctx {
    cl_platform_id platform;
    cl_device_id device;
    cl_context context;
    cl_program program;
    cl_kernel kernels[OCL_K_COUNT];
    size_t kernel_wg[OCL_K_COUNT];  /* CL_KERNEL_WORK_GROUP_SIZE, capped by the device's limit */
    size_t max_wg;                  /* CL_DEVICE_MAX_WORK_GROUP_SIZE */
    size_t local_mem;               /* CL_DEVICE_LOCAL_MEM_SIZE, bytes */
    char label[192];                /* "opencl:0 (name)" for messages */
    /* cl_kernel argument state is shared: one launch at a time per device. */
    pthread_mutex_t launch_lock;
    /* Memory statistics (memory_stats): bytes of live buffers and temporaries, and their
     * peak, under mem_lock. */
    pthread_mutex_t mem_lock;
    size_t live, live_peak;
} ocl_device_ctx;

typedef struct ocl_stream_ctx {
    cl_command_queue queue;         /* in-order */
} ocl_stream_ctx;

/* Enumeration (ocl_devices.c). */
int ocl_device_count(void);
const char *ocl_unavailable_reason(void);
sea_status ocl_device_props(int index, sea_device_props *out);
sea_status ocl_device_ids(int index, cl_platform_id *platform, cl_device_id *device);

/* Program build and kernel table (ocl_program.c). */
sea_status ocl_program_build(ocl_device_ctx *d);
void ocl_program_release(ocl_device_ctx *d);

/* Device, stream and memory (ocl_device.c). */
sea_status ocl_device_open(sea_device *dev);
void ocl_device_close(sea_device *dev);
sea_status ocl_stream_create(sea_device *dev, sea_stream *s);
void ocl_stream_destroy(sea_stream *s);
sea_status ocl_stream_sync(sea_stream *s);
sea_status ocl_buffer_alloc(sea_device *dev, size_t size, sea_buffer *buf);
void ocl_buffer_free(sea_device *dev, sea_buffer *buf);
sea_status ocl_buffer_write(sea_stream *s, sea_buffer *buf, size_t off, const void *src, size_t n);
sea_status ocl_buffer_read(sea_stream *s, const sea_buffer *buf, size_t off, void *dst, size_t n);
/* A temporary device buffer for one op (released by the caller with ocl_temp_free; the
 * in-order queue keeps it alive until the kernels using it have run). */
sea_status ocl_temp_alloc(sea_stream *s, size_t bytes, cl_mem *out);
/* A read-only temporary holding a copy of host data (same lifetime rules). */
sea_status ocl_temp_upload(sea_stream *s, const void *src, size_t bytes, cl_mem *out);
/* Releases a temporary (NULL is fine) and takes it off the memory statistics. */
void ocl_temp_free(sea_stream *s, cl_mem m);
sea_status ocl_memory_stats(sea_device *dev, bool reset_peak, sea_device_memory *out);

/* CL error name and status mapping: OOM-type codes become SEA_ERR_OOM. */
const char *ocl_error_name(cl_int err);
sea_status ocl_fail(cl_int err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Kernel launches. An argument is {size, pointer}; pointer NULL with a size = __local memory. */
typedef struct ocl_arg {
    size_t size;
    const void *ptr;
} ocl_arg;
#define OA(x) ((ocl_arg){sizeof(x), &(x)})
#define OA_LOCAL(bytes) ((ocl_arg){(bytes), NULL})

/* 1-D launch of `global` work-items (rounded up to the local size) in groups of `local`
 * (0 = the kernel's preferred size). */
sea_status ocl_run(sea_stream *s, ocl_kernel_id k, size_t global, size_t local, const ocl_arg *args, int nargs);
#define OCL_RUN(s, k, global, local, ...)                                                      \
    ocl_run((s), (k), (global), (local), (const ocl_arg[]){__VA_ARGS__},                        \
            (int)(sizeof((const ocl_arg[]){__VA_ARGS__}) / sizeof(ocl_arg)))
/* Work-group size for a kernel doing one tree reduction per group: a power of two no larger
 * than the kernel's and the device's limits (and `cap`). */
size_t ocl_reduce_wg(sea_stream *s, ocl_kernel_id k, size_t cap);

static inline ocl_device_ctx *ocl_dev(sea_stream *s) { return (ocl_device_ctx *)s->dev->ctx; }
static inline cl_command_queue ocl_queue(sea_stream *s) { return ((ocl_stream_ctx *)s->ctx)->queue; }
static inline cl_mem ocl_mem(const sea_tensor *t) { return (cl_mem)t->buf->handle; }
/* Tensor offsets travel as element indices (kernels take typed pointers). */
static inline cl_uint ocl_off(const sea_tensor *t) { return (cl_uint)(t->offset / sea_dtype_size(t->dtype)); }

/* Ops (ocl_op_*.c), each returning SEA_ERR_UNSUPPORTED for what it cannot do. */
sea_status ocl_op_fill(sea_stream *s, const sea_op *op);
sea_status ocl_op_copy(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_set_rows(sea_stream *s, const sea_op *op);
sea_status ocl_op_elementwise(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_optim(sea_stream *s, const sea_op *op);
sea_status ocl_op_norm(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_softmax(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_loss(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_embedding(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_rope(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_attention(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_matmul(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_ensemble_mlp(sea_stream *s, const sea_op *op, bool backward);
sea_status ocl_op_sample(sea_stream *s, const sea_op *op);

/* Column sums (bias / norm-weight gradients) in two deterministic stages over fixed row
 * chunks (ocl_op_matmul.c): g[b, j] += sum_r z[b, r, j] for z (batch, rows, N). */
#define OCL_ROWS_PER_CHUNK 32
sea_status ocl_col_sum_acc(sea_stream *s, cl_mem z, cl_uint zo, cl_mem g, cl_uint go, cl_uint batch, cl_uint rows,
                           cl_uint N);
/* Stage 2 alone: g[b, j] += sum_c part[po + (b*nch + c)*N + j]. */
sea_status ocl_col_chunks_acc(sea_stream *s, cl_mem part, cl_uint po, cl_mem g, cl_uint go, cl_uint batch,
                              cl_uint nch, cl_uint N);

/* Runs `run` with every bf16/f16 tensor of the op replaced by an f32 twin (ocl_op_f32_twin.c). */
sea_status ocl_op_via_f32(sea_stream *s, const sea_op *op, bool backward,
                          sea_status (*run)(sea_stream *, const sea_op *, bool));

/* Shared by matmul and the ensemble MLP (ocl_op_matmul.c): C = alpha op(A) op(B) + beta C,
 * row-major, over `batch` matrices at fixed element strides (0 = shared). */
sea_status ocl_gemm(sea_stream *s, bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, cl_mem a,
                    size_t a_off, size_t lda, size_t a_stride, cl_mem b, size_t b_off, size_t ldb, size_t b_stride,
                    float beta, cl_mem c, size_t c_off, size_t ldc, size_t c_stride, size_t batch);

#endif
