/* The device allocator's counters (sea_device_memory_stats), on a device, the CPU by default:
 * - a backend without counters (the CPU) says so, naming the device;
 * - with counters (CUDA, Vulkan, OpenCL): live buffers add the bytes they asked for to
 *   `allocated` (exactly on CUDA and OpenCL, rounded to the alignment on Vulkan) and at least
 *   that to `held`; a freed one leaves them and goes to `cached`; the peaks keep
 *   the high-water mark until a reset brings them down to the current values;
 * - an op's temporaries count in the peak (CUDA: a broadcast add's backward reduces through
 *   an f32 temporary of the full shape, so the peak rises by at least its size) and are
 *   given back by the time the stream is synced;
 * - sea_device_memory_trim empties CUDA's cache of free blocks (and is a no-op elsewhere).
 * usage: test_memory_stats [DEVICE]   (a named device that is absent -> exit 77) */
#include <stdlib.h>
#include <string.h>

#include "runtime/ops.h"
#include "tests/test_check.h"
#include "tests/test_device.h"

static int failures;

/* CUDA and OpenCL count the bytes asked for exactly; Vulkan rounds each range up to its
 * alignment. Only CUDA's broadcast add backward is known to use a temporary. */
static void test_counters(sea_device *dev)
{
    const bool cuda = !strcmp(dev->backend->name, "cuda"), opencl = !strcmp(dev->backend->name, "opencl");
    const bool exact = cuda || opencl;
    const size_t slack = exact ? 0 : 4096; /* per allocation */
    sea_device_memory m0, m;
    REQUIRE_OK(sea_device_memory_stats(dev, true, &m0));
    CHECK(m0.allocated_peak == m0.allocated && m0.held_peak == m0.held, "a reset left the peaks above the current");
    CHECK(m0.held >= m0.allocated, "held %zu < allocated %zu", m0.held, m0.allocated);

    int64_t n_small = 1000, n_big = 1 << 18; /* 4000 bytes and 1 MiB of f32 */
    sea_tensor small, big;
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &n_small, &small));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &n_big, &big));
    REQUIRE_OK(sea_device_memory_stats(dev, false, &m));
    CHECK(m.allocated >= m0.allocated + 4000 + (1 << 20) && m.allocated <= m0.allocated + 4000 + (1 << 20) + 2 * slack,
          "allocated %zu, want %zu (+ %zu)", m.allocated, m0.allocated + 4000 + (1 << 20), 2 * slack);
    CHECK(m.held >= m.allocated && m.held <= m0.held + (4000 + (1 << 20)) * 5 / 4 + 1024 + 2 * slack,
          "held grew by %zu for 1052576 bytes (size classes add at most 25%%)", m.held - m0.held);
    CHECK(m.allocated_peak == m.allocated, "peak %zu below allocated %zu", m.allocated_peak, m.allocated);

    const size_t big_held = m.held, big_cached = m.cached, big_allocated = m.allocated;
    sea_tensor_free(&big);
    REQUIRE_OK(sea_device_memory_stats(dev, false, &m));
    CHECK(m.allocated >= m0.allocated + 4000 && m.allocated <= m0.allocated + 4000 + slack,
          "after the free: allocated %zu, want %zu", m.allocated, m0.allocated + 4000);
    CHECK(m.allocated_peak == big_allocated, "the peak forgot the freed buffer: %zu, was %zu", m.allocated_peak,
          big_allocated);
    /* CUDA and Vulkan keep the freed block for reuse (cached); OpenCL gives it to the driver. */
    const size_t reused = opencl ? 0 : big_held - m.held;
    CHECK(big_held - m.held >= (1 << 20) && m.cached - big_cached == reused,
          "the freed block is not accounted for: cached %zu -> %zu, held %zu -> %zu", big_cached, m.cached, big_held,
          m.held);

    /* Trimming gives CUDA's cached blocks back to the driver (the others keep what they keep:
     * trim is optional and a no-op there); nothing live changes. */
    if (cuda) {
        const size_t before_alloc = m.allocated;
        REQUIRE_OK(sea_device_memory_trim(dev));
        REQUIRE_OK(sea_device_memory_stats(dev, false, &m));
        CHECK(m.cached == 0 && m.allocated == before_alloc && m.held >= m.allocated,
              "after trim: cached %zu (want 0), allocated %zu (was %zu), held %zu", m.cached, m.allocated, before_alloc,
              m.held);
    } else {
        CHECK(sea_device_memory_trim(dev) == SEA_OK, "trim failed on %s: %s", dev->backend->name, sea_last_error());
    }

    REQUIRE_OK(sea_device_memory_stats(dev, true, &m));   /* read, then reset */
    REQUIRE_OK(sea_device_memory_stats(dev, false, &m));
    CHECK(m.allocated_peak == m.allocated && m.held_peak == m.held, "the reset did not lower the peaks");

    /* A broadcast add's backward: gb (64) = column sums of g (512, 64) through an f32
     * temporary of g's size (128 KiB), freed before the op returns. */
    int64_t sa[2] = {512, 64}, sb = 64;
    sea_tensor a, b, y, g, ga, gb;
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sa, &a));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &sb, &b));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sa, &y));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sa, &g));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sa, &ga));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &sb, &gb));
    sea_stream *s = sea_device_stream(dev);
    REQUIRE_OK(sea_fill(s, &g, 1.0));
    REQUIRE_OK(sea_fill(s, &ga, 0.0));
    REQUIRE_OK(sea_fill(s, &gb, 0.0));
    sea_device_memory before;
    REQUIRE_OK(sea_device_memory_stats(dev, true, &before));
    sea_op op;
    memset(&op, 0, sizeof op);
    op.kind = SEA_OP_ADD;
    op.in[0] = &a;
    op.in[1] = &b;
    op.out[0] = &y;
    op.gin[0] = &ga;
    op.gin[1] = &gb;
    op.gout[0] = &g;
    REQUIRE_OK(sea_op_run_backward(s, &op));
    REQUIRE_OK(sea_stream_sync(s));
    REQUIRE_OK(sea_device_memory_stats(dev, false, &m));
    CHECK(m.allocated == before.allocated, "the op kept %zd bytes", (ssize_t)(m.allocated - before.allocated));
    if (cuda) /* CUDA reduces through an f32 temporary; other backends may not need one */
        CHECK(m.allocated_peak >= before.allocated + 512 * 64 * 4, "the temporary is not in the peak: %zu -> %zu",
              before.allocated, m.allocated_peak);
    float got[64];
    REQUIRE_OK(sea_tensor_read_f32(s, &gb, got));
    CHECK(got[0] == 512.0f && got[63] == 512.0f, "gb = %g, %g; want 512", got[0], got[63]);

    /* A matmul's bias gradient: OpenCL sums it through partial-sum temporaries; they too
     * must be counted back out once the op is done. */
    int64_t sx[2] = {64, 32}, sw[2] = {16, 32}, sbias = 16, so[2] = {64, 16};
    sea_tensor x, w, bias, o, gx, gw, gbias, go;
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sx, &x));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sw, &w));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &sbias, &bias));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, so, &o));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sx, &gx));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, sw, &gw));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 1, &sbias, &gbias));
    REQUIRE_OK(sea_tensor_alloc(dev, SEA_F32, 2, so, &go));
    sea_tensor *mm[] = {&x, &w, &bias, &go, &gx, &gw, &gbias};
    for (size_t i = 0; i < sizeof mm / sizeof mm[0]; i++) REQUIRE_OK(sea_fill(s, mm[i], i < 4 ? 0.5 : 0.0));
    REQUIRE_OK(sea_stream_sync(s));
    REQUIRE_OK(sea_device_memory_stats(dev, true, &before));
    memset(&op, 0, sizeof op);
    op.kind = SEA_OP_MATMUL;
    op.p.matmul.trans_b = true;
    op.in[0] = &x;
    op.in[1] = &w;
    op.in[2] = &bias;
    op.out[0] = &o;
    op.gin[0] = &gx;
    op.gin[1] = &gw;
    op.gin[2] = &gbias;
    op.gout[0] = &go;
    REQUIRE_OK(sea_op_run_backward(s, &op));
    REQUIRE_OK(sea_stream_sync(s));
    REQUIRE_OK(sea_device_memory_stats(dev, false, &m));
    CHECK(m.allocated == before.allocated, "the matmul backward kept %zd bytes",
          (ssize_t)(m.allocated - before.allocated));
    float gb16[16];
    REQUIRE_OK(sea_tensor_read_f32(s, &gbias, gb16));
    CHECK(gb16[0] == 32.0f && gb16[15] == 32.0f, "bias gradient %g, %g; want 32", gb16[0], gb16[15]);
    sea_tensor *mm_all[] = {&x, &w, &bias, &o, &gx, &gw, &gbias, &go};
    for (size_t i = 0; i < sizeof mm_all / sizeof mm_all[0]; i++) sea_tensor_free(mm_all[i]);

    sea_tensor *all[] = {&small, &a, &b, &y, &g, &ga, &gb};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) sea_tensor_free(all[i]);
}

int main(int argc, char **argv)
{
    sea_device *dev = test_device(argc, argv);
    sea_device_memory m;
    sea_status st = sea_device_memory_stats(dev, false, &m);
    if (!strcmp(dev->backend->name, "cpu")) {
        CHECK(st == SEA_ERR_UNSUPPORTED, "the cpu backend answered %s", sea_status_name(st));
        CHECK(strstr(sea_last_error(), "cpu") && strstr(sea_last_error(), "no memory statistics"),
              "the refusal does not say which device and why: %s", sea_last_error());
    } else if (st == SEA_ERR_UNSUPPORTED) {
        printf("%s: %s (nothing to test)\n", sea_device_label(dev), sea_last_error());
    } else {
        test_counters(dev);
    }
    sea_device_close(dev);
    if (failures) fprintf(stderr, "%d check(s) failed\n", failures);
    else printf("memory statistics: all checks passed\n");
    return failures != 0;
}
