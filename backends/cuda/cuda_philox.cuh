/* Philox4x32-10 and the uniform draw, bit-identical to runtime/rng.c, usable on host and
 * device (the host build is what tests/cuda_philox_host.c checks against rng.c). */
#ifndef SEA_CUDA_PHILOX_CUH
#define SEA_CUDA_PHILOX_CUH

#include <stdint.h>

#ifdef __CUDACC__
#define SEA_PHILOX_FN __host__ __device__ __forceinline__
#else
#define SEA_PHILOX_FN static inline
#endif

SEA_PHILOX_FN void sea_cu_philox4x32(uint64_t seed, uint32_t stream, uint64_t counter, uint32_t out[4])
{
    uint32_t c0 = (uint32_t)counter, c1 = (uint32_t)(counter >> 32), c2 = stream, c3 = 0;
    uint32_t k0 = (uint32_t)seed, k1 = (uint32_t)(seed >> 32) ^ stream;
    for (int round = 0; round < 10; round++) {
        uint64_t p0 = (uint64_t)0xD2511F53u * c0, p1 = (uint64_t)0xCD9E8D57u * c2;
        uint32_t hi0 = (uint32_t)(p0 >> 32), lo0 = (uint32_t)p0;
        uint32_t hi1 = (uint32_t)(p1 >> 32), lo1 = (uint32_t)p1;
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    out[0] = c0;
    out[1] = c1;
    out[2] = c2;
    out[3] = c3;
}

/* Uniform in (0, 1): 24 high bits of the first word, centred in their interval. */
SEA_PHILOX_FN float sea_cu_rng_uniform(uint64_t seed, uint32_t stream, uint64_t counter)
{
    uint32_t w[4];
    sea_cu_philox4x32(seed, stream, counter, w);
    return ((float)(w[0] >> 9) + 0.5f) * (1.0f / 8388608.0f);
}

#endif
