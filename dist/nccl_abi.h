/* Our own declarations of the few NCCL types and entry points dist_nccl.c resolves with dlsym,
 * so that sea builds without NCCL's headers or library. They follow nccl.h (NCCL 2.x, stable
 * since 2.0: a 128-byte unique id passed by value, int-sized enums); tests/dist/test_nccl_abi.c
 * checks them against the real nccl.h wherever one is installed. Not a public header. */
#ifndef SEA_DIST_NCCL_ABI_H
#define SEA_DIST_NCCL_ABI_H

#include <stddef.h>

#define SEA_NCCL_UNIQUE_ID_BYTES 128
typedef struct { char internal[SEA_NCCL_UNIQUE_ID_BYTES]; } sea_nccl_unique_id; /* ncclUniqueId */
typedef struct sea_nccl_comm_opaque *sea_nccl_comm_t;                           /* ncclComm_t */
typedef int sea_nccl_result;                                                    /* ncclResult_t */

enum {
    SEA_NCCL_SUCCESS = 0,      /* ncclSuccess */
    SEA_NCCL_IN_PROGRESS = 7,  /* ncclInProgress */
    SEA_NCCL_UINT8 = 1,        /* ncclUint8 */
    SEA_NCCL_FLOAT32 = 7,      /* ncclFloat32 */
    SEA_NCCL_SUM = 0,          /* ncclSum */
};

/* The entry points, as function pointer types; `stream` is a cudaStream_t. */
typedef sea_nccl_result (*sea_nccl_get_version_fn)(int *version);
typedef sea_nccl_result (*sea_nccl_get_unique_id_fn)(sea_nccl_unique_id *id);
typedef sea_nccl_result (*sea_nccl_comm_init_rank_fn)(sea_nccl_comm_t *comm, int nranks, sea_nccl_unique_id id, int rank);
typedef sea_nccl_result (*sea_nccl_all_reduce_fn)(const void *send, void *recv, size_t count, int datatype, int op,
                                                  sea_nccl_comm_t comm, void *stream);
typedef sea_nccl_result (*sea_nccl_broadcast_fn)(const void *send, void *recv, size_t count, int datatype, int root,
                                                 sea_nccl_comm_t comm, void *stream);
typedef sea_nccl_result (*sea_nccl_comm_destroy_fn)(sea_nccl_comm_t comm);
typedef sea_nccl_result (*sea_nccl_comm_abort_fn)(sea_nccl_comm_t comm);
typedef sea_nccl_result (*sea_nccl_comm_get_async_error_fn)(sea_nccl_comm_t comm, sea_nccl_result *async_error);
typedef const char *(*sea_nccl_get_error_string_fn)(sea_nccl_result result);

/* From the CUDA driver (libcuda.so.1): poll a stream without blocking, so the wait for an NCCL
 * call can be bounded. CUresult: 0 done, 600 (CUDA_ERROR_NOT_READY) still running. */
typedef int (*sea_cu_stream_query_fn)(void *stream);
#define SEA_CU_ERROR_NOT_READY 600

#endif
