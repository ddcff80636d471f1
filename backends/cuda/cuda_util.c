/* Error mapping: every CUDA/cuBLAS failure becomes a sea_status whose message names the
 * device and what was being done, so a fault on a lent GPU can be read from one log line. */
#include "cuda_internal.h"

static const char *dev_label(const sea_cuda_stream *cs)
{
    return cs && cs->cdev ? cs->cdev->label : "cuda";
}

static sea_status map_code(cudaError_t e)
{
    return e == cudaErrorMemoryAllocation ? SEA_ERR_OOM : SEA_ERR_DEVICE;
}

sea_status sea_cuda_check(cudaError_t e, const sea_cuda_stream *cs, const char *what)
{
    if (e == cudaSuccess) return SEA_OK;
    return sea_error(map_code(e), "%s: %s: %s (%s)", dev_label(cs), what, cudaGetErrorName(e),
                     cudaGetErrorString(e));
}

sea_status sea_cuda_check_dev(cudaError_t e, int ordinal, const char *what)
{
    if (e == cudaSuccess) return SEA_OK;
    return sea_error(map_code(e), "cuda:%d: %s: %s (%s)", ordinal, what, cudaGetErrorName(e),
                     cudaGetErrorString(e));
}

sea_status sea_cuda_blas_check(cublasStatus_t e, const sea_cuda_stream *cs, const char *what)
{
    if (e == CUBLAS_STATUS_SUCCESS) return SEA_OK;
    sea_status code = e == CUBLAS_STATUS_ALLOC_FAILED ? SEA_ERR_OOM
                      : e == CUBLAS_STATUS_NOT_SUPPORTED ? SEA_ERR_UNSUPPORTED
                                                         : SEA_ERR_DEVICE;
    return sea_error(code, "%s: %s: cuBLAS %s", dev_label(cs), what, cublasGetStatusString(e));
}

sea_status sea_cuda_launch_check(const sea_cuda_stream *cs, const char *op)
{
    cudaError_t e = cudaGetLastError();
    if (e != cudaSuccess)
        return sea_error(map_code(e), "%s: %s: kernel launch failed: %s (%s)", dev_label(cs), op,
                         cudaGetErrorName(e), cudaGetErrorString(e));
    return SEA_OK;
}
