/* SEA_PROFILE's tables (runtime/op_profile.c), read back from a child run of this program:
 * - SEA_PROFILE=1: the op table counts calls by op and direction;
 * - SEA_PROFILE=shapes: a row per (op, direction, operand shapes), transposes marked, calls
 *   counted per shape; a matmul's TFLOP/s times its time per call gives back its 2 M N K
 *   (twice that in backward with both input gradients).
 * usage: test_profile            (runs itself as `test_profile run` under each setting) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops.h"
#include "tests/test_check.h"

static int failures;

/* The child: three (64, 96) x (48, 96)^T matmuls, one of a second shape, one backward. */
static int run_ops(void)
{
    sea_device *dev = NULL;
    REQUIRE_OK(sea_device_open("cpu", &dev));
    sea_stream *s = sea_device_stream(dev);
    int64_t sa[2] = {64, 96}, sb[2] = {48, 96}, sc[2] = {64, 48}, sd[2] = {96, 48};
    sea_tensor a, b, c, d, e, ga, gb, gc;
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sa, &a));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sb, &b));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sc, &c));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sd, &d));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sa, &e));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sa, &ga));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sb, &gb));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sc, &gc));
    REQUIRE_OK(sea_fill(s, &a, 0.5));
    REQUIRE_OK(sea_fill(s, &b, 0.25));
    REQUIRE_OK(sea_fill(s, &d, 1.0));
    REQUIRE_OK(sea_fill(s, &gc, 1.0));
    REQUIRE_OK(sea_fill(s, &ga, 0.0));
    REQUIRE_OK(sea_fill(s, &gb, 0.0));
    for (int i = 0; i < 3; i++) REQUIRE_OK(sea_matmul(s, &a, &b, NULL, false, true, SEA_ACT_NONE, &c, NULL));
    REQUIRE_OK(sea_matmul(s, &c, &d, NULL, false, true, SEA_ACT_NONE, &e, NULL)); /* (64, 48) x (96, 48)^T */
    sea_op op;
    memset(&op, 0, sizeof op);
    op.kind = SEA_OP_MATMUL;
    op.p.matmul.trans_b = true;
    op.in[0] = &a;
    op.in[1] = &b;
    op.out[0] = &c;
    op.gin[0] = &ga;
    op.gin[1] = &gb;
    op.gout[0] = &gc;
    REQUIRE_OK(sea_op_run_backward(s, &op));
    sea_tensor *all[] = {&a, &b, &c, &d, &e, &ga, &gb, &gc};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sea_tensor_free(all[i]);
    sea_device_close(dev);
    return 0;
}

/* The child's stderr under SEA_PROFILE=setting, in buf. */
static void run_child(const char *self, const char *setting, char *buf, size_t cap)
{
    char cmd[4096];
    snprintf(cmd, sizeof cmd, "SEA_PROFILE=%s '%s' run 2>&1 >/dev/null", setting, self);
    FILE *p = popen(cmd, "r");
    REQUIRE_OK(p ? SEA_OK : sea_error(SEA_ERR_IO, "popen %s failed", cmd));
    size_t n = fread(buf, 1, cap - 1, p);
    buf[n] = 0;
    CHECK(pclose(p) == 0, "the child failed under SEA_PROFILE=%s:\n%s", setting, buf);
}

/* The shapes row of `dir` whose operands are exactly `operands`, or NULL. */
static const char *find_row(const char *out, const char *dir, const char *operands)
{
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        char op[32], d[8];
        if (sscanf(l, " %31s %7s", op, d) != 2 || strcmp(op, "matmul") || strcmp(d, dir)) continue;
        const char *end = strchr(l, '\n');
        size_t len = end ? (size_t)(end - l) : strlen(l), ol = strlen(operands);
        if (len >= ol && !strncmp(l + len - ol, operands, ol) && l[len - ol - 1] == ' ') return l;
    }
    return NULL;
}

/* Checks a row's calls and that TFLOP/s x ms/call is `flops`. */
static void check_row(const char *row, long want_calls, double flops)
{
    char op[32], d[8], tf[32];
    long calls;
    double total_ms, per_ms, gbs;
    if (sscanf(row, " %31s %7s %ld %lf %lf %31s %lf", op, d, &calls, &total_ms, &per_ms, tf, &gbs) != 7) {
        CHECK(0, "unreadable row: %.120s", row);
        return;
    }
    CHECK(calls == want_calls, "%s: %ld calls, want %ld", row, calls, want_calls);
    double got = atof(tf) * 1e12 * per_ms * 1e-3;
    /* TFLOP/s has 3 significant digits and ms/call 4 decimals: a few per cent at most. */
    CHECK(per_ms <= 0 || (got > 0.9 * flops && got < 1.1 * flops), "%s: TFLOP/s x time = %.4g FLOP, want %.4g", d,
          got, flops);
}

int main(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "run")) return run_ops();
    static char out[65536];

    run_child(argv[0], "1", out, sizeof out);
    CHECK(strstr(out, "SEA_PROFILE: time in ops"), "no op table under SEA_PROFILE=1:\n%s", out);
    CHECK(!strstr(out, "SEA_PROFILE=shapes"), "a shapes table under SEA_PROFILE=1");
    /* Rows are sorted by time, so the backward row may come first on a slow or busy machine. */
    long calls = 0;
    for (const char *l = out; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
        if (sscanf(l, " matmul forward %ld", &calls) == 1) break;
    CHECK(calls == 4, "matmul forward calls %ld, want 4:\n%s", calls, out);

    run_child(argv[0], "shapes", out, sizeof out);
    CHECK(strstr(out, "SEA_PROFILE=shapes: the largest of"), "no shapes table:\n%s", out);
    const char *r1 = find_row(out, "fwd", "(64, 96) f32, (48, 96) f32 T -> (64, 48) f32");
    const char *r2 = find_row(out, "fwd", "(64, 48) f32, (96, 48) f32 T -> (64, 96) f32");
    const char *r3 = find_row(out, "bwd", "(64, 96) f32, (48, 96) f32 T -> (64, 48) f32");
    CHECK(r1 && r2 && r3, "missing matmul rows (%d %d %d):\n%s", r1 != NULL, r2 != NULL, r3 != NULL, out);
    if (r1) check_row(r1, 3, 2.0 * 64 * 48 * 96);
    if (r2) check_row(r2, 1, 2.0 * 64 * 96 * 48);
    if (r3) check_row(r3, 1, 2 * 2.0 * 64 * 48 * 96);

    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else printf("profile tables: all checks passed\n");
    return failures != 0;
}
