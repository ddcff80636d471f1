/* Unit tests of the runtime core: dtype conversions, Philox, tensor views, thread pool,
 * device specs and their error messages. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/backend.h"
#include "runtime/discovery.h"
#include "runtime/rng.h"
#include "runtime/tensor.h"
#include "runtime/threadpool.h"

static void test_bf16_round_to_nearest_even(void **state)
{
    (void)state;
    /* 1 + 2^-8 is exactly halfway between two bf16 values: ties go to the even mantissa (1.0). */
    assert_int_equal(sea_f32_to_bf16(1.0f + 0x1p-8f), 0x3f80);
    /* 1 + 3*2^-8 is halfway between 1+2^-7 (odd) and 1+2^-6 (even). */
    assert_int_equal(sea_f32_to_bf16(1.0f + 3 * 0x1p-8f), 0x3f82);
    assert_true(sea_bf16_to_f32(0x3f80) == 1.0f);
    assert_true(isnan(sea_bf16_to_f32(sea_f32_to_bf16(NAN))));
    assert_true(isinf(sea_bf16_to_f32(sea_f32_to_bf16(INFINITY))));
}

static void test_f16_against_float64(void **state)
{
    (void)state;
    /* Every finite half value converts to float and back exactly. */
    for (uint32_t h = 0; h < 0x10000; h++) {
        if ((h & 0x7c00) == 0x7c00) continue;
        float f = sea_f16_to_f32((uint16_t)h);
        assert_int_equal(sea_f32_to_f16(f), h);
    }
    assert_true(sea_f16_to_f32(0x3c00) == 1.0f);
    assert_true(sea_f16_to_f32(0x0001) == 0x1p-24f);      /* smallest subnormal */
    assert_int_equal(sea_f32_to_f16(65520.0f), 0x7c00);   /* rounds to inf */
    assert_int_equal(sea_f32_to_f16(65504.0f), 0x7bff);   /* largest finite */
    /* Rounding of a value between two halves: 1 + 2^-11 is halfway -> even (1.0). */
    assert_int_equal(sea_f32_to_f16(1.0f + 0x1p-11f), 0x3c00);
    assert_int_equal(sea_f32_to_f16(1.0f + 0x1p-11f + 0x1p-20f), 0x3c01);
}

static void test_philox_known_answers(void **state)
{
    (void)state;
    /* Random123's published philox4x32_10 known-answer vectors. */
    const uint32_t c0[4] = {0, 0, 0, 0}, k0[2] = {0, 0};
    const uint32_t e0[4] = {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8};
    const uint32_t c1[4] = {0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, k1[2] = {0xffffffff, 0xffffffff};
    const uint32_t e1[4] = {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd};
    const uint32_t c2[4] = {0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, k2[2] = {0xa4093822, 0x299f31d0};
    const uint32_t e2[4] = {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1};
    uint32_t out[4];
    sea_philox4x32_raw(c0, k0, out);
    assert_memory_equal(out, e0, sizeof out);
    sea_philox4x32_raw(c1, k1, out);
    assert_memory_equal(out, e1, sizeof out);
    sea_philox4x32_raw(c2, k2, out);
    assert_memory_equal(out, e2, sizeof out);
}

static void test_rng_uniform_and_normal_moments(void **state)
{
    (void)state;
    double s = 0, s2 = 0, n1 = 0, n2 = 0;
    const int n = 200000;
    for (int i = 0; i < n; i++) {
        float u = sea_rng_uniform(42, 7, (uint64_t)i);
        assert_true(u > 0.0f && u < 1.0f);
        s += u;
        s2 += (double)u * u;
        float z = sea_rng_normal(42, 7, (uint64_t)i);
        n1 += z;
        n2 += (double)z * z;
    }
    assert_true(fabs(s / n - 0.5) < 0.005);
    assert_true(fabs(s2 / n - 1.0 / 3) < 0.005);
    assert_true(fabs(n1 / n) < 0.01);
    assert_true(fabs(n2 / n - 1.0) < 0.01);
    /* Different streams give different numbers; the same triple the same. */
    assert_true(sea_rng_uniform(1, 0, 5) != sea_rng_uniform(1, 1, 5));
    assert_true(sea_rng_uniform(1, 3, 5) == sea_rng_uniform(1, 3, 5));
    sea_rng r = sea_rng_make(9, 0);
    int counts[5] = {0};
    for (int i = 0; i < 50000; i++) counts[sea_rng_next_below(&r, 5)]++;
    for (int i = 0; i < 5; i++) assert_true(abs(counts[i] - 10000) < 500);
}

struct sum_ctx {
    int64_t *hits; /* (n) */
};

static void mark(void *ctx, int64_t begin, int64_t end, int thread)
{
    (void)thread;
    struct sum_ctx *c = ctx;
    for (int64_t i = begin; i < end; i++) c->hits[i]++;
}

static void test_threadpool_covers_range_once(void **state)
{
    (void)state;
    sea_threadpool *p;
    assert_int_equal(sea_threadpool_create(3, &p), SEA_OK);
    assert_int_equal(sea_threadpool_size(p), 3);
    for (int64_t n = 1; n < 300; n += 37) {
        struct sum_ctx c = {calloc((size_t)n, sizeof(int64_t))};
        sea_parallel_for(p, n, 1, mark, &c);
        for (int64_t i = 0; i < n; i++) assert_int_equal(c.hits[i], 1);
        free(c.hits);
    }
    sea_threadpool_free(p);
}

static void test_device_spec_errors_name_the_spec(void **state)
{
    (void)state;
    sea_device *dev = NULL;
    assert_int_equal(sea_device_open("cpu:3", &dev), SEA_ERR_DEVICE);
    assert_non_null(strstr(sea_last_error(), "cpu:3"));
    assert_int_equal(sea_device_open("tpu:0", &dev), SEA_ERR_DEVICE);
    assert_non_null(strstr(sea_last_error(), "tpu"));
    assert_int_equal(sea_device_open("cuda:x", &dev), SEA_ERR_DEVICE);
    assert_non_null(strstr(sea_last_error(), "cuda:x"));
    assert_null(dev);
}

static void test_tensor_views_and_transfers(void **state)
{
    (void)state;
    sea_device *dev;
    assert_int_equal(sea_device_open("cpu", &dev), SEA_OK);
    sea_tensor t;
    const int64_t shape[3] = {2, 3, 4};
    assert_int_equal(sea_tensor_alloc(dev, SEA_F32, 3, shape, &t), SEA_OK);
    assert_true(sea_tensor_is_contiguous(&t));
    assert_int_equal(sea_tensor_numel(&t), 24);
    float src[24], back[24];
    for (int i = 0; i < 24; i++) src[i] = (float)i * 0.5f - 3.0f;
    assert_int_equal(sea_tensor_write_f32(dev->stream, &t, src), SEA_OK);
    assert_int_equal(sea_tensor_read_f32(dev->stream, &t, back), SEA_OK);
    assert_memory_equal(src, back, sizeof src);

    sea_tensor s;
    assert_int_equal(sea_tensor_slice(&t, 1, 1, 2, &s), SEA_OK);
    assert_int_equal(s.offset, 4 * sizeof(float));
    assert_false(sea_tensor_is_contiguous(&s));
    assert_int_equal(sea_tensor_slice(&t, 1, 2, 2, &s), SEA_ERR_SHAPE);
    assert_non_null(strstr(sea_last_error(), "(2, 3, 4) f32"));

    sea_tensor p;
    const int perm[3] = {2, 0, 1};
    assert_int_equal(sea_tensor_permute(&t, perm, &p), SEA_OK);
    assert_int_equal(p.shape[0], 4);
    assert_int_equal(p.stride[0], 1);
    assert_int_equal(p.stride[1], 12);
    const int64_t r[2] = {6, 5};
    assert_int_equal(sea_tensor_reshape(&t, 2, r, &s), SEA_ERR_SHAPE);

    /* bf16 storage through the f32 transfer path rounds like sea_f32_to_bf16. */
    sea_tensor h;
    assert_int_equal(sea_tensor_alloc(dev, SEA_BF16, 1, (int64_t[]){24}, &h), SEA_OK);
    assert_int_equal(sea_tensor_write_f32(dev->stream, &h, src), SEA_OK);
    assert_int_equal(sea_tensor_read_f32(dev->stream, &h, back), SEA_OK);
    for (int i = 0; i < 24; i++) assert_true(back[i] == sea_bf16_to_f32(sea_f32_to_bf16(src[i])));

    /* An out-of-range write is refused with the buffer size in the message. */
    assert_int_equal(sea_buffer_write(dev->stream, t.buf, 90, src, 16), SEA_ERR_INVALID);
    assert_non_null(strstr(sea_last_error(), "96 bytes"));
    sea_tensor_free(&h);
    sea_tensor_free(&t);
    sea_device_close(dev);
}

static void test_discovery_lists_cpu_and_a_default(void **state)
{
    (void)state;
    sea_discovery *d;
    assert_int_equal(sea_discover(&d), SEA_OK);
    assert_true(d->n_devices >= 1);
    int defaults = 0, cpus = 0;
    for (int i = 0; i < d->n_devices; i++) {
        defaults += d->devices[i].is_default;
        cpus += !strcmp(d->devices[i].spec, "cpu");
        /* CPU-type devices of GPU APIs (PoCL, lavapipe) are never the default. */
        if (d->devices[i].is_default && strcmp(d->devices[i].backend, "cpu"))
            assert_true(d->devices[i].props.kind != SEA_DEVICE_CPU);
    }
    assert_int_equal(defaults, 1);
    assert_int_equal(cpus, 1);
    assert_true(d->machine.cores >= 1);
    sea_discovery_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_bf16_round_to_nearest_even),
        cmocka_unit_test(test_f16_against_float64),
        cmocka_unit_test(test_philox_known_answers),
        cmocka_unit_test(test_rng_uniform_and_normal_moments),
        cmocka_unit_test(test_threadpool_covers_range_once),
        cmocka_unit_test(test_device_spec_errors_name_the_spec),
        cmocka_unit_test(test_tensor_views_and_transfers),
        cmocka_unit_test(test_discovery_lists_cpu_and_a_default),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
