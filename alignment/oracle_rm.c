/* A sequence-classification reward model as the oracle ("rm:DIR").
 *
 * The text scored is prompt + response concatenated as they are (no chat template: a dataset
 * that needs one should carry it in its prompts), tokenized with the model's tokenizer.json
 * (special tokens added as the tokenizer's post-processor says), batched with right padding;
 * the score is the first label's logit at the last real token (sea_model_score). */
#include "alignment/oracle.h"

#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "models/tokenizer.h"

typedef struct rm_oracle {
    sea_device *dev;
    bool own_dev;
    sea_model *model;
    sea_tokenizer *tok;
    char dir[1024];
} rm_oracle;

static void rm_free(void *ctx)
{
    rm_oracle *r = ctx;
    if (!r) return;
    sea_model_free(r->model);
    sea_tokenizer_free(r->tok);
    if (r->own_dev) sea_device_close(r->dev);
    free(r);
}

#define RM_BATCH 8

static sea_status rm_score(void *ctx, int n, const char *const *prompts, const char *const *responses,
                           double *scores, int *n_done)
{
    rm_oracle *r = ctx;
    *n_done = 0;
    sea_stream *s = sea_device_stream(r->dev);
    for (int b0 = 0; b0 < n; b0 += RM_BATCH) {
        int nb = n - b0 < RM_BATCH ? n - b0 : RM_BATCH;
        int32_t *ids[RM_BATCH] = {0};
        size_t lens[RM_BATCH] = {0};
        size_t T = 1;
        sea_status st = SEA_OK;
        for (int i = 0; i < nb && !st; i++) {
            size_t lp = strlen(prompts[b0 + i]), lr = strlen(responses[b0 + i]);
            char *text = malloc(lp + lr + 1);
            if (!text) { st = sea_error(SEA_ERR_OOM, "rm oracle: text"); break; }
            memcpy(text, prompts[b0 + i], lp);
            memcpy(text + lp, responses[b0 + i], lr + 1);
            st = sea_tokenizer_encode(r->tok, text, lp + lr, true, &ids[i], &lens[i]);
            free(text);
            if (!st && lens[i] == 0) st = sea_error(SEA_ERR_INVALID, "rm oracle %s: empty text for item %d", r->dir, b0 + i);
            if (!st && lens[i] > T) T = lens[i];
        }
        int32_t *flat = NULL, *valid = NULL;
        float *out = NULL;
        int L = sea_model_num_labels(r->model);
        if (!st) {
            flat = calloc((size_t)nb * T, sizeof *flat);
            valid = calloc((size_t)nb * T, sizeof *valid);
            out = malloc(sizeof(float) * (size_t)nb * (L > 0 ? L : 1));
            if (!flat || !valid || !out) st = sea_error(SEA_ERR_OOM, "rm oracle: batch %d x %zu", nb, T);
        }
        if (!st) {
            for (int i = 0; i < nb; i++)
                for (size_t t = 0; t < lens[i]; t++) {
                    flat[(size_t)i * T + t] = ids[i][t];
                    valid[(size_t)i * T + t] = 1;
                }
            st = sea_model_score(r->model, s, flat, valid, nb, (int)T, out);
        }
        if (!st)
            for (int i = 0; i < nb; i++) scores[b0 + i] = out[(size_t)i * L];
        for (int i = 0; i < nb; i++) free(ids[i]);
        free(flat);
        free(valid);
        free(out);
        if (st) return sea_error_context(st, "rm oracle %s", r->dir);
        *n_done = b0 + nb;
    }
    return SEA_OK;
}

static const sea_oracle_vtable rm_vt = {"rm", rm_score, rm_free};

sea_status sea_oracle_rm_open(const char *dir, sea_device *dev, void **ctx, const sea_oracle_vtable **vt)
{
    rm_oracle *r = calloc(1, sizeof *r);
    if (!r) return sea_error(SEA_ERR_OOM, "rm oracle");
    snprintf(r->dir, sizeof r->dir, "%s", dir);
    sea_status st = SEA_OK;
    if (dev) r->dev = dev;
    else {
        st = sea_device_open(NULL, &r->dev);
        r->own_dev = !st;
    }
    if (!st) st = sea_model_load(r->dev, dir, NULL, &r->model);
    if (!st && !sea_model_is_classifier(r->model))
        st = sea_error(SEA_ERR_INVALID, "--oracle rm:%s: not a sequence-classification model (no score head)", dir);
    if (!st) st = sea_tokenizer_load(dir, &r->tok);
    if (st) {
        rm_free(r);
        return sea_error_context(st, "--oracle rm:%s", dir);
    }
    *ctx = r;
    *vt = &rm_vt;
    return SEA_OK;
}
