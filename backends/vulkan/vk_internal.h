/* Private structures of the Vulkan backend module (sea-vulkan.so).
 *
 * One VkInstance per process (created on first enumeration). A device context owns the
 * VkDevice, one compute queue, the pipeline objects and the memory sub-allocator. A stream
 * context owns a command buffer that stays in the recording state across ops: ops append
 * dispatches separated by pipeline barriers, and the buffer is submitted only at sync points
 * (buffer_read, stream_sync, or when a staging/descriptor arena runs full). */
#ifndef SEA_VK_INTERNAL_H
#define SEA_VK_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include <vulkan/vulkan.h>

#include "backend.h"
#include "op.h"
#include "vk_shaders.h"

/* Every shader binds at most this many storage buffers (set 0, bindings 0..N-1). */
#define VK_MAX_BINDINGS 10
/* The guaranteed minimum of maxPushConstantsSize; every push-constant block fits in it. */
#define VK_PUSH_BYTES 128

/* A sub-range of a memory block: what sea_buffer.handle points to. */
struct vk_block;
typedef struct vk_alloc {
    struct vk_block *blk;
    VkDeviceSize off, size;   /* within blk->buffer */
} vk_alloc;

typedef struct vk_block {
    VkDeviceMemory mem;
    VkBuffer buffer;          /* one VkBuffer spans the block; allocations are ranges of it */
    VkDeviceSize size;
    void *mapped;             /* host pointer when the memory is host-visible */
    bool host;                /* a staging block (host memory), not counted in the device's statistics */
    /* Free list of (off, size) holes, sorted by offset. */
    VkDeviceSize *hole_off, *hole_size;
    int n_holes, cap_holes;
    struct vk_block *next;
} vk_block;

typedef struct vk_pipeline {
    int shader;
    uint32_t spec[4];
    VkPipeline pipe;
    struct vk_pipeline *next;
} vk_pipeline;

typedef struct vk_dev {
    VkPhysicalDevice phys;
    VkDevice dev;
    VkQueue queue;
    uint32_t qfam;
    char label[192];                  /* "vulkan:0 (llvmpipe ...)" for messages */
    VkPhysicalDeviceProperties props;
    VkPhysicalDeviceMemoryProperties memprops;
    VkDeviceSize max_range;           /* maxStorageBufferRange */
    VkDeviceSize align;               /* minStorageBufferOffsetAlignment (>= 4) */
    VkDeviceSize max_alloc;           /* maxMemoryAllocationSize */
    uint32_t max_groups[3];
    uint32_t shared_bytes;            /* maxComputeSharedMemorySize */
    uint32_t subgroup;
    bool uma;                         /* device memory is host memory (CPU / integrated) */
    uint32_t mem_type_dev;            /* type index for tensors */
    uint32_t mem_type_host;           /* host-visible coherent type for staging */
    bool dev_host_visible;            /* mem_type_dev is host-visible (direct map) */
    uint32_t row_wg;                  /* workgroup size of row kernels (shaders/reduce.glsl) */
    bool matmul_flat;                 /* matmul without shared memory (CPU-type devices) */
    bool force_staging;               /* SEA_VK_FORCE_STAGING: discrete-GPU transfer path on any device */
    bool push_desc;
    PFN_vkCmdPushDescriptorSetKHR cmd_push_desc;

    VkDescriptorSetLayout dsl;
    VkPipelineLayout layout;
    VkPipelineCache cache;
    VkShaderModule modules[VK_SHADER_COUNT];
    vk_pipeline *pipelines;

    pthread_mutex_t lock;             /* allocator, pipelines, queue submission */
    /* Device-local memory (under lock; memory_stats): live ranges (buffers and temporaries,
     * aligned), their peak, and the blocks' total, of which the rest is free for reuse. */
    VkDeviceSize live, live_peak, block_bytes;
    vk_block *blocks;                 /* device-memory blocks */
    vk_block *host_blocks;            /* staging blocks */
    VkDeviceSize block_size;
    vk_alloc dummy;                   /* bound to unused binding slots */
    double rope_key[8];               /* cached inverse frequencies for the last rope params */
    vk_alloc rope_freq;
    bool rope_valid;
} vk_dev;

typedef struct vk_stream {
    vk_dev *d;
    VkCommandPool pool;
    VkCommandBuffer cb;
    VkFence fence;
    bool recording;
    int n_dispatch;                   /* dispatches recorded since the last submit */
    VkDescriptorPool dpool;           /* fallback when VK_KHR_push_descriptor is absent */
    int dsets_used;
    /* Allocations to release once the recorded work has completed (temporaries, staging). */
    vk_alloc *deferred;
    int n_deferred, cap_deferred;
    VkDeviceSize staged_bytes;        /* staging bytes pending in this batch */
} vk_stream;

/* A tensor (or temporary) bound as one storage-buffer descriptor range. */
typedef struct vk_binding {
    VkBuffer buffer;
    VkDeviceSize off, range;
    uint32_t elem;                    /* element offset of the tensor inside the range */
} vk_binding;

/* Module-level (vk_module.c). */
const char *vk_result_name(VkResult r);
sea_status vk_check(VkResult r, const vk_dev *d, const char *what);
VkInstance vk_instance(void);
VkPhysicalDevice vk_physical(int index);
bool vk_phys_has_extension(VkPhysicalDevice p, const char *name);

/* Device (vk_device.c). */
sea_status vk_device_open(sea_device *dev);
void vk_device_close(sea_device *dev);
sea_status vk_pipeline_get(vk_dev *d, int shader, const uint32_t spec[4], VkPipeline *out);

/* Memory (vk_memory.c). */
sea_status vk_mem_alloc(vk_dev *d, VkDeviceSize size, bool host, vk_alloc *out);
void vk_mem_free(vk_dev *d, const vk_alloc *a);
void vk_mem_destroy_all(vk_dev *d);
sea_status vk_buffer_alloc(sea_device *dev, size_t size, sea_buffer *buf);
void vk_buffer_free(sea_device *dev, sea_buffer *buf);
sea_status vk_memory_stats(sea_device *dev, bool reset_peak, sea_device_memory *out);

/* Streams and recording (vk_stream.c). */
sea_status vk_stream_create(sea_device *dev, sea_stream *s);
void vk_stream_destroy(sea_stream *s);
sea_status vk_stream_sync(sea_stream *s);
sea_status vk_buffer_write(sea_stream *s, sea_buffer *buf, size_t off, const void *src, size_t n);
sea_status vk_buffer_read(sea_stream *s, const sea_buffer *buf, size_t off, void *dst, size_t n);
sea_status vk_record_begin(vk_stream *vs);
/* Record one dispatch: pipeline, bindings (n <= VK_MAX_BINDINGS), push constants, groups,
 * then a compute->compute/transfer barrier so the next dispatch sees the results. */
sea_status vk_dispatch(sea_stream *s, int shader, const uint32_t spec[4], const vk_binding *b, int nb,
                       const void *push, uint32_t push_size, uint32_t gx, uint32_t gy, uint32_t gz);
/* A device temporary released after the current batch completes. */
sea_status vk_temp(sea_stream *s, VkDeviceSize bytes, vk_alloc *out);
/* Release an existing allocation once the current batch completes. */
sea_status vk_temp_adopt(sea_stream *s, const vk_alloc *a);
/* A contiguous temporary of dtype dt and shape wrapped as a tensor for a sub-op: buf and a
 * (the caller's) must outlive the recording; the memory is released after the batch. */
sea_status vk_temp_tensor(sea_stream *s, sea_dtype dt, int ndim, const int64_t *shape, sea_buffer *buf, vk_alloc *a,
                          sea_tensor *out);

/* Binding helpers (vk_dispatch.c). */
sea_status vk_bind_tensor(const vk_dev *d, const sea_tensor *t, const char *op, const char *what, vk_binding *out);
vk_binding vk_bind_alloc(const vk_alloc *a);
/* Whole rows of row_bytes that vk_bind_tensor can bind as one range wherever the rows start
 * (it aligns the start down to d->align and rounds the range up to 4 bytes); 0 when a single
 * row is beyond a binding. How the ops that split big tensors over rows size their chunks. */
uint64_t vk_rows_per_binding(const vk_dev *d, uint64_t row_bytes);
vk_binding vk_bind_dummy(const vk_dev *d);
/* 1-D grid over n items with `per_group` items per workgroup, folded into (x, y) so
 * neither exceeds the device limit; shaders recover the linear group id. */
void vk_grid_1d(const vk_dev *d, uint64_t n, uint32_t per_group, uint32_t *gx, uint32_t *gy);

/* Row splitting for tensors beyond one binding (vk_split.c): runs fn over row chunks and
 * sets *handled, or leaves *handled false when the op needs no (or allows no) split. */
sea_status vk_run_split(sea_stream *s, const sea_op *op, bool backward, sea_status (*fn)(sea_stream *, const sea_op *, bool),
                        bool *handled);

/* Flat ops (fill, copy, adamw, clip) over contiguous tensors beyond one binding. */
sea_status vk_run_flat(sea_stream *s, const sea_op *op, sea_status (*fn)(sea_stream *, const sea_op *), bool *handled);
int64_t vk_flat_chunk(const vk_dev *d, size_t elem_size);
sea_status vk_flat_view(const sea_tensor *t, int64_t start, int64_t len, sea_tensor *out);

/* Ops (vk_ops_*.c). */
sea_status vk_op_forward(sea_stream *s, const sea_op *op);
sea_status vk_op_backward(sea_stream *s, const sea_op *op);
bool vk_supports(sea_op_kind kind, sea_dtype in0, sea_dtype out0);

sea_status vk_fill(sea_stream *s, const sea_op *op);
sea_status vk_set_rows(sea_stream *s, const sea_op *op);
sea_status vk_copy(sea_stream *s, const sea_tensor *in, const sea_tensor *out, bool accumulate, const char *opname);
sea_status vk_unary(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_binary(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_embedding(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_matmul_fwd(sea_stream *s, const sea_op *op);
sea_status vk_matmul_bwd(sea_stream *s, const sea_op *op);
/* Matmul whose weight B (trans_b) exceeds one binding: chunks over B's rows (vk_ops_matmul.c). */
sea_status vk_matmul_nsplit(sea_stream *s, const sea_op *op, bool backward, bool *handled);
sea_status vk_norm(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_softmax(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_logsoftmax(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_masked_sum(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_rope(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_attention(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_sample(sea_stream *s, const sea_op *op);
sea_status vk_ensemble(sea_stream *s, const sea_op *op, bool backward);
sea_status vk_optim(sea_stream *s, const sea_op *op);

/* Generic strided matmul used by matmul, attention-free paths and the ensemble MLP:
 * C[b,m,n] = (accumulate ? C : 0) + sum_k A[b,m,k] B[b,k,n] (+ bias[b,n]), act, pre-activation
 * optionally stored. Strides in elements (batch stride 0 = shared). */
typedef struct vk_gemm {
    uint32_t M, N, K, batch;
    int32_t sa_b, sa_m, sa_k, sb_b, sb_k, sb_n, sc_b, sc_m, sc_n, sbias_b;
    vk_binding a, b, c, bias, pre;
    bool has_bias, has_pre, accumulate;
    sea_act act;
} vk_gemm;
sea_status vk_gemm_run(sea_stream *s, const vk_gemm *g);
/* unary.comp over raw bindings (modes in shaders/unary.comp). */
sea_status vk_unary_raw(sea_stream *s, uint32_t mode, uint32_t act, bool acc, float alpha, uint32_t n, vk_binding x,
                        vk_binding g, vk_binding o);
/* out[bt*sob + j] (+)= sum_r g[bt*sgb + r*sr + j*sj] (* a[same]) (shaders/colsum.comp). */
sea_status vk_colsum_batched(sea_stream *s, vk_binding g, vk_binding a, bool has_a, vk_binding out, uint32_t rows,
                             uint32_t cols, uint32_t sr, uint32_t sj, uint32_t batch, uint32_t sgb, uint32_t sob, bool acc);
/* out[j] (+)= sum_r g[r*ld + j] (* a[r*ld + j]) over r < rows, j < cols (fixed order). */
sea_status vk_colsum(sea_stream *s, vk_binding g, vk_binding a, bool has_a, vk_binding out, uint32_t rows, uint32_t cols,
                     uint32_t ld, bool accumulate);

#endif
