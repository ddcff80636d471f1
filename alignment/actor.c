#include "alignment/actor.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

void sea_candidates_free(sea_candidates *c)
{
    if (c->text)
        for (int i = 0; i < c->n; i++) free(c->text[i]);
    free(c->text);
    free(c->tokens);
    free(c->lens);
    free(c->logp_sum);
    memset(c, 0, sizeof *c);
}

int sea_candidates_same(const sea_candidates *c, int i, int j)
{
    return c->lens[i] == c->lens[j] &&
           !memcmp(sea_candidate_tokens(c, i), sea_candidate_tokens(c, j), sizeof(int32_t) * (size_t)c->lens[i]);
}

sea_status sea_actor_sample(sea_model *m, const sea_gen_params *gp, sea_prompt *const *prompts, int n_prompts, int per,
                            uint32_t seq_base, const sea_codec *codec, sea_candidates *out)
{
    memset(out, 0, sizeof *out);
    int n = n_prompts * per;
    out->n = n;
    out->per = per;
    out->max_new = gp->max_new_tokens;
    const int32_t **pp = malloc(sizeof(int32_t *) * (size_t)n);
    int *pl = malloc(sizeof(int) * (size_t)n);
    uint32_t *ids = malloc(sizeof(uint32_t) * (size_t)n);
    out->tokens = malloc(sizeof(int32_t) * (size_t)n * gp->max_new_tokens);
    out->lens = malloc(sizeof(int) * (size_t)n);
    out->logp_sum = malloc(sizeof(double) * (size_t)n);
    out->text = calloc((size_t)n, sizeof(char *));
    sea_status st = (pp && pl && ids && out->tokens && out->lens && out->logp_sum && out->text)
                        ? SEA_OK
                        : sea_error(SEA_ERR_OOM, "actor: %d candidates", n);
    sea_gen_output go;
    memset(&go, 0, sizeof go);
    if (!st) {
        for (int i = 0; i < n; i++) {
            pp[i] = prompts[i / per]->ids;
            pl[i] = prompts[i / per]->n_ids;
            ids[i] = seq_base + (uint32_t)i;
        }
        st = sea_gen_output_alloc(n, gp->max_new_tokens, &go);
    }
    if (!st) st = sea_generate(m, sea_device_stream(sea_model_device(m)), gp, pp, pl, n, ids, &go);
    for (int i = 0; i < n && !st; i++) {
        int L = go.lengths[i];
        out->lens[i] = L;
        double s = 0;
        for (int t = 0; t < gp->max_new_tokens; t++) {
            out->tokens[(size_t)i * gp->max_new_tokens + t] = t < L ? go.tokens[(size_t)i * go.max_new + t] : -1;
            if (t < L) s += go.logp[(size_t)i * go.max_new + t];
        }
        out->logp_sum[i] = s;
        st = sea_codec_decode(codec, sea_candidate_tokens(out, i), L, &out->text[i]);
    }
    sea_gen_output_free(&go);
    free(pp);
    free(pl);
    free(ids);
    if (st) sea_candidates_free(out);
    return st;
}

sea_status sea_actor_features(sea_model *fm, sea_prompt *const *prompts, const sea_candidates *c, const int *idx, int n,
                              float *phi)
{
    const int chunk = 64;
    int H = sea_model_hidden_size(fm);
    sea_stream *s = sea_device_stream(sea_model_device(fm));
    for (int i0 = 0; i0 < n; i0 += chunk) {
        int k = n - i0 < chunk ? n - i0 : chunk;
        int T = 1;
        for (int r = 0; r < k; r++) {
            int ci = idx[i0 + r];
            int len = prompts[ci / c->per]->n_ids + c->lens[ci];
            if (len > T) T = len;
        }
        int32_t *ids = calloc((size_t)k * T, sizeof(int32_t)), *valid = calloc((size_t)k * T, sizeof(int32_t));
        if (!ids || !valid) {
            free(ids);
            free(valid);
            return sea_error(SEA_ERR_OOM, "features (%d, %d)", k, T);
        }
        for (int r = 0; r < k; r++) {
            int ci = idx[i0 + r];
            const sea_prompt *p = prompts[ci / c->per];
            memcpy(ids + (size_t)r * T, p->ids, sizeof(int32_t) * p->n_ids);
            memcpy(ids + (size_t)r * T + p->n_ids, sea_candidate_tokens(c, ci), sizeof(int32_t) * c->lens[ci]);
            for (int t = 0; t < p->n_ids + c->lens[ci]; t++) valid[(size_t)r * T + t] = 1;
        }
        sea_status st = sea_model_hidden(fm, s, ids, valid, k, T, NULL, phi + (size_t)i0 * H);
        free(ids);
        free(valid);
        if (st) return sea_error_context(st, "features");
    }
    return SEA_OK;
}

sea_status sea_actor_features_concat(sea_model *fm, sea_prompt *const *prompts, const sea_candidates *c, const int *idx,
                                     int n, float *phi)
{
    const int chunk = 64, H = sea_model_hidden_size(fm), S = c->max_new + 1;
    sea_stream *s = sea_device_stream(sea_model_device(fm));
    float *tmp = malloc(sizeof(float) * (size_t)chunk * H);
    int32_t *pos = malloc(sizeof(int32_t) * (size_t)chunk);
    if (!tmp || !pos) {
        free(tmp);
        free(pos);
        return sea_error(SEA_ERR_OOM, "features");
    }
    sea_status st = SEA_OK;
    for (int i0 = 0; i0 < n && !st; i0 += chunk) {
        int k = n - i0 < chunk ? n - i0 : chunk;
        int T = 1;
        for (int r = 0; r < k; r++) {
            int ci = idx[i0 + r];
            int len = prompts[ci / c->per]->n_ids + c->lens[ci];
            if (len > T) T = len;
        }
        int32_t *ids = calloc((size_t)k * T, sizeof(int32_t)), *valid = calloc((size_t)k * T, sizeof(int32_t));
        if (!ids || !valid) st = sea_error(SEA_ERR_OOM, "features (%d, %d)", k, T);
        for (int r = 0; r < k && !st; r++) {
            int ci = idx[i0 + r];
            const sea_prompt *p = prompts[ci / c->per];
            memcpy(ids + (size_t)r * T, p->ids, sizeof(int32_t) * p->n_ids);
            memcpy(ids + (size_t)r * T + p->n_ids, sea_candidate_tokens(c, ci), sizeof(int32_t) * c->lens[ci]);
            for (int t = 0; t < p->n_ids + c->lens[ci]; t++) valid[(size_t)r * T + t] = 1;
        }
        /* one forward per offset; the tiny models this is for make that cheap */
        for (int j = 0; j < S && !st; j++) {
            for (int r = 0; r < k; r++) {
                int ci = idx[i0 + r];
                int last = prompts[ci / c->per]->n_ids + c->lens[ci] - 1;
                int want = prompts[ci / c->per]->n_ids - 1 + j;
                pos[r] = want <= last ? want : last;
            }
            st = sea_model_hidden(fm, s, ids, valid, k, T, pos, tmp);
            for (int r = 0; r < k && !st; r++) {
                int ci = idx[i0 + r];
                bool inside = j <= c->lens[ci];
                float *dst = phi + ((size_t)(i0 + r) * S + j) * H;
                if (inside) memcpy(dst, tmp + (size_t)r * H, sizeof(float) * H);
                else memset(dst, 0, sizeof(float) * H);
            }
        }
        free(ids);
        free(valid);
    }
    free(tmp);
    free(pos);
    if (st) return sea_error_context(st, "features");
    return SEA_OK;
}
