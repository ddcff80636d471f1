/* The oracle protocol: the built-in rule against a hand table, a well-behaved judge program,
 * and judges that die, talk nonsense, answer the wrong id, send a non-number, or hang: each
 * must give SEA_ERR_EXTERNAL with a message naming the judge, keep the answers already given
 * in the log, and never take the test down. argv[1] = folder of the judge scripts. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "alignment/oracle.h"

static int failures;
#include "tests/test_check.h"

/* Lines of the log and the score on line `want_line` (or NAN). */
static int log_lines(const char *path, int want_line, double *score)
{
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    char line[4096];
    int n = 0;
    while (fgets(line, sizeof line, f)) {
        if (n == want_line && score) {
            cJSON *o = cJSON_Parse(line);
            cJSON *s = o ? cJSON_GetObjectItem(o, "score") : NULL;
            *score = cJSON_IsNumber(s) ? s->valuedouble : NAN;
            cJSON_Delete(o);
        }
        n++;
    }
    fclose(f);
    return n;
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *dir = argc > 1 ? argv[1] : "tests/alignment/judges";
    char logpath[256];
    snprintf(logpath, sizeof logpath, "/tmp/sea_test_oracle_%d.jsonl", (int)getpid());
    sea_oracle_opts opts = sea_oracle_opts_default();
    opts.log_path = logpath;
    opts.timeout_s = 0.5;
    sea_oracle *o = NULL;

    /* Built-in rule: -min(|y - (a+b)|, 9), malformed -12. */
    const char *bp[] = {"12+35=", "12+35=", "12+35=", "12+35=", "0+0=", "49+49=", "3+4="};
    const char *br[] = {"47", "48", "30", "4x", "0", "98", ""};
    const double bs[] = {0, -1, -9, -12, 0, 0, -12};
    remove(logpath);
    CHECK(sea_oracle_open("builtin:arith", &opts, &o) == SEA_OK, "builtin: %s", sea_last_error());
    double sc[8];
    CHECK(sea_oracle_score(o, "query", 7, bp, br, sc) == SEA_OK, "builtin score: %s", sea_last_error());
    for (int i = 0; i < 7; i++) CHECK(sc[i] == bs[i], "builtin %s%s: %g want %g", bp[i], br[i], sc[i], bs[i]);
    CHECK(log_lines(logpath, 1, &sc[7]) == 7 && sc[7] == -1, "log after builtin: line 1 score %g", sc[7]);

    /* compare: identical responses are not sent and are masked; equal scores masked. */
    {
        const char *p[] = {"1+1=", "1+1=", "1+1=", "1+1="};
        const char *a[] = {"2", "3", "5", "1"};
        const char *b[] = {"3", "2", "5", "3"};
        double pp[4];
        int win[4], nq = -1;
        float m[4];
        sea_label_cfg lc = {0};
        sea_rng rng = sea_rng_make(1, 1);
        CHECK(sea_oracle_compare(o, &lc, 4, p, a, b, &rng, pp, win, m, &nq) == SEA_OK, "compare: %s", sea_last_error());
        CHECK(nq == 3, "queried %d pairs, want 3", nq);
        CHECK(win[0] == 1 && m[0] == 1 && fabs(pp[0] - 1 / (1 + exp(-1.0))) < 1e-15, "pair 0: %d %g %g", win[0], m[0], pp[0]);
        CHECK(win[1] == 0 && m[1] == 1, "pair 1");
        CHECK(m[2] == 0 && pp[2] == 0.5, "identical pair not masked");
        CHECK(m[3] == 0, "equal scores (|err| 1 both) not masked");
        /* flip noise of 1 flips every label */
        lc.flip = 1.0;
        sea_oracle_compare(o, &lc, 2, p, a, b, &rng, pp, win, m, &nq);
        CHECK(win[0] == 0 && win[1] == 1, "flip=1 did not flip");
        /* Bernoulli labels: frequency of a winning ~ sigma(1) = 0.731 */
        lc.flip = 0;
        lc.bt_sample = true;
        int wins = 0;
        for (int t = 0; t < 400; t++) {
            sea_oracle_compare(o, &lc, 1, p, a, b, &rng, pp, win, m, &nq);
            wins += win[0];
        }
        CHECK(fabs(wins / 400.0 - 0.7311) < 0.09, "bt_sample frequency %.3f", wins / 400.0);
    }
    sea_oracle_free(o);
    CHECK(sea_oracle_open("builtin:chess", &opts, &o) == SEA_ERR_INVALID, "unknown task accepted");
    CHECK(sea_oracle_open("magic:x", &opts, &o) == SEA_ERR_INVALID, "unknown spec accepted");

    /* A well-behaved judge: score = response length; escapes survive the round trip. */
    char cmd[1024];
    const char *jp[] = {"p1", "p\"2\"", "p3\n", "p4"};
    const char *jr[] = {"abc", "", "tab\there", "a\\b"};
    remove(logpath);
    snprintf(cmd, sizeof cmd, "judge:sh %s/judge_len.sh", dir);
    CHECK(sea_oracle_open(cmd, &opts, &o) == SEA_OK, "judge_len: %s", sea_last_error());
    for (int round = 0; round < 2; round++) {   /* the process is kept between batches */
        CHECK(sea_oracle_score(o, "query", 4, jp, jr, sc) == SEA_OK, "judge_len: %s", sea_last_error());
        CHECK(sc[0] == 3 && sc[1] == 0 && sc[2] == 9 && sc[3] == 4, "judge_len scores %g %g %g %g", sc[0], sc[1], sc[2], sc[3]);
    }
    sea_oracle_free(o);
    CHECK(log_lines(logpath, 0, NULL) == 8, "judge_len log lines %d", log_lines(logpath, 0, NULL));

    /* Misbehaving judges. */
    struct { const char *script; int answered; const char *needle; } bad[] = {
        {"judge_dies.sh", 2, "exited with status 3"},
        {"judge_garbage.sh", 1, "not a JSON object"},
        {"judge_wrong_id.sh", 0, "\"id\""},
        {"judge_nan.sh", 0, "score"},
        {"judge_hangs.sh", 0, "no answer within"},
    };
    for (size_t b = 0; b < sizeof bad / sizeof *bad; b++) {
        remove(logpath);
        snprintf(cmd, sizeof cmd, "judge:sh %s/%s", dir, bad[b].script);
        CHECK(sea_oracle_open(cmd, &opts, &o) == SEA_OK, "%s open: %s", bad[b].script, sea_last_error());
        double t0 = now();
        sea_status st = sea_oracle_score(o, "query", 4, jp, jr, sc);
        double dt = now() - t0;
        CHECK(st == SEA_ERR_EXTERNAL, "%s: status %s (%s)", bad[b].script, sea_status_name(st), sea_last_error());
        CHECK(strstr(sea_last_error(), bad[b].script) != NULL, "%s: message does not name the judge: %s",
              bad[b].script, sea_last_error());
        CHECK(strstr(sea_last_error(), bad[b].needle) != NULL, "%s: message lacks '%s': %s", bad[b].script,
              bad[b].needle, sea_last_error());
        CHECK(dt < 3.0, "%s: took %.1f s", bad[b].script, dt);
        int lines = log_lines(logpath, 0, NULL);
        CHECK(lines == (bad[b].answered ? bad[b].answered : -1) || (bad[b].answered == 0 && lines <= 0),
              "%s: %d answers in the log, want %d", bad[b].script, lines, bad[b].answered);
        /* a broken judge refuses further work instead of hanging */
        CHECK(sea_oracle_score(o, "query", 1, jp, jr, sc) == SEA_ERR_EXTERNAL, "%s: reused after failure", bad[b].script);
        sea_oracle_free(o);
    }
    /* A command that does not exist: the shell exits 127 before answering. */
    snprintf(cmd, sizeof cmd, "judge:%s/no_such_judge_program", dir);
    CHECK(sea_oracle_open(cmd, &opts, &o) == SEA_OK, "open missing: %s", sea_last_error());
    CHECK(sea_oracle_score(o, "query", 1, jp, jr, sc) == SEA_ERR_EXTERNAL, "missing program: %s", sea_last_error());
    sea_oracle_free(o);
    remove(logpath);

    if (failures) fprintf(stderr, "%d failures\n", failures);
    else printf("oracle: ok\n");
    return failures ? 1 : 0;
}
