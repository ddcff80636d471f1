#include "dtype.h"

#include <math.h>
#include <string.h>

static const char *const dtype_names[SEA_DTYPE_COUNT] = {"f32", "bf16", "f16", "i32"};
static const size_t dtype_sizes[SEA_DTYPE_COUNT] = {4, 2, 2, 4};

size_t sea_dtype_size(sea_dtype t) { return (unsigned)t < SEA_DTYPE_COUNT ? dtype_sizes[t] : 0; }

const char *sea_dtype_name(sea_dtype t)
{
    return (unsigned)t < SEA_DTYPE_COUNT ? dtype_names[t] : "invalid-dtype";
}

int sea_dtype_from_name(const char *name, sea_dtype *out)
{
    for (int i = 0; i < SEA_DTYPE_COUNT; i++)
        if (strcmp(name, dtype_names[i]) == 0) {
            *out = (sea_dtype)i;
            return 0;
        }
    return -1;
}

static uint32_t f32_bits(float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    return u;
}

static float bits_f32(uint32_t u)
{
    float f;
    memcpy(&f, &u, 4);
    return f;
}

uint16_t sea_f32_to_bf16(float f)
{
    uint32_t u = f32_bits(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (uint16_t)((u >> 16) | 0x40); /* quiet NaN */
    u += 0x7fffu + ((u >> 16) & 1u);                                           /* round to nearest even */
    return (uint16_t)(u >> 16);
}

float sea_bf16_to_f32(uint16_t h) { return bits_f32((uint32_t)h << 16); }

/* IEEE half conversion, after the classic branch-light formulation (round to nearest even). */
uint16_t sea_f32_to_f16(float f)
{
    uint32_t x = f32_bits(f);
    uint32_t sign = (x >> 16) & 0x8000u;
    uint32_t ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return (uint16_t)(sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0));
    if (ax >= 0x477ff000u) return (uint16_t)(sign | 0x7c00u); /* overflow to inf */
    if (ax < 0x38800000u) {                                    /* subnormal or zero */
        float v = bits_f32(ax) + 0.5f;                         /* shifts mantissa into place, RNE */
        return (uint16_t)(sign | (f32_bits(v) - 0x3f000000u));
    }
    uint32_t mant_odd = (ax >> 13) & 1u;
    ax += 0xc8000fffu + mant_odd; /* rebias exponent (-112<<23) and round */
    return (uint16_t)(sign | (ax >> 13));
}

float sea_f16_to_f32(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu;
    uint32_t mant = h & 0x3ffu;
    if (exp == 0) {
        float v = (float)mant * 5.9604644775390625e-8f; /* 2^-24 */
        return sign ? -v : v;
    }
    if (exp == 31) return bits_f32(sign | 0x7f800000u | (mant << 13));
    return bits_f32(sign | ((exp + 112) << 23) | (mant << 13));
}

static float load_as_f32(const void *src, sea_dtype t, size_t i)
{
    switch (t) {
    case SEA_F32: return ((const float *)src)[i];
    case SEA_BF16: return sea_bf16_to_f32(((const uint16_t *)src)[i]);
    case SEA_F16: return sea_f16_to_f32(((const uint16_t *)src)[i]);
    case SEA_I32: return (float)((const int32_t *)src)[i];
    default: return NAN;
    }
}

void sea_convert(void *dst, sea_dtype dt, const void *src, sea_dtype st, size_t n)
{
    if (dt == st) {
        memmove(dst, src, n * sea_dtype_size(dt));
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (st == SEA_I32 && dt == SEA_I32) continue;
        float v = load_as_f32(src, st, i);
        switch (dt) {
        case SEA_F32: ((float *)dst)[i] = v; break;
        case SEA_BF16: ((uint16_t *)dst)[i] = sea_f32_to_bf16(v); break;
        case SEA_F16: ((uint16_t *)dst)[i] = sea_f32_to_f16(v); break;
        case SEA_I32: ((int32_t *)dst)[i] = (int32_t)lrintf(v); break;
        default: break;
        }
    }
}
