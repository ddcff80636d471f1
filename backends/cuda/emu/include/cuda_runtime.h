/* The CUDA emulator's <cuda_runtime.h>: the runtime API, plus (in C++) the device side:
 * CUDA's keywords, built-in variables, intrinsics and the kernel launch. */
#ifndef SEA_CUDA_EMU_RUNTIME_H
#define SEA_CUDA_EMU_RUNTIME_H

#include "cuda_runtime_api.h"

#ifdef __cplusplus
#include "../emu_device.h"
#endif

#endif
