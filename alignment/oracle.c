#include "alignment/oracle.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

sea_oracle_opts sea_oracle_opts_default(void)
{
    sea_oracle_opts o = {.device = NULL, .timeout_s = 30.0, .log_path = NULL};
    return o;
}

sea_status sea_oracle_open(const char *spec, const sea_oracle_opts *opts, sea_oracle **out)
{
    *out = NULL;
    sea_oracle_opts def = sea_oracle_opts_default();
    if (!opts) opts = &def;
    sea_oracle *o = calloc(1, sizeof *o);
    if (!o) return sea_error(SEA_ERR_OOM, "oracle");
    o->log_fd = -1;
    snprintf(o->spec, sizeof o->spec, "%s", spec);
    sea_status st;
    if (!strncmp(spec, "builtin:", 8))
        st = sea_oracle_builtin_open(spec + 8, &o->ctx, &o->vt);
    else if (!strncmp(spec, "judge:", 6))
        st = sea_oracle_judge_open(spec + 6, opts->timeout_s > 0 ? opts->timeout_s : 30.0, &o->ctx, &o->vt);
    else if (!strncmp(spec, "rm:", 3))
        st = sea_oracle_rm_open(spec + 3, opts->device, &o->ctx, &o->vt);
    else
        st = sea_error(SEA_ERR_INVALID, "--oracle '%s': expected builtin:TASK, rm:DIR or judge:COMMAND", spec);
    if (st) {
        free(o);
        return st;
    }
    if (opts->log_path) {
        o->log = fopen(opts->log_path, "a");
        if (!o->log) {
            sea_oracle_free(o);
            return sea_error(SEA_ERR_IO, "oracle log %s: %s", opts->log_path, strerror(errno));
        }
        o->log_fd = fileno(o->log);
    }
    *out = o;
    return SEA_OK;
}

void sea_oracle_free(sea_oracle *o)
{
    if (!o) return;
    if (o->vt && o->vt->free) o->vt->free(o->ctx);
    if (o->log) fclose(o->log);
    free(o);
}

sea_status sea_json_escape(const char *s, char **buf, size_t *len, size_t *cap)
{
    size_t need = strlen(s) * 6 + 3;
    if (*len + need + 1 > *cap) {
        size_t nc = (*cap + need + 1) * 2;
        char *nb = realloc(*buf, nc);
        if (!nb) return sea_error(SEA_ERR_OOM, "json escape: %zu bytes", nc);
        *buf = nb;
        *cap = nc;
    }
    char *p = *buf + *len;
    *p++ = '"';
    for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
        switch (*c) {
        case '"': *p++ = '\\'; *p++ = '"'; break;
        case '\\': *p++ = '\\'; *p++ = '\\'; break;
        case '\n': *p++ = '\\'; *p++ = 'n'; break;
        case '\r': *p++ = '\\'; *p++ = 'r'; break;
        case '\t': *p++ = '\\'; *p++ = 't'; break;
        default:
            if (*c < 0x20) p += sprintf(p, "\\u%04x", *c);
            else *p++ = (char)*c;
        }
    }
    *p++ = '"';
    *p = '\0';
    *len = (size_t)(p - *buf);
    return SEA_OK;
}

static sea_status append(char **buf, size_t *len, size_t *cap, const char *s)
{
    size_t n = strlen(s);
    if (*len + n + 1 > *cap) {
        size_t nc = (*cap + n + 1) * 2;
        char *nb = realloc(*buf, nc);
        if (!nb) return sea_error(SEA_ERR_OOM, "oracle log line");
        *buf = nb;
        *cap = nc;
    }
    memcpy(*buf + *len, s, n + 1);
    *len += n;
    return SEA_OK;
}

/* One JSON line per answer, then fflush + fsync: on disk before the caller sees the scores. */
static sea_status log_scores(sea_oracle *o, const char *what, int n, const char *const *prompts,
                             const char *const *responses, const double *scores)
{
    if (!o->log) return SEA_OK;
    char *buf = NULL;
    size_t len = 0, cap = 0;
    sea_status st = SEA_OK;
    for (int i = 0; i < n && !st; i++) {
        char num[64];
        len = 0;
        st = append(&buf, &len, &cap, "{\"kind\":");
        if (!st) st = sea_json_escape(what, &buf, &len, &cap);
        if (!st) st = append(&buf, &len, &cap, ",\"prompt\":");
        if (!st) st = sea_json_escape(prompts[i], &buf, &len, &cap);
        if (!st) st = append(&buf, &len, &cap, ",\"response\":");
        if (!st) st = sea_json_escape(responses[i], &buf, &len, &cap);
        snprintf(num, sizeof num, ",\"score\":%.17g}\n", scores[i]);
        if (!st) st = append(&buf, &len, &cap, num);
        if (!st && fwrite(buf, 1, len, o->log) != len)
            st = sea_error(SEA_ERR_IO, "oracle log: write failed: %s", strerror(errno));
    }
    free(buf);
    if (!st && (fflush(o->log) != 0 || fsync(o->log_fd) != 0))
        st = sea_error(SEA_ERR_IO, "oracle log: flush failed: %s", strerror(errno));
    return st;
}

sea_status sea_oracle_score(sea_oracle *o, const char *what, int n, const char *const *prompts,
                            const char *const *responses, double *scores)
{
    if (n <= 0) return SEA_OK;
    int done = 0;
    sea_status st = o->vt->score(o->ctx, n, prompts, responses, scores, &done);
    if (st) {
        char msg[2048];
        snprintf(msg, sizeof msg, "%s", sea_last_error());
        if (done > 0 && done <= n) log_scores(o, what, done, prompts, responses, scores);
        o->answers += done;
        return sea_error(st, "oracle %s: %s", o->spec, msg);
    }
    for (int i = 0; i < n; i++)
        if (!isfinite(scores[i]))
            return sea_error(SEA_ERR_EXTERNAL, "oracle %s: score %g for response %d (prompt '%.60s')", o->spec,
                             scores[i], i, prompts[i]);
    SEA_TRY(log_scores(o, what, n, prompts, responses, scores));
    o->answers += n;
    return SEA_OK;
}

sea_status sea_oracle_compare(sea_oracle *o, const sea_label_cfg *lc, int n, const char *const *prompts,
                              const char *const *a, const char *const *b, sea_rng *rng, double *p,
                              int *a_wins, float *mask, int *n_queried)
{
    /* Gather the non-identical pairs into one 2n' scoring batch (one judge round trip). */
    const char **qp = malloc(sizeof(char *) * 2 * (size_t)(n > 0 ? n : 1));
    const char **qr = malloc(sizeof(char *) * 2 * (size_t)(n > 0 ? n : 1));
    double *sc = malloc(sizeof(double) * 2 * (size_t)(n > 0 ? n : 1));
    int *which = malloc(sizeof(int) * (size_t)(n > 0 ? n : 1));
    if (!qp || !qr || !sc || !which) {
        free(qp); free(qr); free(sc); free(which);
        return sea_error(SEA_ERR_OOM, "oracle compare: %d pairs", n);
    }
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (!strcmp(a[i], b[i])) {
            p[i] = 0.5;
            a_wins[i] = 0;
            mask[i] = 0;
            continue;
        }
        which[m] = i;
        qp[2 * m] = prompts[i];
        qr[2 * m] = a[i];
        qp[2 * m + 1] = prompts[i];
        qr[2 * m + 1] = b[i];
        m++;
    }
    sea_status st = sea_oracle_score(o, "query", 2 * m, qp, qr, sc);
    if (!st)
        for (int q = 0; q < m; q++) {
            int i = which[q];
            double d = sc[2 * q] - sc[2 * q + 1];
            p[i] = 1.0 / (1.0 + exp(-d));
            mask[i] = 1;
            if (lc && lc->bt_sample) {
                a_wins[i] = sea_rng_next_uniform(rng) < p[i];
            } else {
                a_wins[i] = d > 0;
                if (d == 0) mask[i] = 0;   /* equal scores carry no preference */
            }
            if (lc && lc->flip > 0 && sea_rng_next_uniform(rng) < lc->flip) a_wins[i] = !a_wins[i];
        }
    if (n_queried) *n_queried = st ? 0 : m;
    free(qp); free(qr); free(sc); free(which);
    return st;
}
