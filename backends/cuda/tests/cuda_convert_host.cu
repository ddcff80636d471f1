/* The dtype conversions the kernels use (cuda_common.cuh, __host__ __device__) must round
 * exactly like runtime/dtype.c, or a cast would give different bits on the GPU. This runs the
 * same source on the host: every f16 and bf16 bit pattern, and f32 values around every
 * rounding boundary, infinities, NaN, subnormals. */
#include <stdio.h>
#include <string.h>

#include "cuda_common.cuh"
#include "dtype.h"

static float bits(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

int main(void)
{
    long bad = 0, n = 0;
    for (uint32_t h = 0; h < 65536; h++, n += 2) {
        float a = sea_cu_f16_to_f32((uint16_t)h), b = sea_f16_to_f32((uint16_t)h);
        float c = sea_cu_bf16_to_f32((uint16_t)h), d = sea_bf16_to_f32((uint16_t)h);
        bad += memcmp(&a, &b, 4) != 0;
        bad += memcmp(&c, &d, 4) != 0;
    }
    /* f32 -> f16/bf16: a stride through all exponents plus the neighbours of halfway points */
    for (uint64_t u = 0; u <= 0xffffffffULL; u += 4093) {
        for (int k = -1; k <= 1; k++) {
            uint32_t v = (uint32_t)(u + (uint64_t)k);
            float f = bits(v);
            bad += sea_cu_f32_to_f16(f) != sea_f32_to_f16(f);
            bad += sea_cu_f32_to_bf16(f) != sea_f32_to_bf16(f);
            n += 2;
        }
    }
    for (uint32_t m = 0; m < 0x10000u; m++) { /* exact halfway cases for bf16 */
        uint32_t v = (m << 16) | 0x8000u;
        bad += sea_cu_f32_to_bf16(bits(v)) != sea_f32_to_bf16(bits(v));
        n++;
    }
    if (bad) {
        fprintf(stderr, "cuda conversions: %ld of %ld differ from runtime/dtype.c\n", bad, n);
        return 1;
    }
    printf("cuda conversions: %ld conversions identical to runtime/dtype.c\n", n);
    return 0;
}
