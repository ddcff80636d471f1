/* sea bench [--device SPEC] [--ops] [--quick] [--json] [--filter TEXT] [--reps N]
 *
 * A table of benchmark functions, each adding rows to one report: matmul GFLOP/s of our
 * GEMM against OpenBLAS (CPU), and with --ops per-op forward/backward timings through the
 * public op API on a device. Every number is the median of timed repeats after warm-up
 * calls identical to the timed ones (one-time costs leak into short warm-ups otherwise).
 * Model benchmarks are meant to join the table (group "model"). The tables live in
 * bench_gemm.c and bench_ops.c; bench_common.h holds the types. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "backends/cpu/gemm.h"
#include "bench_common.h"
#include "cli_number.h"
#include "commands.h"
#include "runtime/threadpool.h"
#include "sea_config.h"

/* ---- timing -------------------------------------------------------------------------- */

double bench_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* One round: warm up with the timed call itself, then repeat until both the repeat count
 * and the time budget are reached (short calls get many repeats, long ones min_reps). */
static sea_status time_round(const bench_ctx *ctx, int rounds, bench_series *s)
{
    for (int i = 0; i < ctx->warmup; i++) SEA_TRY(s->fn(s->arg));
    int min_reps = (ctx->min_reps + rounds - 1) / rounds, n = 0;
    double start = bench_now(), budget = ctx->min_seconds / rounds;
    while (s->n < BENCH_MAX_SAMPLES && (n < min_reps || bench_now() - start < budget)) {
        double t0 = bench_now();
        SEA_TRY(s->fn(s->arg));
        s->samples[s->n++] = bench_now() - t0;
        n++;
    }
    return SEA_OK;
}

static void summarize(bench_series *s)
{
    qsort(s->samples, (size_t)s->n, sizeof s->samples[0], cmp_double);
    int n = s->n;
    s->t.median_s = n % 2 ? s->samples[n / 2] : 0.5 * (s->samples[n / 2 - 1] + s->samples[n / 2]);
    s->t.min_s = s->samples[0];
    s->t.reps = n;
}

sea_status bench_time_rounds(const bench_ctx *ctx, int rounds, bench_series *series, int n_series,
                             void (*before_each)(void))
{
    if (rounds < 1) rounds = 1;
    for (int i = 0; i < n_series; i++) series[i].n = 0;
    for (int r = 0; r < rounds; r++)
        for (int i = 0; i < n_series; i++) {
            if (before_each) before_each();
            SEA_TRY(time_round(ctx, rounds, &series[i]));
        }
    for (int i = 0; i < n_series; i++) summarize(&series[i]);
    return SEA_OK;
}

sea_status bench_time(const bench_ctx *ctx, bench_fn fn, void *arg, bench_timing *out)
{
    static bench_series s;
    s.fn = fn;
    s.arg = arg;
    SEA_TRY(bench_time_rounds(ctx, 1, &s, 1, NULL));
    *out = s.t;
    return SEA_OK;
}

/* ---- the report ---------------------------------------------------------------------- */

cJSON *bench_row(bench_ctx *ctx, const char *group, const char *name)
{
    cJSON *row = cJSON_CreateObject();
    cJSON_AddStringToObject(row, "group", group);
    cJSON_AddStringToObject(row, "name", name);
    cJSON_AddItemToArray(ctx->rows, row);
    return row;
}

void bench_print(const bench_ctx *ctx, const char *fmt, ...)
{
    if (ctx->json) return;
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    fflush(stdout);
}

/* ---- machine ------------------------------------------------------------------------- */

static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, "model name", 10)) continue;
        char *colon = strchr(line, ':');
        if (!colon) break;
        colon++;
        while (*colon == ' ' || *colon == '\t') colon++;
        colon[strcspn(colon, "\n")] = 0;
        snprintf(buf, n, "%s", colon);
        break;
    }
    fclose(f);
}

static bool cpu_flag(const char *flag)
{
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return false;
    char line[8192];
    bool found = false;
    while (!found && fgets(line, sizeof line, f)) {
        if (strncmp(line, "flags", 5)) continue;
        for (char *tok = strtok(strchr(line, ':') ? strchr(line, ':') + 1 : line, " \t\n"); tok;
             tok = strtok(NULL, " \t\n"))
            if (!strcmp(tok, flag)) found = true;
        break;
    }
    fclose(f);
    return found;
}

static cJSON *machine_json(bench_ctx *ctx)
{
    char model[256], blas[160], date[64];
    cpu_model(model, sizeof model);
    sea_cpu_gemm_openblas_info(blas, sizeof blas);
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
    long cpus = sysconf(_SC_NPROCESSORS_ONLN);
    int threads = sea_threadpool_size(sea_threadpool_global());
    const char *coretype = getenv("OPENBLAS_CORETYPE");
    char isa[64];
    snprintf(isa, sizeof isa, "%s%s%s", cpu_flag("avx2") ? "avx2" : "sse", cpu_flag("fma") ? "+fma" : "",
             cpu_flag("avx512f") ? "+avx512f" : "");

    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "date", date);
    cJSON_AddStringToObject(m, "cpu", model);
    cJSON_AddStringToObject(m, "isa", isa);
    cJSON_AddNumberToObject(m, "cpus_online", (double)cpus);
    cJSON_AddNumberToObject(m, "sea_threads", threads);
    cJSON_AddStringToObject(m, "gemm_default", sea_cpu_gemm_impl_name(SEA_CPU_GEMM_DEFAULT));
    cJSON_AddStringToObject(m, "openblas", blas);
    cJSON_AddStringToObject(m, "OPENBLAS_CORETYPE", coretype ? coretype : "");
    cJSON_AddStringToObject(m, "sea_version", SEA_VERSION);
    bench_print(ctx, "machine: %s (%s), %ld CPUs online, sea threads %d\n", model, isa, cpus, threads);
    bench_print(ctx, "date:    %s\n", date);
    bench_print(ctx, "gemm:    default %s; OpenBLAS: %s%s%s\n", sea_cpu_gemm_impl_name(SEA_CPU_GEMM_DEFAULT),
                blas, coretype ? "; OPENBLAS_CORETYPE=" : "", coretype ? coretype : "");
    return m;
}

/* ---- the table of benchmarks ---------------------------------------------------------- */

static const bench_def *const all_tables[] = {bench_gemm_table, bench_ops_table};

static void usage(FILE *f)
{
    fprintf(f,
            "usage: sea bench [--device SPEC] [--ops] [--quick] [--json] [--filter TEXT] [--reps N]\n\n"
            "  (default)      matmul GFLOP/s: own GEMM vs OpenBLAS, squares and transformer shapes\n"
            "  --ops          also per-op forward/backward timings through the op API on --device\n"
            "  --only-ops     only the per-op timings\n"
            "  --device SPEC  device for --ops (cpu, cuda:0, opencl:0, vulkan:0; default: SEA_DEVICE\n"
            "                 or discovery's choice)\n"
            "  --quick        smaller sizes and fewer repeats (seconds, for CI)\n"
            "  --json         one JSON object on stdout instead of the table\n"
            "  --filter TEXT  run only benchmarks whose name contains TEXT\n"
            "  --reps N       at least N timed repeats (default 10, quick 3)\n\n"
            "Numbers: median of the timed repeats after warm-up. GEMM FLOPs = 2*M*N*K.\n"
            "Threads: SEA_NUM_THREADS (ours), OPENBLAS_NUM_THREADS (OpenBLAS).\n");
}

int sea_cmd_bench(int argc, char **argv)
{
    bench_ctx ctx = {.warmup = 2, .min_reps = 10, .min_seconds = 0.5};
    bool ops = false, gemm = true;
    int reps = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--json")) {
            ctx.json = true;
        } else if (!strcmp(a, "--quick")) {
            ctx.quick = true;
        } else if (!strcmp(a, "--ops")) {
            ops = true;
        } else if (!strcmp(a, "--only-ops")) {
            ops = true;
            gemm = false;
        } else if (!strcmp(a, "--device") && i + 1 < argc) {
            ctx.device_spec = argv[++i];
        } else if (!strcmp(a, "--filter") && i + 1 < argc) {
            ctx.filter = argv[++i];
        } else if (!strcmp(a, "--reps") && i + 1 < argc) {
            if (!cli_int("sea bench", a, argv[++i], 1, INT32_MAX, &reps)) return 2;
        } else {
            fprintf(stderr, "sea bench: unknown option '%s'\n\n", a);
            usage(stderr);
            return 2;
        }
    }
    if (ctx.quick) {
        ctx.min_reps = 3;
        ctx.min_seconds = 0.1;
        ctx.warmup = 1;
    }
    if (reps) ctx.min_reps = reps;

    ctx.rows = cJSON_CreateArray();
    cJSON *report = cJSON_CreateObject();
    cJSON_AddItemToObject(report, "machine", machine_json(&ctx));
    int failed = 0;
    for (size_t t = 0; t < sizeof all_tables / sizeof all_tables[0]; t++) {
        for (const bench_def *def = all_tables[t]; def->name; def++) {
            bool is_ops = !strcmp(def->group, "ops");
            if ((is_ops && !ops) || (!is_ops && !gemm)) continue;
            if (ctx.filter && !strstr(def->name, ctx.filter) && !strstr(def->group, ctx.filter)) continue;
            sea_status st = def->run(&ctx, def);
            if (st) {
                fprintf(stderr, "sea bench: %s/%s: %s\n", def->group, def->name, sea_last_error());
                cJSON *row = bench_row(&ctx, def->group, def->name);
                cJSON_AddStringToObject(row, "error", sea_last_error());
                failed++;
            }
        }
    }
    bench_ops_close(&ctx);
    cJSON_AddItemToObject(report, "results", ctx.rows);
    if (ctx.json) {
        char *s = cJSON_Print(report);
        if (s) puts(s);
        free(s);
    }
    cJSON_Delete(report);
    return failed ? 1 : 0;
}
