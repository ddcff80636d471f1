/* GGUF (llama.cpp) reader, versions 2 and 3.
 *
 * Layout: "GGUF", u32 version, u64 tensor_count, u64 kv_count, kv_count typed key/values,
 * tensor_count tensor infos {string name, u32 n_dims, u64 ne[n_dims] (fastest first),
 * u32 ggml_type, u64 offset}, padding to general.alignment (default 32), data section.
 * All integers little-endian; strings are u64 length + bytes (no NUL).
 *
 * The file is mmapped; every count, string length and offset is checked against the file size
 * before use, and messages name the file and the key or tensor ("m.gguf: tensor 'blk.0.attn_q.weight':
 * data [offset 4096, 4096+73728) beyond file size 40960").
 *
 * Tensor shapes are reported both ways: ne[] in ggml order (ne[0] fastest) and shape[] outermost
 * first (PyTorch order, the reverse), which is what the rest of sea uses. */
#ifndef SEA_MODELS_GGUF_H
#define SEA_MODELS_GGUF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hf_config.h"
#include "status.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_gguf sea_gguf;

typedef enum sea_gguf_type {
    SEA_GGUF_UINT8 = 0,
    SEA_GGUF_INT8 = 1,
    SEA_GGUF_UINT16 = 2,
    SEA_GGUF_INT16 = 3,
    SEA_GGUF_UINT32 = 4,
    SEA_GGUF_INT32 = 5,
    SEA_GGUF_FLOAT32 = 6,
    SEA_GGUF_BOOL = 7,
    SEA_GGUF_STRING = 8,
    SEA_GGUF_ARRAY = 9,
    SEA_GGUF_UINT64 = 10,
    SEA_GGUF_INT64 = 11,
    SEA_GGUF_FLOAT64 = 12,
    SEA_GGUF_TYPE_COUNT
} sea_gguf_type;

/* ggml tensor types (values as in ggml.h). Only some can be dequantized here. */
typedef enum sea_ggml_type {
    SEA_GGML_F32 = 0,
    SEA_GGML_F16 = 1,
    SEA_GGML_Q4_0 = 2,
    SEA_GGML_Q4_1 = 3,
    SEA_GGML_Q5_0 = 6,
    SEA_GGML_Q5_1 = 7,
    SEA_GGML_Q8_0 = 8,
    SEA_GGML_Q8_1 = 9,
    SEA_GGML_Q2_K = 10,
    SEA_GGML_Q3_K = 11,
    SEA_GGML_Q4_K = 12,
    SEA_GGML_Q5_K = 13,
    SEA_GGML_Q6_K = 14,
    SEA_GGML_Q8_K = 15,
    SEA_GGML_I8 = 24,
    SEA_GGML_I16 = 25,
    SEA_GGML_I32 = 26,
    SEA_GGML_I64 = 27,
    SEA_GGML_F64 = 28,
    SEA_GGML_BF16 = 30,
} sea_ggml_type;

/* A string inside the file: not NUL-terminated in the file, so `str` is a NUL-terminated copy. */
typedef struct sea_gguf_str {
    const char *str;
    uint64_t len; /* bytes, excluding the NUL (the string may itself contain NULs) */
} sea_gguf_str;

/* One key/value. Scalars are decoded; arrays of scalars point into the mapping (little-endian,
 * possibly unaligned: read them with sea_gguf_arr_*); arrays of strings are decoded to `strs`.
 * Arrays of arrays are accepted and skipped (count is kept, no elements). */
typedef struct sea_gguf_kv {
    const char *key;
    sea_gguf_type type;
    union {
        uint64_t u64;   /* UINT8/16/32/64 */
        int64_t i64;    /* INT8/16/32/64 */
        double f64;     /* FLOAT32/64 */
        bool b;         /* BOOL */
        sea_gguf_str s; /* STRING */
        struct {
            sea_gguf_type type; /* element type */
            uint64_t n;
            const void *raw;          /* scalar elements, n x size, in the mapping */
            const sea_gguf_str *strs; /* STRING elements (n of them) */
        } arr;
    } v;
} sea_gguf_kv;

typedef struct sea_gguf_tensor {
    const char *name;
    int n_dims;           /* 1..4 */
    int64_t ne[4];        /* ggml order: ne[0] fastest; unused entries are 1 */
    int64_t shape[4];     /* outermost first: shape[i] = ne[n_dims-1-i] */
    sea_ggml_type type;
    uint64_t offset;      /* relative to the data section */
    const void *data;     /* in the mapping */
    size_t nbytes;
} sea_gguf_tensor;

sea_status sea_gguf_open(const char *path, sea_gguf **out);
/* Parse an image in memory (borrowed). `name` is used in messages. Used by the fuzzer. */
sea_status sea_gguf_open_memory(const void *buf, size_t len, const char *name, sea_gguf **out);
void sea_gguf_close(sea_gguf *g); /* NULL is fine */

uint32_t sea_gguf_version(const sea_gguf *g);
uint64_t sea_gguf_alignment(const sea_gguf *g);
uint64_t sea_gguf_data_offset(const sea_gguf *g); /* file offset of the data section */

/* Metadata. find returns NULL when absent. */
size_t sea_gguf_kv_count(const sea_gguf *g);
const sea_gguf_kv *sea_gguf_kv_at(const sea_gguf *g, size_t i);
const sea_gguf_kv *sea_gguf_find_kv(const sea_gguf *g, const char *key);
/* Typed getters: true when the key exists and converts (any integer type for get_int, any
 * numeric type for get_float, BOOL or integer for get_bool). */
bool sea_gguf_get_int(const sea_gguf *g, const char *key, int64_t *out);
bool sea_gguf_get_float(const sea_gguf *g, const char *key, double *out);
bool sea_gguf_get_bool(const sea_gguf *g, const char *key, bool *out);
const char *sea_gguf_get_str(const sea_gguf *g, const char *key); /* NULL when absent/not string */
/* Element i of a scalar array as int64 / double (i < arr.n, element type numeric). */
int64_t sea_gguf_arr_int(const sea_gguf_kv *kv, uint64_t i);
double sea_gguf_arr_float(const sea_gguf_kv *kv, uint64_t i);
const char *sea_gguf_type_name(sea_gguf_type t);

/* Tensors. */
size_t sea_gguf_tensor_count(const sea_gguf *g);
const sea_gguf_tensor *sea_gguf_tensor_at(const sea_gguf *g, size_t i);
const sea_gguf_tensor *sea_gguf_find_tensor(const sea_gguf *g, const char *name);
int64_t sea_gguf_tensor_numel(const sea_gguf_tensor *t);
const char *sea_ggml_type_name(sea_ggml_type t);
/* Block geometry: elements per block and bytes per block; false for unknown types. */
bool sea_ggml_type_block(sea_ggml_type t, int64_t *block_elems, size_t *block_bytes);

/* Dequantize/convert a whole tensor to numel floats (order: ggml's, which is row-major in
 * shape[] order). Supports F32, F16, BF16, Q8_0, Q4_0, Q4_1; others -> SEA_ERR_UNSUPPORTED. */
sea_status sea_gguf_tensor_to_f32(const sea_gguf_tensor *t, float *dst);
/* Dequantize n elements of raw blocks (n a multiple of the block size). */
sea_status sea_ggml_dequantize(sea_ggml_type type, const void *src, float *dst, int64_t n);

/* Map general.architecture "llama" / "gptneox" metadata to an HF config:
 * <arch>.embedding_length, .block_count, .attention.head_count(_kv), .feed_forward_length,
 * .context_length, .rope.dimension_count, .rope.freq_base, .attention.layer_norm_(rms_)epsilon,
 * .use_parallel_residual, vocab from tokenizer.ggml.tokens (or token_embd.weight),
 * tie_word_embeddings when output.weight is absent, bos/eos ids from tokenizer.ggml.*,
 * .rope.scaling.{type,factor,original_context_length} when present. Llama-3 frequency scaling
 * lives in a rope_freqs.weight tensor in GGUF, not in metadata: it is not reflected here. */
sea_status sea_gguf_to_hf_config(const sea_gguf *g, sea_hf_config *cfg);

/* llama.cpp's convert script permutes the rows of Llama's q_proj/k_proj weights from HF's
 * rotate-half layout to interleaved pairs:  w.reshape(n_head, 2, hd/2, cols).swapaxes(1, 2).
 * This undoes it in place: rows = n_head * hd rows of row_bytes bytes each (works on any
 * element type, including quantized rows as long as a row holds whole blocks).
 * Use n_head = head_count for attn_q and head_count_kv for attn_k. */
sea_status sea_gguf_unpermute_qk(void *rows_data, int64_t rows, size_t row_bytes, int64_t n_head);

#ifdef __cplusplus
}
#endif
#endif
