/* Our NCCL declarations (dist/nccl_abi.h) against the real nccl.h, where one is installed:
 * the id's size, the enum values we pass, the sizes of the enums we pass as int, and that
 * every entry point we dlsym is declared. Compiling is the test. */
#include <assert.h>
#include <nccl.h>

#include "dist/nccl_abi.h"

static_assert(SEA_NCCL_UNIQUE_ID_BYTES == NCCL_UNIQUE_ID_BYTES, "ncclUniqueId size");
static_assert(sizeof(sea_nccl_unique_id) == sizeof(ncclUniqueId), "ncclUniqueId layout");
static_assert(sizeof(sea_nccl_result) == sizeof(ncclResult_t), "ncclResult_t size");
static_assert(sizeof(int) == sizeof(ncclDataType_t) && sizeof(int) == sizeof(ncclRedOp_t), "enum sizes");
/* as ints: that is how we pass them */
static_assert((int)SEA_NCCL_SUCCESS == (int)ncclSuccess && (int)SEA_NCCL_IN_PROGRESS == (int)ncclInProgress,
              "ncclResult_t values");
static_assert((int)SEA_NCCL_UINT8 == (int)ncclUint8 && (int)SEA_NCCL_FLOAT32 == (int)ncclFloat32, "ncclDataType_t values");
static_assert((int)SEA_NCCL_SUM == (int)ncclSum, "ncclRedOp_t values");
static_assert(sizeof(void *) == sizeof(cudaStream_t), "cudaStream_t passed as void *");

int main(void)
{
    /* declared with these names (sizeof: nothing is linked) */
    (void)sizeof(&ncclGetVersion);
    (void)sizeof(&ncclGetUniqueId);
    (void)sizeof(&ncclCommInitRank);
    (void)sizeof(&ncclAllReduce);
    (void)sizeof(&ncclBroadcast);
    (void)sizeof(&ncclCommDestroy);
    (void)sizeof(&ncclCommAbort);
    (void)sizeof(&ncclCommGetAsyncError);
    (void)sizeof(&ncclGetErrorString);
    return 0;
}
