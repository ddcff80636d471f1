/* What the emulator's runtime offers its other parts (cuBLAS, CUB): stream work that runs
 * now, or is recorded while the stream captures a graph. */
#ifndef SEA_CUDA_EMU_RUNTIME_H_INTERNAL
#define SEA_CUDA_EMU_RUNTIME_H_INTERNAL

#include <functional>

#include "include/cuda_runtime_api.h"

/* Run `work` in stream order (at once, or at every replay of the graph being captured).
 * `work` returns the error a faulting operation would report. */
cudaError_t sea_emu_enqueue(cudaStream_t s, std::function<cudaError_t()> work);

/* One cuBLAS GEMM run (for SEA_CUDA_EMU_STATS). */
void sea_emu_count_gemm();

#endif
