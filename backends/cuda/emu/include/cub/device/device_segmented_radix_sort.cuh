/* CUB's DeviceSegmentedRadixSort as the CUDA emulator provides it: SortPairsDescending with
 * CUB's interface (a size query with d_temp_storage NULL, then the sort, in stream order)
 * and CUB's result: a stable sort on the keys' radix order (for floats, -0.0 below +0.0 and
 * NaNs by their bits), so equal keys keep their input order. */
#ifndef SEA_CUDA_EMU_CUB_SEGMENTED_SORT_CUH
#define SEA_CUDA_EMU_CUB_SEGMENTED_SORT_CUH

#include <algorithm>
#include <vector>

#include "../../cuda_runtime.h"

cudaError_t sea_emu_enqueue(cudaStream_t s, std::function<cudaError_t()> work);

namespace cub {

struct DeviceSegmentedRadixSort {
    /* The radix order of a float: sign-magnitude bits made unsigned-comparable. */
    static uint32_t radix_key(float f)
    {
        uint32_t u;
        memcpy(&u, &f, 4);
        return (u & 0x80000000u) ? ~u : u | 0x80000000u;
    }

    template <typename V>
    static cudaError_t SortPairsDescending(void *d_temp_storage, size_t &temp_storage_bytes, const float *keys_in,
                                           float *keys_out, const V *values_in, V *values_out, int num_items,
                                           int num_segments, const int *begin_offsets, const int *end_offsets,
                                           int begin_bit = 0, int end_bit = 32, cudaStream_t stream = 0)
    {
        if (!d_temp_storage) {
            temp_storage_bytes = 256; /* scratch the caller must provide, as with CUB */
            return cudaSuccess;
        }
        if (temp_storage_bytes < 256 || begin_bit != 0 || end_bit != 32 || num_items < 0 || num_segments < 0)
            return cudaErrorInvalidValue;
        return sea_emu_enqueue(stream, [=]() {
            std::vector<int> order;
            for (int s = 0; s < num_segments; s++) {
                const int b = begin_offsets[s], e = end_offsets[s];
                order.resize((size_t)(e > b ? e - b : 0));
                for (size_t i = 0; i < order.size(); i++) order[i] = b + (int)i;
                std::stable_sort(order.begin(), order.end(),
                                 [&](int x, int y) { return radix_key(keys_in[x]) > radix_key(keys_in[y]); });
                std::vector<float> k(order.size());
                std::vector<V> v(order.size());
                for (size_t i = 0; i < order.size(); i++) {
                    k[i] = keys_in[order[i]];
                    v[i] = values_in[order[i]];
                }
                for (size_t i = 0; i < order.size(); i++) {
                    keys_out[b + i] = k[i];
                    values_out[b + i] = v[i];
                }
            }
            return cudaSuccess;
        });
    }
};

} /* namespace cub */

#endif
