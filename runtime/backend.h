/* The backend interface: a table of functions per backend, and the device/stream objects.
 *
 * The CPU backend is linked into libsea. GPU backends are loadable modules
 * (sea-cuda.so, sea-opencl.so, sea-vulkan.so) exporting
 *     const struct sea_backend_ops *sea_backend_module_entry(void);
 * so one build runs on a machine without the GPU driver: a module that cannot find its
 * driver, ICD or loader reports 0 devices and says why (unavailable_reason).
 * Modules link against libsea and may call every public runtime function. */
#ifndef SEA_BACKEND_H
#define SEA_BACKEND_H

#include <stdbool.h>
#include <stddef.h>

#include "op.h"
#include "status.h"
#include "tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum sea_device_kind {
    SEA_DEVICE_CPU = 0,   /* the host CPU, or a CPU-type OpenCL/Vulkan device (PoCL, lavapipe) */
    SEA_DEVICE_GPU,       /* discrete GPU */
    SEA_DEVICE_IGPU,      /* integrated GPU */
} sea_device_kind;

typedef struct sea_device_props {
    char name[128];
    sea_device_kind kind;
    size_t mem_total, mem_free;    /* bytes; 0 = unknown */
    char pci_bus_id[32];           /* "0000:06:00.0" or "" */
    int numa_node;                 /* -1 = unknown (filled by discovery from hwloc) */
    char cpuset[64];               /* hwloc cpuset string of the local cpus, or "" */
    bool fp16, bf16;               /* arithmetic support (storage is always supported) */
    int subgroup_size;             /* warp / subgroup / SIMD width; 0 = unknown */
    size_t max_buffer_size;        /* largest single allocation; 0 = no limit known */
    int compute_units;
    char driver[64];               /* driver/runtime version string */
} sea_device_props;

/* Device memory as the backend's allocator counts it, in bytes: what a framework's "peak
 * allocated" is compared with (PyTorch's torch.cuda.max_memory_allocated), which the
 * driver's used/free cannot give (it includes the context and cached free blocks). */
typedef struct sea_device_memory {
    size_t allocated;       /* requested by live buffers and op temporaries (Vulkan: rounded up to
                             * its buffer alignment, a few hundred bytes at most) */
    size_t allocated_peak;  /* the most `allocated` was since the device opened or the last reset */
    size_t held;            /* taken from the driver for those blocks (rounded up to size classes) */
    size_t held_peak;
    size_t cached;          /* freed blocks kept for reuse, not counted in `held` */
} sea_device_memory;

struct sea_backend_ops {
    const char *name;   /* "cpu", "cuda", "opencl", "vulkan" */
    /* Enumerate once (cheap to call again). Returns the count; 0 when unavailable. */
    int (*device_count)(void);
    /* Why device_count() is 0 ("libcuda.so.1 not found", "no OpenCL ICD"), or NULL. */
    const char *(*unavailable_reason)(void);
    sea_status (*device_props)(int index, sea_device_props *out);

    /* Open/close a device: dev->backend, dev->index, dev->props are set by the runtime;
     * the backend sets dev->ctx and creates the default stream's ctx in stream_create. */
    sea_status (*device_open)(sea_device *dev);
    void (*device_close)(sea_device *dev);
    sea_status (*stream_create)(sea_device *dev, sea_stream *s);  /* sets s->ctx */
    void (*stream_destroy)(sea_stream *s);
    sea_status (*stream_sync)(sea_stream *s);   /* wait for all work queued on s */

    /* Memory. buffer_alloc sets buf->handle (and buf->host if host-addressable).
     * Out of memory is SEA_ERR_OOM with a message naming the device and size. */
    sea_status (*buffer_alloc)(sea_device *dev, size_t size, sea_buffer *buf);
    void (*buffer_free)(sea_device *dev, sea_buffer *buf);
    sea_status (*buffer_write)(sea_stream *s, sea_buffer *buf, size_t off, const void *src, size_t n);
    sea_status (*buffer_read)(sea_stream *s, const sea_buffer *buf, size_t off, void *dst, size_t n);

    /* Can this backend run op `kind` with these dtypes (the dtypes of in[0], out[0])?
     * NULL = f32 (and i32 where the op says so) only. */
    bool (*supports)(sea_op_kind kind, sea_dtype in0, sea_dtype out0);
    /* Ops. Asynchronous is allowed: results are visible after stream_sync / buffer_read. */
    sea_status (*op_forward)(sea_stream *s, const sea_op *op);
    sea_status (*op_backward)(sea_stream *s, const sea_op *op);  /* may be NULL */

    /* Optional (NULL = none): the native stream handle of s (cudaStream_t) for a communication
     * library that enqueues its own kernels on it (NCCL, dist/nccl.c); it also makes s's device
     * current on the calling thread, as such libraries expect. Device memory is buf->handle. */
    sea_status (*stream_native)(sea_stream *s, void **out);

    /* Optional native graphs (runtime/graph.h; NULL = the runtime records ops and replays
     * them through op_forward). After graph_begin, op_forward on s captures instead of
     * running; graph_end stops that and returns the executable graph (on error it discards
     * the capture); graph_launch runs it on s; graph_free releases it and whatever the
     * backend kept alive for it (op temporaries). */
    sea_status (*graph_begin)(sea_stream *s);
    sea_status (*graph_end)(sea_stream *s, void **out);
    sea_status (*graph_launch)(sea_stream *s, void *graph);
    void (*graph_free)(sea_device *dev, void *graph);

    /* Optional: the device allocator's counters (sea_device_memory_stats below). */
    sea_status (*memory_stats)(sea_device *dev, bool reset_peak, sea_device_memory *out);
    /* Optional: give the blocks a caching allocator keeps free back to the driver
     * (sea_device_memory_trim below); may synchronize the device. */
    sea_status (*memory_trim)(sea_device *dev);
};

struct sea_device {
    const struct sea_backend_ops *backend;
    int index;                 /* within the backend */
    sea_device_props props;
    void *ctx;                 /* backend-private */
    sea_stream *stream;        /* default stream, created at open */
};

struct sea_tape;
struct sea_graph;
struct sea_stream {
    sea_device *dev;
    void *ctx;                 /* backend-private (cudaStream_t, cl_command_queue, ...) */
    struct sea_tape *tape;     /* ops run on this stream are recorded here when non-NULL */
    struct sea_graph *capture; /* ops issued on this stream are captured, not run (graph.h) */
};

/* The registry: the CPU backend plus every module found and loaded. */
int sea_backend_count(void);
const struct sea_backend_ops *sea_backend_get(int i);
const struct sea_backend_ops *sea_backend_find(const char *name);
/* For a GPU backend whose module is absent or failed to load: why (else NULL). */
const char *sea_backend_module_error(const char *name);

/* Open a device by spec: "cpu", "cuda:0", "opencl:1", "vulkan:0"; NULL or "" = the
 * environment variable SEA_DEVICE, else the default choice of discovery (runtime/discovery.h).
 * Unknown spec or index: SEA_ERR_DEVICE naming the spec and what exists. */
sea_status sea_device_open(const char *spec, sea_device **out);
void sea_device_close(sea_device *dev);
sea_stream *sea_device_stream(sea_device *dev); /* default stream */
sea_status sea_stream_sync(sea_stream *s);
/* The backend's native stream handle (see stream_native); SEA_ERR_UNSUPPORTED when it has none. */
sea_status sea_stream_native(sea_stream *s, void **out);
/* "cuda:0 (NVIDIA H200)" for messages. */
const char *sea_device_label(const sea_device *dev);

/* reset_peak: after reading, the peaks restart from the current values. SEA_ERR_UNSUPPORTED
 * for backends that keep no counters (the CPU backend, whose memory is the process's). */
sea_status sea_device_memory_stats(sea_device *dev, bool reset_peak, sea_device_memory *out);
/* Give the device memory that the backend's allocator keeps cached (freed blocks held for
 * reuse) back to the driver: for a caller that has just freed large buffers it will not ask
 * for again in those sizes (models/model_arena.c, after merging its chunks into one). Does
 * nothing on backends without a cache, or while the default stream captures a graph. */
sea_status sea_device_memory_trim(sea_device *dev);

/* The entry point every module exports. */
typedef const struct sea_backend_ops *(*sea_backend_module_entry_fn)(void);
#define SEA_BACKEND_MODULE_ENTRY "sea_backend_module_entry"

#ifdef __cplusplus
}
#endif
#endif
