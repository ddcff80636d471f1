/* Counter-based random numbers (Philox4x32-10).
 *
 * A value depends only on (seed, stream, counter), never on thread scheduling or on what
 * else is in the batch, so every backend and every thread count gives the same numbers.
 * GPU backends implement the same function in their kernel language; tests compare. */
#ifndef SEA_RNG_H
#define SEA_RNG_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Philox4x32-10 on a raw counter block and key (Random123's philox4x32_R(10, ...)). */
void sea_philox4x32_raw(const uint32_t ctr[4], const uint32_t key[2], uint32_t out[4]);

/* Philox4x32-10 with key = (seed lo, seed hi ^ stream) and counter = (ctr lo, ctr hi, stream, 0). */
void sea_philox4x32(uint64_t seed, uint32_t stream, uint64_t counter, uint32_t out[4]);

/* Uniform in (0, 1) (never exactly 0 or 1): first word of the block, 24-bit mantissa. */
float sea_rng_uniform(uint64_t seed, uint32_t stream, uint64_t counter);
/* Standard normal by Box-Muller from the first two words of the block. */
float sea_rng_normal(uint64_t seed, uint32_t stream, uint64_t counter);

/* A sequential generator over the same function, for host-side draws (shuffles, batches).
 * Its whole state is (seed, stream, counter): checkpoint those three to resume exactly. */
typedef struct sea_rng {
    uint64_t seed;
    uint32_t stream;
    uint64_t counter;
} sea_rng;

sea_rng sea_rng_make(uint64_t seed, uint32_t stream);
uint32_t sea_rng_next_u32(sea_rng *r);
double sea_rng_next_uniform(sea_rng *r);    /* [0, 1), 53 bits */
float sea_rng_next_normal(sea_rng *r);
uint32_t sea_rng_next_below(sea_rng *r, uint32_t n); /* uniform in [0, n), unbiased */

#ifdef __cplusplus
}
#endif
#endif
