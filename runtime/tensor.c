#include "tensor.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"

sea_status sea_buffer_alloc(sea_device *dev, size_t size, sea_buffer **out)
{
    *out = NULL;
    if (!dev) return sea_error(SEA_ERR_INVALID, "buffer_alloc: no device");
    if (dev->props.max_buffer_size && size > dev->props.max_buffer_size)
        return sea_error(SEA_ERR_OOM, "%s: buffer of %zu bytes exceeds the device's largest allocation (%zu bytes)",
                         sea_device_label(dev), size, dev->props.max_buffer_size);
    sea_buffer *b = calloc(1, sizeof *b);
    if (!b) return sea_error(SEA_ERR_OOM, "buffer_alloc: out of host memory");
    b->dev = dev;
    b->size = size;
    b->refs = 1;
    sea_status st = dev->backend->buffer_alloc(dev, size ? size : 1, b);
    if (st) {
        free(b);
        return st;
    }
    *out = b;
    return SEA_OK;
}

sea_status sea_buffer_wrap_host(sea_device *dev, void *ptr, size_t size, sea_buffer **out)
{
    *out = NULL;
    if (!dev || dev->backend != sea_backend_find("cpu"))
        return sea_error(SEA_ERR_UNSUPPORTED, "buffer_wrap_host: %s cannot address host memory directly",
                         dev ? sea_device_label(dev) : "(no device)");
    sea_buffer *b = calloc(1, sizeof *b);
    if (!b) return sea_error(SEA_ERR_OOM, "buffer_wrap_host: out of host memory");
    b->dev = dev;
    b->size = size;
    b->handle = b->host = ptr;
    b->refs = 1;
    b->borrowed = true;
    *out = b;
    return SEA_OK;
}

void sea_buffer_retain(sea_buffer *b)
{
    if (b) b->refs++;
}

void sea_buffer_release(sea_buffer *b)
{
    if (!b || --b->refs > 0) return;
    if (!b->borrowed) b->dev->backend->buffer_free(b->dev, b);
    free(b);
}

void sea_buffer_touch(sea_buffer *b)
{
    if (b) b->writes++;
}

static sea_status check_range(const char *what, const sea_buffer *b, size_t offset, size_t n)
{
    if (!b) return sea_error(SEA_ERR_INVALID, "%s: NULL buffer", what);
    if (offset > b->size || n > b->size - offset)
        return sea_error(SEA_ERR_INVALID, "%s: range [%zu, %zu) outside buffer of %zu bytes on %s", what, offset,
                         offset + n, b->size, sea_device_label(b->dev));
    return SEA_OK;
}

sea_status sea_buffer_write(sea_stream *s, sea_buffer *b, size_t offset, const void *src, size_t n)
{
    SEA_TRY(check_range("buffer_write", b, offset, n));
    if (!n) return SEA_OK;
    if (!s) s = b->dev->stream;
    if (s->capture)
        return sea_error(SEA_ERR_INVALID, "%s: buffer_write while the stream captures a graph", sea_device_label(b->dev));
    b->writes++;
    return b->dev->backend->buffer_write(s, b, offset, src, n);
}

sea_status sea_buffer_read(sea_stream *s, const sea_buffer *b, size_t offset, void *dst, size_t n)
{
    SEA_TRY(check_range("buffer_read", b, offset, n));
    if (!n) return SEA_OK;
    if (!s) s = b->dev->stream;
    if (s->capture)
        return sea_error(SEA_ERR_INVALID, "%s: buffer_read while the stream captures a graph", sea_device_label(b->dev));
    return b->dev->backend->buffer_read(s, b, offset, dst, n);
}

static void set_contiguous_strides(sea_tensor *t)
{
    int64_t st = 1;
    for (int i = SEA_MAX_DIMS - 1; i >= 0; i--) {
        if (i >= t->ndim) {
            t->shape[i] = 1;
            t->stride[i] = 1;
            continue;
        }
        t->stride[i] = st;
        st *= t->shape[i];
    }
}

sea_tensor sea_tensor_make(sea_buffer *buf, size_t offset, sea_dtype dtype, int ndim, const int64_t *shape)
{
    sea_tensor t;
    memset(&t, 0, sizeof t);
    t.buf = buf;
    t.offset = offset;
    t.dtype = dtype;
    t.ndim = ndim < 0 ? 0 : (ndim > SEA_MAX_DIMS ? SEA_MAX_DIMS : ndim);
    for (int i = 0; i < t.ndim; i++) t.shape[i] = shape[i];
    set_contiguous_strides(&t);
    return t;
}

sea_status sea_tensor_alloc(sea_device *dev, sea_dtype dtype, int ndim, const int64_t *shape, sea_tensor *out)
{
    memset(out, 0, sizeof *out);
    if (ndim < 0 || ndim > SEA_MAX_DIMS)
        return sea_error(SEA_ERR_SHAPE, "tensor_alloc: %d dims (at most %d)", ndim, SEA_MAX_DIMS);
    if ((unsigned)dtype >= SEA_DTYPE_COUNT) return sea_error(SEA_ERR_DTYPE, "tensor_alloc: invalid dtype %d", dtype);
    size_t n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0) return sea_error(SEA_ERR_SHAPE, "tensor_alloc: negative dim %d = %lld", i, (long long)shape[i]);
        if (shape[i] && n > SIZE_MAX / 8 / (size_t)shape[i])
            return sea_error(SEA_ERR_OOM, "tensor_alloc: shape too large");
        n *= (size_t)shape[i];
    }
    sea_buffer *b;
    SEA_TRY(sea_buffer_alloc(dev, n * sea_dtype_size(dtype), &b));
    *out = sea_tensor_make(b, 0, dtype, ndim, shape);
    return SEA_OK;
}

void sea_tensor_free(sea_tensor *t)
{
    if (!t) return;
    sea_buffer_release(t->buf);
    t->buf = NULL;
}

int64_t sea_tensor_numel(const sea_tensor *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

size_t sea_tensor_nbytes(const sea_tensor *t) { return (size_t)sea_tensor_numel(t) * sea_dtype_size(t->dtype); }

bool sea_tensor_is_contiguous(const sea_tensor *t)
{
    int64_t st = 1;
    for (int i = t->ndim - 1; i >= 0; i--) {
        if (t->shape[i] != 1 && t->stride[i] != st) return false;
        st *= t->shape[i];
    }
    return true;
}

bool sea_tensor_same_shape(const sea_tensor *a, const sea_tensor *b)
{
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return false;
    return true;
}

const char *sea_tensor_describe(const sea_tensor *t, char *buf, size_t n)
{
    if (!t) {
        snprintf(buf, n, "(null)");
        return buf;
    }
    size_t used = 0;
    used += (size_t)snprintf(buf, n, "(");
    for (int i = 0; i < t->ndim && used < n; i++)
        used += (size_t)snprintf(buf + used, n - used, i ? ", %lld" : "%lld", (long long)t->shape[i]);
    if (used < n) snprintf(buf + used, n - used, ") %s", sea_dtype_name(t->dtype));
    return buf;
}

sea_status sea_tensor_reshape(const sea_tensor *t, int ndim, const int64_t *shape, sea_tensor *out)
{
    char d[96];
    if (ndim < 0 || ndim > SEA_MAX_DIMS) return sea_error(SEA_ERR_SHAPE, "reshape: %d dims", ndim);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    if (n != sea_tensor_numel(t))
        return sea_error(SEA_ERR_SHAPE, "reshape: %s has %lld elements, target has %lld",
                         sea_tensor_describe(t, d, sizeof d), (long long)sea_tensor_numel(t), (long long)n);
    if (!sea_tensor_is_contiguous(t))
        return sea_error(SEA_ERR_SHAPE, "reshape: %s is not contiguous (copy it first)", sea_tensor_describe(t, d, sizeof d));
    *out = sea_tensor_make(t->buf, t->offset, t->dtype, ndim, shape);
    return SEA_OK;
}

sea_status sea_tensor_slice(const sea_tensor *t, int dim, int64_t start, int64_t len, sea_tensor *out)
{
    char d[96];
    if (dim < 0 || dim >= t->ndim || start < 0 || len < 0 || start + len > t->shape[dim])
        return sea_error(SEA_ERR_SHAPE, "slice: dim %d [%lld, %lld) out of range for %s", dim, (long long)start,
                         (long long)(start + len), sea_tensor_describe(t, d, sizeof d));
    *out = *t;
    out->offset += (size_t)(start * t->stride[dim]) * sea_dtype_size(t->dtype);
    out->shape[dim] = len;
    return SEA_OK;
}

sea_status sea_tensor_permute(const sea_tensor *t, const int *perm, sea_tensor *out)
{
    int seen = 0;
    for (int i = 0; i < t->ndim; i++) {
        if (perm[i] < 0 || perm[i] >= t->ndim || (seen & (1 << perm[i])))
            return sea_error(SEA_ERR_SHAPE, "permute: invalid permutation for %d dims", t->ndim);
        seen |= 1 << perm[i];
    }
    sea_tensor r = *t;
    for (int i = 0; i < t->ndim; i++) {
        r.shape[i] = t->shape[perm[i]];
        r.stride[i] = t->stride[perm[i]];
    }
    *out = r;
    return SEA_OK;
}

static sea_status transfer(sea_stream *s, const sea_tensor *t, void *host, sea_dtype host_type, bool write)
{
    char d[96];
    if (!t->buf) return sea_error(SEA_ERR_INVALID, "tensor transfer: tensor has no buffer");
    if (!sea_tensor_is_contiguous(t))
        return sea_error(SEA_ERR_SHAPE, "tensor transfer: %s is not contiguous", sea_tensor_describe(t, d, sizeof d));
    if ((host_type == SEA_I32) != (t->dtype == SEA_I32))
        return sea_error(SEA_ERR_DTYPE, "tensor transfer: host %s vs tensor %s", sea_dtype_name(host_type),
                         sea_tensor_describe(t, d, sizeof d));
    size_t n = (size_t)sea_tensor_numel(t);
    size_t nbytes = n * sea_dtype_size(t->dtype);
    if (t->dtype == host_type) {
        return write ? sea_buffer_write(s, t->buf, t->offset, host, nbytes)
                     : sea_buffer_read(s, t->buf, t->offset, host, nbytes);
    }
    void *tmp = malloc(nbytes ? nbytes : 1);
    if (!tmp) return sea_error(SEA_ERR_OOM, "tensor transfer: %zu bytes of host memory", nbytes);
    sea_status st;
    if (write) {
        sea_convert(tmp, t->dtype, host, host_type, n);
        st = sea_buffer_write(s, t->buf, t->offset, tmp, nbytes);
    } else {
        st = sea_buffer_read(s, t->buf, t->offset, tmp, nbytes);
        if (!st) sea_convert(host, host_type, tmp, t->dtype, n);
    }
    free(tmp);
    return st;
}

sea_status sea_tensor_write_f32(sea_stream *s, sea_tensor *t, const float *src)
{
    return transfer(s, t, (void *)src, SEA_F32, true);
}

sea_status sea_tensor_read_f32(sea_stream *s, const sea_tensor *t, float *dst) { return transfer(s, t, dst, SEA_F32, false); }

sea_status sea_tensor_write_i32(sea_stream *s, sea_tensor *t, const int32_t *src)
{
    return transfer(s, t, (void *)src, SEA_I32, true);
}

sea_status sea_tensor_read_i32(sea_stream *s, const sea_tensor *t, int32_t *dst) { return transfer(s, t, dst, SEA_I32, false); }
