/* Shared by the `sea bench` files: the benchmark table types, timing and report helpers.
 *
 * A benchmark is a row of a table: {group, name, run, arg}. run() measures, prints its
 * table line (unless --json) and adds one JSON object per measurement to ctx->rows.
 * Groups: "gemm" (bench_gemm.c), "ops" (bench_ops.c); "model" is meant to join. */
#ifndef SEA_TOOLS_BENCH_COMMON_H
#define SEA_TOOLS_BENCH_COMMON_H

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdbool.h>

#include "runtime/backend.h"
#include "runtime/status.h"

typedef struct bench_ctx {
    bool json, quick;
    const char *device_spec;  /* --device (NULL = SEA_DEVICE or discovery's choice) */
    const char *filter;       /* --filter */
    int warmup, min_reps;     /* untimed calls; least timed repeats */
    double min_seconds;       /* keep repeating until this much time has passed */
    cJSON *rows;              /* report rows (array) */
    sea_device *dev;          /* opened by the first op benchmark */
    bool dev_failed;
    bool header_printed[4];   /* per group: table header printed */
} bench_ctx;

typedef struct bench_def {
    const char *group;
    const char *name;
    sea_status (*run)(bench_ctx *ctx, const struct bench_def *def);
    const void *arg;
} bench_def;

/* NULL-name-terminated tables. */
extern const bench_def bench_gemm_table[];
extern const bench_def bench_ops_table[];

typedef sea_status (*bench_fn)(void *arg);
typedef struct bench_timing {
    double median_s, min_s;
    int reps;
} bench_timing;

double bench_now(void);
/* Warm-up calls, then timed repeats (>= ctx->min_reps and >= ctx->min_seconds). */
sea_status bench_time(const bench_ctx *ctx, bench_fn fn, void *arg, bench_timing *out);
/* The same in `rounds` parts whose samples are pooled: bench_time_rounds(ctx, r, ...) with
 * several functions interleaves them (round 1 of each, round 2 of each, ...), so a load
 * change on a shared machine hits all of them alike. before_each (may be NULL) runs
 * untimed before each round of each function. */
#define BENCH_MAX_SAMPLES 1000
typedef struct bench_series {
    bench_fn fn;
    void *arg;
    double samples[BENCH_MAX_SAMPLES];
    int n;
    bench_timing t;
} bench_series;
sea_status bench_time_rounds(const bench_ctx *ctx, int rounds, bench_series *series, int n_series,
                             void (*before_each)(void));
/* A new object in ctx->rows with group and name set. */
cJSON *bench_row(bench_ctx *ctx, const char *group, const char *name);
/* printf to stdout unless --json. */
void bench_print(const bench_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Close the device the op benchmarks opened. */
void bench_ops_close(bench_ctx *ctx);

#endif
