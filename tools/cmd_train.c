/* `sea train`: an online alignment run (SEA and its baselines); see alignment/loop.h for
 * what lands in --output-dir and alignment/train_config.c (or --help) for every option.
 *
 *   sea train --policy DIR --prompt-data builtin:arith --oracle builtin:arith \
 *             --exp-method enn-baits --output-dir runs/sea
 *   sea train --resume runs/sea          continue after a crash or kill -9
 *   mpirun -np 4 build/sea train ...     the same run over 4 processes (alignment/loop_dist.c)
 *
 * With --resume, the run's saved config.json is read first and flags given on the command
 * line override it (e.g. a larger --max-queries to extend a finished run). */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "alignment/loop.h"
#include "alignment/train_config.h"
#include "commands.h"
#include "dist/dist.h"

static volatile sig_atomic_t stop_signal;

/* The first SIGINT / SIGTERM asks the loop to finish its round and checkpoint; the handler
 * then steps aside, so a second one ends the process at once. */
static void on_stop_signal(int sig)
{
    stop_signal = sig;
    sea_train_request_stop();
    signal(sig, SIG_DFL);
}

int sea_cmd_train(int argc, char **argv)
{
    sea_train_cfg cfg;
    sea_train_cfg_default(&cfg);
    bool help = false;
    /* first pass: find --resume (its saved config goes under the command line's flags) */
    sea_train_cfg probe;
    sea_train_cfg_default(&probe);
    sea_status st = sea_train_cfg_parse_argv(&probe, argc, argv, &help);
    if (help) return 0;
    if (!st && probe.resume[0]) {
        char path[2 * SEA_PATH_MAX];
        snprintf(path, sizeof path, "%s/config.json", probe.resume);
        st = sea_train_cfg_load_json(&cfg, path);
        cfg.kill_after_rounds = 0;   /* a testing stop applies to the run that was told, not its resumption */
        if (!st) st = sea_train_cfg_parse_argv(&cfg, argc, argv, &help);
        if (!st) snprintf(cfg.output_dir, sizeof cfg.output_dir, "%s", probe.resume);
    } else if (!st) {
        cfg = probe;
    }
    if (st) {
        fprintf(stderr, "sea train: %s\n", sea_last_error());
        return 2;
    }
    sea_dist *dist;
    st = sea_dist_init(&dist);
    if (st) {
        fprintf(stderr, "sea train: %s\n", sea_last_error());
        return 1;
    }
    cfg.dist = dist;
    int rank = sea_dist_rank(dist);
    sea_train_result res;
    if (sea_dist_size(dist) <= 1) {   /* ranks could not agree on where to stop (alignment/loop.h) */
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop_signal;
        sa.sa_flags = SA_RESTART;   /* file and pipe calls go on; the judge's poll retries on EINTR */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
    }
    st = sea_train_run(&cfg, &res);
    if (st) {
        if (sea_dist_size(dist) > 1) fprintf(stderr, "sea train (rank %d of %d): %s\n", rank, sea_dist_size(dist), sea_last_error());
        else fprintf(stderr, "sea train: %s\n", sea_last_error());
        sea_train_result_free(&res);
        /* one rank failing must stop them all, now, not leave them waiting in a collective */
        sea_dist_abort(dist, st == SEA_ERR_INVALID ? 2 : 1);
        sea_dist_finalize(dist);
        return st == SEA_ERR_INVALID ? 2 : 1;
    }
    sea_dist_finalize(dist);
    int killed = res.killed;
    if (res.stopped) {
        fprintf(stderr, "sea train: stopped by signal %d after round %d, checkpointed; continue with "
                        "sea train --resume %s\n", (int)stop_signal, res.rounds, cfg.output_dir);
        sea_train_result_free(&res);
        return 128 + (int)stop_signal;
    }
    if (!cfg.quiet && !killed && rank == 0)
        printf("sea train: %d rounds, %lld queries, final win rate %.3f, %.1f s -> %s\n", res.rounds, (long long)res.queries,
               res.final_win_rate, res.wall_s, cfg.output_dir);
    sea_train_result_free(&res);
    return killed ? 3 : 0;
}
