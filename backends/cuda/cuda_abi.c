/* Build consistency of the module's objects: see cuda_internal.h ("build consistency"). */
#include "cuda_internal.h"

const sea_cuda_abi_unit *sea_cuda_abi_stale_unit(const sea_cuda_abi_unit *units, size_t n, uint64_t expect)
{
    for (size_t i = 0; i < n; i++)
        if (units[i].fingerprint() != expect) return &units[i];
    return NULL;
}
