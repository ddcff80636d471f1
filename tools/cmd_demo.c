/* `sea demo`: online DPO (passive) vs SEA (enn-baits + mixed preference learning) on the
 * built-in arithmetic task, several seeds each, same budget and settings otherwise.
 * Prints a table (win rate at fixed query counts; queries SEA needs to reach online DPO's
 * final win rate; mean ± standard error over seeds), writes it as Markdown, and plots both
 * curves with ± stderr bands. Curves are step functions of the evaluations: the win rate at
 * q queries is the last evaluation made with <= q queries. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "alignment/loop.h"
#include "alignment/plot.h"
#include "alignment/train_config.h"
#include "cli_number.h"
#include "commands.h"
#include "models/json_util.h"

#define MAX_SEEDS 64
#define GRID 41

typedef struct curve {
    int n;
    int64_t *q;
    double *wr;
} curve;

static double at(const curve *c, double q)
{
    double v = c->n ? c->wr[0] : 0;
    for (int i = 0; i < c->n; i++)
        if (c->q[i] <= q) v = c->wr[i];
    return v;
}

/* First evaluated query count with win rate >= target, or -1. */
static double reach(const curve *c, double target)
{
    for (int i = 0; i < c->n; i++)
        if (c->wr[i] >= target - 1e-12) return (double)c->q[i];
    return -1;
}

static void mean_se(const double *x, int n, double *m, double *se)
{
    double s = 0, s2 = 0;
    for (int i = 0; i < n; i++) s += x[i];
    *m = n ? s / n : NAN;
    for (int i = 0; i < n; i++) s2 += (x[i] - *m) * (x[i] - *m);
    *se = n > 1 ? sqrt(s2 / (n - 1) / n) : 0;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: sea demo [options]\n"
               "  --policy DIR         SFT policy of the built-in task (data/arith-sft)\n"
               "  --seeds N            seeds per method (10; at most 64)\n"
               "  --first-seed S       seeds S .. S+N-1 (1): a second set of seeds to check a result on\n"
               "  --max-queries N      oracle budget per run (960)\n"
               "  --output-dir DIR     (demo-out)\n"
               "  --device SPEC        cpu | cuda:0 | ...\n"
               "  --set NAME=VALUE     any `sea train` option for both methods (repeatable); the\n"
               "                       baseline keeps --exp-method passive and --gamma 1\n"
               "  --quiet\n");
}

/* The committed SFT policy: ./data/arith-sft from the repository root, else next to the
 * program (build/sea -> ../data/arith-sft), else the installed copy (bin/../share/sea/). */
static const char *default_policy(char *buf, size_t n)
{
    struct stat st;
    if (stat("data/arith-sft/config.json", &st) == 0) return "data/arith-sft";
    char exe[900];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (len > 0) {
        exe[len] = '\0';
        char *slash = strrchr(exe, '/');
        if (slash) *slash = '\0';
        const char *const rel[] = {"../data/arith-sft", "../share/sea/arith-sft"};
        for (size_t i = 0; i < 2; i++) {
            char probe[1100];
            snprintf(buf, n, "%s/%s", exe, rel[i]);
            snprintf(probe, sizeof probe, "%s/config.json", buf);
            if (stat(probe, &st) == 0) return buf;
        }
    }
    return "data/arith-sft"; /* the error then names the path the user would expect */
}

int sea_cmd_demo(int argc, char **argv)
{
    char policy_buf[1024];
    const char *policy = default_policy(policy_buf, sizeof policy_buf), *out = "demo-out", *device = "";
    int seeds = 10, first_seed = 1;
    long long maxq = 960;
    bool quiet = false;
    const char *sets[64];
    int n_sets = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) { usage(stdout); return 0; }
        if (!strcmp(a, "--quiet")) { quiet = true; continue; }
        if (!v) { fprintf(stderr, "sea demo: %s needs a value (or is unknown)\n", a); usage(stderr); return 2; }
        if (!strcmp(a, "--policy")) policy = v;
        else if (!strcmp(a, "--output-dir")) out = v;
        else if (!strcmp(a, "--device")) device = v;
        else if (!strcmp(a, "--seeds")) { if (!cli_int("sea demo", a, v, 1, MAX_SEEDS, &seeds)) return 2; }
        else if (!strcmp(a, "--first-seed")) { if (!cli_int("sea demo", a, v, 1, INT32_MAX, &first_seed)) return 2; }
        else if (!strcmp(a, "--max-queries")) { if (!cli_i64("sea demo", a, v, 1, INT64_MAX, &maxq)) return 2; }
        else if (!strcmp(a, "--set") && n_sets < 64) sets[n_sets++] = v;
        else { fprintf(stderr, "sea demo: unknown option '%s'\n", a); usage(stderr); return 2; }
        i++;
    }
    if (mkdir(out, 0755) != 0 && errno != EEXIST) {
        fprintf(stderr, "sea demo: --output-dir %s: %s\n", out, strerror(errno));
        return 1;
    }
    const char *names[2] = {"online DPO (passive)", "SEA (enn-baits + mixed)"};
    char sea_name[96] = "";
    const char *tags[2] = {"dpo", "sea"};
    curve cv[2][MAX_SEEDS];
    memset(cv, 0, sizeof cv);
    double wall[2][MAX_SEEDS];
    for (int m = 0; m < 2; m++)
        for (int s = 0; s < seeds; s++) {
            sea_train_cfg c;
            sea_train_cfg_default(&c);
            /* the tiny-scale settings of SEA.md §10 */
            snprintf(c.policy, sizeof c.policy, "%s", policy);
            strcpy(c.prompt_data, "builtin:arith");
            strcpy(c.oracle, "builtin:arith");
            snprintf(c.device, sizeof c.device, "%s", device);
            snprintf(c.output_dir, sizeof c.output_dir, "%s/%s-seed%d", out, tags[m], first_seed + s);
            c.exp_method = m == 0 ? SEA_EXPLORE_PASSIVE : SEA_EXPLORE_ENN_BAITS;
            c.gamma = m == 0 ? 1.0 : 0.7;
            c.burn_in = 3;
            c.num_samples = 8;
            c.num_ensemble = 10;
            c.rm_hidden = 32;
            c.rm_batch = 32;
            c.batch_size = 16;
            c.max_new_tokens = 5;
            c.learning_rate = 3e-4;
            c.max_queries = maxq;
            c.eval_every = 2;
            c.checkpoint_every = 0;
            c.no_save_policy = true;   /* 20 runs' final weights: only the curves are the demo */
            c.seed = (uint64_t)first_seed + (uint64_t)s;
            c.quiet = true;
            /* the last token's state alone leaves the ERM at chance on this task (docs/demo.md);
             * --set feature_concat=false runs SEA.md's default features instead */
            c.feature_concat = m == 1;
            sea_status st = SEA_OK;
            for (int k = 0; k < n_sets && !st; k++) {
                char name[128];
                const char *eq = strchr(sets[k], '=');
                if (!eq) { st = sea_error(SEA_ERR_INVALID, "--set %s: expected NAME=VALUE", sets[k]); break; }
                snprintf(name, sizeof name, "%.*s", (int)(eq - sets[k]), sets[k]);
                st = sea_train_cfg_set(&c, name, eq + 1);
            }
            if (m == 0) {   /* the baseline stays online DPO whatever --set says */
                c.exp_method = SEA_EXPLORE_PASSIVE;
                c.gamma = 1.0;
            }
            if (m == 1 && !sea_name[0]) {
                if (c.gamma < 1) snprintf(sea_name, sizeof sea_name, "SEA (%s + mixed, gamma %.2g%s)", sea_explore_name(c.exp_method), c.gamma,
                                          c.feature_concat ? ", concat features" : "");
                else snprintf(sea_name, sizeof sea_name, "SEA (%s, no mixing%s)", sea_explore_name(c.exp_method),
                              c.feature_concat ? ", concat features" : "");
                names[1] = sea_name;
            }
            sea_train_result r;
            if (!st) st = sea_train_run(&c, &r);
            if (st) {
                fprintf(stderr, "sea demo: %s seed %d: %s\n", names[m], first_seed + s, sea_last_error());
                return 1;
            }
            cv[m][s].n = r.n_evals;
            cv[m][s].q = r.eval_queries;
            cv[m][s].wr = r.eval_win_rate;
            wall[m][s] = r.wall_s;
            r.eval_queries = NULL;
            r.eval_win_rate = NULL;
            if (!quiet)
                fprintf(stderr, "%-26s seed %d: final win rate %.3f after %lld queries, %d rounds (%.1f s)\n", names[m], first_seed + s,
                        r.final_win_rate, (long long)r.queries, r.rounds, r.wall_s);
            sea_train_result_free(&r);
        }

    /* table */
    char path[4096];
    snprintf(path, sizeof path, "%s/demo.md", out);
    sea_atomic_file md_file;   /* demo.md appears whole or not at all */
    sea_status md_st = sea_atomic_open(path, &md_file);
    FILE *fs[2] = {stdout, md_st ? NULL : md_file.fp};
    double fracs[4] = {0.25, 0.5, 0.75, 1.0};
    double finals[2][MAX_SEEDS], dpo_final_mean, se;
    for (int m = 0; m < 2; m++)
        for (int s = 0; s < seeds; s++) finals[m][s] = at(&cv[m][s], (double)maxq);
    mean_se(finals[0], seeds, &dpo_final_mean, &se);
    for (int k = 0; k < 2; k++) {
        FILE *f = fs[k];
        if (!f) continue;
        fprintf(f, "\nWin rate vs the SFT policy's greedy answers (held-out prompts), mean ± stderr over %d seeds (%d..%d)\n\n",
                seeds, first_seed, first_seed + seeds - 1);
        fprintf(f, "| method | ");
        for (int j = 0; j < 4; j++) fprintf(f, "%lld queries | ", (long long)llround(fracs[j] * maxq));
        fprintf(f, "queries to reach DPO's final %.3f | wall s/run |\n|---|---|---|---|---|---|---|\n", dpo_final_mean);
        for (int m = 0; m < 2; m++) {
            fprintf(f, "| %s | ", names[m]);
            for (int j = 0; j < 4; j++) {
                double x[MAX_SEEDS], mm, ss;
                for (int s = 0; s < seeds; s++) x[s] = at(&cv[m][s], fracs[j] * maxq);
                mean_se(x, seeds, &mm, &ss);
                fprintf(f, "%.3f ± %.3f | ", mm, ss);
            }
            double x[MAX_SEEDS], mm, ss;
            int reached = 0;
            for (int s = 0; s < seeds; s++) {
                double q = reach(&cv[m][s], dpo_final_mean);
                if (q >= 0) x[reached++] = q;
            }
            mean_se(x, reached, &mm, &ss);
            if (reached) fprintf(f, "%.0f ± %.0f (%d/%d seeds reached it) | ", mm, ss, reached, seeds);
            else fprintf(f, "not reached | ");
            double w[MAX_SEEDS];
            for (int s = 0; s < seeds; s++) w[s] = wall[m][s];
            mean_se(w, seeds, &mm, &ss);
            fprintf(f, "%.1f |\n", mm);
        }
    }
    if (!md_st) md_st = sea_atomic_commit(&md_file);
    if (md_st) fprintf(stderr, "sea demo: %s\n", sea_last_error());

    /* plot: means on a grid with ± stderr bands */
    double gx[GRID], gy[2][GRID], ge[2][GRID];
    for (int g = 0; g < GRID; g++) {
        gx[g] = (double)maxq * g / (GRID - 1);
        for (int m = 0; m < 2; m++) {
            double x[MAX_SEEDS];
            for (int s = 0; s < seeds; s++) x[s] = at(&cv[m][s], gx[g]);
            mean_se(x, seeds, &gy[m][g], &ge[m][g]);
        }
    }
    sea_plot_series ser[2] = {{"online DPO", GRID, gx, gy[0], ge[0]}, {names[1], GRID, gx, gy[1], ge[1]}};
    snprintf(path, sizeof path, "%s/demo.svg", out);
    sea_status st = sea_plot_svg(path, "built-in task: win rate vs oracle queries (mean ± stderr)", "oracle queries",
                                 "win rate vs SFT greedy", ser, 2);
    if (st) fprintf(stderr, "sea demo: %s\n", sea_last_error());
    else if (!quiet) fprintf(stderr, "\nwrote %s/demo.md and %s\n", out, path);
    for (int m = 0; m < 2; m++)
        for (int s = 0; s < seeds; s++) {
            free(cv[m][s].q);
            free(cv[m][s].wr);
        }
    return st || md_st ? 1 : 0;
}
