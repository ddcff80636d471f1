/* CUB's BlockScan as the CUDA emulator provides it: the InclusiveSum the sampler uses, with
 * CUB's interface (TempStorage in shared memory, every thread of the block taking part). */
#ifndef SEA_CUDA_EMU_CUB_BLOCK_SCAN_CUH
#define SEA_CUDA_EMU_CUB_BLOCK_SCAN_CUH

#include "../../cuda_runtime.h"

namespace cub {

template <typename T, int BLOCK_DIM_X>
class BlockScan {
  public:
    struct TempStorage {
        T in[BLOCK_DIM_X];
        T incl[BLOCK_DIM_X];
    };
    explicit BlockScan(TempStorage &t) : s(t) {}

    /* out = sum of inputs of threads 0..me; total = sum over the block. */
    void InclusiveSum(T input, T &out, T &total)
    {
        const int me = sea_emu::thread_rank();
        s.in[me] = input;
        __syncthreads();
        if (me == 0) {
            T acc = T();
            for (int i = 0; i < BLOCK_DIM_X; i++) s.incl[i] = acc = acc + s.in[i];
        }
        __syncthreads();
        out = s.incl[me];
        total = s.incl[BLOCK_DIM_X - 1];
        __syncthreads(); /* the storage may be reused right after, as with CUB */
    }

  private:
    TempStorage &s;
};

} /* namespace cub */

#endif
