/* The CUDA backend's Philox (cuda_philox.cuh, shared by host and device code) must give the
 * same bits as runtime/rng.c, or sampling would differ between backends. This runs the
 * header's host build; the device build is the same source. */
#include <stdio.h>

#include "cuda_philox.cuh"
#include "rng.h"

int main(void)
{
    const uint64_t seeds[] = {0, 1, 42, 0xdeadbeefcafef00dULL, ~0ULL};
    const uint32_t streams[] = {0, 1, 7, 123456, 0xffffffffu};
    int bad = 0, n = 0;
    for (int a = 0; a < 5; a++)
        for (int b = 0; b < 5; b++)
            for (uint64_t c = 0; c < 2000; c += 37) {
                uint64_t ctr = c * 50304ULL + (c << 33);
                uint32_t x[4], y[4];
                sea_philox4x32(seeds[a], streams[b], ctr, x);
                sea_cu_philox4x32(seeds[a], streams[b], ctr, y);
                for (int k = 0; k < 4; k++) bad += x[k] != y[k];
                float u = sea_rng_uniform(seeds[a], streams[b], ctr);
                float v = sea_cu_rng_uniform(seeds[a], streams[b], ctr);
                bad += u != v || !(v > 0.0f && v < 1.0f);
                n++;
            }
    if (bad) {
        fprintf(stderr, "cuda philox: %d mismatches in %d blocks\n", bad, n);
        return 1;
    }
    printf("cuda philox: %d blocks identical to runtime/rng.c\n", n);
    return 0;
}
