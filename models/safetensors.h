/* safetensors reader and writer (Hugging Face's weight file format).
 *
 * A file is: u64 little-endian header length N, N bytes of UTF-8 JSON, then the data section.
 * The JSON maps tensor names to {"dtype", "shape", "data_offsets": [begin, end]} with offsets
 * relative to the data section; an optional "__metadata__" object maps strings to strings.
 *
 * The reader mmaps the file read-only and validates everything before handing out pointers:
 * header length against the file size, a 100 MB header cap, the JSON, known dtype names,
 * shape x dtype size == end - begin, offsets in range, ranges that neither overlap nor leave
 * holes (together they must cover the data section exactly). Every error message names the
 * file and, where one is involved, the tensor:
 *     "model.safetensors: tensor 'wte': data_offsets [0, 96] span 96 bytes but shape [4, 8] F32 needs 128"
 *
 * Tensor data pointers point into the mapping and stay valid until sea_safetensors_close().
 * Data is little-endian and only guaranteed aligned to its element size when the writer padded
 * the header to 8 bytes (HF and this writer do); callers that need alignment should check
 * ((uintptr_t)data % elem_size) or copy.
 *
 * Sharded checkpoints (model-00001-of-00003.safetensors + model.safetensors.index.json) open as
 * one sea_safetensors: find() looks across all shards. */
#ifndef SEA_MODELS_SAFETENSORS_H
#define SEA_MODELS_SAFETENSORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dtype.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SEA_ST_MAX_DIMS 8
#define SEA_ST_MAX_HEADER (100u * 1000u * 1000u) /* bytes of JSON accepted (HF's limit) */
#define SEA_ST_DTYPE_NONE (-1)                   /* a dtype the runtime has no sea_dtype for */

typedef struct sea_safetensors sea_safetensors;

/* One tensor of an opened file (or a tensor to write). */
typedef struct sea_st_tensor {
    const char *name;
    const char *dtype_name;         /* as spelled in the file: "F32", "BF16", "I64", "BOOL", ... */
    int dtype;                      /* a sea_dtype, or SEA_ST_DTYPE_NONE (F64, I64, U8, BOOL, ...) */
    size_t elem_size;               /* bytes per element of dtype_name */
    int ndim;                       /* 0 = scalar */
    int64_t shape[SEA_ST_MAX_DIMS]; /* outermost first; unused entries are 1 */
    const void *data;               /* nbytes bytes, row-major, little-endian */
    size_t nbytes;
    const char *file;               /* path of the (shard) file holding it; NULL when writing */
} sea_st_tensor;

/* ---- reading ---- */

/* Open and validate one .safetensors file (mmap). */
sea_status sea_safetensors_open(const char *path, sea_safetensors **out);

/* Parse a safetensors image already in memory (borrowed: `buf` must outlive the handle).
 * `name` is used in messages. Used by the fuzzer and by tests. */
sea_status sea_safetensors_open_memory(const void *buf, size_t len, const char *name,
                                       sea_safetensors **out);

/* Open a model directory: model.safetensors.index.json + its shards when the index exists,
 * otherwise model.safetensors. A path naming a file is opened as with sea_safetensors_open().
 * Checks that every tensor in the index's weight_map is in the shard it names and that
 * no tensor name appears in two shards. */
sea_status sea_safetensors_open_dir(const char *dir, sea_safetensors **out);

void sea_safetensors_close(sea_safetensors *f); /* NULL is fine */

size_t sea_safetensors_count(const sea_safetensors *f);
/* Tensors in file order (sorted by data offset within a shard; shards in index order). */
const sea_st_tensor *sea_safetensors_at(const sea_safetensors *f, size_t i);
/* NULL when absent (does not set an error: absence is often expected, e.g. tied lm_head). */
const sea_st_tensor *sea_safetensors_find(const sea_safetensors *f, const char *name);
/* Like find, but a missing tensor is an error naming it and the file(s). */
sea_status sea_safetensors_get(const sea_safetensors *f, const char *name, const sea_st_tensor **out);
/* A "__metadata__" value of the (first) file, or NULL. */
const char *sea_safetensors_metadata(const sea_safetensors *f, const char *key);

int64_t sea_st_tensor_numel(const sea_st_tensor *t);
/* Check dtype (must be a sea_dtype) and shape; message names the tensor and both shapes.
 * Pass ndim < 0 to skip the shape check. */
sea_status sea_st_tensor_expect(const sea_st_tensor *t, int ndim, const int64_t *shape);
/* Convert the tensor (F32/F16/BF16/I32, any alignment) to n = numel floats. */
sea_status sea_st_tensor_to_f32(const sea_st_tensor *t, float *dst);

/* Bytes per element for a safetensors dtype name (0 when unknown) and the sea_dtype for it
 * (SEA_ST_DTYPE_NONE when the runtime has none). */
size_t sea_st_dtype_size(const char *dtype_name);
int sea_st_dtype_from_name(const char *dtype_name);
const char *sea_st_dtype_name(sea_dtype t); /* "F32", "BF16", "F16", "I32" */

/* ---- writing ---- */

/* Write tensors atomically: a temporary file in the same directory is written, fsync'ed and
 * renamed over `path`. For each tensor: name, ndim, shape and data are used, and the dtype is
 * dtype_name when non-NULL, else `dtype`; nbytes must equal numel x element size.
 * The header is padded with spaces to a multiple of 8 bytes and gets
 * __metadata__ {"format": "pt"} plus the given key/value pairs (n_meta may be 0).
 * Tensors are laid out in the order given. Names must be unique. */
sea_status sea_safetensors_write(const char *path, const sea_st_tensor *tensors, size_t n,
                                 const char *const *meta_keys, const char *const *meta_values,
                                 size_t n_meta);

/* Write a sharded set into directory `dir`: <prefix>-0000k-of-0000n.safetensors, each at most
 * max_shard_bytes of tensor data (a tensor larger than that gets a shard of its own), plus
 * <prefix>.safetensors.index.json {"metadata": {"total_size": ...}, "weight_map": {...}}.
 * With one shard only, writes <prefix>.safetensors and no index (as transformers does).
 * prefix is usually "model". *n_shards (may be NULL) receives the shard count. */
sea_status sea_safetensors_write_sharded(const char *dir, const char *prefix,
                                         const sea_st_tensor *tensors, size_t n,
                                         size_t max_shard_bytes, size_t *n_shards);

#ifdef __cplusplus
}
#endif
#endif
