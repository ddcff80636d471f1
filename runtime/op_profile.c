/* SEA_PROFILE=1: per-op call counts and wall time, printed at exit (see op_profile.h). */
#include "op_profile.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct op_stat {
    long calls;
    double seconds;
} op_stat;

static op_stat stats[SEA_OP_COUNT][2];   /* [kind][backward] */
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool enabled;

static void print_table(void)
{
    double total = 0;
    for (int k = 0; k < SEA_OP_COUNT; k++) total += stats[k][0].seconds + stats[k][1].seconds;
    if (total <= 0) return;
    fprintf(stderr, "\nSEA_PROFILE: time in ops, %.1f ms in all (devices synchronised per op)\n", total * 1e3);
    fprintf(stderr, "  %-22s %-8s %9s %12s %7s\n", "op", "dir", "calls", "total ms", "share");
    /* Largest first: a selection sort over a few dozen rows. */
    bool shown[SEA_OP_COUNT][2];
    memset(shown, 0, sizeof shown);
    for (;;) {
        int bk = -1, bd = 0;
        for (int k = 0; k < SEA_OP_COUNT; k++)
            for (int d = 0; d < 2; d++)
                if (!shown[k][d] && stats[k][d].calls &&
                    (bk < 0 || stats[k][d].seconds > stats[bk][bd].seconds)) {
                    bk = k;
                    bd = d;
                }
        if (bk < 0) break;
        shown[bk][bd] = true;
        const op_stat *s = &stats[bk][bd];
        fprintf(stderr, "  %-22s %-8s %9ld %12.2f %6.1f%%\n", sea_op_name((sea_op_kind)bk),
                bd ? "backward" : "forward", s->calls, s->seconds * 1e3, 100.0 * s->seconds / total);
    }
}

static void init(void)
{
    const char *env = getenv("SEA_PROFILE");
    enabled = env && *env && strcmp(env, "0") != 0;
    if (enabled) atexit(print_table);
}

bool sea_op_profile_enabled(void)
{
    pthread_once(&once, init);
    return enabled;
}

double sea_op_profile_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

void sea_op_profile_add(sea_op_kind kind, bool backward, double seconds)
{
    if ((unsigned)kind >= SEA_OP_COUNT) return;
    pthread_mutex_lock(&stats_mu);
    stats[kind][backward].calls++;
    stats[kind][backward].seconds += seconds;
    pthread_mutex_unlock(&stats_mu);
}
