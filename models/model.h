/* Causal transformer language models on the runtime: GPT-NeoX (Pythia) and Llama, plus their
 * *ForSequenceClassification reward-model heads.
 *
 * A model lives on one device. Its weights are one contiguous f32 parameter buffer described
 * by a tensor table (HF names -> views into it); a mirror buffer of the same size holds the
 * gradients (made when first needed). Every computation goes through runtime/ops.h, so a model runs unchanged on every
 * backend (cpu, cuda, opencl, vulkan).
 *
 * Internal layout note: GPT-NeoX's fused attention.query_key_value rows are stored as
 * [3, heads, head_dim] (all q rows, then k, then v) instead of HF's [heads, 3, head_dim], so
 * q, k and v are contiguous row blocks. sea_model_tensor_read_hf / write_hf and the writers
 * convert; the flat buffers (what optimizers see) use the internal layout.
 *
 * Token conventions for every (B, T) batch: ids (B, T) i32; key_valid (B, T) 1 = real token,
 * 0 = padding (left or right). Rotary positions of a real token = number of real tokens before
 * it in its row (what HF generate() passes as position_ids), so left padding is harmless. */
#ifndef SEA_MODEL_H
#define SEA_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runtime/backend.h"
#include "runtime/tensor.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct sea_model sea_model;
typedef struct sea_hf_config sea_hf_config;   /* models/hf_config.h */

typedef enum sea_model_arch {
    SEA_ARCH_GPTNEOX = 0,   /* GPTNeoXForCausalLM / GPTNeoXForSequenceClassification */
    SEA_ARCH_LLAMA,         /* LlamaForCausalLM / LlamaForSequenceClassification */
} sea_model_arch;

/* Called during loading: `what` names the file or tensor, done/total count bytes. */
typedef void (*sea_model_progress_fn)(void *ctx, const char *what, uint64_t done, uint64_t total);

typedef struct sea_model_load_opts {
    sea_dtype dtype;                 /* compute dtype: SEA_F32, or SEA_BF16 (f32 master weights; see
                                        sea_model_set_compute_dtype) */
    sea_model_progress_fn progress;  /* may be NULL */
    void *progress_ctx;
    bool recompute;                  /* sea_model_set_recompute(m, true) after loading */
} sea_model_load_opts;

/* Defaults: f32 compute, no progress callback. */
sea_model_load_opts sea_model_load_opts_default(void);

/* Load an HF directory (config.json + model.safetensors or sharded index) or a .gguf file.
 * opts may be NULL. Errors name the file and tensor: missing tensor, shape mismatch against
 * the config, unknown architecture. */
sea_status sea_model_load(sea_device *dev, const char *path, const sea_model_load_opts *opts,
                          sea_model **out);
/* A fresh model with random weights: linear/embedding weights ~ N(0, init_std^2) (init_std
 * <= 0 means 0.02, HF's default initializer_range), biases 0, norm weights 1. The config is
 * copied; cfg->architecture picks the head ("...ForCausalLM" or "...ForSequenceClassification";
 * empty = causal LM of cfg->model_type). Same (cfg, seed) -> same weights on every device. */
sea_status sea_model_create(sea_device *dev, const sea_hf_config *cfg, uint64_t seed,
                            float init_std, sea_model **out);
/* A deep copy with its own weight storage (e.g. the frozen reference policy), on `dev`
 * (NULL = the same device). Gradients are zero. */
sea_status sea_model_clone(const sea_model *m, sea_device *dev, sea_model **out);
void sea_model_free(sea_model *m);

const sea_hf_config *sea_model_config(const sea_model *m);
sea_model_arch sea_model_arch_of(const sea_model *m);
sea_device *sea_model_device(const sea_model *m);
int sea_model_vocab_size(const sea_model *m);    /* rows of the embedding (padded vocab) */
int sea_model_hidden_size(const sea_model *m);
int sea_model_num_labels(const sea_model *m);    /* score head rows; 0 for a causal LM */
bool sea_model_is_classifier(const sea_model *m);

/* ---- parameters ---- */

/* The flat parameter and gradient buffers as 1-D f32 tensors (n = total parameters).
 * Either pointer may be NULL. The views stay valid until sea_model_free. The gradient buffer
 * is allocated (zeroed) when first asked for here, by sea_model_tensor / tensor_read_hf with
 * a gradient, or by a train = true forward: models that never train hold none. */
sea_status sea_model_params(sea_model *m, sea_tensor *flat_params, sea_tensor *flat_grads);
int64_t sea_model_num_params(const sea_model *m);
/* Tensor table: count, name (HF name), and the parameter / gradient views (internal layout). */
int sea_model_tensor_count(const sea_model *m);
const char *sea_model_tensor_name(const sea_model *m, int i);
sea_status sea_model_tensor(sea_model *m, int i, sea_tensor *param, sea_tensor *grad);
int sea_model_tensor_find(const sea_model *m, const char *name);   /* index or -1 */
/* Host copies in HF layout (undoing the internal qkv arrangement); dst has numel floats. */
sea_status sea_model_tensor_read_hf(sea_model *m, sea_stream *s, int i, bool grad, float *dst);
sea_status sea_model_tensor_write_hf(sea_model *m, sea_stream *s, int i, const float *src);

sea_status sea_model_zero_grad(sea_model *m, sea_stream *s);
/* dst's weights = src's (same config; devices may differ). The actor/learner weight sync. */
sea_status sea_model_copy_params(sea_model *dst, const sea_model *src);

/* ---- mixed precision ----
 * Compute dtype SEA_F32 (default) or SEA_BF16 (devices whose backend runs the network ops in
 * bf16: cpu, cuda). In bf16 mode the flat f32 parameter buffer stays the master copy (what
 * sea_model_params, the optimizer, checkpoints and broadcasts see, and the gradient buffer
 * stays f32); the forward reads a bf16 copy of it, refreshed automatically at the start of a
 * pass whenever the master was written since (any op writing into it, or a host write).
 * Memory written into the parameter buffer behind the runtime's back (MPI, NCCL) must be
 * announced with sea_buffer_touch(flat_params.buf). Activations are bf16; norm statistics,
 * attention lse, logits, log-probs, scores and hidden states handed to the host are f32.
 * Weight gradients are computed in bf16 and added into the f32 gradient buffer once per
 * backward. Deterministic like f32. On CUDA this is what puts the matmuls on tensor cores.
 * Switching drops a pending train forward. */
sea_status sea_model_set_compute_dtype(sea_model *m, sea_dtype dtype);
sea_dtype sea_model_compute_dtype(const sea_model *m);

/* Freeze a bf16 model that will never be trained (a DPO reference, a feature backbone): the
 * bf16 weight copy is refreshed from the master one last time, then the f32 master and the
 * gradient buffer are released, leaving an inference-only model whose weights are the bf16
 * copy (a third of the weight memory of a bf16 model, a fifth of one that trained). Forward passes (logits, log-probs, hidden states, scores, generation) give the
 * same bits as before. Afterwards:
 *  - training and master access fail with SEA_ERR_INVALID naming the model: train = true
 *    forwards, backward_logprobs, zero_grad, sea_model_params, sea_model_tensor, gradients
 *    through tensor_read_hf, save_hf, set_compute_dtype to anything but bf16;
 *  - sea_model_copy_params into it rounds the source's weights to bf16 exactly as the refresh
 *    would (so its logits equal those of a bf16 source's); tensor_write_hf rounds likewise;
 *  - tensor_read_hf returns the bf16 weights widened to f32; copy_params / clone from it
 *    give an ordinary model whose f32 master is those widened values.
 * SEA_ERR_INVALID unless the compute dtype is bf16. Freezing a frozen model does nothing.
 * s: a stream of the model's device (synchronized before the master is released). */
sea_status sea_model_freeze_bf16(sea_model *m, sea_stream *s);
bool sea_model_is_frozen(const sea_model *m);

/* ---- forward passes ----
 * All host arrays are row-major (B, T). s is a stream of the model's device. */

/* Per-sequence log-probabilities. Token t's logp is log p(ids[t] | ids[<t]) (token 0 has none:
 * its token_logp is 0 and its resp_mask entry is ignored). seq_logp_sum[b] = sum over t of
 * resp_mask[b,t] * logp[b,t]; seq_logp_mean[b] = that / sum_t resp_mask[b,t] (0 if empty).
 * seq_logp_sum, seq_logp_mean and token_logp may each be NULL.
 * train = true records the computation (the model's own recording, models/model_grad.c: the
 * gradient of an activation is the same view into the gradient of the arena allocation it
 * lies in, so reshaped and sliced views share it), keeping activations until
 * sea_model_backward_logprobs; any other forward pass of the same model in between discards
 * the recording.
 * Memory (docs/memory.md): inference keeps one block's intermediates at a time plus one chunk
 * of the counted rows' logits (sea_model_set_head_chunk_bytes); train = true keeps every
 * block's activations (only each block's input with recompute), and backward allocates
 * activation gradients only while they are live. */
sea_status sea_model_forward_logprobs(sea_model *m, sea_stream *s,
                                      const int32_t *ids,        /* (B, T) */
                                      const int32_t *key_valid,  /* (B, T) or NULL = all real */
                                      const float *resp_mask,    /* (B, T) or NULL = all tokens */
                                      int B, int T, bool train,
                                      float *seq_logp_sum,       /* (B) */
                                      float *seq_logp_mean,      /* (B) */
                                      float *token_logp);        /* (B, T) */
/* After a train=true forward: accumulate (+=) into the flat gradient buffer the gradient of
 * L = sum_b d_sum[b] * seq_logp_sum[b] + d_mean[b] * seq_logp_mean[b]. Either may be NULL
 * (= zeros). Frees the recorded tape. */
sea_status sea_model_backward_logprobs(sea_model *m, sea_stream *s,
                                       const float *d_sum,   /* (B) */
                                       const float *d_mean); /* (B) */

/* Activation recomputation (per-block checkpointing) for train = true passes: the forward
 * keeps only each block's input and output, and backward runs each block forward again
 * before back-propagating it. Saves most activation memory for about one more forward pass
 * of the blocks; gradients are the same bits as without it. Off by default. */
void sea_model_set_recompute(sea_model *m, bool on);
bool sea_model_get_recompute(const sea_model *m);

/* The LM head in row chunks (forward_logprobs): when the counted rows' f32 logits (M, V) would
 * take more than `bytes`, they are computed in equal chunks of at most that size, each reduced
 * to log-probs and given back before the next, so the full (M, V) logits (and in backward
 * their gradient) never exist at once. A train = true pass records each chunk as one entry
 * and backward computes that chunk's logits again (one more LM-head matmul per step) before
 * back-propagating it. Log-probs and gradients equal the unchunked ones to rounding (a chunk's
 * matmul has fewer rows, which a BLAS may sum in another order), and the same chunking gives
 * the same bits every time. Chunks are multiples of 64 rows (a limit below 64 rows' logits
 * acts as 64 rows). 0 = the whole head at once. Default SEA_MODEL_HEAD_CHUNK_DEFAULT (at
 * Pythia's 50304-token vocabulary: chunks of at most 640 rows; small batches fit in one chunk
 * and run exactly as unchunked). Kept by sea_model_clone. */
#define SEA_MODEL_HEAD_CHUNK_DEFAULT ((size_t)128 << 20)
void sea_model_set_head_chunk_bytes(sea_model *m, size_t bytes);
size_t sea_model_get_head_chunk_bytes(const sea_model *m);

/* Let m's passes use the activation memory of `with` (same device) from now on, giving back
 * m's own: a frozen reference or a feature backbone whose passes run between the policy's
 * steps then costs no activation memory of its own (at Pythia-1B's DPO shape, an inference
 * pass holds one block plus a head chunk: about 0.6 GiB). A pass of either model invalidates
 * everything the other's last pass left in that memory: a train forward must be followed by
 * its backward before the other model runs a pass (backward_logprobs fails with
 * SEA_ERR_INVALID otherwise, nothing is corrupted). sea_model_memory then reports the shared
 * arena's act_peak and act_reserved for both. Any number of models may share; the memory is
 * freed with the last of them. SEA_ERR_INVALID when the devices differ or m has a train
 * forward awaiting backward. */
sea_status sea_model_share_activations(sea_model *m, sea_model *with);

/* Device memory of the model's passes, in bytes. Peaks are the most in use at any one time
 * since the model was created, or since the pass after sea_model_memory_reset_peaks. (A
 * pass's activations stay in use until the next pass starts.) */
typedef struct sea_model_memory_stats {
    size_t act_peak;       /* activation arena (inputs, activations, logits) */
    size_t grad_peak;      /* activation gradients during backward */
    size_t act_reserved;   /* device memory held now by the arena */
    size_t grad_reserved;  /* ... and by the gradient pool */
    size_t weights_reserved;  /* ... and by the weights: f32 master and gradients, bf16 copy
                                 (only the bf16 copy once frozen) */
} sea_model_memory_stats;
void sea_model_memory(const sea_model *m, sea_model_memory_stats *out);
/* Start new peaks with the next pass (reserved memory is kept). */
void sea_model_memory_reset_peaks(sea_model *m);

/* Full logits (B, T, V) (tests, tools; large). */
sea_status sea_model_forward_logits(sea_model *m, sea_stream *s, const int32_t *ids,
                                    const int32_t *key_valid, int B, int T,
                                    float *logits);           /* (B, T, V) */

/* Final hidden state (after the final norm) at positions_to_read[b] of each row: out (B, hidden).
 * positions_to_read NULL = the last real token of each row. */
sea_status sea_model_hidden(sea_model *m, sea_stream *s, const int32_t *ids,
                            const int32_t *key_valid, int B, int T,
                            const int32_t *positions_to_read,   /* (B) or NULL */
                            float *out);                        /* (B, hidden) */

/* Reward models (*ForSequenceClassification): score head at the last real token of each row
 * -> out (B, num_labels). SEA_ERR_INVALID when the model has no score head. */
sea_status sea_model_score(sea_model *m, sea_stream *s, const int32_t *ids,
                           const int32_t *key_valid, int B, int T,
                           float *out);                         /* (B, num_labels) */

/* ---- writing ---- */

/* config.json + model.safetensors (sharded with an index above shard_bytes; 0 = 2 GiB),
 * written atomically (temporary files renamed into place); loadable by HF transformers. */
sea_status sea_model_save_hf(sea_model *m, const char *dir, uint64_t shard_bytes);
/* The same with the weights stored as dtype: SEA_F32, or SEA_BF16 / SEA_F16 rounded to nearest
 * even (half the bytes; config.json's torch_dtype says which). */
sea_status sea_model_save_hf_as(sea_model *m, const char *dir, uint64_t shard_bytes, sea_dtype dtype);
/* The tokenizer and generation files of an HF directory (tokenizer.json, tokenizer_config.json,
 * special_tokens_map.json, generation_config.json: those present) copied into dir, each
 * written atomically, so that a saved model is a directory HF and sea load whole. */
sea_status sea_hf_copy_tokenizer_files(const char *src_dir, const char *dir);

#ifdef __cplusplus
}
#endif
#endif
