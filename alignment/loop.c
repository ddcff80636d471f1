#include "alignment/loop.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alignment/actor.h"
#include "alignment/loop_dist.h"
#include "alignment/loop_internal.h"
#include "alignment/loop_roles.h"
#include "alignment/mixed.h"
#include "alignment/plot.h"
#include "alignment/select.h"
#include "dist/nccl.h"
#include "models/hf_config.h"
#include "runtime/rng.h"

double sea_run_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

void sea_train_result_free(sea_train_result *r)
{
    free(r->eval_queries);
    free(r->eval_win_rate);
    memset(r, 0, sizeof *r);
}

sea_status sea_run_make_perm(sea_run *r)
{
    int n = r->train.n;
    free(r->perm);
    r->perm = malloc(sizeof(int) * (size_t)n);
    if (!r->perm) return sea_error(SEA_ERR_OOM, "prompt order: %d prompts", n);
    /* the order of epoch e depends on (seed, e) only, so a resumed run rebuilds it */
    sea_rng g = sea_rng_make(r->cfg.seed, 1000u + (uint32_t)r->epoch);
    for (int i = 0; i < n; i++) r->perm[i] = i;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)sea_rng_next_below(&g, (uint32_t)(i + 1));
        int t = r->perm[i];
        r->perm[i] = r->perm[j];
        r->perm[j] = t;
    }
    return SEA_OK;
}

static sea_status next_prompt(sea_run *r, sea_prompt **out)
{
    if (r->pos >= r->train.n) {
        r->epoch++;
        r->pos = 0;
        SEA_TRY(sea_run_make_perm(r));
    }
    *out = &r->train.items[r->perm[r->pos++]];
    return SEA_OK;
}

static void run_free(sea_run *r)
{
    sea_nccl_close(r->sync_nccl);
    sea_learner_free(r->learner);
    sea_erm_free(r->erm);
    sea_replay_free(&r->replay);
    sea_oracle_free(r->oracle);
    if (r->own_actor) sea_model_free(r->actor);
    if (r->own_feat) sea_model_free(r->feat);
    sea_model_free(r->ref);
    sea_model_free(r->policy);
    sea_prompt_set_free(&r->train);
    sea_prompt_set_free(&r->heldout);
    sea_codec_free(&r->codec);
    if (r->eval_ref)
        for (int i = 0; i < r->n_eval; i++) free(r->eval_ref[i]);
    free(r->eval_ref);
    free(r->eval_ref_score);
    free(r->perm);
    free(r->eval_q);
    free(r->eval_wr);
    if (r->metrics) fclose(r->metrics);
    if (r->dev) sea_device_close(r->dev);
    sea_run_roles_free(r);
}

/* ---- metrics: one JSON object per line, built by appending "key": value ---- */

typedef struct line {
    char buf[4096];
    size_t n;
} line;

static void put(line *l, const char *k, double v)
{
    if (l->n + 96 > sizeof l->buf) return;
    l->n += (size_t)snprintf(l->buf + l->n, sizeof l->buf - l->n, "%s\"%s\": ", l->n > 1 ? ", " : "", k);
    if (isfinite(v)) l->n += (size_t)snprintf(l->buf + l->n, sizeof l->buf - l->n, "%.10g", v);
    else l->n += (size_t)snprintf(l->buf + l->n, sizeof l->buf - l->n, "null");
}

/* Memory for dashboards: the device allocator's peak since the previous line (null where the
 * backend keeps no counters, as on the CPU) and the process's peak resident set so far. Like
 * the timings they describe the machine rather than the run, and tests that compare metrics
 * leave both out. */
static void put_memory(const sea_run *r, line *l)
{
    sea_device_memory m;
    double dev = NAN;
    if (sea_device_memory_stats(r->dev, true, &m) == SEA_OK) dev = (double)m.allocated_peak / 1073741824.0;
    else sea_error_clear();
    put(l, "memory/device_peak_gib", dev);
    struct rusage ru;
    put(l, "memory/host_peak_rss_gib", getrusage(RUSAGE_SELF, &ru) == 0 ? (double)ru.ru_maxrss / 1048576.0 : NAN);
}

/* The rank that asks the oracle and writes every file: world rank 0 (the first actor). */
static bool is_root(const sea_run *r) { return r->role != SEA_ROLE_LEARNER && sea_dist_rank(r->team) == 0; }

static sea_status emit(sea_run *r, line *l)
{
    if (l->n + 3 > sizeof l->buf) return sea_error(SEA_ERR_INTERNAL, "metrics line too long");
    if (!r->metrics) return SEA_OK; /* not rank 0: only rank 0 writes */
    l->buf[l->n++] = '}';
    l->buf[l->n++] = '\n';
    if (fwrite(l->buf, 1, l->n, r->metrics) != l->n || fflush(r->metrics) != 0)
        return sea_error(SEA_ERR_IO, "%s/metrics.jsonl: %s", r->cfg.output_dir, strerror(errno));
    return SEA_OK;
}

static sea_status add_eval(sea_run *r, double wr)
{
    if (r->n_evals == r->cap_evals) {
        int nc = r->cap_evals ? r->cap_evals * 2 : 32;
        int64_t *q = realloc(r->eval_q, sizeof(int64_t) * (size_t)nc);
        if (!q) return sea_error(SEA_ERR_OOM, "eval history");
        r->eval_q = q;
        double *w = realloc(r->eval_wr, sizeof(double) * (size_t)nc);
        if (!w) return sea_error(SEA_ERR_OOM, "eval history");
        r->eval_wr = w;
        r->cap_evals = nc;
    }
    r->eval_q[r->n_evals] = r->queries;
    r->eval_wr[r->n_evals] = wr;
    r->n_evals++;
    r->last_win_rate = wr;
    return SEA_OK;
}

/* ---- setup ---- */

static sea_status write_text(const char *path, const char *text)
{
    char tmp[2 * SEA_PATH_MAX];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) return sea_error(SEA_ERR_IO, "%s: %s", tmp, strerror(errno));
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad || rename(tmp, path) != 0) return sea_error(SEA_ERR_IO, "%s: write failed", path);
    return SEA_OK;
}

/* Prompt + response must fit the positions of the policy, the reference and the feature
 * model: prompts longer than --max-prompt-len (default: the positions left after
 * --max-new-tokens) keep their last tokens. */
static sea_status fit_prompts(sea_run *r)
{
    const sea_train_cfg *c = &r->cfg;
    /* the fewest positions of the models that read prompt + response */
    const sea_model *models[3] = {r->policy, r->ref, r->feat};
    const char *whose[3] = {"policy", "reference", "feature model"};
    int64_t positions = INT64_MAX;
    const char *who = "policy";
    for (int i = 0; i < 3; i++)
        if (models[i] && sea_model_config(models[i])->max_position_embeddings < positions) {
            positions = sea_model_config(models[i])->max_position_embeddings;
            who = whose[i];
        }
    int64_t room = positions - c->max_new_tokens;
    if (room < 1)
        return sea_error(SEA_ERR_INVALID, "--max-new-tokens %d leaves no room for a prompt in the %s's %lld positions "
                         "(max_position_embeddings)", c->max_new_tokens, who, (long long)positions);
    if (c->max_prompt_len > room)
        return sea_error(SEA_ERR_INVALID, "--max-prompt-len %d + --max-new-tokens %d exceed the %s's %lld positions "
                         "(max_position_embeddings)", c->max_prompt_len, c->max_new_tokens, who, (long long)positions);
    int keep = c->max_prompt_len > 0 ? c->max_prompt_len : (int)(room < INT32_MAX ? room : INT32_MAX);
    int cut = sea_prompt_set_keep_last(&r->train, keep), cut_eval = sea_prompt_set_keep_last(&r->heldout, keep);
    r->truncated_prompts = cut + cut_eval;
    if ((cut || cut_eval) && !c->quiet && is_root(r))
        fprintf(stderr, "sea train: %d of %d train prompts and %d of %d held-out ones are longer than %d tokens: each "
                        "keeps its last %d (--max-prompt-len; the oracle still reads the whole prompt)\n",
                cut, r->train.n, cut_eval, r->heldout.n, keep, keep);
    return SEA_OK;
}

static sea_status setup(sea_run *r, bool *resumed)
{
    sea_train_cfg *c = &r->cfg;
    *resumed = false;
    SEA_TRY(sea_train_cfg_validate(c));
    SEA_TRY(sea_run_roles_init(r));
    /* a learner rank (roles) needs only the policy, the reference and the learner: no data,
     * tokenizer, ERM, oracle or files; an actor rank needs no learner (no Adam state) */
    const bool acts = r->role != SEA_ROLE_LEARNER, learns = r->role != SEA_ROLE_ACTOR;
    if (mkdir(c->output_dir, 0755) != 0 && errno != EEXIST)
        return sea_error(SEA_ERR_IO, "--output-dir %s: %s", c->output_dir, strerror(errno));
    SEA_TRY(sea_device_open(c->device[0] ? c->device : NULL, &r->dev));
    r->builtin = !strncmp(c->prompt_data, "builtin:", 8);
    if (acts) {
        SEA_TRY(sea_error_context(sea_codec_open(&r->codec, c->policy, r->builtin), "--policy %s", c->policy));
        SEA_TRY(sea_prompt_set_load(&r->train, c->prompt_data, false, c->input_key, NULL, &r->codec));
        if (c->eval_data[0])
            SEA_TRY(sea_prompt_set_load(&r->heldout, c->eval_data, false, c->input_key, c->output_key, &r->codec));
        else if (r->builtin)
            SEA_TRY(sea_prompt_set_load(&r->heldout, c->prompt_data, true, c->input_key, NULL, &r->codec));
    }

    /* --compute-dtype: every model computes in it; clones (reference, sampler) inherit it. */
    sea_model_load_opts lo = sea_model_load_opts_default();
    lo.dtype = !strcmp(c->compute_dtype, "bf16") ? SEA_BF16 : SEA_F32;
    SEA_TRY(sea_error_context(sea_model_load(r->dev, c->policy, &lo, &r->policy), "--policy"));
    sea_model_set_recompute(r->policy, c->recompute);
    if (c->ref[0]) SEA_TRY(sea_error_context(sea_model_load(r->dev, c->ref, &lo, &r->ref), "--ref"));
    else SEA_TRY(sea_model_clone(r->policy, NULL, &r->ref));
    /* The reference is only ever read (log-probs, offline sampling, ERM features; nothing
     * writes or checkpoints it): in bf16 it needs only its bf16 weights. */
    if (lo.dtype == SEA_BF16)
        SEA_TRY(sea_error_context(sea_model_freeze_bf16(r->ref, sea_device_stream(r->dev)), "reference model"));
    /* the sampler is the policy itself unless it syncs less often (or never: offline) */
    if (acts && (c->sync_params_every > 1 || c->exp_method == SEA_EXPLORE_OFFLINE)) {
        if (c->exp_method == SEA_EXPLORE_OFFLINE) r->actor = r->ref;
        else {
            SEA_TRY(sea_model_clone(r->policy, NULL, &r->actor));
            r->own_actor = true;
        }
    } else {
        r->actor = r->policy;
    }
    r->uses_erm = sea_explore_uses_erm(c->exp_method);
    if (r->uses_erm && acts) {
        if (c->feature_model[0]) {
            SEA_TRY(sea_error_context(sea_model_load(r->dev, c->feature_model, &lo, &r->feat), "--feature-model"));
            r->own_feat = true;
        } else {
            r->feat = r->ref;
        }
        r->feat_dim = sea_model_hidden_size(r->feat) * (c->feature_concat ? c->max_new_tokens + 1 : 1);
        sea_erm_cfg ec = sea_erm_cfg_default(r->feat_dim);
        ec.K = c->num_ensemble;
        ec.h = c->rm_hidden;
        ec.lr = (float)c->rm_lr;
        ec.l2 = (float)c->rm_l2;
        ec.lambda = (float)c->lambda;
        ec.batch = c->rm_batch;
        ec.sgd_steps = c->rm_sgd_steps;
        ec.fixed_reg = c->rm_fixed_reg;
        ec.seed = c->seed * 7919u + 17u;
        SEA_TRY(sea_erm_create(r->dev, &ec, &r->erm));
        SEA_TRY(sea_replay_init(&r->replay, c->rm_buffer, r->feat_dim));
    }
    if (acts) SEA_TRY(fit_prompts(r));
    /* One activation arena for the process's models: none of their passes falls between the
     * policy's train forward and its backward (the learner runs the reference first), so the
     * reference, a sampler copy and a feature model need no activation memory of their own
     * (docs/memory.md). */
    SEA_TRY(sea_model_share_activations(r->ref, r->policy));
    if (r->own_actor) SEA_TRY(sea_model_share_activations(r->actor, r->policy));
    if (r->own_feat) SEA_TRY(sea_model_share_activations(r->feat, r->policy));
    sea_learner_cfg lc = {0};
    lc.loss.algo = c->algo;
    lc.loss.beta = c->beta > 0 ? c->beta : sea_pref_algo_default_beta(c->algo);
    lc.loss.simpo_gamma_ratio = c->simpo_gamma_ratio;
    lc.lr = c->learning_rate;
    lc.warmup_ratio = c->warmup_ratio;
    lc.floor_ratio = c->lr_floor_ratio;
    lc.max_norm = c->max_norm;
    lc.beta1 = c->adam_beta1;
    lc.beta2 = c->adam_beta2;
    lc.eps = c->adam_eps;
    lc.max_bad_steps = c->max_bad_steps;
    lc.micro_pairs = c->micro_pairs;
    lc.xpo_alpha = c->xpo_alpha;
    lc.dist = r->team; /* roles: the learners only */
    /* the cosine runs over the rounds the budget buys (mixed rounds query only γ of the prompts) */
    double per_round = c->batch_size * ((r->uses_erm && c->gamma < 1) ? c->gamma : 1.0);
    int est = (int)ceil((double)c->max_queries / (per_round > 0 ? per_round : 1));
    if (c->max_rounds > 0 && (est > c->max_rounds || c->max_queries <= 0)) est = c->max_rounds;
    r->total_rounds_est = est > 0 ? est : 1;
    lc.total_steps = r->total_rounds_est;
    r->learner_cfg = lc;
    if (learns) SEA_TRY(sea_learner_create(r->policy, r->ref, &lc, &r->learner));
    if (r->sync) { /* roles: the weights go device to device when every sync member is on CUDA */
        char why[600];
        SEA_TRY(sea_nccl_open(r->sync, r->dev, &r->sync_nccl, why, sizeof why));
        if (why[0]) fprintf(stderr, "sea: %s: weights broadcast through host memory\n", why);
    }

    char logp[2 * SEA_PATH_MAX];
    snprintf(logp, sizeof logp, "%s/oracle.jsonl", c->output_dir);
    sea_oracle_opts oo = sea_oracle_opts_default();
    oo.device = r->dev;
    oo.timeout_s = c->judge_timeout;
    oo.log_path = is_root(r) ? logp : NULL; /* rank 0 asks the oracle (loop_dist.c) */
    if (acts) SEA_TRY(sea_oracle_open(c->oracle, &oo, &r->oracle));

    for (int i = 0; i < RNG_COUNT; i++) r->rng[i] = sea_rng_make(c->seed, 10u + (uint32_t)i);
    r->epoch = 0;
    r->pos = 0;
    if (acts) SEA_TRY(sea_run_make_perm(r));

    bool found = false;
    if (c->resume[0]) SEA_TRY(sea_run_load(r, &found));
    *resumed = found;
    char mpath[2 * SEA_PATH_MAX];
    snprintf(mpath, sizeof mpath, "%s/metrics.jsonl", c->output_dir);
    if (!is_root(r)) {
        /* other ranks write nothing */
    } else if (found) {
        /* drop metric lines written after the checkpoint: those rounds run again. A file
         * shorter than the checkpoint covers lost lines the checkpoint counts on (truncate
         * would pad it with zero bytes): refuse, rather than write a history with a hole. */
        struct stat sb;
        if (stat(mpath, &sb) == 0 && (int64_t)sb.st_size < r->metrics_offset)
            return sea_error(SEA_ERR_FORMAT, "%s: %lld bytes, but the checkpoint covers %lld: the file was cut or replaced",
                             mpath, (long long)sb.st_size, (long long)r->metrics_offset);
        if (truncate(mpath, (off_t)r->metrics_offset) != 0 && errno != ENOENT)
            return sea_error(SEA_ERR_IO, "%s: truncate: %s", mpath, strerror(errno));
        r->metrics = fopen(mpath, "a");
    } else {
        r->metrics = fopen(mpath, "w");
        char *js = sea_train_cfg_to_json(c);
        char cpath[2 * SEA_PATH_MAX];
        snprintf(cpath, sizeof cpath, "%s/config.json", c->output_dir);
        sea_status st = js ? write_text(cpath, js) : sea_error(SEA_ERR_OOM, "config.json");
        free(js);
        if (st) return st;
    }
    if (!r->metrics && is_root(r)) return sea_error(SEA_ERR_IO, "%s: %s", mpath, strerror(errno));
    if (acts) SEA_TRY(sea_run_eval_setup(r));
    return SEA_OK;
}

/* ---- one round ---- */

typedef struct round_buf {
    sea_prompt **prompts;      /* (n) */
    int n, per;
    sea_candidates cand, cand_ref;   /* cand_ref: XPO's π_ref responses */
    float *phi;                /* (n * per, d) */
    float *R;                  /* (K, n * per) */
    float *Rp;                 /* (K, per) scratch */
    sea_pair_choice *choice;   /* (n) */
    uint8_t *mixed;            /* (n) */
    int *win;                  /* (n) 1 = i1 chosen */
    float *mask;               /* (n) */
    double *p;                 /* (n) */
    sea_pair *pairs;           /* (n) */
} round_buf;

static void round_free(round_buf *b)
{
    free(b->prompts);
    sea_candidates_free(&b->cand);
    sea_candidates_free(&b->cand_ref);
    free(b->phi);
    free(b->R);
    free(b->Rp);
    free(b->choice);
    free(b->mixed);
    free(b->win);
    free(b->mask);
    free(b->p);
    free(b->pairs);
    memset(b, 0, sizeof *b);
}

/* Which candidate set and index a choice refers to: XPO's second response is from π_ref. */
static const sea_candidates *cand_of(const round_buf *b, int prompt, int which, int *idx)
{
    if (b->cand_ref.n && which == 1) {
        *idx = prompt;
        return &b->cand_ref;
    }
    *idx = prompt * b->per + (which == 0 ? b->choice[prompt].i1 : b->choice[prompt].i2);
    return &b->cand;
}

/* The E&E metric (SEA.md §8): mean over the responses shown to the oracle this round of
 * P(y ≻ reference) = σ(s(y) − s(ref)), the reference being the reference policy's greedy
 * answer to the same prompt. Its oracle calls are logged as "online" and never counted. */
static sea_status online_quality(sea_run *r, const round_buf *b, double *out)
{
    *out = NAN;
    int n = 0;
    for (int i = 0; i < b->n; i++) n += b->choice[i].valid && !b->mixed[i];
    if (n == 0) return SEA_OK;
    sea_prompt **pp = malloc(sizeof(sea_prompt *) * (size_t)n);
    const char **pr = malloc(sizeof(char *) * (size_t)3 * n), **resp = malloc(sizeof(char *) * (size_t)3 * n);
    double *sc = malloc(sizeof(double) * (size_t)3 * n);
    sea_candidates ref;
    memset(&ref, 0, sizeof ref);
    sea_status st = pp && pr && resp && sc ? SEA_OK : sea_error(SEA_ERR_OOM, "online metric");
    int m = 0;
    for (int i = 0; !st && i < b->n; i++) {
        if (!b->choice[i].valid || b->mixed[i]) continue;
        int ia, ib;
        const sea_candidates *ca = cand_of(b, i, 0, &ia), *cb = cand_of(b, i, 1, &ib);
        pp[m] = b->prompts[i];
        pr[3 * m] = pr[3 * m + 1] = pr[3 * m + 2] = b->prompts[i]->text;
        resp[3 * m] = ca->text[ia];
        resp[3 * m + 1] = cb->text[ib];
        m++;
    }
    if (!st) {
        sea_gen_params gp = sea_gen_params_default();
        gp.max_new_tokens = r->cfg.max_new_tokens;
        gp.greedy = true;
        gp.n_eos = r->codec.eos >= 0 ? 1 : 0;
        gp.eos_ids[0] = r->codec.eos;
        st = sea_actor_sample(r->ref, &gp, pp, n, 1, 0, &r->codec, &ref);
    }
    for (int k = 0; !st && k < n; k++) resp[3 * k + 2] = ref.text[k];
    if (!st) st = sea_oracle_score(r->oracle, "online", 3 * n, pr, resp, sc);
    if (!st) {
        double sum = 0;
        for (int k = 0; k < n; k++)
            for (int j = 0; j < 2; j++) sum += 1.0 / (1.0 + exp(-(sc[3 * k + j] - sc[3 * k + 2])));
        *out = sum / (2.0 * n);
    }
    sea_candidates_free(&ref);
    free(pp); free(pr); free(resp); free(sc);
    return st;
}

static sea_status run_round(sea_run *r, line *ml, bool *stop)
{
    sea_train_cfg *c = &r->cfg;
    round_buf b;
    memset(&b, 0, sizeof b);
    sea_status st = SEA_OK;
    double t0 = sea_run_now(), t_gen = 0, t_feat = 0, t_erm = 0, t_orc = 0, t_learn = 0;
    const sea_explore em = c->exp_method;
    const bool apl = em == SEA_EXPLORE_APL, xpo = em == SEA_EXPLORE_XPO;
    int n_take = apl ? (int)ceil(c->batch_size * c->apl_pool) : c->batch_size;
    b.per = r->uses_erm ? c->num_samples : (xpo ? 1 : 2);
    b.prompts = malloc(sizeof(sea_prompt *) * (size_t)n_take);
    if (!b.prompts) return sea_error(SEA_ERR_OOM, "round");
    for (int i = 0; i < n_take; i++) SEA_TRY(next_prompt(r, &b.prompts[i]));
    b.n = n_take;

    /* 1. sample */
    sea_gen_params gp = sea_gen_params_default();
    gp.max_new_tokens = c->max_new_tokens;
    gp.temperature = (float)c->temperature;
    gp.greedy = c->temperature == 0;
    gp.top_p = (float)c->top_p;
    gp.top_k = c->top_k;
    gp.seed = c->seed * 1000003ull + (uint64_t)r->round + 1;
    gp.n_eos = r->codec.eos >= 0 ? 1 : 0;
    gp.eos_ids[0] = r->codec.eos;
    double t = sea_run_now();
    int lo, hi; /* this rank's prompts; sequence ids stay global so every split draws the same */
    sea_run_split(r, b.n, &lo, &hi);
    sea_candidates mine;
    st = sea_actor_sample(r->actor, &gp, b.prompts + lo, hi - lo, b.per, (uint32_t)(lo * b.per), &r->codec, &mine);
    if (!st) st = sea_run_gather_candidates(r, &mine, &b.cand);
    if (!st && xpo) {
        gp.seed ^= 0x9e3779b97f4a7c15ull;
        st = sea_actor_sample(r->ref, &gp, b.prompts + lo, hi - lo, 1, (uint32_t)lo, &r->codec, &mine);
        if (!st) st = sea_run_gather_candidates(r, &mine, &b.cand_ref);
    }
    t_gen = sea_run_now() - t;
    if (st) goto done;

    /* APL: keep the batch_size prompts whose pair has the largest implicit-reward margin */
    if (apl && b.n > c->batch_size) {
        int n = b.n;
        const int32_t **pp = malloc(sizeof(int32_t *) * 2 * n), **rs = malloc(sizeof(int32_t *) * 2 * n);
        int *pl = malloc(sizeof(int) * 2 * n), *rl = malloc(sizeof(int) * 2 * n), *keep = malloc(sizeof(int) * n);
        double *lp = malloc(sizeof(double) * 2 * n), *lr = malloc(sizeof(double) * 2 * n), *mg = malloc(sizeof(double) * n);
        st = (pp && rs && pl && rl && keep && lp && lr && mg) ? SEA_OK : sea_error(SEA_ERR_OOM, "apl");
        for (int i = 0; !st && i < 2 * n; i++) {
            pp[i] = b.prompts[i / 2]->ids;
            pl[i] = b.prompts[i / 2]->n_ids;
            rs[i] = sea_candidate_tokens(&b.cand, i);
            rl[i] = b.cand.lens[i];
        }
        if (!st) st = sea_sequence_logps(r->policy, pp, pl, rs, rl, 2 * n, false, lp);
        if (!st) st = sea_sequence_logps(r->ref, pp, pl, rs, rl, 2 * n, false, lr);
        if (!st) {
            for (int i = 0; i < n; i++) mg[i] = (lp[2 * i] - lr[2 * i]) - (lp[2 * i + 1] - lr[2 * i + 1]);
            st = sea_select_apl(mg, n, c->batch_size, keep);
        }
        if (!st) {
            /* compact prompts and candidates to the kept ones (order of selection) */
            sea_prompt **np = malloc(sizeof(sea_prompt *) * (size_t)c->batch_size);
            sea_candidates nc = b.cand;
            if (!np) st = sea_error(SEA_ERR_OOM, "apl");
            for (int k = 0; !st && k < c->batch_size; k++) np[k] = b.prompts[keep[k]];
            if (!st) {
                /* candidates: swap rows into place; texts move with them */
                int32_t *tok = malloc(sizeof(int32_t) * (size_t)2 * c->batch_size * b.cand.max_new);
                int *ln = malloc(sizeof(int) * 2 * c->batch_size);
                double *ls = malloc(sizeof(double) * 2 * c->batch_size);
                char **tx = calloc((size_t)2 * n, sizeof(char *));
                if (!tok || !ln || !ls || !tx) st = sea_error(SEA_ERR_OOM, "apl");
                for (int k = 0; !st && k < c->batch_size; k++)
                    for (int j = 0; j < 2; j++) {
                        int from = keep[k] * 2 + j, to = k * 2 + j;
                        memcpy(tok + (size_t)to * b.cand.max_new, sea_candidate_tokens(&b.cand, from), sizeof(int32_t) * b.cand.max_new);
                        ln[to] = b.cand.lens[from];
                        ls[to] = b.cand.logp_sum[from];
                        tx[to] = b.cand.text[from];
                        b.cand.text[from] = NULL;
                    }
                if (!st) {
                    sea_candidates_free(&b.cand);
                    nc.n = 2 * c->batch_size;
                    nc.tokens = tok;
                    nc.lens = ln;
                    nc.logp_sum = ls;
                    nc.text = tx;
                    b.cand = nc;
                    free(b.prompts);
                    b.prompts = np;
                    b.n = c->batch_size;
                } else {
                    free(tok); free(ln); free(ls); free(tx); free(np);
                }
            }
        }
        free(pp); free(rs); free(pl); free(rl); free(keep); free(lp); free(lr); free(mg);
        if (st) goto done;
    }

    const int n = b.n, per = b.per, NC = n * per;
    const int K = r->uses_erm ? c->num_ensemble : 0;
    b.choice = calloc((size_t)n, sizeof *b.choice);
    b.mixed = calloc((size_t)n, 1);
    b.win = calloc((size_t)n, sizeof(int));
    b.mask = calloc((size_t)n, sizeof(float));
    b.p = calloc((size_t)n, sizeof(double));
    b.pairs = calloc((size_t)n, sizeof(sea_pair));
    if (!b.choice || !b.mixed || !b.win || !b.mask || !b.p || !b.pairs) {
        st = sea_error(SEA_ERR_OOM, "round buffers");
        goto done;
    }

    /* 2. features and ensemble rewards */
    double disagreement = NAN;
    if (r->uses_erm) {
        b.phi = malloc(sizeof(float) * (size_t)NC * r->feat_dim);
        b.R = malloc(sizeof(float) * (size_t)K * NC);
        b.Rp = malloc(sizeof(float) * (size_t)K * per);
        int *idx = malloc(sizeof(int) * (size_t)NC);
        if (!b.phi || !b.R || !b.Rp || !idx) {
            free(idx);
            st = sea_error(SEA_ERR_OOM, "features: %d candidates x %d", NC, r->feat_dim);
            goto done;
        }
        for (int i = 0; i < NC; i++) idx[i] = i;
        t = sea_run_now();
        int flo, fhi; /* this rank's candidates, gathered back in rank order */
        sea_run_split(r, NC, &flo, &fhi);
        float *fmine = b.phi + (size_t)flo * r->feat_dim;
        st = c->feature_concat ? sea_actor_features_concat(r->feat, b.prompts, &b.cand, idx + flo, fhi - flo, fmine)
                               : sea_actor_features(r->feat, b.prompts, &b.cand, idx + flo, fhi - flo, fmine);
        if (!st && sea_dist_size(r->team) > 1) {
            float *copy = malloc(sizeof(float) * (size_t)(fhi - flo) * r->feat_dim + 1);
            if (!copy) st = sea_error(SEA_ERR_OOM, "features");
            if (!st) memcpy(copy, fmine, sizeof(float) * (size_t)(fhi - flo) * r->feat_dim);
            if (!st) st = sea_run_gather_floats(r, copy, (size_t)(fhi - flo) * r->feat_dim, b.phi);
            free(copy);
        }
        free(idx);
        t_feat = sea_run_now() - t;
        if (st) goto done;
        t = sea_run_now();
        st = sea_erm_predict(r->erm, b.phi, NC, b.R);
        t_erm += sea_run_now() - t;
        if (st) goto done;
        double sd = 0;
        for (int i = 0; i < NC; i++) {
            double m = 0, s2 = 0;
            for (int k = 0; k < K; k++) m += b.R[(size_t)k * NC + i];
            m /= K;
            for (int k = 0; k < K; k++) s2 += (b.R[(size_t)k * NC + i] - m) * (b.R[(size_t)k * NC + i] - m);
            sd += sqrt(s2 / (K - 1));
        }
        disagreement = sd / NC;
    }

    /* 3. pair selection (+ mixed preference learning) */
    sea_select_cfg sc = {em, c->explore_random_second, c->baits_sigmoid};
    sea_mixed_cfg mc = {c->gamma, c->burn_in, c->mixed_oracle_label};
    int n_mixed = 0;
    if (r->uses_erm && sea_mixed_active(&mc, r->round)) n_mixed = sea_mixed_choose(&mc, n, &r->rng[RNG_MIXED], b.mixed);
    int mixed_agree = 0, mixed_checked = 0;
    for (int i = 0; i < n; i++) {
        if (r->uses_erm)
            for (int k = 0; k < K; k++) memcpy(b.Rp + (size_t)k * per, b.R + (size_t)k * NC + (size_t)i * per, sizeof(float) * per);
        if (b.mixed[i]) {
            b.choice[i] = sea_mixed_pair(b.Rp, K, per, &r->rng[RNG_MIXED], NULL);
        } else if (xpo) {
            b.choice[i].i1 = 0;
            b.choice[i].i2 = 0;
            b.choice[i].valid = true;
        } else {
            st = sea_select_pair(&sc, b.Rp, K, per, &r->rng[RNG_SELECT], &b.choice[i]);
            if (st) goto done;
        }
    }

    /* 4. oracle labels for the non-mixed pairs (and, with --mixed-oracle-label, the mixed ones) */
    int64_t budget = c->max_queries > 0 ? c->max_queries - r->queries : INT64_MAX;
    const char **qp = malloc(sizeof(char *) * (size_t)n), **qa = malloc(sizeof(char *) * (size_t)n);
    const char **qb = malloc(sizeof(char *) * (size_t)n);
    int *qi = malloc(sizeof(int) * (size_t)n);
    double *qpp = calloc((size_t)n, sizeof(double));
    int *qw = calloc((size_t)n, sizeof(int));
    float *qm = calloc((size_t)n, sizeof(float));
    if (!qp || !qa || !qb || !qi || !qpp || !qw || !qm) {
        free(qp); free(qa); free(qb); free(qi); free(qpp); free(qw); free(qm);
        st = sea_error(SEA_ERR_OOM, "oracle batch");
        goto done;
    }
    int n_q = 0, n_budget_cut = 0, n_queried = 0, n_tied = 0;
    int n_identical_counted = 0;   /* --count-identical: identical pairs charged without asking */
    int64_t budget_left = budget;
    for (int pass = 0; pass < 2; pass++) {   /* pass 0: counted queries, pass 1: mixed with oracle labels */
        int m = 0;
        for (int i = 0; i < n; i++) {
            bool want = pass == 0 ? !b.mixed[i] : (b.mixed[i] && c->mixed_oracle_label);
            if (!want || !b.choice[i].valid) continue;
            int ia, ib;
            const sea_candidates *ca = cand_of(&b, i, 0, &ia), *cb = cand_of(&b, i, 1, &ib);
            bool same = ca == cb && sea_candidates_same(ca, ia, ib);
            if (!same && ca != cb) same = !strcmp(ca->text[ia], cb->text[ib]) && ca->lens[ia] == cb->lens[ib] &&
                                      !memcmp(sea_candidate_tokens(ca, ia), sea_candidate_tokens(cb, ib), sizeof(int32_t) * ca->lens[ia]);
            if (pass == 0 && (!same || c->count_identical)) {
                if (budget_left <= 0) {
                    n_budget_cut++;
                    b.choice[i].valid = false;
                    continue;
                }
                budget_left--;
                n_identical_counted += same;
            }
            qi[m] = i;
            qp[m] = b.prompts[i]->text;
            qa[m] = ca->text[ia];
            qb[m] = cb->text[ib];
            m++;
        }
        if (m == 0) continue;
        sea_label_cfg lc = {c->bt_sample, c->label_flip};
        int nq = 0;
        t = sea_run_now();
        /* only rank 0 asks (and logs); its answers are shared below */
        if (is_root(r)) st = sea_oracle_compare(r->oracle, &lc, m, qp, qa, qb, &r->rng[RNG_LABEL], qpp, qw, qm, &nq);
        t_orc += sea_run_now() - t;
        if (st) break;
        for (int q = 0; q < m; q++) {
            int i = qi[q];
            b.p[i] = qpp[q];
            if (pass == 0) {
                b.win[i] = qw[q];
                b.mask[i] = qm[q];
            } else {
                /* the oracle's label replaces the member's (reference semantics) */
                mixed_checked += qm[q] != 0;
                mixed_agree += qm[q] != 0 && qw[q] == 1;
                b.win[i] = qw[q];
                b.mask[i] = qm[q];
            }
            n_tied += qm[q] == 0;
        }
        if (pass == 0) {
            n_q = m;
            n_queried = nq + n_identical_counted;
        }
    }
    free(qp); free(qa); free(qb); free(qi); free(qpp); free(qw); free(qm);
    if (!st) {
        int extra[3] = {mixed_checked, mixed_agree, n_tied};
        st = sea_run_share_labels(r, n, b.p, b.win, b.mask, &n_queried, extra, 3);
        mixed_checked = extra[0];
        mixed_agree = extra[1];
        n_tied = extra[2];
    }
    if (st) goto done;
    r->queries += n_queried;
    (void)n_q;
    double online = NAN;
    if (c->online_metric) {
        st = is_root(r) ? online_quality(r, &b, &online) : SEA_OK;
        if (!st) st = sea_run_share_double(r, &online);
        if (st) goto done;
    }
    /* mixed pairs without oracle labels: the member's own label (i1 = its best) */
    for (int i = 0; i < n; i++)
        if (b.mixed[i] && !c->mixed_oracle_label) {
            b.win[i] = 1;
            b.mask[i] = b.choice[i].valid ? 1.0f : 0.0f;
        }

    /* ERM accuracy on the queried pairs, from the ensemble mean before the label was used */
    double erm_acc = NAN;
    if (r->uses_erm) {
        int right = 0, tot = 0;
        for (int i = 0; i < n; i++) {
            if (b.mixed[i] || !b.choice[i].valid || b.mask[i] == 0) continue;
            double m1 = 0, m2 = 0;
            for (int k = 0; k < K; k++) {
                m1 += b.R[(size_t)k * NC + (size_t)i * per + b.choice[i].i1];
                m2 += b.R[(size_t)k * NC + (size_t)i * per + b.choice[i].i2];
            }
            if (m1 == m2) continue;
            right += (m1 > m2) == (b.win[i] == 1);
            tot++;
        }
        if (tot) erm_acc = (double)right / tot;
    }

    /* 5. replay buffer: oracle-labelled pairs (mask 0 for ties and for mixed pairs) */
    if (r->uses_erm) {
        for (int i = 0; i < n; i++) {
            if (!b.choice[i].valid) continue;
            if (b.mixed[i] && !c->mixed_oracle_label) continue;
            int ci1 = i * per + b.choice[i].i1, ci2 = i * per + b.choice[i].i2;
            int cw = b.win[i] ? ci1 : ci2, cl = b.win[i] ? ci2 : ci1;
            float m = b.mixed[i] ? 0.0f : b.mask[i];
            sea_replay_push(&r->replay, b.phi + (size_t)cw * r->feat_dim, b.phi + (size_t)cl * r->feat_dim, m);
        }
    }

    /* 6. policy step on this round's pairs */
    int np = 0;
    for (int i = 0; i < n; i++) {
        if (!b.choice[i].valid) continue;
        int ia, ib;
        const sea_candidates *ca = cand_of(&b, i, 0, &ia), *cb = cand_of(&b, i, 1, &ib);
        bool a_wins = b.win[i] == 1;
        sea_pair *p = &b.pairs[np++];
        p->prompt = b.prompts[i]->ids;
        p->prompt_len = b.prompts[i]->n_ids;
        const sea_candidates *cc = a_wins ? ca : cb, *cr = a_wins ? cb : ca;
        int ic = a_wins ? ia : ib, ir = a_wins ? ib : ia;
        p->chosen = sea_candidate_tokens(cc, ic);
        p->chosen_len = cc->lens[ic];
        p->rejected = sea_candidate_tokens(cr, ir);
        p->rejected_len = cr->lens[ir];
        p->mask = b.mask[i];
        /* sampling-time log-probs describe the policy only when the sampler is the policy */
        bool live = r->actor == r->policy;
        p->sample_logp_chosen = live && cc == &b.cand ? cc->logp_sum[ic] : NAN;
        p->sample_logp_rejected = live && cr == &b.cand ? cr->logp_sum[ir] : NAN;
        p->xpo_ref_side = xpo ? (cc == &b.cand_ref ? 1 : 2) : 0;
    }
    /* here, or (roles) on the learner ranks while the actors update the ERM below */
    sea_learner_stats ls;
    memset(&ls, 0, sizeof ls);
    double t_bcast = 0, t_send = 0, t_wait = 0;
    if (r->role == SEA_ROLE_ACTOR) {
        st = sea_run_ship(r, SEA_ROLES_STEP, b.pairs, np, &t_send);
    } else {
        t = sea_run_now();
        st = sea_learner_step(r->learner, b.pairs, np, &ls);
        t_learn = sea_run_now() - t;
        if (!st) st = sea_run_share_policy(r, &t_bcast);
    }
    if (st) goto done;

    /* 7. ERM update */
    sea_erm_stats es = {0};
    if (r->uses_erm && c->learn_rm && (c->rm_stop_after <= 0 || r->queries < c->rm_stop_after)) {
        t = sea_run_now();
        st = sea_erm_update(r->erm, &r->replay, r->queries, &r->rng[RNG_ERM], &es);
        t_erm += sea_run_now() - t;
        if (st) goto done;
    }
    /* roles: the learners' statistics and new weights (the sampler of the next round) */
    if (r->role == SEA_ROLE_ACTOR) {
        st = sea_run_receive_update(r, &ls, &t_learn, &t_wait, &t_bcast);
        if (st) goto done;
    }

    /* 8. sync the sampler */
    r->round++;
    if (r->own_actor && r->round % c->sync_params_every == 0) {
        st = sea_model_copy_params(r->actor, r->policy);
        if (st) goto done;
    }
    r->zero_query_rounds = n_queried == 0 ? r->zero_query_rounds + 1 : 0;
    if (r->zero_query_rounds >= 50) *stop = true;

    /* metrics */
    put(ml, "round", r->round);
    put(ml, "misc/query_step", (double)r->queries);
    put(ml, "misc/queries_this_round", n_queried);
    put(ml, "misc/pairs", np);
    put(ml, "misc/mixed_pairs", n_mixed);
    put(ml, "misc/tied_pairs", n_tied);
    put(ml, "misc/budget_cut_pairs", n_budget_cut);
    put(ml, "misc/logp_mismatch", ls.logp_mismatch);
    put(ml, "loss", ls.loss);
    put(ml, "rewards/chosen", ls.pref.rewards_chosen);
    put(ml, "rewards/rejected", ls.pref.rewards_rejected);
    put(ml, "rewards/margins", ls.pref.rewards_margins);
    put(ml, "rewards/accuracies", ls.pref.rewards_accuracies);
    put(ml, "logps/chosen", ls.pref.logps_chosen);
    put(ml, "logps/rejected", ls.pref.logps_rejected);
    put(ml, "objective/kl", ls.kl);
    put(ml, "beta", r->cfg.beta > 0 ? r->cfg.beta : sea_pref_algo_default_beta(c->algo));
    put(ml, "lr", ls.lr);
    put(ml, "grad_norm", ls.grad_norm);
    put(ml, "skipped_step", ls.skipped);
    put(ml, "erm/accuracy", erm_acc);
    put(ml, "erm/disagreement", disagreement);
    put(ml, "erm/loss", es.steps ? es.loss : NAN);
    put(ml, "erm/buffer", r->uses_erm ? r->replay.count : 0);
    put(ml, "erm/mixed_oracle_agreement", mixed_checked ? (double)mixed_agree / mixed_checked : NAN);
    if (c->online_metric) put(ml, "online/ee_quality", online);
    put(ml, "timing/generate", t_gen);
    put(ml, "timing/features", t_feat);
    put(ml, "timing/erm", t_erm);
    put(ml, "timing/oracle", t_orc);
    put(ml, "timing/learn", t_learn);
    put(ml, "timing/allreduce", ls.allreduce_s);
    put(ml, "timing/broadcast", t_bcast);
    put(ml, "timing/rollout_send", t_send);
    put(ml, "timing/learner_wait", t_wait);
    put(ml, "misc/ranks", sea_dist_size(c->dist));
    put(ml, "misc/actors", c->actors);
    put(ml, "timing/round", sea_run_now() - t0);
    if (ls.skipped && np > 0 && !c->quiet)
        fprintf(stderr, "\nround %d: non-finite loss/gradient, optimizer step skipped\n", r->round);
done:
    round_free(&b);
    return st;
}

/* Rank 0 evaluates (greedy decoding + oracle, and best-of-N when asked); every rank gets
 * the win rates. */
static sea_status evaluate(sea_run *r, double *wr, double *bon)
{
    *wr = *bon = NAN;
    sea_status st = is_root(r) ? sea_run_evaluate(r, wr) : SEA_OK;
    if (!st && r->cfg.bon_n > 0 && is_root(r)) st = sea_run_evaluate_bon(r, bon);
    if (!st) st = sea_run_share_double(r, wr);
    if (!st) st = sea_run_share_double(r, bon);
    return st;
}

/* Only rank 0 writes checkpoints; every rank of its team holds the same state. With roles, the
 * learner state comes from the learner leader first. */
static sea_status save(sea_run *r)
{
    if (r->role == SEA_ROLE_ACTOR) {
        SEA_TRY(sea_run_ship(r, SEA_ROLES_CHECKPOINT, NULL, 0, NULL));
        SEA_TRY(sea_run_receive_learner_state(r));
    }
    sea_status st = is_root(r) ? sea_run_save(r) : SEA_OK;
    free(r->learner_state);
    r->learner_state = NULL;
    return st;
}

static void progress(sea_run *r)
{
    if (r->cfg.quiet || !is_root(r)) return;
    double el = sea_run_now() - r->t_start;
    double frac = r->cfg.max_queries > 0 ? (double)r->queries / r->cfg.max_queries : 0;
    if (r->cfg.max_rounds > 0) frac = fmax(frac, (double)r->round / r->cfg.max_rounds);
    double eta = frac > 0 ? el * (1 - frac) / frac : 0;
    fprintf(stderr, "\rround %d | queries %lld/%lld | win rate %.3f | %.1f s | ETA %.0f s   ", r->round,
            (long long)r->queries, (long long)r->cfg.max_queries, r->last_win_rate, el, eta);
    fflush(stderr);
}

static sea_status write_summary(sea_run *r)
{
    char p[2 * SEA_PATH_MAX];
    snprintf(p, sizeof p, "%s/summary.json", r->cfg.output_dir);
    size_t cap = 4096 + (size_t)r->n_evals * 64;
    char *s = malloc(cap);
    if (!s) return sea_error(SEA_ERR_OOM, "summary");
    size_t n = (size_t)snprintf(s, cap,
                                "{\n  \"exp_method\": \"%s\",\n  \"algo\": \"%s\",\n  \"seed\": %llu,\n  \"rounds\": %d,\n"
                                "  \"queries\": %lld,\n  \"final_win_rate\": %.6g,\n  \"eval_prompts\": %d,\n  \"truncated_prompts\": %d,\n"
                                "  \"wall_s\": %.3f,\n"
                                "  \"eval\": [",
                                sea_explore_name(r->cfg.exp_method), sea_pref_algo_name(r->cfg.algo),
                                (unsigned long long)r->cfg.seed, r->round, (long long)r->queries, r->last_win_rate, r->n_eval,
                                r->truncated_prompts, sea_run_now() - r->t_start);
    for (int i = 0; i < r->n_evals; i++)
        n += (size_t)snprintf(s + n, cap - n, "%s[%lld, %.6g]", i ? ", " : "", (long long)r->eval_q[i], r->eval_wr[i]);
    snprintf(s + n, cap - n, "]\n}\n");
    sea_status st = write_text(p, s);
    free(s);
    if (st || r->cfg.no_plot || r->n_evals == 0) return st;
    double *x = malloc(sizeof(double) * (size_t)r->n_evals);
    if (!x) return sea_error(SEA_ERR_OOM, "plot");
    for (int i = 0; i < r->n_evals; i++) x[i] = (double)r->eval_q[i];
    sea_plot_series ser = {sea_explore_name(r->cfg.exp_method), r->n_evals, x, r->eval_wr, NULL};
    snprintf(p, sizeof p, "%s/win_rate.svg", r->cfg.output_dir);
    st = sea_plot_svg(p, "win rate vs oracle queries", "oracle queries", "win rate vs reference", &ser, 1);
    free(x);
    return st;
}

static volatile sig_atomic_t stop_requested;

void sea_train_request_stop(void) { stop_requested = 1; }

sea_status sea_train_run(const sea_train_cfg *cfg, sea_train_result *res)
{
    memset(res, 0, sizeof *res);
    sea_run r;
    memset(&r, 0, sizeof r);
    r.cfg = *cfg;
    r.t_start = sea_run_now();
    bool resumed = false;
    sea_status st = setup(&r, &resumed);
    if (!st && r.role == SEA_ROLE_LEARNER) {
        st = sea_run_learner_loop(&r);
        goto finish;
    }
    if (!st && !resumed) {
        /* round 0: the starting policy's win rate (0 when the references are its own outputs) */
        double wr, bon;
        double t = sea_run_now();
        st = evaluate(&r, &wr, &bon);
        if (!st) st = add_eval(&r, wr);
        line ml = {.buf = "{", .n = 1};
        put(&ml, "round", 0);
        put(&ml, "misc/query_step", 0);
        put(&ml, "eval/rm_win_rate", wr);
        if (cfg->bon_n > 0) put(&ml, "eval/bon_win_rate", bon);
        put(&ml, "timing/eval", sea_run_now() - t);
        put_memory(&r, &ml);
        if (!st) st = emit(&r, &ml);
        if (!st && cfg->checkpoint_every > 0 && !cfg->eval_only) st = save(&r);
    }
    bool stop = cfg->eval_only;   /* --eval-only: round 0's evaluation is the whole run */
    while (!st && !stop) {
        if (cfg->max_queries > 0 && r.queries >= cfg->max_queries) break;
        if (cfg->max_rounds > 0 && r.round >= cfg->max_rounds) break;
        line ml = {.buf = "{", .n = 1};
        st = run_round(&r, &ml, &stop);
        if (st) break;
        bool last = (cfg->max_queries > 0 && r.queries >= cfg->max_queries) || (cfg->max_rounds > 0 && r.round >= cfg->max_rounds) || stop;
        if ((cfg->eval_every > 0 && r.round % cfg->eval_every == 0) || last) {
            double wr, bon, t = sea_run_now();
            st = evaluate(&r, &wr, &bon);
            if (!st) st = add_eval(&r, wr);
            put(&ml, "eval/rm_win_rate", wr);
            if (cfg->bon_n > 0) put(&ml, "eval/bon_win_rate", bon);
            put(&ml, "timing/eval", sea_run_now() - t);
            if (st) break;
        }
        put_memory(&r, &ml);
        st = emit(&r, &ml);
        if (st) break;
        progress(&r);
        if (cfg->kill_after_rounds > 0 && r.round >= cfg->kill_after_rounds) {
            /* testing: die as a kill would, after the metrics line and before the checkpoint */
            res->killed = 1;
            break;
        }
        bool stopping = stop_requested && sea_dist_size(cfg->dist) <= 1 && !last;
        if (cfg->checkpoint_every > 0 && (r.round % cfg->checkpoint_every == 0 || last || stopping)) st = save(&r);
        if (!st && cfg->save_policy_every > 0 && r.round % cfg->save_policy_every == 0 && is_root(&r)) {
            char name[64];
            snprintf(name, sizeof name, "policy-round%d", r.round);
            st = sea_run_save_policy(&r, name);
        }
        if (!st && stopping) {
            res->stopped = 1;
            break;
        }
    }
    /* the learners wait for a command until told to stop */
    if (!st && r.role == SEA_ROLE_ACTOR) st = sea_run_ship(&r, SEA_ROLES_STOP, NULL, 0, NULL);
    if (!cfg->quiet && is_root(&r)) fprintf(stderr, "\n");
    if (!st && !res->killed && is_root(&r)) st = write_summary(&r);
    if (!st && !res->killed && !res->stopped && is_root(&r) && !cfg->no_save_policy && !cfg->eval_only)
        st = sea_run_save_policy(&r, "policy");
finish:
    res->rounds = r.round;
    res->queries = r.queries;
    res->final_win_rate = r.last_win_rate;
    res->wall_s = sea_run_now() - r.t_start;
    if (r.n_evals > 0) {
        res->eval_queries = malloc(sizeof(int64_t) * (size_t)r.n_evals);
        res->eval_win_rate = malloc(sizeof(double) * (size_t)r.n_evals);
        if (res->eval_queries && res->eval_win_rate) {
            memcpy(res->eval_queries, r.eval_q, sizeof(int64_t) * (size_t)r.n_evals);
            memcpy(res->eval_win_rate, r.eval_wr, sizeof(double) * (size_t)r.n_evals);
            res->n_evals = r.n_evals;
        }
    }
    run_free(&r);
    return st;
}
