/* Sequence log-probabilities, their backward, and full logits. */
#include <stdlib.h>
#include <string.h>

#include "models/model_internal.h"

static sea_status check_batch(const sea_model *m, const char *what, const int32_t *ids, int B, int T)
{
    if (B <= 0 || T <= 0)
        return sea_error(SEA_ERR_SHAPE, "%s: batch (%d, %d) must be positive", what, B, T);
    for (int64_t i = 0; i < (int64_t)B * T; i++)
        if (ids[i] < 0 || ids[i] >= m->V)
            return sea_error(SEA_ERR_INVALID, "%s: token id %d at (%lld, %lld) outside vocabulary [0, %d)",
                             what, ids[i], (long long)(i / T), (long long)(i % T), m->V);
    return SEA_OK;
}

/* Upload ids (N), key_valid (B, T) (all ones when NULL) and positions; start a pass. */
static sea_status begin_pass(sea_model *m, sea_stream *s, const int32_t *ids, const int32_t *key_valid,
                             int B, int T, bool train, sea_tensor *ids_t, sea_tensor *kv_t, sea_tensor *pos_t)
{
    if (m->have_train) {   /* a pending train forward is discarded */
        m->have_train = false;
        sea_model_rec_clear(m);
    }
    m->recording = false;
    SEA_TRY(sea_model_arena_reset(m->arena, train));
    size_t n = (size_t)B * T;
    int32_t *pos = malloc(n * sizeof *pos);
    int32_t *ones = key_valid ? NULL : malloc(n * sizeof *ones);
    if (!pos || (!key_valid && !ones)) {
        free(pos);
        free(ones);
        return sea_error(SEA_ERR_OOM, "model: out of host memory for a (%d, %d) batch", B, T);
    }
    if (ones)
        for (size_t i = 0; i < n; i++) ones[i] = 1;
    sea_model_positions(key_valid, B, T, pos);
    int64_t flat = (int64_t)n, bt[2] = {B, T};
    sea_status st = sea_model_upload_i32(m, s, ids, 1, &flat, ids_t);
    if (!st) st = sea_model_upload_i32(m, s, key_valid ? key_valid : ones, 2, bt, kv_t);
    if (!st) st = sea_model_upload_i32(m, s, pos, 2, bt, pos_t);
    free(pos);
    free(ones);
    return st;
}

static void clear_train(sea_model *m)
{
    free(m->train_row_b);
    free(m->train_w);
    free(m->train_cnt);
    m->train_row_b = NULL;
    m->train_w = NULL;
    m->train_cnt = NULL;
    m->train_M = 0;
}

void sea_model_train_state_free(sea_model *m) { clear_train(m); }

/* Rows per chunk of the LM head for M counted rows: as equal as the rule allows, each's f32
 * logits within m->head_chunk_bytes; M when they all fit. A chunk is a multiple of
 * HEAD_CHUNK_ALIGN rows (the last one excepted), so that the chunk views of the (M) i32/f32
 * tensors start at SEA_MODEL_VIEW_ALIGN-byte offsets as every backend's sub-buffers need; a
 * limit below that many rows' logits is raised to it. */
#define HEAD_CHUNK_ALIGN (SEA_MODEL_VIEW_ALIGN / 4)
static int64_t head_chunk_rows(const sea_model *m, int64_t M)
{
    size_t row = (size_t)m->V * sizeof(float), lim = m->head_chunk_bytes;
    if (lim == 0 || (size_t)M * row <= lim) return M;
    int64_t most = (int64_t)(lim / row);
    most = most < HEAD_CHUNK_ALIGN ? HEAD_CHUNK_ALIGN : most - most % HEAD_CHUNK_ALIGN;
    if (M <= most) return M;
    int64_t chunks = (M + most - 1) / most, per = (M + chunks - 1) / chunks;
    return (per + HEAD_CHUNK_ALIGN - 1) / HEAD_CHUNK_ALIGN * HEAD_CHUNK_ALIGN;
}

/* logp, lse (M) of the targets (M) under the LM head's logits of sel (M, C), a chunk of rows
 * at a time (head_chunk_rows). Unchunked, the head's ops are recorded like any other (when
 * m->recording); chunked, each chunk's logits are given back before the next chunk and a
 * training pass records the chunk as one entry that backward computes again (model_grad.c). */
static sea_status head_logprobs(sea_model *m, sea_stream *s, const sea_tensor *sel, const sea_tensor *tg,
                                const sea_tensor *lpt, const sea_tensor *lse)
{
    const int64_t M = sel->shape[0], per = head_chunk_rows(m, M);
    if (per == M) return sea_model_head_logprobs(m, s, sel, tg, lpt, lse);
    const bool train = m->recording;
    m->recording = false;
    sea_status st = SEA_OK;
    for (int64_t r0 = 0; !st && r0 < M; r0 += per) {
        const int64_t n = M - r0 < per ? M - r0 : per;
        sea_tensor h, t, lp, ls;
        st = sea_tensor_slice(sel, 0, r0, n, &h);
        if (!st) st = sea_tensor_slice(tg, 0, r0, n, &t);
        if (!st) st = sea_tensor_slice(lpt, 0, r0, n, &lp);
        if (!st) st = sea_tensor_slice(lse, 0, r0, n, &ls);
        if (st) break;
        sea_model_arena_mark mk = sea_model_arena_get_mark(m->arena);
        st = sea_model_head_logprobs(m, s, &h, &t, &lp, &ls);
        sea_model_arena_release(m->arena, &mk);
        if (!st && train) st = sea_model_rec_head(m, &h, &t, &lp, &ls);
    }
    m->recording = train;
    return st ? sea_error_context(st, "LM head in chunks of %lld rows", (long long)per) : SEA_OK;
}

/* Position t predicts token t+1, so row i = (b, t) carries the logp of token t+1 with weight
 * w[i] = resp_mask[b, t+1] (no resp_mask: 1 for every real token whose predecessor is real).
 * Only rows that count go through the LM head: with a response mask covering half the
 * sequence that halves the largest matmul for big vocabularies. token_logp wants every
 * position, so asking for it computes every row. */
sea_status sea_model_forward_logprobs(sea_model *m, sea_stream *s, const int32_t *ids,
                                      const int32_t *key_valid, const float *resp_mask, int B, int T,
                                      bool train, float *seq_logp_sum, float *seq_logp_mean,
                                      float *token_logp)
{
    SEA_TRY(check_batch(m, "forward_logprobs", ids, B, T));
    if (m->classifier)
        return sea_error(SEA_ERR_INVALID, "forward_logprobs: %s is a sequence classifier (no LM head)",
                         m->cfg.architecture);
    if (train && m->frozen) return sea_model_frozen_error(m, "forward_logprobs with train = true");
    if (train) SEA_TRY(sea_model_ensure_grads(m));
    sea_tensor ids_t, kv_t, pos_t;
    SEA_TRY(begin_pass(m, s, ids, key_valid, B, T, train, &ids_t, &kv_t, &pos_t));
    clear_train(m);
    size_t n = (size_t)B * T;
    int32_t *rows = malloc(n * sizeof *rows), *tg = malloc(n * sizeof *tg), *rb = malloc(n * sizeof *rb);
    float *w = malloc(n * sizeof *w), *lp = malloc(n * sizeof *lp);
    double *cnt = calloc((size_t)B, sizeof *cnt);
    if (!rows || !tg || !rb || !w || !lp || !cnt) {
        free(rows), free(tg), free(rb), free(w), free(lp), free(cnt);
        return sea_error(SEA_ERR_OOM, "forward_logprobs: out of host memory");
    }
    int M = 0;
    for (int b = 0; b < B; b++)
        for (int t = 0; t + 1 < T; t++) {
            size_t i = (size_t)b * T + t;
            float wi = resp_mask ? resp_mask[i + 1]
                                 : ((!key_valid || (key_valid[i] && key_valid[i + 1])) ? 1.0f : 0.0f);
            if (wi == 0 && !token_logp) continue;
            rows[M] = (int32_t)i;
            tg[M] = ids[i + 1];
            rb[M] = b;
            w[M] = wi;
            cnt[b] += wi;
            M++;
        }
    sea_status st = SEA_OK;
    sea_tensor rows_t, tg_t, hidden, sel, lpt, lse;
    if (M > 0) {
        int64_t mm = M;
        m->recording = train;
        if (train) sea_model_rec_clear(m);
        sea_model_pass ps = {.B = B, .T = T, .ids = &ids_t, .pos = &pos_t, .key_valid = &kv_t, .train = train};
        st = sea_model_upload_i32(m, s, rows, 1, &mm, &rows_t);
        if (!st) st = sea_model_upload_i32(m, s, tg, 1, &mm, &tg_t);
        if (!st) st = sea_model_trunk(m, s, &ps, &hidden);
        if (!st) st = sea_model_gather_rows(m, s, &hidden, &rows_t, &sel);
        if (!st) st = sea_model_arena_tensor(m->arena, SEA_F32, 1, &mm, &lpt);
        if (!st) st = sea_model_arena_tensor(m->arena, SEA_F32, 1, &mm, &lse);
        if (!st) st = head_logprobs(m, s, &sel, &tg_t, &lpt, &lse);
        m->recording = false;
        if (!st) st = sea_tensor_read_f32(s, &lpt, lp);
    }
    if (!st) {
        /* Sums in double on the host: exact order, no extra ops. */
        double *sum = calloc((size_t)B, sizeof *sum);
        if (!sum) st = sea_error(SEA_ERR_OOM, "forward_logprobs: out of host memory");
        for (int j = 0; sum && j < M; j++) sum[rb[j]] += (double)w[j] * lp[j];
        for (int b = 0; sum && b < B; b++) {
            if (seq_logp_sum) seq_logp_sum[b] = (float)sum[b];
            if (seq_logp_mean) seq_logp_mean[b] = cnt[b] != 0 ? (float)(sum[b] / cnt[b]) : 0.0f;
        }
        free(sum);
        if (token_logp) {
            memset(token_logp, 0, n * sizeof *token_logp);
            for (int j = 0; j < M; j++) token_logp[rows[j] + 1] = lp[j];
        }
    }
    free(rows);
    free(tg);
    free(lp);
    if (st || !train) {
        free(rb);
        free(w);
        free(cnt);
        sea_model_rec_clear(m);
        return st ? sea_error_context(st, "forward_logprobs (%d, %d)", B, T) : SEA_OK;
    }
    m->have_train = true;
    m->train_pass = m->arena->passes;
    m->train_B = B;
    m->train_M = M;
    m->train_row_b = rb;
    m->train_w = w;
    m->train_cnt = cnt;
    if (M > 0) m->train_lp = lpt;
    return SEA_OK;
}

sea_status sea_model_backward_logprobs(sea_model *m, sea_stream *s, const float *d_sum, const float *d_mean)
{
    if (m->frozen) return sea_model_frozen_error(m, "backward_logprobs");
    if (!m->have_train)
        return sea_error(SEA_ERR_INVALID, "backward_logprobs: no forward_logprobs with train=true to "
                         "differentiate (or another forward ran since)");
    m->have_train = false;
    if (m->arena->passes != m->train_pass) {
        sea_model_rec_clear(m);
        clear_train(m);
        return sea_error(SEA_ERR_INVALID, "backward_logprobs: another model sharing this one's activation "
                         "memory (sea_model_share_activations) ran a pass since the train forward; run the "
                         "other model's passes before the train forward or after the backward");
    }
    int M = m->train_M;
    sea_status st = SEA_OK;
    if (M > 0) {
        /* dL/dlogp_j = w_j * (d_sum[b] + d_mean[b] / cnt[b]) for the row's sequence b. */
        float *g = malloc((size_t)M * sizeof *g);
        if (!g) st = sea_error(SEA_ERR_OOM, "backward_logprobs: out of host memory");
        for (int j = 0; g && j < M; j++) {
            int b = m->train_row_b[j];
            double d = d_sum ? d_sum[b] : 0.0;
            if (d_mean && m->train_cnt[b] != 0) d += d_mean[b] / m->train_cnt[b];
            g[j] = (float)(m->train_w[j] * d);
        }
        if (!st) st = sea_model_grad_seed(m, s, &m->train_lp, g);
        if (!st) st = sea_model_rec_backward(m, s);
        free(g);
    }
    sea_model_rec_clear(m);
    clear_train(m);
    return st;
}

sea_status sea_model_forward_logits(sea_model *m, sea_stream *s, const int32_t *ids,
                                    const int32_t *key_valid, int B, int T, float *logits)
{
    SEA_TRY(check_batch(m, "forward_logits", ids, B, T));
    sea_tensor ids_t, kv_t, pos_t, hidden, lg;
    SEA_TRY(begin_pass(m, s, ids, key_valid, B, T, false, &ids_t, &kv_t, &pos_t));
    sea_model_pass ps = {.B = B, .T = T, .ids = &ids_t, .pos = &pos_t, .key_valid = &kv_t};
    SEA_TRY(sea_model_trunk(m, s, &ps, &hidden));
    SEA_TRY(sea_model_lm_head(m, s, &hidden, &lg));
    return sea_tensor_read_f32(s, &lg, logits);
}

/* ---- hidden states and reward scores ---- */

static sea_status hidden_rows(sea_model *m, sea_stream *s, const char *what, const int32_t *ids,
                              const int32_t *key_valid, int B, int T, const int32_t *positions,
                              sea_tensor *rows_out)
{
    SEA_TRY(check_batch(m, what, ids, B, T));
    int32_t *rows = malloc((size_t)B * sizeof *rows);
    if (!rows) return sea_error(SEA_ERR_OOM, "%s: out of host memory", what);
    for (int b = 0; b < B; b++) {
        int p = -1;
        if (positions) {
            p = positions[b];
            if (p < 0 || p >= T) {
                free(rows);
                return sea_error(SEA_ERR_INVALID, "%s: position %d of row %d outside [0, %d)", what, p, b, T);
            }
        } else {
            for (int t = T - 1; t >= 0 && p < 0; t--)
                if (!key_valid || key_valid[(size_t)b * T + t]) p = t;
            if (p < 0) {
                free(rows);
                return sea_error(SEA_ERR_INVALID, "%s: row %d has no real token", what, b);
            }
        }
        rows[b] = b * T + p;
    }
    sea_tensor ids_t, kv_t, pos_t, hidden, rows_t;
    int64_t bb = B;
    sea_status st = begin_pass(m, s, ids, key_valid, B, T, false, &ids_t, &kv_t, &pos_t);
    if (!st) st = sea_model_upload_i32(m, s, rows, 1, &bb, &rows_t);
    free(rows);
    sea_model_pass ps = {.B = B, .T = T, .ids = &ids_t, .pos = &pos_t, .key_valid = &kv_t};
    if (!st) st = sea_model_trunk(m, s, &ps, &hidden);
    if (!st) st = sea_model_gather_rows(m, s, &hidden, &rows_t, rows_out);
    return st;
}

sea_status sea_model_hidden(sea_model *m, sea_stream *s, const int32_t *ids, const int32_t *key_valid,
                            int B, int T, const int32_t *positions_to_read, float *out)
{
    sea_tensor h;
    SEA_TRY(hidden_rows(m, s, "model_hidden", ids, key_valid, B, T, positions_to_read, &h));
    return sea_tensor_read_f32(s, &h, out);
}

sea_status sea_model_score(sea_model *m, sea_stream *s, const int32_t *ids, const int32_t *key_valid,
                           int B, int T, float *out)
{
    if (!m->classifier || !m->score.buf)
        return sea_error(SEA_ERR_INVALID, "model_score: %s has no score head (a *ForSequenceClassification "
                         "model is needed)", m->cfg.architecture[0] ? m->cfg.architecture : "the model");
    sea_tensor h, sc;
    SEA_TRY(hidden_rows(m, s, "model_score", ids, key_valid, B, T, NULL, &h));
    int64_t shape[2] = {B, m->n_labels};
    SEA_TRY(sea_model_arena_tensor(m->arena, SEA_F32, 2, shape, &sc));
    SEA_TRY(sea_matmul(s, &h, &m->score, NULL, false, true, SEA_ACT_NONE, &sc, NULL));
    return sea_tensor_read_f32(s, &sc, out);
}
