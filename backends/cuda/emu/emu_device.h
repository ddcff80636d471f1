/* The device side of CUDA C++ for the CUDA emulator: the keywords, built-in variables,
 * vector types, intrinsics and the kernel launch the backend's .cu files use, on top of
 * the emulated machine (emu_machine.h). Included through the emulator's <cuda_runtime.h>.
 *
 * The .cu files compile unchanged with g++ except for two rewrites done by launch.sed:
 *   kernel<<<grid, block, smem, stream>>>(args)  ->  sea_emu_launch("kernel", grid, block, smem, stream)(kernel, args)
 *   extern __shared__ T name[];                  ->  T *name = (T *)sea_emu::dynamic_smem();
 * `__shared__` variables become function statics: one kernel runs at a time and its blocks
 * run one after another, so a static is exactly the running block's shared memory. */
#ifndef SEA_CUDA_EMU_DEVICE_H
#define SEA_CUDA_EMU_DEVICE_H

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <functional>
#include <tuple>
#include <type_traits>
#include <utility>

#include "emu_machine.h"
#include "include/cuda_runtime_api.h"

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
/* All __shared__ variables of the module go to one section, which the machine poisons at
 * every launch (emu_machine.cc): a kernel reading shared memory it never wrote sees NaN. */
#define __shared__ static __attribute__((section("sea_emu_shared")))
#define __launch_bounds__(...)
#define __align__(n) __attribute__((aligned(n)))

struct dim3 {
    unsigned x, y, z;
    dim3(unsigned x_ = 1, unsigned y_ = 1, unsigned z_ = 1) : x(x_), y(y_), z(z_) {}
};
struct uint3 {
    unsigned x, y, z;
};
struct alignas(16) uint4 {
    unsigned x, y, z, w;
};
static inline uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return uint4{x, y, z, w}; }
struct alignas(8) uint2 {
    unsigned x, y;
};
struct alignas(8) float2 {
    float x, y;
};
struct alignas(16) float4 {
    float x, y, z, w;
};
static inline float4 make_float4(float x, float y, float z, float w) { return float4{x, y, z, w}; }

inline uint3 sea_emu_uint3(const sea_emu::dim &d) { return {d.x, d.y, d.z}; }
#define threadIdx (sea_emu_uint3(sea_emu::thread_idx()))
#define blockIdx (sea_emu_uint3(sea_emu::block_idx()))
#define blockDim (sea_emu_uint3(sea_emu::block_dim()))
#define gridDim (sea_emu_uint3(sea_emu::grid_dim()))
constexpr int warpSize = 32;

/* ---- barriers and warp collectives (every lane of the warp must take part) ---- */

inline void sea_emu_check_mask(unsigned mask)
{
    if (mask != 0xffffffffu) sea_emu::fail("warp collective with a partial mask (not emulated)");
}

inline void __syncthreads() { sea_emu::block_barrier(); }
inline void __syncwarp(unsigned mask = 0xffffffffu)
{
    sea_emu_check_mask(mask);
    sea_emu::warp_barrier();
}

inline int __syncthreads_or(int pred)
{
    uint64_t *s = sea_emu::block_slots();
    const sea_emu::dim b = sea_emu::block_dim();
    const int n = (int)(b.x * b.y * b.z);
    s[sea_emu::thread_rank()] = pred != 0;
    sea_emu::block_barrier();
    int any = 0;
    for (int i = 0; i < n; i++) any |= (int)s[i];
    sea_emu::block_barrier();
    return any;
}

template <typename T>
inline T sea_emu_shfl_from(T v, int src_lane)
{
    static_assert(sizeof(T) <= 8, "shuffles move at most 8 bytes");
    sea_emu::warp_slots &W = sea_emu::my_warp();
    memcpy(&W.v[sea_emu::lane()], &v, sizeof v);
    sea_emu::warp_barrier();
    T r;
    memcpy(&r, &W.v[src_lane], sizeof r);
    sea_emu::warp_barrier();
    return r;
}

template <typename T>
inline T __shfl_xor_sync(unsigned mask, T v, int lane_mask, int width = 32)
{
    sea_emu_check_mask(mask);
    const int l = sea_emu::lane();
    int src = l ^ lane_mask;
    if ((src & ~(width - 1)) != (l & ~(width - 1))) src = l; /* outside the segment: own value */
    return sea_emu_shfl_from(v, src);
}

template <typename T>
inline T __shfl_sync(unsigned mask, T v, int src_lane, int width = 32)
{
    sea_emu_check_mask(mask);
    const int l = sea_emu::lane();
    return sea_emu_shfl_from(v, (l & ~(width - 1)) + (src_lane & (width - 1)));
}

inline unsigned __ballot_sync(unsigned mask, int pred)
{
    sea_emu_check_mask(mask);
    sea_emu::warp_slots &W = sea_emu::my_warp();
    W.v[sea_emu::lane()] = pred != 0;
    sea_emu::warp_barrier();
    unsigned bits = 0;
    for (int i = 0; i < 32; i++) bits |= (unsigned)(W.v[i] & 1u) << i;
    sea_emu::warp_barrier();
    return bits;
}

/* Threads switch only at barriers, so a read-modify-write is atomic as written. */
inline int atomicMin(int *p, int v)
{
    int old = *p;
    if (v < old) *p = v;
    return old;
}
inline int atomicAdd(int *p, int v)
{
    int old = *p;
    *p = old + v;
    return old;
}

/* CUDA's integer and float overloads of min and max. */
template <typename A, typename B>
inline typename std::common_type<A, B>::type min(A a, B b)
{
    return b < a ? b : a;
}
template <typename A, typename B>
inline typename std::common_type<A, B>::type max(A a, B b)
{
    return a < b ? b : a;
}

inline int __popc(unsigned x) { return __builtin_popcount(x); }
inline int __float2int_rn(float x) { return (int)nearbyintf(x); }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __expf(float x) { return expf(x); }
inline float __logf(float x) { return logf(x); }
inline float __fdividef(float a, float b) { return a / b; }

/* ---- the launch ---- */

extern "C++" cudaError_t sea_emu_enqueue_kernel(cudaStream_t s, const char *name, const void *fn, dim3 grid, dim3 block,
                                                size_t smem, std::function<void()> body);

struct sea_emu_launch {
    const char *name;
    dim3 grid, block;
    size_t smem;
    cudaStream_t stream;
    sea_emu_launch(const char *n, dim3 g, dim3 b, size_t sm = 0, cudaStream_t s = nullptr)
        : name(n), grid(g), block(b), smem(sm), stream(s)
    {
    }
    /* The arguments are converted to the kernel's parameter types at the call (the
     * parameter pack is deduced from the kernel alone) and copied, as a launch does: a
     * captured graph replays with these values. */
    template <typename... P>
    void operator()(void (*kernel)(P...), typename std::decay<P>::type... args) const
    {
        std::tuple<typename std::decay<P>::type...> copied(args...);
        sea_emu_enqueue_kernel(stream, name, (const void *)kernel, grid, block, smem,
                               [kernel, copied]() { std::apply(kernel, copied); });
    }
};

#endif
