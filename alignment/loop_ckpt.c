/* Atomic checkpoints of a run.
 *
 * Everything the next round depends on is saved: policy parameters + Adam state (learner.bin),
 * the sampler's weights when it syncs less often than every round (actor.bin), the ERM with
 * anchors and Adam state (erm.bin), the replay buffer (replay.bin), and state.json (round,
 * queries, data position, RNG counters, evaluation history, and the byte length of
 * metrics.jsonl that the checkpoint covers). Files go to checkpoint.tmp/ and are fsync'ed;
 * then checkpoint/ becomes checkpoint.old/, checkpoint.tmp/ becomes checkpoint/, and the old
 * one is removed. A kill at any point leaves checkpoint/ or checkpoint.old/ complete. */
#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alignment/loop_internal.h"

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

static sea_status w_state(sea_run *r, FILE *f)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return sea_error(SEA_ERR_OOM, "state.json");
    cJSON_AddNumberToObject(o, "round", r->round);
    cJSON_AddNumberToObject(o, "queries", (double)r->queries);
    cJSON_AddNumberToObject(o, "epoch", r->epoch);
    cJSON_AddNumberToObject(o, "pos", r->pos);
    cJSON_AddNumberToObject(o, "zero_query_rounds", r->zero_query_rounds);
    cJSON_AddNumberToObject(o, "last_win_rate", r->last_win_rate);
    cJSON_AddNumberToObject(o, "metrics_offset", (double)r->metrics_offset);
    cJSON *rng = cJSON_AddArrayToObject(o, "rng");
    for (int i = 0; i < RNG_COUNT; i++) {
        /* u64 values as strings: JSON numbers are doubles */
        char b[64];
        cJSON *e = cJSON_CreateObject();
        snprintf(b, sizeof b, "%llu", (unsigned long long)r->rng[i].seed);
        cJSON_AddStringToObject(e, "seed", b);
        cJSON_AddNumberToObject(e, "stream", r->rng[i].stream);
        snprintf(b, sizeof b, "%llu", (unsigned long long)r->rng[i].counter);
        cJSON_AddStringToObject(e, "counter", b);
        cJSON_AddItemToArray(rng, e);
    }
    cJSON *ev = cJSON_AddArrayToObject(o, "evals");
    for (int i = 0; i < r->n_evals; i++) {
        cJSON *e = cJSON_CreateArray();
        cJSON_AddItemToArray(e, cJSON_CreateNumber((double)r->eval_q[i]));
        cJSON_AddItemToArray(e, cJSON_CreateNumber(r->eval_wr[i]));
        cJSON_AddItemToArray(ev, e);
    }
    char *s = cJSON_Print(o);
    cJSON_Delete(o);
    if (!s) return sea_error(SEA_ERR_OOM, "state.json");
    sea_status st = fputs(s, f) < 0 ? sea_error(SEA_ERR_IO, "state.json: write") : SEA_OK;
    free(s);
    return st;
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
        r->metrics_offset = ftell(r->metrics);
    }
    SEA_TRY(write_file(r, tmp, "learner.bin", w_learner));
    if (r->own_actor) SEA_TRY(write_file(r, tmp, "actor.bin", w_actor));
    if (r->erm) {
        SEA_TRY(write_file(r, tmp, "erm.bin", w_erm));
        SEA_TRY(write_file(r, tmp, "replay.bin", w_replay));
    }
    SEA_TRY(write_file(r, tmp, "state.json", w_state));
    SEA_TRY(fsync_path(tmp));
    rm_dir(old);
    if (rename(cur, old) != 0 && errno != ENOENT)
        return sea_error(SEA_ERR_IO, "checkpoint: rename %s: %s", cur, strerror(errno));
    if (rename(tmp, cur) != 0) return sea_error(SEA_ERR_IO, "checkpoint: rename %s: %s", tmp, strerror(errno));
    SEA_TRY(fsync_path(r->cfg.output_dir));
    rm_dir(old);
    return SEA_OK;
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

static double num(const cJSON *o, const char *k, bool *ok)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
    if (!cJSON_IsNumber(v)) {
        *ok = false;
        return 0;
    }
    return v->valuedouble;
}

static sea_status r_state(sea_run *r, FILE *f)
{
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *text = malloc((size_t)n + 1);
    if (!text) return sea_error(SEA_ERR_OOM, "state.json");
    size_t got = fread(text, 1, (size_t)n, f);
    text[got] = '\0';
    cJSON *o = cJSON_Parse(text);
    free(text);
    if (!o) return sea_error(SEA_ERR_FORMAT, "state.json: not JSON");
    bool ok = true;
    r->round = (int)num(o, "round", &ok);
    r->queries = (int64_t)num(o, "queries", &ok);
    r->epoch = (int)num(o, "epoch", &ok);
    r->pos = (int)num(o, "pos", &ok);
    r->zero_query_rounds = (int)num(o, "zero_query_rounds", &ok);
    r->last_win_rate = num(o, "last_win_rate", &ok);
    r->metrics_offset = (long)num(o, "metrics_offset", &ok);
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(o, "rng");
    if (!cJSON_IsArray(rng) || cJSON_GetArraySize(rng) != RNG_COUNT) ok = false;
    for (int i = 0; ok && i < RNG_COUNT; i++) {
        const cJSON *e = cJSON_GetArrayItem(rng, i);
        const cJSON *sd = cJSON_GetObjectItemCaseSensitive(e, "seed"), *ct = cJSON_GetObjectItemCaseSensitive(e, "counter");
        if (!cJSON_IsString(sd) || !cJSON_IsString(ct)) {
            ok = false;
            break;
        }
        r->rng[i].seed = strtoull(sd->valuestring, NULL, 10);
        r->rng[i].stream = (uint32_t)num(e, "stream", &ok);
        r->rng[i].counter = strtoull(ct->valuestring, NULL, 10);
    }
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "evals");
    r->n_evals = 0;
    if (cJSON_IsArray(ev)) {
        int m = cJSON_GetArraySize(ev);
        free(r->eval_q);
        free(r->eval_wr);
        r->cap_evals = m + 16;
        r->eval_q = malloc(sizeof(int64_t) * (size_t)r->cap_evals);
        r->eval_wr = malloc(sizeof(double) * (size_t)r->cap_evals);
        if (!r->eval_q || !r->eval_wr) ok = false;
        for (int i = 0; ok && i < m; i++) {
            const cJSON *e = cJSON_GetArrayItem(ev, i);
            r->eval_q[i] = (int64_t)cJSON_GetArrayItem(e, 0)->valuedouble;
            r->eval_wr[i] = cJSON_GetArrayItem(e, 1)->valuedouble;
            r->n_evals++;
        }
    }
    cJSON_Delete(o);
    if (!ok) return sea_error(SEA_ERR_FORMAT, "state.json: missing or malformed fields");
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
    SEA_TRY(read_file(r, cur, "state.json", r_state));
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
