/* A checkpoint's state.json (alignment/run_state.c): what is written reads back bit for bit
 * (cJSON's own number printer would give a win rate back one ulp off and round counts above
 * 10^15), and each kind of damage is refused with a message naming the field. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alignment/run_state.h"

static int failures;
#include "tests/test_check.h"

static sea_run_state sample_state(int64_t *q, double *wr)
{
    sea_run_state st = {.round = 12, .queries = 9007199254740991LL, .epoch = 3, .pos = 17, .zero_query_rounds = 2,
                        .last_win_rate = 0.091666666666666688, .metrics_offset = 1234567890123LL, .n_evals = 3,
                        .eval_q = q, .eval_wr = wr};
    for (int i = 0; i < SEA_RUN_RNGS; i++) st.rng[i] = (sea_rng){UINT64_MAX - (uint64_t)i, 10u + (uint32_t)i, (uint64_t)i << 40};
    q[0] = 0, q[1] = 16, q[2] = 1000000000000001LL;
    wr[0] = 0, wr[1] = 1.0 / 3.0, wr[2] = nextafter(0.3, 1.0);
    return st;
}

/* The error for `text`, or "" when it parses. */
static const char *error_of(const char *text)
{
    sea_run_state st;
    sea_status s = sea_run_state_parse(text, strlen(text), "state.json", &st);
    if (!s) {
        sea_run_state_free(&st);
        return "";
    }
    CHECK(!st.eval_q && !st.eval_wr && !st.n_evals, "a refused state holds evaluations");
    return sea_last_error();
}

static void refuses(const char *what, const char *from, const char *to, const char *want)
{
    int64_t q[3];
    double wr[3];
    sea_run_state st = sample_state(q, wr);
    char *good = sea_run_state_format(&st), *bad = NULL;
    const char *at = good ? strstr(good, from) : NULL;
    CHECK(at, "%s: '%s' not in the formatted state", what, from);
    if (!at) {
        free(good);
        return;
    }
    size_t pre = (size_t)(at - good), len = strlen(good) - strlen(from) + strlen(to);
    bad = malloc(len + 1);
    memcpy(bad, good, pre);
    strcpy(bad + pre, to);
    strcat(bad, at + strlen(from));
    const char *e = error_of(bad);
    CHECK(strstr(e, want) != NULL, "%s: error '%s' does not say '%s'", what, e, want);
    free(good);
    free(bad);
}

int main(void)
{
    int64_t q[3];
    double wr[3];
    sea_run_state st = sample_state(q, wr), back;
    char *text = sea_run_state_format(&st);
    CHECK(text != NULL, "format failed");
    if (text) {
        CHECK(sea_run_state_parse(text, strlen(text), "state.json", &back) == SEA_OK, "parse: %s", sea_last_error());
        CHECK(back.round == 12 && back.queries == 9007199254740991LL && back.epoch == 3 && back.pos == 17 &&
                  back.zero_query_rounds == 2 && back.metrics_offset == 1234567890123LL,
              "counters differ after the round trip");
        CHECK(memcmp(&back.last_win_rate, &st.last_win_rate, sizeof(double)) == 0, "last_win_rate %.17g, wrote %.17g",
              back.last_win_rate, st.last_win_rate);
        for (int i = 0; i < SEA_RUN_RNGS; i++)
            CHECK(back.rng[i].seed == st.rng[i].seed && back.rng[i].stream == st.rng[i].stream &&
                      back.rng[i].counter == st.rng[i].counter,
                  "rng[%d] differs", i);
        CHECK(back.n_evals == 3, "%d evaluations", back.n_evals);
        for (int i = 0; i < back.n_evals && i < 3; i++)
            CHECK(back.eval_q[i] == q[i] && memcmp(&back.eval_wr[i], &wr[i], sizeof(double)) == 0,
                  "evals[%d] = (%lld, %.17g), wrote (%lld, %.17g)", i, (long long)back.eval_q[i], back.eval_wr[i],
                  (long long)q[i], wr[i]);
        sea_run_state_free(&back);
        /* a prefix of the file is never a state */
        for (size_t n = 0; n < strlen(text); n += 7)
            if (sea_run_state_parse(text, n, "state.json", &back) == SEA_OK) {
                CHECK(0, "the first %zu bytes parsed as a state", n);
                sea_run_state_free(&back);
            }
    }
    free(text);

    refuses("negative position", "\"pos\":\t17", "\"pos\":\t-5", "field 'pos' must be an integer in [0, 2147483647]; it is -5");
    refuses("fractional round", "\"round\":\t12", "\"round\":\t12.5", "field 'round' must be an integer");
    refuses("round beyond int", "\"round\":\t12", "\"round\":\t1e300", "field 'round' must be an integer");
    refuses("string count", "\"epoch\":\t3", "\"epoch\":\t\"3\"", "field 'epoch' must be an integer in [0, 2147483647]; it is the string \"3\"");
    refuses("missing field", "\"zero_query_rounds\"", "\"zero_query_round\"", "field 'zero_query_rounds' must be an integer in [0, 2147483647]; it is missing");
    refuses("win rate above 1", "\"last_win_rate\":\t0.0916", "\"last_win_rate\":\t1.0916", "field 'last_win_rate' must be a number in [0, 1]");
    refuses("seed with a sign", "\"seed\":\t\"18446744073709551615\"", "\"seed\":\t\"-1\"", "rng[0].seed must be an unsigned 64-bit integer");
    refuses("seed beyond u64", "\"seed\":\t\"18446744073709551615\"", "\"seed\":\t\"18446744073709551616\"", "rng[0].seed must be an unsigned 64-bit integer");
    refuses("stream beyond u32", "\"stream\":\t10", "\"stream\":\t4294967296", "field 'rng[0].stream' must be an integer in [0, 4294967295]");
    refuses("an evaluation not a pair", "[0, 0]", "[0]", "evals[0] must be a [queries, win rate] pair");
    refuses("an evaluation not an array", "[0, 0]", "7", "evals[0] must be a [queries, win rate] pair");
    refuses("a negative evaluation count", "[16, ", "[-16, ", "field 'evals[1][0]' must be an integer");
    refuses("evals missing", "\"evals\"", "\"eval\"", "field 'evals' must be an array");
    CHECK(strstr(error_of("[1, 2]"), "state.json: not a JSON object"), "an array: %s", sea_last_error());

    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else printf("run state: all checks passed\n");
    return failures != 0;
}
