/* Win rate against reference responses (SEA.md §8): greedy-decode the first n held-out
 * prompts; a prompt is a win when P_oracle(response ≻ reference) > 0.5, i.e. when the
 * oracle's score of the response is higher (ties are not wins). References are the dataset's
 * --output-key column or, by default, the reference (SFT) policy's own greedy outputs, as in
 * the paper. Oracle calls made here are logged as "eval" and never counted as queries. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "alignment/actor.h"
#include "alignment/loop_internal.h"

static sea_status greedy(sea_run *r, sea_model *m, int n, sea_candidates *c)
{
    sea_gen_params gp = sea_gen_params_default();
    gp.max_new_tokens = r->cfg.max_new_tokens;
    gp.greedy = true;
    gp.temperature = 0;
    gp.n_eos = r->codec.eos >= 0 ? 1 : 0;
    gp.eos_ids[0] = r->codec.eos;
    sea_prompt **pp = malloc(sizeof(sea_prompt *) * (size_t)n);
    if (!pp) return sea_error(SEA_ERR_OOM, "eval");
    for (int i = 0; i < n; i++) pp[i] = &r->heldout.items[i];
    sea_status st = sea_actor_sample(m, &gp, pp, n, 1, 0, &r->codec, c);
    free(pp);
    return st;
}

sea_status sea_run_eval_setup(sea_run *r)
{
    int n = r->heldout.n;
    if (r->cfg.eval_n > 0 && r->cfg.eval_n < n) n = r->cfg.eval_n;
    r->n_eval = n;
    if (n == 0) return SEA_OK;
    r->eval_ref = calloc((size_t)n, sizeof(char *));
    r->eval_ref_score = malloc(sizeof(double) * (size_t)n);
    if (!r->eval_ref || !r->eval_ref_score) return sea_error(SEA_ERR_OOM, "eval: %d references", n);
    bool have = true;
    for (int i = 0; i < n; i++) have = have && r->heldout.items[i].reference;
    if (have) {
        for (int i = 0; i < n; i++)
            if (!(r->eval_ref[i] = strdup(r->heldout.items[i].reference))) return sea_error(SEA_ERR_OOM, "eval");
    } else {
        sea_candidates c;
        SEA_TRY(sea_error_context(greedy(r, r->ref, n, &c), "reference responses (greedy decoding of the reference policy)"));
        for (int i = 0; i < n; i++) {
            r->eval_ref[i] = c.text[i];
            c.text[i] = NULL;
        }
        sea_candidates_free(&c);
    }
    const char **pr = malloc(sizeof(char *) * (size_t)n);
    if (!pr) return sea_error(SEA_ERR_OOM, "eval");
    for (int i = 0; i < n; i++) pr[i] = r->heldout.items[i].text;
    sea_status st = sea_oracle_score(r->oracle, "eval-reference", n, pr, (const char *const *)r->eval_ref, r->eval_ref_score);
    free(pr);
    return st;
}

sea_status sea_run_evaluate(sea_run *r, double *win_rate)
{
    *win_rate = 0;
    int n = r->n_eval;
    if (n == 0) return SEA_OK;
    sea_candidates c;
    SEA_TRY(greedy(r, r->policy, n, &c));
    const char **pr = malloc(sizeof(char *) * (size_t)n);
    double *sc = malloc(sizeof(double) * (size_t)n);
    sea_status st = (pr && sc) ? SEA_OK : sea_error(SEA_ERR_OOM, "eval");
    if (!st) {
        for (int i = 0; i < n; i++) pr[i] = r->heldout.items[i].text;
        st = sea_oracle_score(r->oracle, "eval", n, pr, (const char *const *)c.text, sc);
    }
    if (!st) {
        int wins = 0;
        for (int i = 0; i < n; i++) wins += sc[i] > r->eval_ref_score[i];
        *win_rate = (double)wins / n;
    }
    free(pr);
    free(sc);
    sea_candidates_free(&c);
    return st;
}

/* Best-of-N (SEA.md §8): N samples at temperature 0.7 per held-out prompt, the one with the
 * highest ensemble-mean reward is judged against the reference like a greedy answer. */
sea_status sea_run_evaluate_bon(sea_run *r, double *win_rate)
{
    *win_rate = 0;
    int n = r->n_eval, N = r->cfg.bon_n, K = r->cfg.num_ensemble;
    if (n == 0 || N <= 0 || !r->erm) return SEA_OK;
    sea_gen_params gp = sea_gen_params_default();
    gp.max_new_tokens = r->cfg.max_new_tokens;
    gp.temperature = 0.7f;
    gp.seed = r->cfg.seed * 2654435761ull + 0xb0b0ull + (uint64_t)r->round;
    gp.n_eos = r->codec.eos >= 0 ? 1 : 0;
    gp.eos_ids[0] = r->codec.eos;
    sea_prompt **pp = malloc(sizeof(sea_prompt *) * (size_t)n);
    int *idx = malloc(sizeof(int) * (size_t)n * N);
    float *phi = malloc(sizeof(float) * (size_t)n * N * r->feat_dim);
    float *R = malloc(sizeof(float) * (size_t)K * n * N);
    const char **pr = malloc(sizeof(char *) * (size_t)n), **best = malloc(sizeof(char *) * (size_t)n);
    double *sc = malloc(sizeof(double) * (size_t)n);
    sea_candidates c;
    memset(&c, 0, sizeof c);
    sea_status st = pp && idx && phi && R && pr && best && sc ? SEA_OK : sea_error(SEA_ERR_OOM, "best-of-%d evaluation", N);
    for (int i = 0; !st && i < n; i++) pp[i] = &r->heldout.items[i];
    if (!st) st = sea_actor_sample(r->policy, &gp, pp, n, N, 0, &r->codec, &c);
    for (int i = 0; !st && i < n * N; i++) idx[i] = i;
    if (!st)
        st = r->cfg.feature_concat ? sea_actor_features_concat(r->feat, pp, &c, idx, n * N, phi)
                                   : sea_actor_features(r->feat, pp, &c, idx, n * N, phi);
    if (!st) st = sea_erm_predict(r->erm, phi, n * N, R);
    for (int i = 0; !st && i < n; i++) {
        int arg = 0;
        double top = -INFINITY;
        for (int j = 0; j < N; j++) {
            double m = 0;
            for (int k = 0; k < K; k++) m += R[(size_t)k * n * N + (size_t)i * N + j];
            if (m > top) { /* first best on ties */
                top = m;
                arg = j;
            }
        }
        pr[i] = r->heldout.items[i].text;
        best[i] = c.text[i * N + arg];
    }
    if (!st) st = sea_oracle_score(r->oracle, "eval-bon", n, pr, best, sc);
    if (!st) {
        int wins = 0;
        for (int i = 0; i < n; i++) wins += sc[i] > r->eval_ref_score[i];
        *win_rate = (double)wins / n;
    }
    sea_candidates_free(&c);
    free(pp); free(idx); free(phi); free(R); free(pr); free(best); free(sc);
    return st;
}
