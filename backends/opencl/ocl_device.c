/* Opening an OpenCL device: context, the kernel program, in-order queues, buffers. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ocl.h"

#define OCL_DEFAULT_WG 128

const char *ocl_error_name(cl_int err)
{
    switch (err) {
    case CL_SUCCESS: return "CL_SUCCESS";
    case CL_DEVICE_NOT_FOUND: return "CL_DEVICE_NOT_FOUND";
    case CL_DEVICE_NOT_AVAILABLE: return "CL_DEVICE_NOT_AVAILABLE";
    case CL_COMPILER_NOT_AVAILABLE: return "CL_COMPILER_NOT_AVAILABLE";
    case CL_MEM_OBJECT_ALLOCATION_FAILURE: return "CL_MEM_OBJECT_ALLOCATION_FAILURE";
    case CL_OUT_OF_RESOURCES: return "CL_OUT_OF_RESOURCES";
    case CL_OUT_OF_HOST_MEMORY: return "CL_OUT_OF_HOST_MEMORY";
    case CL_BUILD_PROGRAM_FAILURE: return "CL_BUILD_PROGRAM_FAILURE";
    case CL_INVALID_VALUE: return "CL_INVALID_VALUE";
    case CL_INVALID_DEVICE: return "CL_INVALID_DEVICE";
    case CL_INVALID_CONTEXT: return "CL_INVALID_CONTEXT";
    case CL_INVALID_COMMAND_QUEUE: return "CL_INVALID_COMMAND_QUEUE";
    case CL_INVALID_MEM_OBJECT: return "CL_INVALID_MEM_OBJECT";
    case CL_INVALID_PROGRAM_EXECUTABLE: return "CL_INVALID_PROGRAM_EXECUTABLE";
    case CL_INVALID_KERNEL_NAME: return "CL_INVALID_KERNEL_NAME";
    case CL_INVALID_KERNEL_ARGS: return "CL_INVALID_KERNEL_ARGS";
    case CL_INVALID_ARG_INDEX: return "CL_INVALID_ARG_INDEX";
    case CL_INVALID_ARG_SIZE: return "CL_INVALID_ARG_SIZE";
    case CL_INVALID_WORK_GROUP_SIZE: return "CL_INVALID_WORK_GROUP_SIZE";
    case CL_INVALID_WORK_ITEM_SIZE: return "CL_INVALID_WORK_ITEM_SIZE";
    case CL_INVALID_GLOBAL_WORK_SIZE: return "CL_INVALID_GLOBAL_WORK_SIZE";
    case CL_INVALID_BUFFER_SIZE: return "CL_INVALID_BUFFER_SIZE";
    case CL_INVALID_OPERATION: return "CL_INVALID_OPERATION";
    case CL_INVALID_BINARY: return "CL_INVALID_BINARY";
    case -1001: return "CL_PLATFORM_NOT_FOUND_KHR";
    default: break;
    }
    static _Thread_local char buf[32];
    snprintf(buf, sizeof buf, "OpenCL error %d", (int)err);
    return buf;
}

sea_status ocl_fail(cl_int err, const char *fmt, ...)
{
    char what[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    sea_status code = (err == CL_MEM_OBJECT_ALLOCATION_FAILURE || err == CL_OUT_OF_RESOURCES ||
                       err == CL_OUT_OF_HOST_MEMORY || err == CL_INVALID_BUFFER_SIZE)
                          ? SEA_ERR_OOM
                          : SEA_ERR_DEVICE;
    return sea_error(code, "%s: %s", what, ocl_error_name(err));
}

sea_status ocl_device_open(sea_device *dev)
{
    ocl_device_ctx *d = calloc(1, sizeof *d);
    if (!d) return sea_error(SEA_ERR_OOM, "opencl:%d: out of host memory", dev->index);
    snprintf(d->label, sizeof d->label, "opencl:%d (%s)", dev->index, dev->props.name);
    sea_status st = ocl_device_ids(dev->index, &d->platform, &d->device);
    if (st) {
        free(d);
        return st;
    }
    cl_int err;
    cl_context_properties cp[] = {CL_CONTEXT_PLATFORM, (cl_context_properties)d->platform, 0};
    d->context = clCreateContext(cp, 1, &d->device, NULL, NULL, &err);
    if (!d->context) {
        free(d);
        return ocl_fail(err, "opencl:%d: clCreateContext", dev->index);
    }
    clGetDeviceInfo(d->device, CL_DEVICE_MAX_WORK_GROUP_SIZE, sizeof d->max_wg, &d->max_wg, NULL);
    cl_ulong lmem = 0;
    clGetDeviceInfo(d->device, CL_DEVICE_LOCAL_MEM_SIZE, sizeof lmem, &lmem, NULL);
    d->local_mem = (size_t)lmem;
    if (d->max_wg == 0) d->max_wg = 64;
    pthread_mutex_init(&d->launch_lock, NULL);
    pthread_mutex_init(&d->mem_lock, NULL);
    st = ocl_program_build(d);
    if (st) {
        clReleaseContext(d->context);
        pthread_mutex_destroy(&d->launch_lock);
        pthread_mutex_destroy(&d->mem_lock);
        free(d);
        return st;
    }
    dev->ctx = d;
    return SEA_OK;
}

void ocl_device_close(sea_device *dev)
{
    ocl_device_ctx *d = dev->ctx;
    if (!d) return;
    ocl_program_release(d);
    clReleaseContext(d->context);
    pthread_mutex_destroy(&d->launch_lock);
    pthread_mutex_destroy(&d->mem_lock);
    free(d);
    dev->ctx = NULL;
}

sea_status ocl_stream_create(sea_device *dev, sea_stream *s)
{
    ocl_device_ctx *d = dev->ctx;
    ocl_stream_ctx *sc = calloc(1, sizeof *sc);
    if (!sc) return sea_error(SEA_ERR_OOM, "%s: out of host memory", d->label);
    cl_int err;
    sc->queue = clCreateCommandQueue(d->context, d->device, 0, &err);
    if (!sc->queue) {
        free(sc);
        return ocl_fail(err, "%s: clCreateCommandQueue", d->label);
    }
    s->ctx = sc;
    return SEA_OK;
}

void ocl_stream_destroy(sea_stream *s)
{
    ocl_stream_ctx *sc = s->ctx;
    if (!sc) return;
    clFinish(sc->queue);
    clReleaseCommandQueue(sc->queue);
    free(sc);
    s->ctx = NULL;
}

sea_status ocl_stream_sync(sea_stream *s)
{
    cl_int err = clFinish(ocl_queue(s));
    if (err != CL_SUCCESS) return ocl_fail(err, "%s: clFinish", ocl_dev(s)->label);
    return SEA_OK;
}

/* The statistics: +bytes when memory is created, -bytes when it is released. */
static void count_mem(ocl_device_ctx *d, size_t bytes, bool add)
{
    pthread_mutex_lock(&d->mem_lock);
    if (add) {
        d->live += bytes;
        if (d->live > d->live_peak) d->live_peak = d->live;
    } else {
        d->live -= bytes;
    }
    pthread_mutex_unlock(&d->mem_lock);
}

sea_status ocl_memory_stats(sea_device *dev, bool reset_peak, sea_device_memory *out)
{
    ocl_device_ctx *d = dev->ctx;
    pthread_mutex_lock(&d->mem_lock);
    out->allocated = out->held = d->live;
    out->allocated_peak = out->held_peak = d->live_peak;
    out->cached = 0; /* the driver owns freed memory */
    if (reset_peak) d->live_peak = d->live;
    pthread_mutex_unlock(&d->mem_lock);
    return SEA_OK;
}

sea_status ocl_buffer_alloc(sea_device *dev, size_t size, sea_buffer *buf)
{
    ocl_device_ctx *d = dev->ctx;
    cl_int err;
    cl_mem m = clCreateBuffer(d->context, CL_MEM_READ_WRITE, size, NULL, &err);
    if (!m) return ocl_fail(err, "%s: allocating a buffer of %zu bytes", d->label, size);
    count_mem(d, size, true);
    buf->handle = m;
    buf->host = NULL;
    return SEA_OK;
}

void ocl_buffer_free(sea_device *dev, sea_buffer *buf)
{
    if (buf->handle) {
        count_mem(dev->ctx, buf->size, false);
        clReleaseMemObject((cl_mem)buf->handle);
    }
    buf->handle = NULL;
}

sea_status ocl_temp_alloc(sea_stream *s, size_t bytes, cl_mem *out)
{
    ocl_device_ctx *d = ocl_dev(s);
    cl_int err;
    *out = clCreateBuffer(d->context, CL_MEM_READ_WRITE, bytes ? bytes : 4, NULL, &err);
    if (!*out) return ocl_fail(err, "%s: allocating %zu bytes of scratch", d->label, bytes);
    count_mem(d, bytes ? bytes : 4, true);
    return SEA_OK;
}

void ocl_temp_free(sea_stream *s, cl_mem m)
{
    if (!m) return;
    size_t bytes = 0;
    if (clGetMemObjectInfo(m, CL_MEM_SIZE, sizeof bytes, &bytes, NULL) == CL_SUCCESS) count_mem(ocl_dev(s), bytes, false);
    clReleaseMemObject(m);
}

sea_status ocl_buffer_write(sea_stream *s, sea_buffer *buf, size_t off, const void *src, size_t n)
{
    /* Blocking: the caller's memory may be gone once we return. */
    cl_int err = clEnqueueWriteBuffer(ocl_queue(s), (cl_mem)buf->handle, CL_TRUE, off, n, src, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return ocl_fail(err, "%s: writing %zu bytes at offset %zu", ocl_dev(s)->label, n, off);
    return SEA_OK;
}

sea_status ocl_buffer_read(sea_stream *s, const sea_buffer *buf, size_t off, void *dst, size_t n)
{
    cl_int err = clEnqueueReadBuffer(ocl_queue(s), (cl_mem)buf->handle, CL_TRUE, off, n, dst, 0, NULL, NULL);
    if (err != CL_SUCCESS)
        return ocl_fail(err, "%s: reading %zu bytes at offset %zu", ocl_dev(s)->label, n, off);
    return SEA_OK;
}

size_t ocl_reduce_wg(sea_stream *s, ocl_kernel_id k, size_t cap)
{
    ocl_device_ctx *d = ocl_dev(s);
    size_t lim = d->kernel_wg[k] < d->max_wg ? d->kernel_wg[k] : d->max_wg;
    if (cap && cap < lim) lim = cap;
    size_t wg = 1;
    while (wg * 2 <= lim) wg *= 2;
    return wg;
}

sea_status ocl_run(sea_stream *s, ocl_kernel_id k, size_t global, size_t local, const ocl_arg *args, int nargs)
{
    ocl_device_ctx *d = ocl_dev(s);
    if (global == 0) return SEA_OK;
    if (local == 0) {
        /* A fixed size per kernel, never shrunk to a small global size: every distinct local
         * size is a separate compile on JIT-per-launch drivers (PoCL), and kernels bound-check. */
        local = d->kernel_wg[k] < OCL_DEFAULT_WG ? d->kernel_wg[k] : OCL_DEFAULT_WG;
        if (local == 0) local = 1;
    }
    size_t g = (global + local - 1) / local * local;
    cl_kernel kern = d->kernels[k];
    pthread_mutex_lock(&d->launch_lock);
    cl_int err = CL_SUCCESS;
    int bad = -1;
    for (int i = 0; i < nargs && err == CL_SUCCESS; i++) {
        err = clSetKernelArg(kern, (cl_uint)i, args[i].size, args[i].ptr);
        if (err != CL_SUCCESS) bad = i;
    }
    if (err == CL_SUCCESS) err = clEnqueueNDRangeKernel(ocl_queue(s), kern, 1, NULL, &g, &local, 0, NULL, NULL);
    pthread_mutex_unlock(&d->launch_lock);
    if (err != CL_SUCCESS) {
        char kname[64] = "?";
        clGetKernelInfo(kern, CL_KERNEL_FUNCTION_NAME, sizeof kname - 1, kname, NULL);
        if (bad >= 0) return ocl_fail(err, "%s: kernel %s argument %d", d->label, kname, bad);
        return ocl_fail(err, "%s: launching kernel %s (global %zu, local %zu)", d->label, kname, g, local);
    }
    return SEA_OK;
}

sea_status ocl_temp_upload(sea_stream *s, const void *src, size_t bytes, cl_mem *out)
{
    ocl_device_ctx *d = ocl_dev(s);
    cl_int err;
    /* COPY_HOST_PTR copies at creation, so `src` may be freed as soon as we return. */
    *out = clCreateBuffer(d->context, CL_MEM_READ_ONLY | CL_MEM_COPY_HOST_PTR, bytes ? bytes : 4, (void *)src, &err);
    if (!*out) return ocl_fail(err, "%s: uploading %zu bytes of op parameters", d->label, bytes);
    count_mem(d, bytes ? bytes : 4, true);
    return SEA_OK;
}
