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
    sea_tensor p, g;          /* views into the flat parameter / gradient buffers (f32) */
    sea_tensor c;             /* what the forward reads: p, or its bf16 copy (model_precision.c) */
} sea_model_param;

/* The weights one block reads: compute views (the flat f32 buffer, or its bf16 copy in bf16
 * mode); an absent bias has buf == NULL. */
typedef struct sea_model_layer {
    sea_tensor ln1_w, ln1_b, ln2_w, ln2_b;
    sea_tensor wq, wk, wv, bq, bk, bv;   /* (H*hd, C), (Hkv*hd, C), (Hkv*hd, C) */
    sea_tensor wo, bo;                   /* (C, H*hd) */
    sea_tensor w_up, b_up;               /* (F, C): neox dense_h_to_4h, llama up_proj */
    sea_tensor w_gate, b_gate;           /* (F, C): llama only */
    sea_tensor w_down, b_down;           /* (C, F) */
} sea_model_layer;

/* Activation memory: a list of device chunks handed out front to back (a bump allocator).
 * After a pass that needed more than the first chunk, the next reset replaces them with one
 * chunk of the high-water size, so steady-state shapes use one allocation. A mark/release pair
 * gives back everything handed out after the mark: inference and recomputed blocks use it to
 * keep one block's intermediates at a time.
 * Training passes also keep a span per allocation (in hand-out order, so sorted by chunk and
 * offset): a gradient is found by the span its tensor lies in, so every view of an allocation,
 * reshaped or sliced, maps to the same view of that allocation's gradient (model_grad.c). */
typedef struct sea_model_span {
    int chunk;
    size_t off, bytes;      /* in the chunk, 256-aligned */
    /* Owned by model_grad.c: */
    int first_rec;          /* lowest recorded op that reads or writes it; -1 none */
    bool produced;          /* out[0] of a recorded op: a gradient can flow into it */
    sea_buffer *gbuf;       /* its live gradient (gradient pool), NULL while it has none */
    size_t goff;
} sea_model_span;

typedef struct sea_model_arena {
    sea_device *dev;
    int n;                     /* chunks */
    sea_buffer **chunk;
    size_t *size;
    int cur;                   /* chunk being filled */
    size_t used;               /* bytes used in chunk cur */
    size_t total, high_water;  /* bytes handed out now / most at once over all passes */
    size_t peak;               /* most at once since the last peak reset (statistics) */
    bool restart_peak;         /* the next pass starts a new peak */
    bool track;                /* keep spans (training pass) */
    sea_model_span *span;
    int n_span, cap_span;
    int refs;                  /* models using it (sea_model_share_activations) */
    uint64_t passes;           /* resets so far: a pending train forward's pass must be the last */
} sea_model_arena;

/* How the arena and the gradient pool size their chunks (docs/memory.md): a chunk added
 * during a pass is the allocation that did not fit, or a quarter of the high-water mark if
 * larger, but at most SEA_MODEL_GROW_MAX beyond it (so a pass that grows holds little more
 * than it needs, even the first pass of a 10 GiB model); the one chunk a grown pass leaves
 * for the next has 1/8 slack, at most SEA_MODEL_SLACK_MAX (what a steady shape holds beyond
 * its need: the device's peak is compared with PyTorch's). */
#define SEA_MODEL_GROW_MAX ((size_t)256 << 20)
#define SEA_MODEL_SLACK_MAX ((size_t)64 << 20)
static inline size_t sea_model_grow_size(size_t need, size_t min_chunk, size_t high_water)
{
    size_t q = high_water / 4;
    if (q > SEA_MODEL_GROW_MAX) q = SEA_MODEL_GROW_MAX;
    size_t size = need > min_chunk ? need : min_chunk;
    return size > q ? size : q;
}
static inline size_t sea_model_with_slack(size_t bytes)
{
    size_t s = bytes / 8;
    return bytes + (s < SEA_MODEL_SLACK_MAX ? s : SEA_MODEL_SLACK_MAX);
}

/* Where the arena stood; release() returns to it. */
typedef struct sea_model_arena_mark {
    int cur, n_span;
    size_t used, total;
} sea_model_arena_mark;

/* Activation gradients: allocated when a gradient first reaches a tensor during backward and
 * given back once the op that produced the tensor has been back-propagated (model_grad.c).
 * First fit over free spans of device chunks; like the arena, a pass that had to grow leaves
 * one chunk of the needed size for the next. */
typedef struct sea_model_gpool_free {
    int chunk;
    size_t off, len;
} sea_model_gpool_free;

typedef struct sea_model_gpool {
    sea_device *dev;
    int n;                          /* chunks */
    sea_buffer **chunk;
    size_t *size, *extent;          /* bytes; highest end offset used this pass */
    sea_model_gpool_free *fr;       /* free spans sorted by (chunk, off) */
    int n_fr, cap_fr;
    size_t live, high_water;        /* bytes allocated now / most at once over all passes */
    size_t peak;                    /* most at once since the last peak reset (statistics) */
    bool restart_peak;              /* the next backward starts a new peak */
    bool grew;                      /* a chunk was added during this pass */
} sea_model_gpool;

/* One recorded op for the model's own backward (see model_grad.c). Tensors by value.
 * layer >= 0 marks a checkpointed block (recompute): in[0] its input x (N, C), in[1] the
 * positions (B, T), in[2] key_valid (B, T) or absent, out[0] its output (N, C); its ops are
 * recorded again when backward reaches it. layer == SEA_MODEL_REC_HEAD marks one chunk of a
 * chunked LM head: in[0] its hidden rows (m, C), in[1] their targets (m) i32, out[0] their
 * logp (m) f32, out[1] their log-sum-exp (m) f32; the chunk's logits are computed again, and
 * recorded, when backward reaches it. */
#define SEA_MODEL_REC_OP (-1)
#define SEA_MODEL_REC_HEAD (-2)
typedef struct sea_model_rec {
    sea_op_kind kind;
    int layer;
    sea_op_params p;
    bool has_in[SEA_OP_MAX_IN], has_out[SEA_OP_MAX_OUT];
    sea_tensor in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT];
    /* arena span of float in[i] / of the outputs that carry a gradient (out[0], a layernorm
     * pair's out[3]: rec_grad_out); -1 none */
    int span_in[SEA_OP_MAX_IN], span_out[SEA_OP_MAX_OUT];
} sea_model_rec;

struct sea_model {
    sea_device *dev;
    sea_hf_config cfg;
    sea_model_arch arch;
    bool classifier;
    sea_dtype dtype;               /* compute dtype: weights the forward reads and activations */
    int gen_batch_fit;             /* sequences generate found to fit at once (0 = not limited yet) */

    /* Dimensions from the config. */
    int C, L, H, Hkv, hd, F, V, n_labels;
    float eps;
    bool rms, parallel_residual, tied, gelu_tanh, swiglu;
    sea_op_params rope;   /* rope part filled */

    /* Parameters. */
    int n_tensors;
    sea_model_param *params;
    int64_t n_flat;
    sea_buffer *pbuf, *gbuf;       /* gbuf NULL until gradients are first needed */
    sea_tensor flat_p, flat_g;
    sea_model_layer *layers;       /* (L) compute views */
    sea_tensor embed, final_w, final_b, lm_head, score;  /* lm_head aliases embed when tied */
    /* Mixed precision (model_precision.c), NULL in f32 mode: a bf16 copy of the flat buffer
     * (same element offsets) that the forward reads, refreshed when pbuf->writes moved on
     * from cbuf_writes. Weight gradients go straight into gbuf (f32). */
    sea_buffer *cbuf;
    sea_tensor flat_c;             /* (n_flat / 64, 64) view: copies split into rows */
    uint64_t cbuf_writes;
    bool cbuf_fresh;
    /* sea_model_freeze_bf16 ran: pbuf and gbuf are released (NULL, params[i].p/.g and
     * flat_p/flat_g zeroed) and cbuf holds the weights for good. */
    bool frozen;

    /* Activations and recording. */
    sea_model_arena *arena;        /* own, or shared with other models (sea_model_share_activations) */
    sea_model_gpool gpool;         /* activation gradients during backward */
    bool recompute;                /* training keeps block inputs only; blocks rerun in backward */
    size_t head_chunk_bytes;       /* most f32 logits at once in forward_logprobs; 0 = no limit */
    bool recording;
    sea_model_rec *rec;
    int n_rec, cap_rec;
    bool have_train;               /* a train forward awaits backward */
    uint64_t train_pass;           /* arena->passes after that forward's reset */
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
/* Allocate (zeroed) and bind the flat gradient buffer unless it exists. */
sea_status sea_model_ensure_grads(sea_model *m);
/* Create an empty model for cfg (dims + table + parameter buffer), weights uninitialized. */
sea_status sea_model_alloc(sea_device *dev, const sea_hf_config *cfg, sea_dtype dtype, sea_model **out);
/* HF-layout host rows -> internal layout (and back): n floats of param p. */
void sea_model_layout_to_internal(const sea_model *m, const sea_model_param *p, const float *src, float *dst);
void sea_model_layout_to_hf(const sea_model *m, const sea_model_param *p, const float *src, float *dst);

/* ---- model_precision.c ---- */
/* Point each parameter's compute view (and the layer views) at pbuf or cbuf. */
void sea_model_bind_compute(sea_model *m);
/* Make cbuf (bf16 mode) or drop it (f32) and rebind the views. */
sea_status sea_model_precision_init(sea_model *m, sea_dtype dtype);
void sea_model_precision_free(sea_model *m);
/* Start of every pass: refresh the bf16 copy if the master changed since it was made. */
sea_status sea_model_weights_sync(sea_model *m, sea_stream *s);
/* "GPTNeoXForCausalLM (70426624 parameters, cpu)" for error messages; returns buf. */
const char *sea_model_label(const sea_model *m, char *buf, size_t n);
/* SEA_ERR_INVALID: `what` needs the f32 master or gradients, which the frozen m lacks. */
sea_status sea_model_frozen_error(const sea_model *m, const char *what);
/* The weights m holds, as (n_flat / 64, 64): the f32 master, or a frozen model's bf16 copy. */
sea_tensor sea_model_weights_rows(const sea_model *m);

/* ---- model_load.c / model_gguf.c ---- */
/* Write host floats in HF layout (numel of param i) into the flat buffer; tmp as large. */
sea_status sea_model_put_param_hf(sea_model *m, sea_stream *s, int i, float *hf, float *tmp);
int64_t sea_model_max_param_numel(const sea_model *m);
const char *sea_model_shape_str(int ndim, const int64_t *shape, char *buf, size_t n);
sea_status sea_model_load_gguf(sea_device *dev, const char *path, const sea_model_load_opts *o,
                               sea_model **out);

/* ---- model_arena.c ---- */
/* Byte offsets of tensors that share a buffer are multiples of this: every backend's
 * sub-buffer rules allow it (OpenCL base-address alignment, Vulkan
 * minStorageBufferOffsetAlignment are at most 256 bytes in practice). */
#define SEA_MODEL_VIEW_ALIGN 256
/* A new arena (one reference) on dev, or NULL when out of host memory. */
sea_model_arena *sea_model_arena_new(sea_device *dev);
/* Drop one reference; the last frees the chunks. NULL is ignored. */
void sea_model_arena_unref(sea_model_arena *a);
/* Start a pass (invalidates every tensor handed out before). train: keep spans. */
sea_status sea_model_arena_reset(sea_model_arena *a, bool train);
/* After a pass that failed (out of memory): release the chunks and go back to an earlier
 * high-water mark, so what the failed pass grew to is not allocated again at the next reset. */
void sea_model_arena_forget_growth(sea_model_arena *a, size_t high_water);
sea_status sea_model_arena_tensor(sea_model_arena *a, sea_dtype dt, int ndim, const int64_t *shape,
                                  sea_tensor *out);
sea_model_arena_mark sea_model_arena_get_mark(const sea_model_arena *a);
/* Give back everything handed out after mk (tensors and spans). */
void sea_model_arena_release(sea_model_arena *a, const sea_model_arena_mark *mk);
/* Span holding t's first byte, or -1 (not in the arena, or spans not kept). */
int sea_model_arena_find(const sea_model_arena *a, const sea_tensor *t);

/* ---- model_gpool.c ---- */
void sea_model_gpool_init(sea_model_gpool *g, sea_device *dev);
void sea_model_gpool_free_all(sea_model_gpool *g);
/* Start a backward: everything free (chunks reshaped after a pass that grew). */
sea_status sea_model_gpool_reset(sea_model_gpool *g);
sea_status sea_model_gpool_alloc(sea_model_gpool *g, size_t bytes, sea_buffer **buf, size_t *off);
sea_status sea_model_gpool_put(sea_model_gpool *g, sea_buffer *buf, size_t off, size_t bytes);

/* ---- model_logprobs.c ---- */
void sea_model_train_state_free(sea_model *m);

/* ---- model_grad.c: run ops, recording them when m->recording ---- */
sea_status sea_model_run(sea_model *m, sea_stream *s, const sea_op *op);
/* Record op (when m->recording) without running it: for an op that ran in another form with
 * the same result (model_forward.c: an in-place residual run from a copy). */
sea_status sea_model_record(sea_model *m, const sea_op *op);
/* Record checkpointed block `layer`: x (N, C) -> y (N, C) over positions/key_valid (B, T). */
sea_status sea_model_rec_block(sea_model *m, int layer, const sea_tensor *x, const sea_tensor *pos,
                               const sea_tensor *key_valid, const sea_tensor *y);
/* Record one chunk of a chunked LM head (SEA_MODEL_REC_HEAD above). */
sea_status sea_model_rec_head(sea_model *m, const sea_tensor *h, const sea_tensor *targets,
                              const sea_tensor *logp, const sea_tensor *lse);
void sea_model_rec_clear(sea_model *m);
/* Start a backward: a fresh gradient pool, then `seed` (host, numel of t) as the gradient of
 * the recorded tensor t (an arena tensor produced by a recorded op). */
sea_status sea_model_grad_seed(sea_model *m, sea_stream *s, const sea_tensor *t, const float *seed);
/* Walk the recording backwards from the seeded gradients; accumulates parameter gradients. */
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
    /* Decode: the prompt part shared by groups of B / prefix->B consecutive sequences
     * (models/generate.c), attended before cache; NULL = the prompt is in cache. */
    struct sea_kv_cache *prefix;
    bool decode;                  /* T == 1: attend over cache slots [0, cache_pos] */
    /* Decode: k/v go to these rows (B) i32 of each cache viewed as (B*S, Hkv*hd), b*S + slot,
     * not to a view at cache_pos: the slot lives on the device, so a captured step replays
     * with new slots (runtime/graph.h). */
    const sea_tensor *cache_rows;
    int n_keys;                   /* decode: cache slots attended, >= cache_pos + 1 (unwritten
                                     slots are masked by the cache's valid); 0 = cache_pos + 1 */
    bool train;                   /* keep pre-activations for backward */
} sea_model_pass;
/* Embedding + blocks + final norm -> hidden (B*T, C) (arena tensor). Inference passes keep
 * one block's intermediates at a time; training keeps every block's (or, with m->recompute,
 * only each block's input and output). */
sea_status sea_model_trunk(sea_model *m, sea_stream *s, const sea_model_pass *ps, sea_tensor *hidden);
/* out (n, cols) = rows `rows` (n, i32 tensor of row indices) of x (N, cols), via the embedding op. */
sea_status sea_model_gather_rows(sea_model *m, sea_stream *s, const sea_tensor *x,
                                 const sea_tensor *rows, sea_tensor *out);
/* logits (n, V) = h (n, C) @ lm_head^T. */
sea_status sea_model_lm_head(sea_model *m, sea_stream *s, const sea_tensor *h, sea_tensor *logits);
/* logp (n), lse (n) of targets (n) i32 under the LM head's logits of h (n, C); the logits are
 * an arena tensor left to the caller (recorded with the rest when m->recording). */
sea_status sea_model_head_logprobs(sea_model *m, sea_stream *s, const sea_tensor *h, const sea_tensor *targets,
                                   const sea_tensor *logp, const sea_tensor *lse);
/* Host helper: rotary positions (number of real tokens before t) from key_valid (NULL = all). */
/* One transformer block: x (N, C) -> y (N, C), y allocated by the caller. */
sea_status sea_model_block(sea_model *m, sea_stream *s, const sea_model_pass *ps, int l,
                           const sea_tensor *x, sea_tensor *y);
void sea_model_positions(const int32_t *key_valid, int B, int T, int32_t *pos);
/* Upload a host array as a fresh arena tensor. */
sea_status sea_model_upload_i32(sea_model *m, sea_stream *s, const int32_t *src, int ndim,
                                const int64_t *shape, sea_tensor *out);
sea_status sea_model_upload_f32(sea_model *m, sea_stream *s, const float *src, int ndim,
                                const int64_t *shape, sea_tensor *out);

#endif
