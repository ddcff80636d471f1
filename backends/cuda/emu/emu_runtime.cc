/* The CUDA runtime API on the host, for the CUDA emulator (include/cuda_runtime_api.h).
 *
 * One emulated device ("sea CUDA emulator", sm_90 limits). Device memory is host memory,
 * counted against SEA_CUDA_EMU_MEM_MB (default 4096) so the out-of-memory paths can be
 * driven. Streams run their work at once, in order; a capturing stream records it instead
 * (kernels with their arguments as launched, copies, memsets, library calls), and a graph
 * launch replays the record. What real CUDA refuses is refused here with the same error:
 * launch configurations past the limits, dynamic shared memory above 48 KiB without
 * cudaFuncAttributeMaxDynamicSharedMemorySize, synchronizing a capturing stream, copies
 * outside an allocation; and, stricter than CUDA, any host<->device copy on a capturing
 * stream (a replay would touch host memory the caller has since let go of). A kernel fault
 * (emu_machine.h) is sticky, as on a GPU: every later synchronizing call reports
 * cudaErrorLaunchFailure, and the fault is printed on stderr.
 * SEA_CUDA_EMU_ORDER=reverse runs warps in descending order (emu_machine.h).
 * SEA_CUDA_EMU_STATS=1 prints at exit how many cudaMalloc/cudaFree calls, kernel launches
 * (run, not recorded) and graph launches there were, the peak of allocated memory, and the
 * kernels run by name: a test checks with it that the caching allocator makes no cudaMalloc
 * in the steady state, and the counts say how many launches a step takes. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <algorithm>
#include <map>
#include <string>
#include <new>
#include <mutex>
#include <vector>

#include "emu_runtime.h"
#include "include/cuda_runtime.h"

struct sea_emu_stream {
    bool capturing;
    bool capture_invalid;
    std::vector<std::function<cudaError_t()>> record;
};

struct sea_emu_graph {
    std::vector<std::function<cudaError_t()>> nodes;
};

namespace {

std::mutex lock;                         /* allocations, function attributes, sticky fault */
std::map<const char *, size_t> allocations; /* base -> bytes */
size_t allocated;
std::map<const void *, int> max_dynamic_smem;
cudaError_t sticky = cudaSuccess;
struct {
    long mallocs, frees, kernels, graph_launches, gemms;
    size_t peak;
    std::map<std::string, long> per_kernel; /* launches run, by kernel name */
} stats;
bool stats_registered;
thread_local cudaError_t last_error = cudaSuccess;
bool options_read;

const size_t DEFAULT_SMEM = 48 * 1024, OPTIN_SMEM = 232448;

/* A value that is not a positive whole number of MiB is reported once and the default used:
 * a typo must not silently give a test 4 GiB when it meant to starve the allocator. */
size_t read_memory_limit()
{
    const char *e = getenv("SEA_CUDA_EMU_MEM_MB");
    if (!e || !*e) return (size_t)4096 << 20;
    char *end = nullptr;
    errno = 0;
    long long mb = strtoll(e, &end, 10);
    if (errno || end == e || *end || mb <= 0 || mb > (1LL << 24)) {
        fprintf(stderr, "sea CUDA emulator: SEA_CUDA_EMU_MEM_MB=\"%s\" is not a size in MiB (1 to 16777216); using 4096\n", e);
        return (size_t)4096 << 20;
    }
    return (size_t)mb << 20;
}

size_t memory_limit()
{
    static const size_t limit = read_memory_limit();   /* read (and complained about) once */
    return limit;
}

void print_stats()
{
    fprintf(stderr,
            "sea CUDA emulator: %ld cudaMalloc, %ld cudaFree, %ld kernels run, %ld graph launches, peak %.1f MiB "
            "allocated\n",
            stats.mallocs, stats.frees, stats.kernels, stats.graph_launches, stats.peak / 1048576.0);
    std::vector<std::pair<long, std::string>> by_count;
    for (const auto &k : stats.per_kernel) by_count.push_back({k.second, k.first});
    by_count.push_back({stats.gemms, "(cuBLAS GEMM)"});
    std::sort(by_count.rbegin(), by_count.rend());
    for (const auto &k : by_count)
        if (k.first) fprintf(stderr, "sea CUDA emulator: %8ld %s\n", k.first, k.second.c_str());
}

bool device_range_ok(const void *p, size_t n);

/* (lock held) Environment options, and the machine's check of cp.async sources. */
void read_options()
{
    if (options_read) return;
    options_read = true;
    sea_emu::global_range_ok = device_range_ok;
    const char *o = getenv("SEA_CUDA_EMU_ORDER");
    sea_emu::reverse_order = o && !strcmp(o, "reverse");
    const char *st = getenv("SEA_CUDA_EMU_STATS");
    if (st && *st && strcmp(st, "0") && !stats_registered) stats_registered = atexit(print_stats) == 0;
}

cudaError_t record_error(cudaError_t e)
{
    if (e != cudaSuccess) last_error = e;
    return e;
}

/* Is [p, p + n) inside one live allocation? (lock held) */
bool inside_allocation(const void *p, size_t n)
{
    auto it = allocations.upper_bound((const char *)p);
    if (it == allocations.begin()) return false;
    --it;
    return (const char *)p >= it->first && (const char *)p + n <= it->first + it->second;
}

bool device_range_ok(const void *p, size_t n)
{
    std::lock_guard<std::mutex> hold(lock);
    return inside_allocation(p, n);
}

cudaError_t current_sticky()
{
    std::lock_guard<std::mutex> hold(lock);
    return sticky;
}

} /* namespace */

void sea_emu_count_gemm()
{
    std::lock_guard<std::mutex> hold(lock);
    stats.gemms++;
}

cudaError_t sea_emu_enqueue(cudaStream_t s, std::function<cudaError_t()> work)
{
    if (s && s->capturing) {
        s->record.push_back(std::move(work));
        return cudaSuccess;
    }
    cudaError_t e = current_sticky();
    if (e != cudaSuccess) return e;
    return work();
}

cudaError_t sea_emu_enqueue_kernel(cudaStream_t s, const char *name, const void *fn, dim3 grid, dim3 block, size_t smem,
                                   std::function<void()> body)
{
    {
        std::lock_guard<std::mutex> hold(lock);
        read_options();
    }
    const unsigned long long threads = (unsigned long long)block.x * block.y * block.z;
    if (!threads || threads > 1024 || block.z > 64 || !grid.x || !grid.y || !grid.z || grid.x > 0x7fffffffu ||
        grid.y > 65535 || grid.z > 65535)
        return record_error(cudaErrorInvalidConfiguration);
    size_t limit = DEFAULT_SMEM;
    {
        std::lock_guard<std::mutex> hold(lock);
        auto it = max_dynamic_smem.find(fn);
        if (it != max_dynamic_smem.end()) limit = (size_t)it->second;
    }
    if (smem > limit) return record_error(cudaErrorInvalidValue);
    const sea_emu::dim g = {grid.x, grid.y, grid.z}, b = {block.x, block.y, block.z};
    return sea_emu_enqueue(s, [=]() {
        std::string fault;
        {
            std::lock_guard<std::mutex> hold(lock);
            stats.kernels++;
            if (stats_registered) stats.per_kernel[name]++;
        }
        if (sea_emu::run_grid(g, b, smem, body, &fault)) return cudaSuccess;
        fprintf(stderr, "sea CUDA emulator: kernel %s <<<(%u, %u, %u), (%u, %u, %u), %zu>>>: %s\n", name, g.x, g.y, g.z,
                b.x, b.y, b.z, smem, fault.c_str());
        std::lock_guard<std::mutex> hold(lock);
        sticky = cudaErrorLaunchFailure;
        return cudaErrorLaunchFailure;
    });
}

extern "C" {

/* Each emulated error: its name and message, as the CUDA runtime gives them. */
static const struct {
    cudaError_t code;
    const char *name, *text;
} error_table[] = {
    {cudaSuccess, "cudaSuccess", "no error"},
    {cudaErrorInvalidValue, "cudaErrorInvalidValue", "invalid argument"},
    {cudaErrorMemoryAllocation, "cudaErrorMemoryAllocation", "out of memory"},
    {cudaErrorInitializationError, "cudaErrorInitializationError", "initialization error"},
    {cudaErrorInvalidConfiguration, "cudaErrorInvalidConfiguration", "invalid configuration argument"},
    {cudaErrorInvalidDevice, "cudaErrorInvalidDevice", "invalid device ordinal"},
    {cudaErrorInvalidResourceHandle, "cudaErrorInvalidResourceHandle", "invalid resource handle"},
    {cudaErrorIllegalAddress, "cudaErrorIllegalAddress", "an illegal memory access was encountered"},
    {cudaErrorLaunchFailure, "cudaErrorLaunchFailure", "unspecified launch failure"},
    {cudaErrorStreamCaptureUnsupported, "cudaErrorStreamCaptureUnsupported",
     "operation not permitted when stream is capturing"},
    {cudaErrorStreamCaptureInvalidated, "cudaErrorStreamCaptureInvalidated",
     "operation failed due to a previous error during capture"},
    {cudaErrorStreamCaptureUnmatched, "cudaErrorStreamCaptureUnmatched", "capture was not initiated in this stream"},
    {cudaErrorStreamCaptureImplicit, "cudaErrorStreamCaptureImplicit",
     "operation would make the legacy stream depend on a capturing blocking stream"},
};

const char *cudaGetErrorName(cudaError_t e)
{
    for (const auto &x : error_table)
        if (x.code == e) return x.name;
    return "cudaErrorUnknown";
}

const char *cudaGetErrorString(cudaError_t e)
{
    for (const auto &x : error_table)
        if (x.code == e) return x.text;
    return "unknown error";
}

cudaError_t cudaGetLastError(void)
{
    cudaError_t e = last_error;
    last_error = cudaSuccess;
    cudaError_t s = current_sticky();
    return s != cudaSuccess ? s : e;
}

cudaError_t cudaPeekAtLastError(void)
{
    cudaError_t s = current_sticky();
    return s != cudaSuccess ? s : last_error;
}

cudaError_t cudaGetDeviceCount(int *n)
{
    *n = 1;
    return cudaSuccess;
}

cudaError_t cudaSetDevice(int ordinal) { return record_error(ordinal == 0 ? cudaSuccess : cudaErrorInvalidDevice); }

cudaError_t cudaGetDeviceProperties(struct cudaDeviceProp *p, int ordinal)
{
    if (ordinal != 0) return record_error(cudaErrorInvalidDevice);
    memset(p, 0, sizeof *p);
    snprintf(p->name, sizeof p->name, "sea CUDA emulator (CPU)");
    p->totalGlobalMem = memory_limit();
    p->sharedMemPerBlock = DEFAULT_SMEM;
    p->sharedMemPerBlockOptin = OPTIN_SMEM;
    p->warpSize = 32;
    p->maxThreadsPerBlock = 1024;
    p->major = 9;
    p->minor = 0;
    p->multiProcessorCount = 1;
    return cudaSuccess;
}

cudaError_t cudaDeviceGetAttribute(int *value, enum cudaDeviceAttr attr, int ordinal)
{
    if (ordinal != 0) return record_error(cudaErrorInvalidDevice);
    if (attr != cudaDevAttrMaxSharedMemoryPerBlockOptin) return record_error(cudaErrorInvalidValue);
    *value = (int)OPTIN_SMEM;
    return cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int *v)
{
    *v = 13000;
    return cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int *v)
{
    *v = 13000;
    return cudaSuccess;
}

cudaError_t cudaDeviceSynchronize(void) { return record_error(current_sticky()); }

cudaError_t cudaFuncSetAttribute(const void *func, enum cudaFuncAttribute attr, int value)
{
    if (attr != cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || (size_t)value > OPTIN_SMEM)
        return record_error(cudaErrorInvalidValue);
    std::lock_guard<std::mutex> hold(lock);
    max_dynamic_smem[func] = value;
    return cudaSuccess;
}

cudaError_t cudaMalloc(void **p, size_t size)
{
    std::lock_guard<std::mutex> hold(lock);
    const size_t bytes = size ? size : 1;
    if (allocated + bytes > memory_limit()) {
        last_error = cudaErrorMemoryAllocation;
        return cudaErrorMemoryAllocation;
    }
    /* 256-byte aligned like cudaMalloc, and exactly `bytes` long, so that under ASan a
     * kernel reading or writing past the end of a buffer is reported. */
    void *m = nullptr;
    if (posix_memalign(&m, 256, bytes) != 0) m = nullptr;
    if (!m) {
        last_error = cudaErrorMemoryAllocation;
        return cudaErrorMemoryAllocation;
    }
    allocations[(const char *)m] = bytes;
    allocated += bytes;
    read_options();
    stats.mallocs++;
    if (allocated > stats.peak) stats.peak = allocated;
    *p = m;
    return cudaSuccess;
}

cudaError_t cudaFree(void *p)
{
    if (!p) return cudaSuccess;
    std::lock_guard<std::mutex> hold(lock);
    auto it = allocations.find((const char *)p);
    if (it == allocations.end()) {
        last_error = cudaErrorInvalidValue;
        return cudaErrorInvalidValue;
    }
    allocated -= it->second;
    allocations.erase(it);
    stats.frees++;
    free(p);
    return cudaSuccess;
}

cudaError_t cudaMemGetInfo(size_t *free_bytes, size_t *total_bytes)
{
    std::lock_guard<std::mutex> hold(lock);
    *total_bytes = memory_limit();
    *free_bytes = *total_bytes - allocated;
    return cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void *dst, const void *src, size_t n, enum cudaMemcpyKind kind, cudaStream_t s)
{
    if (!n) return cudaSuccess;
    if (s && s->capturing && kind != cudaMemcpyDeviceToDevice) {
        /* A graph would copy from or to this host memory at every replay, long after the
         * caller let go of it; refused here as an unsupported capture, whatever the memory. */
        s->capture_invalid = true;
        return record_error(cudaErrorStreamCaptureUnsupported);
    }
    {
        std::lock_guard<std::mutex> hold(lock);
        bool dst_dev = kind == cudaMemcpyHostToDevice || kind == cudaMemcpyDeviceToDevice;
        bool src_dev = kind == cudaMemcpyDeviceToHost || kind == cudaMemcpyDeviceToDevice;
        if ((dst_dev && !inside_allocation(dst, n)) || (src_dev && !inside_allocation(src, n)))
            return record_error(cudaErrorInvalidValue);
    }
    return record_error(sea_emu_enqueue(s, [=]() {
        memmove(dst, src, n);
        return cudaSuccess;
    }));
}

cudaError_t cudaMemsetAsync(void *p, int value, size_t n, cudaStream_t s)
{
    if (!n) return cudaSuccess;
    {
        std::lock_guard<std::mutex> hold(lock);
        if (!inside_allocation(p, n)) return record_error(cudaErrorInvalidValue);
    }
    return record_error(sea_emu_enqueue(s, [=]() {
        memset(p, value, n);
        return cudaSuccess;
    }));
}

cudaError_t cudaStreamCreate(cudaStream_t *s) { return cudaStreamCreateWithFlags(s, cudaStreamDefault); }

cudaError_t cudaStreamCreateWithFlags(cudaStream_t *s, unsigned flags)
{
    (void)flags;
    *s = new (std::nothrow) sea_emu_stream();
    return *s ? cudaSuccess : record_error(cudaErrorMemoryAllocation);
}

cudaError_t cudaStreamDestroy(cudaStream_t s)
{
    delete s;
    return cudaSuccess;
}

cudaError_t cudaStreamSynchronize(cudaStream_t s)
{
    if (s && s->capturing) {
        s->capture_invalid = true;
        return record_error(cudaErrorStreamCaptureUnsupported);
    }
    return record_error(current_sticky());
}

cudaError_t cudaStreamBeginCapture(cudaStream_t s, enum cudaStreamCaptureMode mode)
{
    (void)mode;
    if (!s) return record_error(cudaErrorStreamCaptureUnsupported); /* the legacy stream cannot capture */
    if (s->capturing) return record_error(cudaErrorInvalidValue);
    s->capturing = true;
    s->capture_invalid = false;
    s->record.clear();
    return cudaSuccess;
}

cudaError_t cudaStreamEndCapture(cudaStream_t s, cudaGraph_t *g)
{
    if (!s || !s->capturing) return record_error(cudaErrorStreamCaptureUnmatched);
    s->capturing = false;
    *g = nullptr;
    if (s->capture_invalid) {
        s->record.clear();
        return record_error(cudaErrorStreamCaptureInvalidated);
    }
    sea_emu_graph *graph = new (std::nothrow) sea_emu_graph();
    if (!graph) return record_error(cudaErrorMemoryAllocation);
    graph->nodes.swap(s->record);
    *g = graph;
    return cudaSuccess;
}

cudaError_t cudaGraphInstantiate(cudaGraphExec_t *exec, cudaGraph_t g, unsigned long long flags)
{
    (void)flags;
    if (!g) return record_error(cudaErrorInvalidValue);
    *exec = new (std::nothrow) sea_emu_graph(*g);
    return *exec ? cudaSuccess : record_error(cudaErrorMemoryAllocation);
}

cudaError_t cudaGraphLaunch(cudaGraphExec_t exec, cudaStream_t s)
{
    if (!exec) return record_error(cudaErrorInvalidValue);
    const sea_emu_graph *g = exec;
    return record_error(sea_emu_enqueue(s, [g]() {
        {
            std::lock_guard<std::mutex> hold(lock);
            stats.graph_launches++;
        }
        for (const auto &node : g->nodes) {
            cudaError_t e = node();
            if (e != cudaSuccess) return e;
        }
        return cudaSuccess;
    }));
}

cudaError_t cudaGraphExecDestroy(cudaGraphExec_t exec)
{
    delete exec;
    return cudaSuccess;
}

cudaError_t cudaGraphDestroy(cudaGraph_t g)
{
    delete g;
    return cudaSuccess;
}

} /* extern "C" */
