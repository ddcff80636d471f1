/* Atomic checkpoints of a run.
 *
 * Everything the next round depends on is saved: policy parameters + Adam state (learner.bin),
 * the sampler's weights when it syncs less often than every round (actor.bin), the ERM with
 * anchors and Adam state (erm.bin), the replay buffer (replay.bin), and state.json (round,
 * queries, data position, RNG counters, evaluation history, and the byte length of
 * metrics.jsonl that the checkpoint covers). Files go to checkpoint.tmp/ and are fsync'ed;
 * then checkpoint/ becomes checkpoint.old/, checkpoint.tmp/ becomes checkpoint/, and the old
 * one is removed. A kill at any point leaves checkpoint/ or checkpoint.old/ complete. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alignment/loop_internal.h"
#include "models/json_util.h"

static void path_join(char *out, size_t n, const char *a, const char *b)
{
    /* a truncated path (never with SEA_PATH_MAX inputs) would only fail to open, with its name */
    if (snprintf(out, n, "%s/%s", a, b) >= (int)n) out[n - 1] = '\0';
}

static void rm_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[2 * SEA_PATH_MAX];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static sea_status fsync_path(const char *p)
{
    int fd = open(p, O_RDONLY);
    if (fd < 0) return sea_error(SEA_ERR_IO, "checkpoint: open %s: %s", p, strerror(errno));
    int rc = fsync(fd);
    close(fd);
    if (rc) return sea_error(SEA_ERR_IO, "checkpoint: fsync %s: %s", p, strerror(errno));
    return SEA_OK;
}

/* The complete directory tmp becomes cur: cur goes to old first, so a kill at any point
 * leaves cur or old whole; then old is removed. */
static sea_status swap_in(sea_run *r, const char *tmp, const char *cur, const char *old, const char *what)
{
    SEA_TRY(fsync_path(tmp));
    rm_dir(old);
    if (rename(cur, old) != 0 && errno != ENOENT)
        return sea_error(SEA_ERR_IO, "%s: rename %s: %s", what, cur, strerror(errno));
    if (rename(tmp, cur) != 0) return sea_error(SEA_ERR_IO, "%s: rename %s: %s", what, tmp, strerror(errno));
    SEA_TRY(fsync_path(r->cfg.output_dir));
    rm_dir(old);
    return SEA_OK;
}

typedef sea_status (*writer_fn)(sea_run *r, FILE *f);

static sea_status write_file(sea_run *r, const char *dir, const char *name, writer_fn fn)
{
    char p[2 * SEA_PATH_MAX];
    path_join(p, sizeof p, dir, name);
    FILE *f = fopen(p, "wb");
    if (!f) return sea_error(SEA_ERR_IO, "checkpoint %s: %s", p, strerror(errno));
    sea_status st = fn(r, f);
    if (fflush(f) != 0 && !st) st = sea_error(SEA_ERR_IO, "checkpoint %s: %s", p, strerror(errno));
    if (!st && fsync(fileno(f)) != 0) st = sea_error(SEA_ERR_IO, "checkpoint %s: fsync: %s", p, strerror(errno));
    if (fclose(f) != 0 && !st) st = sea_error(SEA_ERR_IO, "checkpoint %s: close failed", p);
    if (st) return sea_error_context(st, "checkpoint %s", p);
    return SEA_OK;
}

/* Role-split runs: rank 0 has no learner; it writes the bytes the learner leader sent. */
static sea_status w_learner(sea_run *r, FILE *f)
{
    if (r->learner) return sea_learner_write(r->learner, f);
    if (!r->learner_state) return sea_error(SEA_ERR_INTERNAL, "learner checkpoint: no learner state from the learners");
    if (fwrite(r->learner_state, 1, r->learner_state_bytes, f) != r->learner_state_bytes)
        return sea_error(SEA_ERR_IO, "learner checkpoint: write");
    return SEA_OK;
}
static sea_status w_erm(sea_run *r, FILE *f) { return sea_erm_write(r->erm, f); }
static sea_status w_replay(sea_run *r, FILE *f) { return sea_replay_write(&r->replay, f); }

static sea_status w_actor(sea_run *r, FILE *f)
{
    sea_tensor p;
    SEA_TRY(sea_model_params(r->actor, &p, NULL));
    int64_t n = sea_tensor_numel(&p);
    float *buf = malloc(sizeof(float) * (size_t)n);
    if (!buf) return sea_error(SEA_ERR_OOM, "actor checkpoint");
    sea_status st = sea_tensor_read_f32(sea_device_stream(r->dev), &p, buf);
    if (!st && fwrite(buf, sizeof(float), (size_t)n, f) != (size_t)n) st = sea_error(SEA_ERR_IO, "actor checkpoint: write");
    free(buf);
    return st;
}

/* The run's counters as a sea_run_state (its eval arrays borrowed from r). */
static sea_run_state state_of(const sea_run *r)
{
    sea_run_state st = {.round = r->round, .queries = r->queries, .epoch = r->epoch, .pos = r->pos,
                        .zero_query_rounds = r->zero_query_rounds, .last_win_rate = r->last_win_rate,
                        .metrics_offset = r->metrics_offset, .n_evals = r->n_evals, .eval_q = r->eval_q,
                        .eval_wr = r->eval_wr};
    memcpy(st.rng, r->rng, sizeof st.rng);
    return st;
}

static sea_status w_state(sea_run *r, FILE *f)
{
    sea_run_state st = state_of(r);
    char *s = sea_run_state_format(&st);
    if (!s) return sea_error(SEA_ERR_OOM, "state.json");
    sea_status rc = fputs(s, f) < 0 ? sea_error(SEA_ERR_IO, "state.json: write") : SEA_OK;
    free(s);
    return rc;
}

sea_status sea_run_save(sea_run *r)
{
    char tmp[2 * SEA_PATH_MAX], cur[2 * SEA_PATH_MAX], old[2 * SEA_PATH_MAX];
    path_join(tmp, sizeof tmp, r->cfg.output_dir, "checkpoint.tmp");
    path_join(cur, sizeof cur, r->cfg.output_dir, "checkpoint");
    path_join(old, sizeof old, r->cfg.output_dir, "checkpoint.old");
    rm_dir(tmp);
    if (mkdir(tmp, 0755) != 0) return sea_error(SEA_ERR_IO, "checkpoint: mkdir %s: %s", tmp, strerror(errno));
    /* metrics lines so far are part of what this checkpoint stands for */
    if (r->metrics) {
        fflush(r->metrics);
        fsync(fileno(r->metrics));
        long at = ftell(r->metrics);
        if (at < 0) return sea_error(SEA_ERR_IO, "checkpoint: metrics.jsonl: ftell: %s", strerror(errno));
        r->metrics_offset = at;
    }
    SEA_TRY(write_file(r, tmp, "learner.bin", w_learner));
    if (r->own_actor) SEA_TRY(write_file(r, tmp, "actor.bin", w_actor));
    if (r->erm) {
        SEA_TRY(write_file(r, tmp, "erm.bin", w_erm));
        SEA_TRY(write_file(r, tmp, "replay.bin", w_replay));
    }
    SEA_TRY(write_file(r, tmp, "state.json", w_state));
    return swap_in(r, tmp, cur, old, "checkpoint");
}

static sea_status read_file(sea_run *r, const char *dir, const char *name, sea_status (*fn)(sea_run *, FILE *))
{
    char p[2 * SEA_PATH_MAX];
    path_join(p, sizeof p, dir, name);
    FILE *f = fopen(p, "rb");
    if (!f) return sea_error(SEA_ERR_IO, "checkpoint %s: %s", p, strerror(errno));
    sea_status st = fn(r, f);
    fclose(f);
    if (st) return sea_error_context(st, "checkpoint %s", p);
    return SEA_OK;
}

/* Actor ranks (roles) have no learner: they take the policy parameters only. */
static sea_status r_learner(sea_run *r, FILE *f)
{
    return r->learner ? sea_learner_read(r->learner, f) : sea_learner_read_params(r->policy, f);
}
static sea_status r_erm(sea_run *r, FILE *f) { return sea_erm_read(r->erm, f); }
static sea_status r_replay(sea_run *r, FILE *f) { return sea_replay_read(&r->replay, f); }

static sea_status r_actor(sea_run *r, FILE *f)
{
    sea_tensor p;
    SEA_TRY(sea_model_params(r->actor, &p, NULL));
    int64_t n = sea_tensor_numel(&p);
    float *buf = malloc(sizeof(float) * (size_t)n);
    if (!buf) return sea_error(SEA_ERR_OOM, "actor checkpoint");
    sea_status st = fread(buf, sizeof(float), (size_t)n, f) == (size_t)n ? SEA_OK
                                                                          : sea_error(SEA_ERR_FORMAT, "actor checkpoint: truncated");
    if (!st) st = sea_tensor_write_f32(sea_device_stream(r->dev), &p, buf);
    free(buf);
    return st;
}

sea_status sea_run_save_policy(sea_run *r, const char *name)
{
    char tmp[2 * SEA_PATH_MAX], cur[2 * SEA_PATH_MAX], old[2 * SEA_PATH_MAX], n[SEA_PATH_MAX];
    path_join(cur, sizeof cur, r->cfg.output_dir, name);
    snprintf(n, sizeof n, "%s.tmp", name);
    path_join(tmp, sizeof tmp, r->cfg.output_dir, n);
    snprintf(n, sizeof n, "%s.old", name);
    path_join(old, sizeof old, r->cfg.output_dir, n);
    rm_dir(tmp);
    sea_dtype dtype = SEA_F32;   /* --save-dtype, checked by sea_train_cfg_validate */
    if (r->cfg.save_dtype[0] && sea_dtype_from_name(r->cfg.save_dtype, &dtype))
        return sea_error(SEA_ERR_INVALID, "--save-dtype %s", r->cfg.save_dtype);
    SEA_TRY(sea_model_save_hf_as(r->policy, tmp, 0, dtype));
    SEA_TRY(sea_hf_copy_tokenizer_files(r->cfg.policy, tmp));
    return swap_in(r, tmp, cur, old, "policy");
}

/* state.json at path, checked whole (run_state.c) before anything in r changes. */
static sea_status load_state(sea_run *r, const char *path)
{
    char *text = NULL;
    size_t n = 0;
    sea_run_state st;
    sea_status rc = sea_file_read(path, &text, &n);
    if (!rc) rc = sea_run_state_parse(text, n, NULL, &st);
    free(text);
    if (rc) return sea_error_context(rc, "checkpoint %s", path);
    r->round = st.round;
    r->queries = st.queries;
    r->epoch = st.epoch;
    r->pos = st.pos;
    r->zero_query_rounds = st.zero_query_rounds;
    r->last_win_rate = st.last_win_rate;
    r->metrics_offset = st.metrics_offset;
    memcpy(r->rng, st.rng, sizeof st.rng);
    free(r->eval_q);
    free(r->eval_wr);
    r->eval_q = st.eval_q;
    r->eval_wr = st.eval_wr;
    r->n_evals = r->cap_evals = st.n_evals;
    return SEA_OK;
}

sea_status sea_run_load(sea_run *r, bool *found)
{
    *found = false;
    char cur[2 * SEA_PATH_MAX], st_path[3 * SEA_PATH_MAX];
    path_join(cur, sizeof cur, r->cfg.output_dir, "checkpoint");
    snprintf(st_path, sizeof st_path, "%s/state.json", cur);
    if (access(st_path, R_OK) != 0) {
        /* killed between the two renames: the previous checkpoint is complete */
        path_join(cur, sizeof cur, r->cfg.output_dir, "checkpoint.old");
        snprintf(st_path, sizeof st_path, "%s/state.json", cur);
        if (access(st_path, R_OK) != 0) return SEA_OK;
    }
    snprintf(st_path, sizeof st_path, "%s/state.json", cur);
    SEA_TRY(load_state(r, st_path));
    SEA_TRY(read_file(r, cur, "learner.bin", r_learner));
    if (r->own_actor) SEA_TRY(read_file(r, cur, "actor.bin", r_actor));
    if (r->erm) { /* the learner ranks of a role-split run have none */
        SEA_TRY(read_file(r, cur, "erm.bin", r_erm));
        SEA_TRY(read_file(r, cur, "replay.bin", r_replay));
    }
    if (r->role != SEA_ROLE_LEARNER) SEA_TRY(sea_run_make_perm(r));
    *found = true;
    return SEA_OK;
}
