/* Batched, KV-cached sampling (see generate.h).
 *
 * Prefill: prompts left-padded to the longest one (P tokens), one trunk pass writes keys and
 * values of slots [0, P) and the logits of the last slot. Decode step k: the token sampled at
 * step k-1 goes in at slot P + k - 1, with rotary position prompt_len[b] + k - 1. Slot validity
 * (B, S) starts as the prompt's key_valid and gains one column per step. Sequences that
 * finished keep running (their tokens are dropped): the batch shape stays fixed, which keeps
 * every sequence's numbers independent of when the others stop.
 *
 * Shared prompts: when consecutive groups of sequences share a prompt (SEA's M samples per
 * prompt), the prefill runs once per group and writes a prefix cache of one row per group;
 * each sequence's own cache then holds only its new tokens (step k at slot k - 1) and decode
 * attention reads the group's prefix row before it (gen_state).
 *
 * Batches: sea_generate decodes all sequences at once unless they do not fit in memory
 * (halving on out-of-memory, see there).
 *
 * Run-ahead: the host does not wait for a step's tokens before launching the next. Every
 * step's inputs (rotary positions, cache rows) are known in advance and the sampled tokens
 * feed the next step on the device, so the host only needs the tokens to record them and to
 * see when every sequence has stopped. Steps are therefore issued in chunks of read_every:
 * the chunk's inputs go up in one write, each step copies its row into the fixed-address
 * inputs a captured step reads and copies its sampled tokens into a per-step row, and one
 * read at the chunk's end brings back all its tokens. On a GPU the device then never idles
 * between steps for a host round trip (only at chunk ends). The tokens are the same bits
 * whatever the chunk size: the steps and their order are the same, and the host records
 * them in order, stopping at the same step. A batch that stops mid-chunk has run the rest of
 * the chunk for nothing (out->decode_steps counts the steps run). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/generate.h"
#include "models/kv_cache.h"
#include "models/model_internal.h"
#include "runtime/graph.h"
#include "runtime/op_profile.h"

sea_gen_params sea_gen_params_default(void)
{
    sea_gen_params p;
    memset(&p, 0, sizeof p);
    p.max_new_tokens = 32;
    p.temperature = 1.0f;
    p.top_k = 0;
    p.top_p = 1.0f;
    return p;
}

sea_status sea_gen_output_alloc(int n, int max_new, sea_gen_output *out)
{
    memset(out, 0, sizeof *out);
    if (n <= 0 || max_new <= 0)
        return sea_error(SEA_ERR_INVALID, "generate: output for %d sequences x %d tokens", n, max_new);
    out->n = n;
    out->max_new = max_new;
    out->tokens = malloc((size_t)n * max_new * sizeof *out->tokens);
    out->logp = malloc((size_t)n * max_new * sizeof *out->logp);
    out->lengths = calloc((size_t)n, sizeof *out->lengths);
    out->finished = calloc((size_t)n, sizeof *out->finished);
    if (!out->tokens || !out->logp || !out->lengths || !out->finished) {
        sea_gen_output_free(out);
        return sea_error(SEA_ERR_OOM, "generate: out of host memory for %d x %d tokens", n, max_new);
    }
    return SEA_OK;
}

void sea_gen_output_free(sea_gen_output *out)
{
    free(out->tokens);
    free(out->logp);
    free(out->lengths);
    free(out->finished);
    memset(out, 0, sizeof *out);
}

static bool is_eos(const sea_gen_params *p, int32_t tok)
{
    for (int i = 0; i < p->n_eos && i < SEA_GEN_MAX_EOS; i++)
        if (p->eos_ids[i] == tok) return true;
    return false;
}

static sea_status sample(sea_model *m, sea_stream *s, const sea_gen_params *p, const sea_tensor *logits,
                         const sea_tensor *seq_ids, uint32_t step, sea_tensor *tok, sea_tensor *logp)
{
    float temp = p->greedy ? 0.0f : p->temperature;
    float top_p = p->top_p > 0 && p->top_p <= 1 ? p->top_p : 1.0f;
    return sea_sample(s, logits, seq_ids, temp, p->top_k, top_p, p->seed, step, tok, logp);
}

/* A captured decode step (runtime/graph.h), valid for slots < n_keys. */
typedef struct decode_graph {
    sea_graph *graph;
    int n_keys;          /* cache slots its attention reads; later slots need a new capture */
    sea_tensor logits;   /* (B, V) arena view the graph writes */
} decode_graph;

/* Everything one call owns, freed in one place. */
typedef struct gen_state {
    int32_t *ids, *kv, *pos, *rows, *sids, *tok_h;
    float *logp_h;
    int *plen;
    /* Keys and values. Without a shared prompt, cache holds each sequence's prompt (slots
     * [0, P)) and its new tokens (from slot0 = P). When groups of consecutive sequences share
     * a prompt (the SEA actor's samples), the prompt's are stored once per group in prefix
     * (Bu, P) and decode attention reads them before each member's own cache, which then
     * holds only the new tokens (slot0 = 0): 1/M of the prompt's cache memory and reads. */
    sea_kv_cache cache, prefix;  /* prefix.k == NULL: none */
    int slot0;                   /* cache slot of decode step 1's token */
    sea_tensor sid;              /* (B) outside the arena: it lives across passes */
    /* A step's inputs (in_buf) and what its sampling wrote (out_buf) are one buffer each (two
     * views, the second at SEA_MODEL_VIEW_ALIGN), so each moves in one copy. The inputs sit
     * at fixed addresses, which a captured step reads at every replay. */
    sea_buffer *out_buf, *in_buf;
    size_t half;                 /* byte offset of the second view in each */
    unsigned char *io_h;         /* host staging, 2 * half bytes */
    /* Run-ahead (see the top of the file): a chunk of R = read_every steps. Row j (2 * half
     * bytes, in_buf's and out_buf's layout) of plan_buf holds step j's inputs, of hist_buf
     * its sampled tokens and log-probs. */
    int read_every;
    sea_buffer *plan_buf, *hist_buf;
    unsigned char *chunk_h;      /* host staging, R rows */
    sea_tensor tok, logp;        /* (B) i32, (B) f32 in out_buf */
    sea_tensor pos1;             /* (B, 1) rotary positions, in in_buf */
    sea_tensor slot_rows;        /* (B) b * S + slot: the cache rows the new k/v go to, in in_buf */
    decode_graph dg;
} gen_state;

static void gen_state_free(gen_state *g)
{
    free(g->ids);
    free(g->kv);
    free(g->pos);
    free(g->rows);
    free(g->sids);
    free(g->tok_h);
    free(g->logp_h);
    free(g->plen);
    sea_kv_cache_free(&g->cache);
    sea_kv_cache_free(&g->prefix);
    sea_tensor_free(&g->sid);
    sea_graph_free(g->dg.graph);   /* before the buffers its ops read */
    sea_buffer_release(g->out_buf);
    sea_buffer_release(g->in_buf);
    sea_buffer_release(g->plan_buf);
    sea_buffer_release(g->hist_buf);
    free(g->io_h);
    free(g->chunk_h);
}

/* Decode steps between host reads: the caller's, else 1 on CPU-type devices (a read is a
 * memcpy there and steps past the batch's end would cost real time) and 8 elsewhere. */
static int read_every_for(const sea_gen_params *p, const sea_device *dev)
{
    if (p->read_every > 0) return p->read_every;
    return dev->props.kind == SEA_DEVICE_CPU ? 1 : 8;
}

/* The step buffers and their views (see gen_state). Their sizes depend on B and R only, not
 * on the number of tokens: the caching allocators reuse them from call to call. */
static sea_status io_alloc(sea_device *dev, int B, int R, gen_state *g)
{
    int64_t bb = B, b1[2] = {B, 1};
    g->half = ((size_t)B * 4 + SEA_MODEL_VIEW_ALIGN - 1) / SEA_MODEL_VIEW_ALIGN * SEA_MODEL_VIEW_ALIGN;
    g->read_every = R;
    g->io_h = malloc(2 * g->half);
    g->chunk_h = malloc((size_t)R * 2 * g->half);
    if (!g->io_h || !g->chunk_h) return sea_error(SEA_ERR_OOM, "generate: out of host memory");
    SEA_TRY(sea_buffer_alloc(dev, 2 * g->half, &g->out_buf));
    SEA_TRY(sea_buffer_alloc(dev, 2 * g->half, &g->in_buf));
    SEA_TRY(sea_buffer_alloc(dev, (size_t)R * 2 * g->half, &g->plan_buf));
    SEA_TRY(sea_buffer_alloc(dev, (size_t)R * 2 * g->half, &g->hist_buf));
    g->tok = sea_tensor_make(g->out_buf, 0, SEA_I32, 1, &bb);
    g->logp = sea_tensor_make(g->out_buf, g->half, SEA_F32, 1, &bb);
    g->pos1 = sea_tensor_make(g->in_buf, 0, SEA_I32, 2, b1);
    g->slot_rows = sea_tensor_make(g->in_buf, g->half, SEA_I32, 1, &bb);
    return SEA_OK;
}

/* Sampled tokens and log-probs to the host, in one read. */
static sea_status io_read_sampled(sea_stream *s, int B, gen_state *g)
{
    SEA_TRY(sea_buffer_read(s, g->out_buf, 0, g->io_h, g->half + (size_t)B * 4));
    memcpy(g->tok_h, g->io_h, (size_t)B * 4);
    memcpy(g->logp_h, g->io_h + g->half, (size_t)B * 4);
    return SEA_OK;
}

/* Row j of a chunk buffer (plan_buf or hist_buf), or all of in_buf/out_buf, as one i32
 * vector of 2 * half bytes: a step's inputs or outputs move in one device copy. */
static sea_tensor io_row(const gen_state *g, sea_buffer *b, int j)
{
    int64_t n = (int64_t)(2 * g->half / 4);
    return sea_tensor_make(b, (size_t)j * 2 * g->half, SEA_I32, 1, &n);
}

/* The inputs of decode steps k0 .. k0 + n - 1 (rotary positions plen + k - 1, cache rows
 * b * S + slot0 + k - 1) to plan_buf, in one write. */
static sea_status chunk_write_plan(sea_stream *s, int B, int S, int k0, int n, gen_state *g)
{
    size_t row = 2 * g->half;
    memset(g->chunk_h, 0, (size_t)n * row);
    for (int j = 0; j < n; j++) {
        int32_t *pos = (int32_t *)(g->chunk_h + j * row), *rows = (int32_t *)(g->chunk_h + j * row + g->half);
        for (int b = 0; b < B; b++) {
            pos[b] = g->plen[b] + k0 + j - 1;
            rows[b] = b * S + g->slot0 + k0 + j - 1;
        }
    }
    return sea_buffer_write(s, g->plan_buf, 0, g->chunk_h, (size_t)n * row);
}

/* The sampled tokens and log-probs of a chunk's n steps, in one read (waits for them). */
static sea_status chunk_read_sampled(sea_stream *s, int n, gen_state *g)
{
    return sea_buffer_read(s, g->hist_buf, 0, g->chunk_h, (size_t)n * 2 * g->half);
}

/* Graphs where the backend captures natively, or when asked (SEA_GRAPHS=1 or the param).
 * Not under SEA_PROFILE unless asked: replayed ops bypass the per-op timing. */
static bool want_graphs(const sea_gen_params *p, const sea_stream *s)
{
    if (p->graphs == SEA_GEN_GRAPHS_ON) return true;
    if (p->graphs == SEA_GEN_GRAPHS_OFF) return false;
    const char *env = getenv("SEA_GRAPHS");
    if (env && env[0]) return strcmp(env, "0") != 0;
    return s->dev->backend->graph_begin != NULL && !sea_op_profile_enabled();
}

/* One decode step's trunk and LM head: the token in g->tok at rotary position g->pos1 and
 * cache rows g->slot_rows, attending cache slots [0, n_keys) -> logits (B, V). */
static sea_status decode_step(sea_model *m, sea_stream *s, gen_state *g, int B, int slot, int n_keys,
                              sea_tensor *logits)
{
    sea_tensor hidden;
    SEA_TRY(sea_model_arena_reset(m->arena, false));
    sea_model_pass ps = {.B = B, .T = 1, .ids = &g->tok, .pos = &g->pos1, .cache = &g->cache, .cache_pos = slot,
                         .decode = true, .cache_rows = &g->slot_rows, .n_keys = n_keys,
                         .prefix = g->prefix.k ? &g->prefix : NULL};
    SEA_TRY(sea_model_trunk(m, s, &ps, &hidden));
    return sea_model_lm_head(m, s, &hidden, logits);
}

/* Key buckets of this many slots share a captured step: the attention of a replay reads up
 * to the bucket's end, the slots not written yet are masked (and zero), and the masked keys
 * change no bit of the result, so the tokens equal the uncaptured run's. */
#define GRAPH_KEY_BUCKET 128

/* Capture the decode step for the bucket holding `slot`. Nothing runs during a capture, so
 * a failure here loses no work. */
static sea_status capture_step(sea_model *m, sea_stream *s, gen_state *g, int B, int slot)
{
    decode_graph *dg = &g->dg;
    sea_graph_free(dg->graph);
    dg->graph = NULL;
    int S = g->cache.S;
    int n = (slot + 1 + GRAPH_KEY_BUCKET - 1) / GRAPH_KEY_BUCKET * GRAPH_KEY_BUCKET;
    dg->n_keys = n < S ? n : S;
    SEA_TRY(sea_graph_capture_begin(s));
    sea_status st = decode_step(m, s, g, B, slot, dg->n_keys, &dg->logits);
    if (st) {
        sea_graph_capture_abort(s);
        return sea_error_context(st, "capturing a decode step");
    }
    return sea_graph_capture_end(s, &dg->graph);
}

/* The decode step through a graph: capture it when the slot leaves the current bucket, then
 * replay. A capture that fails costs speed, not the call: *fallback is set (decoding goes on
 * op by op, the same bits) and the reason is said once per process on stderr. */
static sea_status decode_step_graph(sea_model *m, sea_stream *s, gen_state *g, int B, int slot, sea_tensor *logits,
                                    sea_gen_output *out, bool *fallback)
{
    decode_graph *dg = &g->dg;
    if (!dg->graph || slot + 1 > dg->n_keys) {
        if (capture_step(m, s, g, B, slot)) {
            static bool said;
            if (!said) fprintf(stderr, "sea: generate: decode steps run op by op: %s\n", sea_last_error());
            said = true;
            *fallback = true;
            return decode_step(m, s, g, B, slot, 0, logits);
        }
        out->graph_captures++;
    }
    *logits = dg->logits;
    out->graph_launches++;
    return sea_graph_launch(s, dg->graph);
}

static bool same_prompt(const int32_t *const *prompts, const int *lens, int a, int b)
{
    return lens[a] == lens[b] && (prompts[a] == prompts[b] || !memcmp(prompts[a], prompts[b], sizeof(int32_t) * (size_t)lens[a]));
}

/* Sequences per prompt when the batch is consecutive groups of one size whose members share a
 * prompt (the SEA actor's M samples of each prompt), else 1. Each group's prompt is then
 * prefilled once into a shared prefix cache (gen_state): the prompt pass does 1/M of the
 * work and holds 1/M of the activations, and its keys and values are stored and read once. */
static int shared_prompt_run(const int32_t *const *prompts, const int *lens, int B)
{
    int run = 1;
    while (run < B && same_prompt(prompts, lens, 0, run)) run++;
    for (int R = run; R > 1; R--) {
        if (B % R || run % R) continue;
        bool ok = true;
        for (int b = 0; ok && b < B; b++) ok = same_prompt(prompts, lens, b - b % R, b);
        if (ok) return R;
    }
    return 1;
}

/* Rows 0, R, 2R, ... of a (B, P) row-major array moved to rows 0, 1, 2, ... (in place). */
static void keep_every_rth_row(int32_t *a, int B, int P, int R)
{
    for (int g = 1; g < B / R; g++) memmove(a + (size_t)g * P, a + (size_t)g * R * P, sizeof(int32_t) * (size_t)P);
}

/* Record the tokens of a step; returns true when every sequence has stopped. */
static bool take_step(const sea_gen_params *p, gen_state *g, int B, int k, sea_gen_output *out, bool *done)
{
    bool all = true;
    for (int b = 0; b < B; b++) {
        if (done[b]) continue;
        out->tokens[(size_t)b * out->max_new + k] = g->tok_h[b];
        out->logp[(size_t)b * out->max_new + k] = g->logp_h[b];
        out->lengths[b] = k + 1;
        if (is_eos(p, g->tok_h[b])) {
            out->finished[b] = true;
            done[b] = true;
        } else if (k + 1 >= p->max_new_tokens) {
            done[b] = true;
        }
        all = all && done[b];
    }
    return all;
}

/* One batch of B sequences decoded together (the prompts already checked, seq_ids given);
 * writes rows [0, B) of out and sets its counters. */
static sea_status generate_batch(sea_model *m, sea_stream *s, const sea_gen_params *p,
                                 const int32_t *const *prompts, const int *prompt_lens, int B,
                                 const uint32_t *seq_ids, sea_gen_output *out)
{
    int P = 0, R = p->prefill_each ? 1 : shared_prompt_run(prompts, prompt_lens, B), Bu = B / R;
    out->graph_captures = out->graph_launches = out->decode_steps = 0;
    out->prompts_prefilled = Bu;
    out->prefill_s = 0;
    double t_start = sea_op_profile_now();
    for (int b = 0; b < B; b++)
        if (prompt_lens[b] > P) P = prompt_lens[b];
    gen_state g;
    memset(&g, 0, sizeof g);
    g.slot0 = R > 1 ? 0 : P;
    int S = g.slot0 + p->max_new_tokens;   /* own cache slots */
    bool *done = calloc((size_t)B, sizeof *done);
    g.ids = malloc((size_t)B * P * sizeof *g.ids);
    g.kv = malloc((size_t)B * P * sizeof *g.kv);
    g.pos = malloc((size_t)B * P * sizeof *g.pos);
    g.rows = malloc((size_t)B * sizeof *g.rows);
    g.sids = malloc((size_t)B * sizeof *g.sids);
    g.tok_h = malloc((size_t)B * sizeof *g.tok_h);
    g.logp_h = malloc((size_t)B * sizeof *g.logp_h);
    g.plen = malloc((size_t)B * sizeof *g.plen);
    sea_status st = SEA_OK;
    if (!done || !g.ids || !g.kv || !g.pos || !g.rows || !g.sids || !g.tok_h || !g.logp_h || !g.plen)
        st = sea_error(SEA_ERR_OOM, "generate: out of host memory");
    for (int b = 0; !st && b < B; b++) {
        int pad = P - prompt_lens[b];
        for (int t = 0; t < P; t++) {
            g.ids[(size_t)b * P + t] = t < pad ? 0 : prompts[b][t - pad];
            g.kv[(size_t)b * P + t] = t >= pad;
        }
        g.rows[b] = (b / R) * P + P - 1;   /* the last prompt row of its group's prefill */
        g.sids[b] = (int32_t)seq_ids[b];
        g.plen[b] = prompt_lens[b];
        out->lengths[b] = 0;
        out->finished[b] = false;
        for (int k = 0; k < out->max_new; k++) {
            out->tokens[(size_t)b * out->max_new + k] = -1;
            out->logp[(size_t)b * out->max_new + k] = 0;
        }
    }
    int64_t bb = B;
    if (!st) sea_model_positions(g.kv, B, P, g.pos);
    if (!st) st = sea_kv_cache_alloc(m->dev, s, m->dtype, m->L, B, S, m->Hkv, m->hd, &g.cache);
    if (!st && R > 1) st = sea_kv_cache_alloc(m->dev, s, m->dtype, m->L, Bu, P, m->Hkv, m->hd, &g.prefix);
    if (!st) st = io_alloc(m->dev, B, read_every_for(p, m->dev), &g);
    if (!st) st = sea_tensor_alloc(m->dev, SEA_I32, 1, &bb, &g.sid);
    if (!st) st = sea_tensor_write_i32(s, &g.sid, g.sids);

    /* Prefill. */
    if (!st) {
        if (m->have_train) {
            m->have_train = false;
            sea_model_rec_clear(m);
        }
        m->recording = false;
        st = sea_model_arena_reset(m->arena, false);
    }
    /* The prompt pass over one row per prompt group (Bu = B / R rows), into the cache's
     * prompt slots or the shared prefix; the prompt slots' validity with it. */
    sea_tensor ids_t, kv_t, pos_t, rows_t, hidden, last, logits, kvslot;
    int64_t bup[2] = {Bu, P}, flat = (int64_t)Bu * P;
    if (!st && R > 1) {
        keep_every_rth_row(g.ids, B, P, R);
        keep_every_rth_row(g.kv, B, P, R);
        keep_every_rth_row(g.pos, B, P, R);
    }
    if (!st) st = sea_model_upload_i32(m, s, g.ids, 1, &flat, &ids_t);
    if (!st) st = sea_model_upload_i32(m, s, g.kv, 2, bup, &kv_t);
    if (!st) st = sea_model_upload_i32(m, s, g.pos, 2, bup, &pos_t);
    if (!st) st = sea_model_upload_i32(m, s, g.rows, 1, &bb, &rows_t);
    sea_kv_cache *prompt_cache = R > 1 ? &g.prefix : &g.cache;
    if (!st) st = sea_tensor_slice(&prompt_cache->valid, 1, 0, P, &kvslot);
    if (!st) st = sea_copy(s, &kv_t, &kvslot);
    if (!st) {
        sea_model_pass ps = {.B = Bu, .T = P, .ids = &ids_t, .pos = &pos_t, .key_valid = &kv_t,
                             .cache = prompt_cache, .cache_pos = 0};
        st = sea_model_trunk(m, s, &ps, &hidden);
    }
    if (!st) st = sea_model_gather_rows(m, s, &hidden, &rows_t, &last);
    if (!st) st = sea_model_lm_head(m, s, &last, &logits);
    if (!st) st = sample(m, s, p, &logits, &g.sid, 0, &g.tok, &g.logp);
    if (!st) st = io_read_sampled(s, B, &g);
    out->prefill_s = sea_op_profile_now() - t_start;
    bool all = st ? true : take_step(p, &g, B, 0, out, done);

    /* Decode, in chunks of read_every steps (run-ahead: see the top of the file). */
    bool graphs = want_graphs(p, s);
    sea_tensor in_all = io_row(&g, g.in_buf, 0), out_all = io_row(&g, g.out_buf, 0);
    for (int k0 = 1; !st && !all && k0 < p->max_new_tokens; k0 += g.read_every) {
        int n = p->max_new_tokens - k0 < g.read_every ? p->max_new_tokens - k0 : g.read_every;
        st = chunk_write_plan(s, B, S, k0, n, &g);
        for (int j = 0; !st && j < n; j++) {
            int k = k0 + j, slot = g.slot0 + k - 1;
            sea_tensor col, plan_row = io_row(&g, g.plan_buf, j), hist_row = io_row(&g, g.hist_buf, j);
            st = sea_copy(s, &plan_row, &in_all);
            if (!st) st = sea_tensor_slice(&g.cache.valid, 1, slot, 1, &col);
            if (!st) st = sea_fill(s, &col, 1.0);
            /* The first decode step runs op by op: every kernel of the step has then run once
             * (lazily loaded modules, first-use allocations) before anything is captured. */
            if (!st && graphs && k >= 2) {
                bool fallback = false;
                st = decode_step_graph(m, s, &g, B, slot, &logits, out, &fallback);
                if (fallback) graphs = false;
            } else if (!st) {
                st = decode_step(m, s, &g, B, slot, 0, &logits);
            }
            /* sea_sample writes the next tokens over the ones just consumed: the trunk has
             * read them already (ops on one stream run in order). */
            if (!st) st = sample(m, s, p, &logits, &g.sid, (uint32_t)k, &g.tok, &g.logp);
            if (!st) st = sea_copy(s, &out_all, &hist_row);
            if (!st) out->decode_steps++;
        }
        if (!st) st = chunk_read_sampled(s, n, &g);
        for (int j = 0; !st && !all && j < n; j++) {
            const unsigned char *row = g.chunk_h + (size_t)j * 2 * g.half;
            memcpy(g.tok_h, row, (size_t)B * 4);
            memcpy(g.logp_h, row + g.half, (size_t)B * 4);
            all = take_step(p, &g, B, k0 + j, out, done);
        }
    }
    free(done);
    gen_state_free(&g);
    if (st) return sea_error_context(st, "generate (%d prompts, up to %d + %d tokens)", B, P, p->max_new_tokens);
    return SEA_OK;
}

/* Rows [row0, row0 + n) of out, as an output of n rows (same arrays, same row length). */
static sea_gen_output output_rows(const sea_gen_output *out, int row0, int n)
{
    sea_gen_output r = *out;
    r.n = n;
    r.tokens += (size_t)row0 * out->max_new;
    r.logp += (size_t)row0 * out->max_new;
    r.lengths += row0;
    r.finished += row0;
    return r;
}

/* Batches: all n sequences at once unless p->max_batch says fewer, or they do not fit. A
 * batch that runs out of memory is retried in halves (its rows are written from scratch),
 * and the size that fitted is kept in the model for later calls (SEA generates every round
 * with the same shapes). Each sequence's random stream depends on its seed and sequence id
 * only, so batching changes no token: on the CPU backend not a bit. On GPUs the log-probs
 * may move in the last bits: a batch pads its prompts to its own longest (the attention's key
 * tiles then fall elsewhere in the padding) and cuBLAS may pick other kernels for other
 * shapes. */
sea_status sea_generate(sea_model *m, sea_stream *s, const sea_gen_params *p,
                        const int32_t *const *prompts, const int *prompt_lens, int n_prompts,
                        const uint32_t *seq_ids, sea_gen_output *out)
{
    if (m->classifier)
        return sea_error(SEA_ERR_INVALID, "generate: %s is a sequence classifier", m->cfg.architecture);
    if (n_prompts <= 0 || p->max_new_tokens <= 0)
        return sea_error(SEA_ERR_INVALID, "generate: %d prompts, max_new_tokens %d", n_prompts, p->max_new_tokens);
    if (out->n < n_prompts || out->max_new < p->max_new_tokens)
        return sea_error(SEA_ERR_INVALID, "generate: output holds %d x %d, needs %d x %d", out->n, out->max_new,
                         n_prompts, p->max_new_tokens);
    for (int b = 0; b < n_prompts; b++) {
        if (prompt_lens[b] < 1)
            return sea_error(SEA_ERR_INVALID, "generate: prompt %d is empty (needs at least one token, e.g. BOS)", b);
        for (int t = 0; t < prompt_lens[b]; t++)
            if (prompts[b][t] < 0 || prompts[b][t] >= m->V)
                return sea_error(SEA_ERR_INVALID, "generate: prompt %d token %d = %d outside vocabulary [0, %d)", b,
                                 t, prompts[b][t], m->V);
    }
    uint32_t *own_ids = NULL;
    if (!seq_ids) {   /* batches keep the sequence ids of the whole call */
        own_ids = malloc((size_t)n_prompts * sizeof *own_ids);
        if (!own_ids) return sea_error(SEA_ERR_OOM, "generate: out of host memory");
        for (int i = 0; i < n_prompts; i++) own_ids[i] = (uint32_t)i;
        seq_ids = own_ids;
    }
    bool fixed = p->max_batch > 0;
    int group = p->prefill_each ? 1 : shared_prompt_run(prompts, prompt_lens, n_prompts);
    int cap = fixed ? p->max_batch : m->gen_batch_fit > 0 ? m->gen_batch_fit : n_prompts;
    if (cap > n_prompts) cap = n_prompts;
    int captures = 0, launches = 0, steps = 0, prefilled = 0;
    double prefill = 0;
    sea_status st = SEA_OK;
    for (int i0 = 0; !st && i0 < n_prompts;) {
        int n = n_prompts - i0 < cap ? n_prompts - i0 : cap;
        sea_gen_output rows = output_rows(out, i0, n);
        size_t high_water = m->arena->high_water;
        st = generate_batch(m, s, p, prompts + i0, prompt_lens + i0, n, seq_ids + i0, &rows);
        if (st == SEA_ERR_OOM && !fixed && n > 1) {
            /* the failed batch's activations are not what the smaller one needs */
            sea_model_arena_forget_growth(m->arena, high_water);
            cap = (n + 1) / 2;
            if (cap > group) cap = cap / group * group;   /* whole prompt groups share a prefill */
            fprintf(stderr, "sea: generate: %d sequences at once ran out of memory; %d at a time (%s)\n", n, cap,
                    sea_last_error());
            m->gen_batch_fit = cap;
            st = SEA_OK;
            continue;
        }
        captures += rows.graph_captures;
        launches += rows.graph_launches;
        steps += rows.decode_steps;
        prefilled += rows.prompts_prefilled;
        prefill += rows.prefill_s;
        i0 += n;
    }
    free(own_ids);
    out->graph_captures = captures;
    out->graph_launches = launches;
    out->decode_steps = steps;
    out->prompts_prefilled = prefilled;
    out->prefill_s = prefill;
    return st;
}
