/* The CUDA emulator's <cuda_bf16.h>: the backend's kernels use only their own bit-level
 * conversions (cuda_common.cuh), so this header has nothing to add. */
#ifndef SEA_CUDA_EMU_BF16_H
#define SEA_CUDA_EMU_BF16_H
#include "cuda_runtime.h"
#endif
