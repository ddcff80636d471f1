/* Private parts of sea_model shared by models/model*.c, gptneox.c, llama.c, kv_cache.c,
 * generate.c and save_hf.c. Not an API. */
#ifndef SEA_MODEL_INTERNAL_H
#define SEA_MODEL_INTERNAL_H

#include "models/hf_config.h"
#include "models/model.h"
#include "runtime/ops.h"

#define SEA_MODEL_NAME_MAX 128

/* How a parameter's rows are arranged in the flat buffer relative to the HF tensor. */
typedef enum sea_param_layout {
    SEA_LAYOUT_PLAIN = 0,
    SEA_LAYOUT_NEOX_QKV,   /* HF rows [H, 3, hd] stored as [3, H, hd] */
} sea_param_layout;

typedef struct sea_model_param {
    char name[SEA_MODEL_NAME_MAX];
    int ndim;                 /* 1 or 2 */
    int64_t shape[2];
    int64_t offset;           /* elements into the flat buffers */
    sea_param_layout layout;
    bool optional;            /* absent from the file -> an error only if not optional */
    sea_tensor p, g;          /* views into the flat parameter / gradient buffers */
} sea_model_param;

/* The weights one block reads. Views into the flat buffer; an absent bias has buf == NULL. */
typedef struct sea_model_layer {
    sea_tensor ln1_w, ln1_b, ln2_w, ln2_b;
    sea_tensor wq, wk, wv, bq, bk, bv;   /* (H*hd, C), (Hkv*hd, C), (Hkv*hd, C) */
    sea_tensor wo, bo;                   /* (C, H*hd) */
    sea_tensor w_up, b_up;               /* (F, C): neox dense_h_to_4h, llama up_proj */
    sea_tensor w_gate, b_gate;           /* (F, C): llama only */
    sea_tensor w_down, b_down;           /* (C, F) */
} sea_model_layer;

/* Activation memory: a list of device chunks handed out front to back. After a pass that
 * needed more than the first chunk, the next reset replaces them with one chunk of the
 * high-water size, so steady-state shapes use one allocation. A mirror set of chunks (same
 * sizes, same offsets) holds activation gradients: the gradient of any view, reshaped or
 * sliced, is the same view into the mirror. */
typedef struct sea_model_arena {
    sea_device *dev;
    int n;                     /* chunks */
    sea_buffer **chunk, **grad;
    size_t *size;
    int cur;                   /* chunk being filled */
    size_t used;               /* bytes used in chunk cur */
    size_t total, high_water;  /* bytes handed out this pass / max over passes */
    bool with_grad;            /* mirrors allocated for this pass */
} sea_model_arena;

/* One recorded op for the model's own backward (see model_grad.c). Tensors by value. */
typedef struct sea_model_rec {
    sea_op_kind kind;
    sea_op_params p;
    int n_in, n_out;
    bool has_in[SEA_OP_MAX_IN], has_out[SEA_OP_MAX_OUT];
    sea_tensor in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT];
} sea_model_rec;

struct sea_model {
    sea_device *dev;
    sea_hf_config cfg;
    sea_model_arch arch;
    bool classifier;
    sea_dtype dtype;

    /* Dimensions from the config. */
    int C, L, H, Hkv, hd, F, V, n_labels;
    float eps;
    bool rms, parallel_residual, tied, gelu_tanh, swiglu;
    sea_op_params rope;   /* rope part filled */

    /* Parameters. */
    int n_tensors;
    sea_model_param *params;
    int64_t n_flat;
    sea_buffer *pbuf, *gbuf;
    sea_tensor flat_p, flat_g;
    sea_model_layer *layers;       /* (L) */
    sea_tensor embed, final_w, final_b, lm_head, score;  /* lm_head aliases embed when tied */

    /* Activations and recording. */
    sea_model_arena arena;
    bool recording;
    sea_model_rec *rec;
    int n_rec, cap_rec;
    bool have_train;               /* a train forward awaits backward */
    /* The log-probs of a train forward are computed only for the M rows that count
     * (compacted); backward seeds their gradient from d_sum/d_mean on the host. */
    sea_tensor train_lp;           /* (M) logp of the counted rows */
    int train_B, train_M;
    int32_t *train_row_b;          /* (M) sequence of each counted row */
    float *train_w;                /* (M) its resp_mask weight */
    double *train_cnt;             /* (B) sum of weights per sequence */
};

/* ---- architecture tables (gptneox.c, llama.c) ---- */
/* Fill m's dimensions from m->cfg and append the tensor table (names, shapes, layout). */
sea_status sea_gptneox_describe(sea_model *m);
sea_status sea_llama_describe(sea_model *m);
/* Point m->layers[...] and the top-level views at the flat buffers (after allocation). */
void sea_gptneox_bind(sea_model *m);
void sea_llama_bind(sea_model *m);

/* ---- model.c ---- */
/* Rotary op parameters from the config (default or llama3 scaling). */
sea_status sea_model_rope_from_config(sea_model *m);
/* Dimensions positive, heads divisible, rotary dims even and <= head_dim. */
sea_status sea_model_check_dims(sea_model *m);
sea_status sea_model_param_add(sea_model *m, const char *name, int ndim, int64_t d0, int64_t d1,
                               sea_param_layout layout, bool optional);
/* The view of tensor `name` (must exist; buf NULL when absent). */
sea_tensor sea_model_param_view(sea_model *m, const char *name);
/* Row slice [r0, r0+nr) of a 2-D (or element slice of a 1-D) parameter. */
sea_tensor sea_model_param_rows(sea_model *m, const char *name, int64_t r0, int64_t nr);
/* Create an empty model for cfg (dims + table + buffers), weights uninitialized. */
sea_status sea_model_alloc(sea_device *dev, const sea_hf_config *cfg, sea_dtype dtype, sea_model **out);
/* HF-layout host rows -> internal layout (and back): n floats of param p. */
void sea_model_layout_to_internal(const sea_model *m, const sea_model_param *p, const float *src, float *dst);
void sea_model_layout_to_hf(const sea_model *m, const sea_model_param *p, const float *src, float *dst);

/* ---- model_load.c / model_gguf.c ---- */
/* Write host floats in HF layout (numel of param i) into the flat buffer; tmp as large. */
sea_status sea_model_put_param_hf(sea_model *m, sea_stream *s, int i, float *hf, float *tmp);
int64_t sea_model_max_param_numel(const sea_model *m);
const char *sea_model_shape_str(int ndim, const int64_t *shape, char *buf, size_t n);
sea_status sea_model_load_gguf(sea_device *dev, const char *path, const sea_model_load_opts *o,
                               sea_model **out);

/* ---- model_arena.c ---- */
void sea_model_arena_init(sea_model_arena *a, sea_device *dev);
void sea_model_arena_free(sea_model_arena *a);
/* Start a pass (invalidates every tensor handed out before). with_grad: also mirrors. */
sea_status sea_model_arena_reset(sea_model_arena *a, bool with_grad);
sea_status sea_model_arena_tensor(sea_model_arena *a, sea_dtype dt, int ndim, const int64_t *shape,
                                  sea_tensor *out);
/* The gradient view mirroring `t` when t lives in the arena (with mirrors), else false. */
bool sea_model_arena_grad(const sea_model_arena *a, const sea_tensor *t, sea_tensor *g);
/* Zero every mirror chunk's used part. */
sea_status sea_model_arena_zero_grad(sea_model_arena *a, sea_stream *s);

/* ---- model_logprobs.c ---- */
void sea_model_train_state_free(sea_model *m);

/* ---- model_grad.c: run ops, recording them when m->recording ---- */
sea_status sea_model_run(sea_model *m, sea_stream *s, const sea_op *op);
void sea_model_rec_clear(sea_model *m);
/* Walk the recording backwards (seeds already written into the mirrors). */
sea_status sea_model_rec_backward(sea_model *m, sea_stream *s);

/* ---- model_forward.c ---- */
struct sea_kv_cache;
typedef struct sea_model_pass {
    int B, T;
    const sea_tensor *ids;        /* (B*T) i32 */
    const sea_tensor *pos;        /* (B, T) i32 rotary positions */
    const sea_tensor *key_valid;  /* (B, T) i32, prefill/train; NULL = all valid */
    struct sea_kv_cache *cache;   /* non-NULL: write k/v at cache_pos.. (and decode reads it) */
    int cache_pos;
    bool decode;                  /* T == 1: attend over cache slots [0, cache_pos] */
    bool train;                   /* keep pre-activations for backward */
} sea_model_pass;
/* Embedding + blocks + final norm -> hidden (B*T, C) (arena tensor). */
sea_status sea_model_trunk(sea_model *m, sea_stream *s, const sea_model_pass *ps, sea_tensor *hidden);
/* out (n, cols) = rows `rows` (n, i32 tensor of row indices) of x (N, cols), via the embedding op. */
sea_status sea_model_gather_rows(sea_model *m, sea_stream *s, const sea_tensor *x,
                                 const sea_tensor *rows, sea_tensor *out);
/* logits (n, V) = h (n, C) @ lm_head^T. */
sea_status sea_model_lm_head(sea_model *m, sea_stream *s, const sea_tensor *h, sea_tensor *logits);
/* Host helper: rotary positions (number of real tokens before t) from key_valid (NULL = all). */
void sea_model_positions(const int32_t *key_valid, int B, int T, int32_t *pos);
/* Upload a host array as a fresh arena tensor. */
sea_status sea_model_upload_i32(sea_model *m, sea_stream *s, const int32_t *src, int ndim,
                                const int64_t *shape, sea_tensor *out);
sea_status sea_model_upload_f32(sea_model *m, sea_stream *s, const float *src, int ndim,
                                const int64_t *shape, sea_tensor *out);

#endif
