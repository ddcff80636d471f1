#include "rng.h"

#include <math.h>

#define PHILOX_M0 0xD2511F53u
#define PHILOX_M1 0xCD9E8D57u
#define PHILOX_W0 0x9E3779B9u
#define PHILOX_W1 0xBB67AE85u

static void mulhilo(uint32_t a, uint32_t b, uint32_t *hi, uint32_t *lo)
{
    uint64_t p = (uint64_t)a * b;
    *hi = (uint32_t)(p >> 32);
    *lo = (uint32_t)p;
}

void sea_philox4x32_raw(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4])
{
    uint32_t c0 = ctr[0], c1 = ctr[1], c2 = ctr[2], c3 = ctr[3];
    uint32_t k0 = key[0], k1 = key[1];
    for (int round = 0; round < 10; round++) {
        uint32_t hi0, lo0, hi1, lo1;
        mulhilo(PHILOX_M0, c0, &hi0, &lo0);
        mulhilo(PHILOX_M1, c2, &hi1, &lo1);
        uint32_t n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += PHILOX_W0;
        k1 += PHILOX_W1;
    }
    out[0] = c0; out[1] = c1; out[2] = c2; out[3] = c3;
}

void sea_philox4x32(uint64_t seed, uint32_t stream, uint64_t counter, uint32_t out[4])
{
    const uint32_t ctr[4] = {(uint32_t)counter, (uint32_t)(counter >> 32), stream, 0};
    const uint32_t key[2] = {(uint32_t)seed, (uint32_t)(seed >> 32) ^ stream};
    sea_philox4x32_raw(ctr, key, out);
}

static float u32_to_open_unit(uint32_t x)
{
    /* 23 high bits, centred in their interval: (0, 1) exclusive. (24 bits would round the top
     * value, 16777215.5 / 2^24, up to exactly 1.0 in float.) */
    return ((float)(x >> 9) + 0.5f) * (1.0f / 8388608.0f);
}

float sea_rng_uniform(uint64_t seed, uint32_t stream, uint64_t counter)
{
    uint32_t w[4];
    sea_philox4x32(seed, stream, counter, w);
    return u32_to_open_unit(w[0]);
}

float sea_rng_normal(uint64_t seed, uint32_t stream, uint64_t counter)
{
    uint32_t w[4];
    sea_philox4x32(seed, stream, counter, w);
    double u1 = ((double)(w[0] >> 8) + 0.5) / 16777216.0;
    double u2 = ((double)(w[1] >> 8) + 0.5) / 16777216.0;
    return (float)(sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2));
}

sea_rng sea_rng_make(uint64_t seed, uint32_t stream)
{
    sea_rng r = {seed, stream, 0};
    return r;
}

uint32_t sea_rng_next_u32(sea_rng *r)
{
    uint32_t w[4];
    sea_philox4x32(r->seed, r->stream, r->counter++, w);
    return w[0];
}

double sea_rng_next_uniform(sea_rng *r)
{
    uint32_t w[4];
    sea_philox4x32(r->seed, r->stream, r->counter++, w);
    uint64_t bits = ((uint64_t)w[0] << 21) ^ (w[1] >> 11);
    return (double)(bits & ((1ull << 53) - 1)) / 9007199254740992.0;
}

float sea_rng_next_normal(sea_rng *r) { return sea_rng_normal(r->seed, r->stream, r->counter++); }

uint32_t sea_rng_next_below(sea_rng *r, uint32_t n)
{
    if (n <= 1) return 0;
    uint32_t limit = UINT32_MAX - UINT32_MAX % n;
    for (;;) {
        uint32_t x = sea_rng_next_u32(r);
        if (x < limit) return x % n;
    }
}
