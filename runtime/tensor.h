/* Buffers own device memory; tensors are non-owning views into them.
 *
 * Shapes are written outermost first (PyTorch order): shape[ndim-1] is the fastest-varying
 * dimension. Strides are in elements, not bytes. A contiguous tensor has
 * stride[ndim-1] == 1 and stride[i] == stride[i+1] * shape[i+1]. */
#ifndef SEA_TENSOR_H
#define SEA_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SEA_MAX_DIMS 4

typedef struct sea_device sea_device;
typedef struct sea_stream sea_stream;

typedef struct sea_buffer {
    sea_device *dev;
    size_t size;     /* bytes */
    void *handle;    /* backend memory: host pointer (cpu), device pointer (cuda), cl_mem, ... */
    void *host;      /* non-NULL when the memory is directly addressable by the host */
    int refs;        /* views do not count; sea_buffer_retain/release for shared ownership */
    bool borrowed;   /* wraps memory the buffer does not own (mmap'ed weights): not freed */
    /* Write generation: bumped by every op that writes an output or input gradient in the
     * buffer, by sea_buffer_write and by sea_buffer_touch. Derived copies (a model's bf16
     * weights) compare it with the value they were made from to know they are stale. */
    uint64_t writes;
} sea_buffer;

typedef struct sea_tensor {
    sea_buffer *buf;
    size_t offset;                 /* bytes from the start of buf */
    sea_dtype dtype;
    int ndim;                      /* 0..4; 0 = scalar (numel 1) */
    int64_t shape[SEA_MAX_DIMS];   /* unused trailing entries are 1 */
    int64_t stride[SEA_MAX_DIMS];  /* elements */
} sea_tensor;

/* Buffers. */
sea_status sea_buffer_alloc(sea_device *dev, size_t size, sea_buffer **out);
/* Wrap existing host memory (cpu device only, or any device whose memory is host memory). */
sea_status sea_buffer_wrap_host(sea_device *dev, void *ptr, size_t size, sea_buffer **out);
void sea_buffer_retain(sea_buffer *b);
void sea_buffer_release(sea_buffer *b); /* frees at zero refs; NULL is fine */
/* Host <-> device copies of raw bytes; ordered on the stream, complete when they return. */
sea_status sea_buffer_write(sea_stream *s, sea_buffer *b, size_t offset, const void *src, size_t n);
sea_status sea_buffer_read(sea_stream *s, const sea_buffer *b, size_t offset, void *dst, size_t n);
/* Say that b's memory was written behind the runtime's back (MPI or NCCL into the buffer's
 * memory): bumps b->writes. */
void sea_buffer_touch(sea_buffer *b);

/* Tensors. */
sea_tensor sea_tensor_make(sea_buffer *buf, size_t offset, sea_dtype dtype, int ndim,
                           const int64_t *shape); /* contiguous view */
/* Allocate a fresh contiguous tensor with its own buffer (release with sea_tensor_free). */
sea_status sea_tensor_alloc(sea_device *dev, sea_dtype dtype, int ndim, const int64_t *shape,
                            sea_tensor *out);
void sea_tensor_free(sea_tensor *t); /* releases t->buf; sets t->buf = NULL */

int64_t sea_tensor_numel(const sea_tensor *t);
size_t sea_tensor_nbytes(const sea_tensor *t); /* numel * dtype size (contiguous extent) */
bool sea_tensor_is_contiguous(const sea_tensor *t);
bool sea_tensor_same_shape(const sea_tensor *a, const sea_tensor *b);
/* "(2, 3, 4) f32" into buf; returns buf. For error messages. */
const char *sea_tensor_describe(const sea_tensor *t, char *buf, size_t n);

/* Views (no copies). Each returns SEA_ERR_SHAPE with a message if the view is impossible. */
sea_status sea_tensor_reshape(const sea_tensor *t, int ndim, const int64_t *shape, sea_tensor *out);
sea_status sea_tensor_slice(const sea_tensor *t, int dim, int64_t start, int64_t len, sea_tensor *out);
sea_status sea_tensor_permute(const sea_tensor *t, const int *perm, sea_tensor *out);

/* Convenience host transfers of a contiguous tensor, converting to/from f32 (or i32). */
sea_status sea_tensor_write_f32(sea_stream *s, sea_tensor *t, const float *src);
sea_status sea_tensor_read_f32(sea_stream *s, const sea_tensor *t, float *dst);
sea_status sea_tensor_write_i32(sea_stream *s, sea_tensor *t, const int32_t *src);
sea_status sea_tensor_read_i32(sea_stream *s, const sea_tensor *t, int32_t *dst);

#ifdef __cplusplus
}
#endif
#endif
