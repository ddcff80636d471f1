/* SEA_PROFILE=1: per-op call counts and wall time, printed at exit (see op_profile.h).
 * SEA_PROFILE=shapes adds a table by op, direction and operand shapes, with the FLOP rate of
 * matmuls and the tensor bytes per second of every op. */
#include "op_profile.h"

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dtype.h"
#include "tensor.h"

typedef struct op_stat {
    long calls;
    double seconds;
} op_stat;

/* One row of the shapes table: the first call's operands, summed time, per-call work. */
typedef struct shape_stat {
    char key[200];          /* "(8192, 2048) bf16, (6144, 2048) bf16 T -> (8192, 6144) bf16" */
    sea_op_kind kind;
    bool backward;
    long calls;
    double seconds;
    double flops;           /* per call; 0 when not counted (everything but matmul) */
    double bytes;           /* per call: the bytes of every tensor the op names */
} shape_stat;

#define MAX_SHAPES 1024     /* distinct (op, direction, shapes); later new ones are counted in `dropped` */

static op_stat stats[SEA_OP_COUNT][2];   /* [kind][backward] */
static shape_stat *shapes;               /* (MAX_SHAPES), allocated on the first call in shapes mode */
static int n_shapes;
static long dropped;
static pthread_mutex_t stats_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static bool enabled, by_shape;

static void print_ops(void)
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

static int by_time_desc(const void *a, const void *b)
{
    double x = ((const shape_stat *)a)->seconds, y = ((const shape_stat *)b)->seconds;
    return x < y ? 1 : x > y ? -1 : 0;
}

/* The 40 largest rows: calls, total and per-call time, TFLOP/s (matmul), GB/s of the
 * operands' bytes (a lower bound of the traffic: temporaries and re-reads are not seen). */
static void print_shapes(void)
{
    if (!n_shapes) return;
    double total = 0;
    for (int i = 0; i < n_shapes; i++) total += shapes[i].seconds;
    qsort(shapes, (size_t)n_shapes, sizeof shapes[0], by_time_desc);
    fprintf(stderr, "\nSEA_PROFILE=shapes: the largest of %d op shapes%s\n", n_shapes,
            dropped ? " (more were seen than the table holds; their calls are only in the table above)" : "");
    fprintf(stderr, "  %-18s %-3s %7s %10s %9s %7s %8s %6s  %s\n", "op", "dir", "calls", "total ms", "ms/call",
            "TFLOP/s", "GB/s", "share", "operands");
    for (int i = 0; i < n_shapes && i < 40; i++) {
        const shape_stat *s = &shapes[i];
        double per = s->seconds / (double)s->calls;
        char tf[16] = "-";
        if (s->flops > 0 && per > 0) snprintf(tf, sizeof tf, "%.3g", s->flops / per / 1e12);
        fprintf(stderr, "  %-18s %-3s %7ld %10.2f %9.4g %7s %8.0f %5.1f%%  %s\n", sea_op_name(s->kind),
                s->backward ? "bwd" : "fwd", s->calls, s->seconds * 1e3, per * 1e3, tf,
                per > 0 ? s->bytes / per / 1e9 : 0.0, 100.0 * s->seconds / total, s->key);
    }
}

static void print_tables(void)
{
    print_ops();
    print_shapes();
}

static void init(void)
{
    const char *env = getenv("SEA_PROFILE");
    enabled = env && *env && strcmp(env, "0") != 0;
    by_shape = enabled && strcmp(env, "shapes") == 0;
    if (enabled) atexit(print_tables);
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

static int64_t numel(const sea_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}

/* Appends "(8192, 2048) bf16" (and " T" when transposed) to buf. */
static void append_tensor(char *buf, size_t cap, const sea_tensor *t, bool transposed)
{
    size_t len = strlen(buf);
    int w = snprintf(buf + len, cap - len, "%s(", len && buf[len - 1] != ' ' ? ", " : "");
    for (int d = 0; d < t->ndim && w > 0; d++) {
        len = strlen(buf);
        w = snprintf(buf + len, cap - len, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    }
    len = strlen(buf);
    snprintf(buf + len, cap - len, ") %s%s", sea_dtype_name(t->dtype), transposed ? " T" : "");
}

/* 2 M N K per output matrix, per product the direction computes: the forward's one, and in
 * backward one for each input gradient asked for (dA = dC B^T, dB = A^T dC). */
static double matmul_flops(const sea_op *op, bool backward)
{
    const sea_tensor *a = op->in[0], *c = op->out[0];
    if (!a || !c || a->ndim < 2 || c->ndim < 2) return 0;
    double M = (double)c->shape[c->ndim - 2], N = (double)c->shape[c->ndim - 1];
    double K = (double)(op->p.matmul.trans_a ? a->shape[a->ndim - 2] : a->shape[a->ndim - 1]);
    double batch = (double)numel(c) / (M * N);
    double one = 2.0 * batch * M * N * K;
    if (!backward) return one;
    return one * ((op->gin[0] != NULL) + (op->gin[1] != NULL));
}

static void add_shape(const sea_op *op, bool backward, double seconds)
{
    char key[sizeof shapes[0].key] = "";
    double bytes = 0;
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        const sea_tensor *t = op->in[i];
        if (!t) continue;
        bool tr = op->kind == SEA_OP_MATMUL && ((i == 0 && op->p.matmul.trans_a) || (i == 1 && op->p.matmul.trans_b));
        append_tensor(key, sizeof key, t, tr);
        bytes += (double)numel(t) * (double)sea_dtype_size(t->dtype);
    }
    size_t len = strlen(key);
    snprintf(key + len, sizeof key - len, " ->");
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        const sea_tensor *t = op->out[j];
        if (!t) continue;
        len = strlen(key);
        snprintf(key + len, sizeof key - len, " ");
        append_tensor(key, sizeof key, t, false);
        bytes += (double)numel(t) * (double)sea_dtype_size(t->dtype);
    }
    if (backward) /* the gradients read and written */
        for (int i = 0; i < SEA_OP_MAX_IN; i++)
            if (op->gin[i]) bytes += (double)numel(op->gin[i]) * (double)sea_dtype_size(op->gin[i]->dtype);
    for (int i = 0; i < n_shapes; i++)
        if (shapes[i].kind == op->kind && shapes[i].backward == backward && !strcmp(shapes[i].key, key)) {
            shapes[i].calls++;
            shapes[i].seconds += seconds;
            return;
        }
    if (n_shapes == MAX_SHAPES) {
        dropped++;
        return;
    }
    shape_stat *s = &shapes[n_shapes++];
    memcpy(s->key, key, sizeof key);
    s->kind = op->kind;
    s->backward = backward;
    s->calls = 1;
    s->seconds = seconds;
    s->flops = op->kind == SEA_OP_MATMUL ? matmul_flops(op, backward) : 0;
    s->bytes = bytes;
}

void sea_op_profile_add(const sea_op *op, bool backward, double seconds)
{
    if ((unsigned)op->kind >= SEA_OP_COUNT) return;
    pthread_mutex_lock(&stats_mu);
    stats[op->kind][backward].calls++;
    stats[op->kind][backward].seconds += seconds;
    if (by_shape) {
        if (!shapes) shapes = calloc(MAX_SHAPES, sizeof *shapes);
        if (shapes) add_shape(op, backward, seconds); /* no memory: the op table still counts */
    }
    pthread_mutex_unlock(&stats_mu);
}
