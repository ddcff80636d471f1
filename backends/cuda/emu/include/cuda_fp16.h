/* The CUDA emulator's <cuda_fp16.h>: see cuda_bf16.h. */
#ifndef SEA_CUDA_EMU_FP16_H
#define SEA_CUDA_EMU_FP16_H
#include "cuda_runtime.h"
#endif
