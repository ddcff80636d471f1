/* Rope in place (op.h: out may be x itself when x is contiguous), on a device, the CPU by
 * default: the same bits as into other memory, forward and for the backward the model runs
 * on an in-place rope (gout set aside, gin zeroed, gin += R(-angle) gout), NeoX and GPT-J
 * pairs, partial rotary, f32 and (where the backend has it) bf16; a partial overlap of out
 * and x is refused with a message that says so.
 * usage: test_rope_in_place [DEVICE]   (a named device that is absent -> exit 77) */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops.h"
#include "tests/test_check.h"
#include "tests/test_device.h"

static int failures;

/* n random values, a fixed sequence (the test is about memory, not numerics). */
static void fill_host(float *x, int64_t n, unsigned seed)
{
    for (int64_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        x[i] = (float)((seed >> 8) % 20001) / 10000.0f - 1.0f;
    }
}

static void upload(sea_stream *s, sea_device *dev, sea_dtype dt, const int64_t *shape, const float *src, sea_tensor *t)
{
    REQUIRE_OK(sea_tensor_alloc(dev, dt, 4, shape, t));
    REQUIRE_OK(sea_tensor_write_f32(s, t, src));
}

static void one_case(sea_device *dev, sea_dtype dt, sea_rope_style style, int rot)
{
    sea_stream *s = sea_device_stream(dev);
    const int64_t shape[4] = {2, 5, 3, 16}, n = 2 * 5 * 3 * 16, bt[2] = {2, 5};
    float *x = malloc(n * sizeof *x), *a = malloc(n * sizeof *a), *b = malloc(n * sizeof *b);
    int32_t pos[10];
    for (int i = 0; i < 10; i++) pos[i] = (i * 37) % 23;
    fill_host(x, n, 7u + (unsigned)rot);
    sea_op_params p = {.rope = {.rot_dims = rot, .theta = 10000, .style = style}};
    sea_tensor xt, out, in_place, pt;
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_I32, 2, bt, &pt));
    REQUIRE_OK(sea_tensor_write_i32(s, &pt, pos));
    upload(s, dev, dt, shape, x, &xt);
    REQUIRE_OK(sea_tensor_alloc(dev, dt, 4, shape, &out));
    upload(s, dev, dt, shape, x, &in_place);
    const char *what = style == SEA_ROPE_NEOX ? "neox" : "gptj";
    sea_status st = sea_rope(s, &xt, &pt, &p, &out);
    if (st == SEA_ERR_UNSUPPORTED && dt != SEA_F32) {   /* a backend without bf16 rope */
        printf("  %s rot %d %s: skipped (%s)\n", what, rot, sea_dtype_name(dt), sea_last_error());
        goto done;
    }
    REQUIRE_OK(st);
    REQUIRE_OK(sea_rope(s, &in_place, &pt, &p, &in_place));
    REQUIRE_OK(sea_tensor_read_f32(s, &out, a));
    REQUIRE_OK(sea_tensor_read_f32(s, &in_place, b));
    CHECK(!memcmp(a, b, n * sizeof *a), "%s rot %d %s: in place differs from out of place", what, rot,
          sea_dtype_name(dt));

    /* Backward: gin += R(-angle) gout into zeros, from separate gout, vs the model's in-place
     * recipe (gout copied aside, the shared gradient zeroed, backward from the copy). */
    sea_tensor g, gin, shared, aside;
    upload(s, dev, dt, shape, x, &g);
    REQUIRE_OK(sea_tensor_alloc(dev, dt, 4, shape, &gin));
    REQUIRE_OK(sea_fill(s, &gin, 0.0));
    upload(s, dev, dt, shape, x, &shared);
    REQUIRE_OK(sea_tensor_alloc(dev, dt, 4, shape, &aside));
    sea_op op = {0};
    op.kind = SEA_OP_ROPE;
    op.p = p;
    op.in[0] = &xt;
    op.in[1] = &pt;
    op.out[0] = &out;
    op.gout[0] = &g;
    op.gin[0] = &gin;
    REQUIRE_OK(sea_op_run_backward(s, &op));
    REQUIRE_OK(sea_copy(s, &shared, &aside));
    REQUIRE_OK(sea_fill(s, &shared, 0.0));
    op.in[0] = op.out[0] = &in_place;
    op.gout[0] = &aside;
    op.gin[0] = &shared;
    REQUIRE_OK(sea_op_run_backward(s, &op));
    REQUIRE_OK(sea_tensor_read_f32(s, &gin, a));
    REQUIRE_OK(sea_tensor_read_f32(s, &shared, b));
    CHECK(!memcmp(a, b, n * sizeof *a), "%s rot %d %s: the in-place gradient differs", what, rot, sea_dtype_name(dt));
    printf("  %s rot %d %s: in place = out of place, forward and backward\n", what, rot, sea_dtype_name(dt));
    sea_tensor_free(&g);
    sea_tensor_free(&gin);
    sea_tensor_free(&shared);
    sea_tensor_free(&aside);
done:
    sea_tensor_free(&xt);
    sea_tensor_free(&out);
    sea_tensor_free(&in_place);
    sea_tensor_free(&pt);
    free(x), free(a), free(b);
}

/* out overlapping x without being it (shifted by one position) is refused. */
static void partial_overlap(sea_device *dev)
{
    sea_stream *s = sea_device_stream(dev);
    const int64_t shape[4] = {1, 6, 2, 8}, bt[2] = {1, 5};
    sea_tensor big, x, o, pt;
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 4, shape, &big));
    REQUIRE_OK(sea_fill(s, &big, 0.5));
    REQUIRE_OK(sea_tensor_slice(&big, 1, 0, 5, &x));
    REQUIRE_OK(sea_tensor_slice(&big, 1, 1, 5, &o));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_I32, 2, bt, &pt));
    REQUIRE_OK(sea_fill(s, &pt, 0));
    sea_op_params p = {.rope = {.rot_dims = 8, .theta = 10000, .style = SEA_ROPE_NEOX}};
    sea_status st = sea_rope(s, &x, &pt, &p, &o);
    CHECK(st == SEA_ERR_INVALID && strstr(sea_last_error(), "overlaps"),
          "a partially overlapping out gave %s: %s", sea_status_name(st), sea_last_error());
    sea_tensor_free(&big);
    sea_tensor_free(&pt);
}

int main(int argc, char **argv)
{
    sea_device *dev = test_device(argc, argv);
    sea_dtype dts[2] = {SEA_F32, SEA_BF16};
    for (int d = 0; d < 2; d++) {
        one_case(dev, dts[d], SEA_ROPE_NEOX, 16);
        one_case(dev, dts[d], SEA_ROPE_NEOX, 4);   /* partial: the rest copied in place */
        one_case(dev, dts[d], SEA_ROPE_GPTJ, 12);
    }
    partial_overlap(dev);
    sea_device_close(dev);
    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else printf("rope in place: all checks passed\n");
    return failures != 0;
}
