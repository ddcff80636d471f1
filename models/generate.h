/* Batched, KV-cached sampling from a causal model.
 *
 * Prompts of different lengths are left-padded into one batch, prefilled with sea_attention,
 * then decoded one token per step with sea_decode_attention over the KV cache
 * (models/kv_cache.h). Tokens come from sea_sample with seq_ids = the caller's stable id per
 * sequence and step = the token's index within that sequence, so a sequence's tokens depend
 * on (seed, seq_id, its prompt) only, never on the rest of the batch. */
#ifndef SEA_GENERATE_H
#define SEA_GENERATE_H

#include <stdbool.h>
#include <stdint.h>

#include "models/model.h"

#ifdef __cplusplus
extern "C" {
#endif

#define SEA_GEN_MAX_EOS 8

/* Decode steps captured once per key bucket and replayed (runtime/graph.h). AUTO: where the
 * backend has native graphs (CUDA), unless SEA_GRAPHS=0; SEA_GRAPHS=1 also turns on the
 * runtime's replay elsewhere. The tokens and log-probs are the same bits either way. */
typedef enum sea_gen_graphs { SEA_GEN_GRAPHS_AUTO = 0, SEA_GEN_GRAPHS_ON, SEA_GEN_GRAPHS_OFF } sea_gen_graphs;

typedef struct sea_gen_params {
    int max_new_tokens;
    float temperature;    /* 0 or greedy = argmax */
    int top_k;            /* 0 = all */
    float top_p;          /* 1 = all */
    uint64_t seed;
    bool greedy;
    int n_eos;            /* stop a sequence after it emits one of eos_ids */
    int32_t eos_ids[SEA_GEN_MAX_EOS];
    sea_gen_graphs graphs;  /* capture decode steps (runtime/graph.h); same tokens either way */
    int read_every;       /* decode steps issued between host reads of the sampled tokens
                             (run-ahead, generate.c); 0 = 1 on CPU-type devices, 8 on GPUs.
                             Same tokens either way; a batch that stops mid-way may run up
                             to read_every - 1 steps for nothing */
    int max_batch;        /* sequences decoded together; 0 = all of them, or as many as fit:
                             a batch that runs out of memory is redone in halves, and the
                             model keeps the size that fitted for its later calls */
    bool prefill_each;    /* prefill every sequence's prompt even where consecutive sequences
                             share one (normally each shared prompt is prefilled once; for
                             comparison) */
} sea_gen_params;

/* max_new_tokens 32, temperature 1, top_k 0, top_p 1, seed 0, not greedy, no eos, graphs auto,
 * read_every auto, max_batch auto. */
sea_gen_params sea_gen_params_default(void);

/* Results, caller-allocated through sea_gen_output_alloc; row i belongs to prompt i. */
typedef struct sea_gen_output {
    int n, max_new;
    int32_t *tokens;      /* (n, max_new) generated ids; entries past lengths[i] are -1 */
    float *logp;          /* (n, max_new) logp of each token under the model at temperature 1
                             (untruncated), computed at sampling time */
    int *lengths;         /* (n) tokens generated (eos included when it was emitted) */
    bool *finished;       /* (n) stopped by an eos token */
    int graph_captures;   /* decode steps captured / replayed from a graph by the last call */
    int graph_launches;
    int prompts_prefilled;  /* prompt passes the last call ran: fewer than the sequences where
                             consecutive ones share a prompt (see prefill_each) */
    int decode_steps;     /* decode steps the last call ran on the device, summed over its
                             batches (with run-ahead, up to read_every - 1 more per batch than
                             its longest sequence needed) */
    double prefill_s;     /* wall seconds of the last call's prompt passes and first samplings
                             (up to each batch's first tokens on the host), summed over its
                             batches; the rest of the call is decoding */
} sea_gen_output;

sea_status sea_gen_output_alloc(int n, int max_new, sea_gen_output *out);
void sea_gen_output_free(sea_gen_output *out);

/* prompts[i] has prompt_lens[i] >= 1 ids; seq_ids[i] is its RNG stream (NULL = i).
 * out must have been allocated for n_prompts and >= p->max_new_tokens. */
sea_status sea_generate(sea_model *m, sea_stream *s, const sea_gen_params *p,
                        const int32_t *const *prompts, const int *prompt_lens, int n_prompts,
                        const uint32_t *seq_ids, sea_gen_output *out);

#ifdef __cplusplus
}
#endif
#endif
