#include "alignment/run_state.h"

#include <cjson/cJSON.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Integers that JSON numbers (doubles) hold exactly. */
#define EXACT_MAX 9007199254740992.0   /* 2^53 */

/* Numbers go in as raw literals printed here: cJSON's own printer tries 15 significant digits
 * and keeps them when they read back within an epsilon, so a win rate could come back one ulp
 * off and a count above 10^15 rounded. %.17g and integer formats read back exactly. */
static cJSON *raw_double(double x)
{
    char b[40];
    /* win rates are finite by construction; "nan" would not even be JSON */
    if (!isfinite(x)) return cJSON_CreateNull();
    snprintf(b, sizeof b, "%.17g", x);
    return cJSON_CreateRaw(b);
}

static cJSON *raw_int(int64_t x)
{
    char b[32];
    snprintf(b, sizeof b, "%lld", (long long)x);
    return cJSON_CreateRaw(b);
}

char *sea_run_state_format(const sea_run_state *st)
{
    cJSON *o = cJSON_CreateObject();
    if (!o) return NULL;
    cJSON_AddItemToObject(o, "round", raw_int(st->round));
    cJSON_AddItemToObject(o, "queries", raw_int(st->queries));
    cJSON_AddItemToObject(o, "epoch", raw_int(st->epoch));
    cJSON_AddItemToObject(o, "pos", raw_int(st->pos));
    cJSON_AddItemToObject(o, "zero_query_rounds", raw_int(st->zero_query_rounds));
    cJSON_AddItemToObject(o, "last_win_rate", raw_double(st->last_win_rate));
    cJSON_AddItemToObject(o, "metrics_offset", raw_int(st->metrics_offset));
    cJSON *rng = cJSON_AddArrayToObject(o, "rng");
    for (int i = 0; rng && i < SEA_RUN_RNGS; i++) {
        /* u64 values as decimal strings: a JSON number is a double */
        char b[32];
        cJSON *e = cJSON_CreateObject();
        if (!e) break;
        snprintf(b, sizeof b, "%llu", (unsigned long long)st->rng[i].seed);
        cJSON_AddStringToObject(e, "seed", b);
        cJSON_AddItemToObject(e, "stream", raw_int(st->rng[i].stream));
        snprintf(b, sizeof b, "%llu", (unsigned long long)st->rng[i].counter);
        cJSON_AddStringToObject(e, "counter", b);
        cJSON_AddItemToArray(rng, e);
        if (cJSON_GetArraySize(e) != 3) break;
    }
    cJSON *ev = cJSON_AddArrayToObject(o, "evals");
    for (int i = 0; ev && i < st->n_evals; i++) {
        cJSON *e = cJSON_CreateArray();
        if (!e) break;
        cJSON_AddItemToArray(e, raw_int(st->eval_q[i]));
        cJSON_AddItemToArray(e, raw_double(st->eval_wr[i]));
        cJSON_AddItemToArray(ev, e);
        if (cJSON_GetArraySize(e) != 2) break;
    }
    /* Anything that failed to allocate above shows as a missing item: refuse the whole text
     * rather than write a state that would not read back. */
    bool whole = rng && ev && cJSON_GetArraySize(rng) == SEA_RUN_RNGS && cJSON_GetArraySize(ev) == st->n_evals &&
                 cJSON_GetArraySize(o) == 9;
    char *s = whole ? cJSON_Print(o) : NULL;
    cJSON_Delete(o);
    return s;
}

void sea_run_state_free(sea_run_state *st)
{
    free(st->eval_q);
    free(st->eval_wr);
    st->eval_q = NULL;
    st->eval_wr = NULL;
    st->n_evals = 0;
}

/* A short description of a JSON value for an error message. */
static void shown(const cJSON *v, char *buf, size_t n)
{
    if (!v) snprintf(buf, n, "missing");
    else if (cJSON_IsNumber(v)) snprintf(buf, n, "%.17g", v->valuedouble);
    else if (cJSON_IsString(v)) snprintf(buf, n, "the string \"%.40s\"", v->valuestring);
    else snprintf(buf, n, "not a number");
}

/* v, an integer in [0, max], into *out. */
static sea_status whole_number(const cJSON *v, double max, const char *where, const char *field, double *out)
{
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble >= 0 && v->valuedouble <= max &&
        v->valuedouble == floor(v->valuedouble)) {
        *out = v->valuedouble;
        return SEA_OK;
    }
    char b[80];
    shown(v, b, sizeof b);
    return sea_error(SEA_ERR_FORMAT, "%sfield '%s' must be an integer in [0, %.0f]; it is %s", where, field, max, b);
}

static sea_status int_field(const cJSON *o, const char *key, const char *where, int *out)
{
    double x = 0;
    SEA_TRY(whole_number(cJSON_GetObjectItemCaseSensitive(o, key), INT_MAX, where, key, &x));
    *out = (int)x;
    return SEA_OK;
}

static sea_status i64_field(const cJSON *o, const char *key, const char *where, int64_t *out)
{
    double x = 0;
    SEA_TRY(whole_number(cJSON_GetObjectItemCaseSensitive(o, key), EXACT_MAX, where, key, &x));
    *out = (int64_t)x;
    return SEA_OK;
}

/* A win rate: a number in [0, 1]. */
static sea_status rate(const cJSON *v, const char *where, const char *field, double *out)
{
    if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= 1) {
        *out = v->valuedouble;
        return SEA_OK;
    }
    char b[80];
    shown(v, b, sizeof b);
    return sea_error(SEA_ERR_FORMAT, "%sfield '%s' must be a number in [0, 1]; it is %s", where, field, b);
}

/* A u64 written as a decimal string: digits only, no sign, no overflow. */
static sea_status u64_string(const cJSON *v, const char *where, const char *field, int i, uint64_t *out)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    uint64_t x = 0;
    bool ok = s && *s;
    for (const char *p = s; ok && *p; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (*p < '0' || *p > '9' || x > (UINT64_MAX - d) / 10) ok = false;
        else x = x * 10 + d;
    }
    if (ok) {
        *out = x;
        return SEA_OK;
    }
    char b[80];
    shown(v, b, sizeof b);
    return sea_error(SEA_ERR_FORMAT, "%srng[%d].%s must be an unsigned 64-bit integer as a decimal string; it is %s",
                     where, i, field, b);
}

static sea_status parse_rng(const cJSON *o, const char *where, sea_run_state *st)
{
    const cJSON *rng = cJSON_GetObjectItemCaseSensitive(o, "rng");
    if (!cJSON_IsArray(rng) || cJSON_GetArraySize(rng) != SEA_RUN_RNGS)
        return sea_error(SEA_ERR_FORMAT, "%sfield 'rng' must be an array of %d generator states", where, SEA_RUN_RNGS);
    int i = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, rng) {
        double stream = 0;
        char field[32];
        snprintf(field, sizeof field, "rng[%d].stream", i);
        if (!cJSON_IsObject(e))
            return sea_error(SEA_ERR_FORMAT, "%srng[%d] must be an object with seed, stream and counter", where, i);
        SEA_TRY(u64_string(cJSON_GetObjectItemCaseSensitive(e, "seed"), where, "seed", i, &st->rng[i].seed));
        SEA_TRY(whole_number(cJSON_GetObjectItemCaseSensitive(e, "stream"), UINT32_MAX, where, field, &stream));
        SEA_TRY(u64_string(cJSON_GetObjectItemCaseSensitive(e, "counter"), where, "counter", i, &st->rng[i].counter));
        st->rng[i].stream = (uint32_t)stream;
        i++;
    }
    return SEA_OK;
}

static sea_status parse_evals(const cJSON *o, const char *where, sea_run_state *st)
{
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(o, "evals");
    if (!cJSON_IsArray(ev))
        return sea_error(SEA_ERR_FORMAT, "%sfield 'evals' must be an array of [queries, win rate] pairs", where);
    int m = cJSON_GetArraySize(ev);
    if (m == 0) return SEA_OK;
    st->eval_q = malloc(sizeof(int64_t) * (size_t)m);
    st->eval_wr = malloc(sizeof(double) * (size_t)m);
    if (!st->eval_q || !st->eval_wr) return sea_error(SEA_ERR_OOM, "%s%d evaluations", where, m);
    const cJSON *e;
    cJSON_ArrayForEach(e, ev) {
        int i = st->n_evals;
        char field[40];
        if (!cJSON_IsArray(e) || cJSON_GetArraySize(e) != 2)
            return sea_error(SEA_ERR_FORMAT, "%sevals[%d] must be a [queries, win rate] pair", where, i);
        double q = 0;
        snprintf(field, sizeof field, "evals[%d][0]", i);
        SEA_TRY(whole_number(cJSON_GetArrayItem(e, 0), EXACT_MAX, where, field, &q));
        snprintf(field, sizeof field, "evals[%d][1]", i);
        SEA_TRY(rate(cJSON_GetArrayItem(e, 1), where, field, &st->eval_wr[i]));
        st->eval_q[i] = (int64_t)q;
        st->n_evals++;
    }
    return SEA_OK;
}

static sea_status parse_object(const cJSON *o, const char *where, sea_run_state *st)
{
    if (!cJSON_IsObject(o)) return sea_error(SEA_ERR_FORMAT, "%snot a JSON object (a truncated or corrupted file?)", where);
    SEA_TRY(int_field(o, "round", where, &st->round));
    SEA_TRY(i64_field(o, "queries", where, &st->queries));
    SEA_TRY(int_field(o, "epoch", where, &st->epoch));
    SEA_TRY(int_field(o, "pos", where, &st->pos));
    SEA_TRY(int_field(o, "zero_query_rounds", where, &st->zero_query_rounds));
    SEA_TRY(rate(cJSON_GetObjectItemCaseSensitive(o, "last_win_rate"), where, "last_win_rate", &st->last_win_rate));
    SEA_TRY(i64_field(o, "metrics_offset", where, &st->metrics_offset));
    SEA_TRY(parse_rng(o, where, st));
    return parse_evals(o, where, st);
}

sea_status sea_run_state_parse(const char *text, size_t n, const char *where, sea_run_state *st)
{
    memset(st, 0, sizeof *st);
    /* messages start "where: ", or with the field when the caller's context names the file */
    char pre[300] = "";
    if (where && *where) snprintf(pre, sizeof pre, "%.290s: ", where);
    cJSON *o = cJSON_ParseWithLength(text, n);
    sea_status s = parse_object(o, pre, st);
    cJSON_Delete(o);
    if (s) sea_run_state_free(st);
    return s;
}
