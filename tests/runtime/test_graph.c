/* Op-sequence capture (runtime/graph.h) on a device, the CPU by default:
 * - captured ops do not run until the graph is launched; a launch runs them in order on the
 *   inputs' values at launch time (a replay after new inputs gives the new results);
 * - the graph keeps its buffers alive after the caller released them;
 * - host transfers, syncs, tapes and backward ops are refused while capturing, with the reason;
 * - a set_rows whose row index changes between replays writes the new row (the KV-cache write
 *   of a captured decode step);
 * - abort discards a capture; the stream works normally afterwards.
 * usage: test_graph [DEVICE]   (a named device that is absent -> exit 77) */
#include <stdlib.h>
#include <string.h>

#include "runtime/graph.h"
#include "runtime/ops.h"
#include "runtime/tape.h"
#include "tests/test_check.h"
#include "tests/test_device.h"

static int failures;


static void test_replay(sea_device *dev)
{
    sea_stream *s = sea_device_stream(dev);
    int64_t n = 6;
    sea_tensor a, b, c, d;
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &n, &a));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &n, &b));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &n, &c));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &n, &d));
    float av[6] = {1, 2, 3, 4, 5, 6}, bv[6] = {10, 20, 30, 40, 50, 60}, zero[6] = {0}, got[6];
    REQUIRE_OK(sea_tensor_write_f32(s, &a, av));
    REQUIRE_OK(sea_tensor_write_f32(s, &b, bv));
    REQUIRE_OK(sea_tensor_write_f32(s, &d, zero));

    /* c = a + b; d = 2 c */
    REQUIRE_OK(sea_graph_capture_begin(s));
    CHECK(sea_graph_capturing(s), "not capturing after begin");
    REQUIRE_OK(sea_add(s, &a, &b, &c));
    REQUIRE_OK(sea_scale(s, &c, 2.0f, &d));
    CHECK(sea_tensor_read_f32(s, &d, got) != SEA_OK, "buffer_read accepted while capturing");
    CHECK(strstr(sea_last_error(), "captures a graph") != NULL, "read refusal says why: %s", sea_last_error());
    CHECK(sea_tensor_write_f32(s, &a, av) != SEA_OK, "buffer_write accepted while capturing");
    CHECK(sea_stream_sync(s) != SEA_OK, "stream sync accepted while capturing");
    CHECK(sea_graph_capture_begin(s) != SEA_OK, "nested capture accepted");
    sea_graph *g = NULL;
    REQUIRE_OK(sea_graph_capture_end(s, &g));
    CHECK(sea_graph_op_count(g) == 2, "graph has %d ops, expected 2", sea_graph_op_count(g));

    /* Nothing ran during the capture. */
    REQUIRE_OK(sea_tensor_read_f32(s, &d, got));
    CHECK(!memcmp(got, zero, sizeof got), "captured ops ran before the launch (d[0] = %g)", got[0]);

    /* The graph owns its buffers: the caller's references can go. */
    sea_tensor a2 = a, b2 = b, c2 = c, d2 = d;
    sea_buffer_retain(d.buf);   /* keep d readable here */
    sea_buffer_retain(a.buf);
    sea_tensor_free(&a);
    sea_tensor_free(&b);
    sea_tensor_free(&c);
    sea_tensor_free(&d);
    REQUIRE_OK(sea_graph_launch(s, g));
    REQUIRE_OK(sea_tensor_read_f32(s, &d2, got));
    for (int i = 0; i < 6; i++) CHECK(got[i] == 2 * (av[i] + bv[i]), "d[%d] = %g after launch", i, got[i]);

    /* New inputs, same graph: new results. */
    float a_new[6] = {-1, -2, -3, -4, -5, -6};
    REQUIRE_OK(sea_tensor_write_f32(s, &a2, a_new));
    REQUIRE_OK(sea_graph_launch(s, g));
    REQUIRE_OK(sea_tensor_read_f32(s, &d2, got));
    for (int i = 0; i < 6; i++) CHECK(got[i] == 2 * (a_new[i] + bv[i]), "d[%d] = %g after the second launch", i, got[i]);
    sea_graph_free(g);
    sea_buffer_release(a2.buf);
    sea_buffer_release(d2.buf);
    (void)b2;
    (void)c2;
}

/* A KV-cache write whose slot changes between replays. */
static void test_set_rows_replay(sea_device *dev)
{
    sea_stream *s = sea_device_stream(dev);
    int64_t xs[2] = {2, 3}, cs[2] = {8, 3}, rs = 2;
    sea_tensor x, cache, rows;
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, xs, &x));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, cs, &cache));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_I32, 1, &rs, &rows));
    REQUIRE_OK(sea_fill(s, &cache, 0.0));
    REQUIRE_OK(sea_graph_capture_begin(s));
    REQUIRE_OK(sea_set_rows(s, &x, &rows, &cache));
    sea_graph *g = NULL;
    REQUIRE_OK(sea_graph_capture_end(s, &g));
    for (int step = 0; step < 4; step++) {
        float xv[6];
        for (int i = 0; i < 6; i++) xv[i] = (float)(100 * step + i + 1);
        int32_t rv[2] = {step, 4 + step};   /* sequence b's slot `step` of a (2, 4) cache */
        REQUIRE_OK(sea_tensor_write_f32(s, &x, xv));
        REQUIRE_OK(sea_tensor_write_i32(s, &rows, rv));
        REQUIRE_OK(sea_graph_launch(s, g));
    }
    float got[24];
    REQUIRE_OK(sea_tensor_read_f32(s, &cache, got));
    for (int b = 0; b < 2; b++)
        for (int step = 0; step < 4; step++)
            for (int j = 0; j < 3; j++) {
                float want = (float)(100 * step + b * 3 + j + 1);
                CHECK(got[(b * 4 + step) * 3 + j] == want, "cache row %d col %d = %g, want %g", b * 4 + step, j,
                      got[(b * 4 + step) * 3 + j], want);
            }
    sea_graph_free(g);
    sea_tensor_free(&x);
    sea_tensor_free(&cache);
    sea_tensor_free(&rows);
}

/* What a capture refuses, and abort. */
static void test_refusals(sea_device *dev)
{
    sea_stream *s = sea_device_stream(dev);
    int64_t n = 4;
    sea_tensor a, b;
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &n, &a));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &n, &b));
    REQUIRE_OK(sea_fill(s, &a, 1.0));

    sea_tape *tape = NULL;
    REQUIRE_OK(sea_tape_create(dev, &tape));
    s->tape = tape;
    CHECK(sea_graph_capture_begin(s) != SEA_OK, "capture accepted while a tape records");
    CHECK(strstr(sea_last_error(), "tape") != NULL, "tape refusal says why: %s", sea_last_error());
    s->tape = NULL;
    sea_tape_free(tape);

    REQUIRE_OK(sea_graph_capture_begin(s));
    sea_op op = {0};
    op.kind = SEA_OP_SCALE;
    op.in[0] = &a;
    op.gin[0] = &b;
    op.gout[0] = &a;
    op.p.scale.alpha = 2;
    CHECK(sea_op_run_backward(s, &op) != SEA_OK, "backward op accepted while capturing");
    REQUIRE_OK(sea_fill(s, &b, 7.0));
    sea_graph_capture_abort(s);
    CHECK(!sea_graph_capturing(s), "still capturing after abort");
    float got[4];
    REQUIRE_OK(sea_fill(s, &b, 3.0));
    REQUIRE_OK(sea_tensor_read_f32(s, &b, got));
    CHECK(got[0] == 3.0f, "the stream after abort: b[0] = %g", got[0]);
    sea_graph *g = NULL;
    CHECK(sea_graph_capture_end(s, &g) != SEA_OK && !g, "end without begin accepted");
    sea_tensor_free(&a);
    sea_tensor_free(&b);
}

int main(int argc, char **argv)
{
    sea_device *dev = test_device(argc, argv);
    test_replay(dev);
    test_set_rows_replay(dev);
    test_refusals(dev);
    sea_device_close(dev);
    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else printf("graph capture and replay: all checks passed\n");
    return failures != 0;
}
