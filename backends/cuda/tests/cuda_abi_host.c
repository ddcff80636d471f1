/* The module's build-consistency check (cuda_abi.c): a kernel object compiled against other
 * struct layouts than the module's C files is found and named; matching objects pass. */
#include <stdio.h>
#include <string.h>

#include "cuda_internal.h"

static int failures;
#define CHECK(c, ...)                                                          \
    do {                                                                       \
        if (!(c)) {                                                            \
            failures++;                                                        \
            printf("FAIL %s:%d: ", __FILE__, __LINE__);                        \
            printf(__VA_ARGS__);                                               \
            printf("\n");                                                      \
        }                                                                      \
    } while (0)

/* What an object compiled from this source reports, and one built against other layouts. */
static uint64_t current(void) { return SEA_CUDA_ABI_FINGERPRINT; }
static uint64_t stale(void) { return SEA_CUDA_ABI_FINGERPRINT + 1; }

int main(void)
{
    const sea_cuda_abi_unit ok[] = {{"a.cu", current}, {"b.cu", current}};
    CHECK(sea_cuda_abi_stale_unit(ok, 2, SEA_CUDA_ABI_FINGERPRINT) == NULL, "matching objects reported stale");
    CHECK(sea_cuda_abi_stale_unit(ok, 0, 0) == NULL, "an empty table reported stale");

    const sea_cuda_abi_unit mixed[] = {{"a.cu", current}, {"b.cu", stale}, {"c.cu", stale}};
    const sea_cuda_abi_unit *u = sea_cuda_abi_stale_unit(mixed, 3, SEA_CUDA_ABI_FINGERPRINT);
    CHECK(u && strcmp(u->file, "b.cu") == 0, "the first stale object is not named: %s", u ? u->file : "none");

    /* The fingerprint moves with each layout it covers: one byte more in any of them. */
    uint64_t base = SEA_CUDA_ABI_MIX(SEA_CUDA_ABI_MIX(1, sizeof(sea_op)), sizeof(sea_tensor));
    CHECK(base != SEA_CUDA_ABI_MIX(SEA_CUDA_ABI_MIX(1, sizeof(sea_op) + 8), sizeof(sea_tensor)), "sea_op size ignored");
    CHECK(base != SEA_CUDA_ABI_MIX(SEA_CUDA_ABI_MIX(1, sizeof(sea_op)), sizeof(sea_tensor) + 8), "tensor size ignored");
    CHECK(base != SEA_CUDA_ABI_MIX(SEA_CUDA_ABI_MIX(1, sizeof(sea_tensor)), sizeof(sea_op)), "order ignored");

    printf("%s\n", failures ? "cuda_abi_host: FAILED" : "cuda_abi_host: ok");
    return failures != 0;
}
