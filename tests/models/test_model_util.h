/* Shared helpers of the model tests: device from argv, fixture tensors, error measures. */
#ifndef SEA_TEST_MODEL_UTIL_H
#define SEA_TEST_MODEL_UTIL_H

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "models/model.h"
#include "models/safetensors.h"
#include "runtime/backend.h"
#include "tests/test_device.h"

static int g_fail = 0;

#define CHECK(cond, ...)                                                  \
    do {                                                                  \
        if (!(cond)) {                                                    \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);          \
            fprintf(stderr, __VA_ARGS__);                                 \
            fprintf(stderr, "\n");                                        \
            g_fail++;                                                     \
        }                                                                 \
    } while (0)

#define CHECK_OK(expr)                                                                    \
    do {                                                                                  \
        sea_status st_ = (expr);                                                          \
        if (st_) {                                                                        \
            fprintf(stderr, "FAIL %s:%d: %s -> %s: %s\n", __FILE__, __LINE__, #expr,      \
                    sea_status_name(st_), sea_last_error());                              \
            g_fail++;                                                                     \
        }                                                                                 \
    } while (0)

/* The end of a model test's main: close the device, report, and the exit status. */
static inline int test_finish(sea_device *dev, const char *passed)
{
    sea_device_close(dev);
    if (g_fail) {
        fprintf(stderr, "%d check(s) failed\n", g_fail);
        return 1;
    }
    printf("%s\n", passed);
    return 0;
}

/* A fixture tensor as floats (malloc'ed; n receives numel). Exits on absence: fixtures are
 * committed, a missing one is a broken test setup. */
static inline float *ref_f32(const sea_safetensors *f, const char *name, int64_t *n)
{
    const sea_st_tensor *t = sea_safetensors_find(f, name);
    if (!t) {
        fprintf(stderr, "fixture tensor '%s' missing\n", name);
        exit(1);
    }
    int64_t k = sea_st_tensor_numel(t);
    float *d = malloc((size_t)(k ? k : 1) * sizeof(float));
    if (t->dtype == SEA_I32) {
        for (int64_t i = 0; i < k; i++) {
            int32_t v;
            memcpy(&v, (const char *)t->data + i * 4, 4);
            d[i] = (float)v;
        }
    } else if (sea_st_tensor_to_f32(t, d)) {
        fprintf(stderr, "fixture tensor '%s': %s\n", name, sea_last_error());
        exit(1);
    }
    if (n) *n = k;
    return d;
}

static inline int32_t *ref_i32(const sea_safetensors *f, const char *name, int64_t *n)
{
    const sea_st_tensor *t = sea_safetensors_find(f, name);
    if (!t || t->dtype != SEA_I32) {
        fprintf(stderr, "fixture tensor '%s' missing or not I32\n", name);
        exit(1);
    }
    int64_t k = sea_st_tensor_numel(t);
    int32_t *d = malloc((size_t)(k ? k : 1) * sizeof(int32_t));
    memcpy(d, t->data, (size_t)k * 4);
    if (n) *n = k;
    return d;
}

/* ||a - b|| / ||b|| in double. */
static inline double rel_err(const float *a, const float *b, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = (double)a[i] - (double)b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static inline double max_abs_diff(const float *a, const float *b, int64_t n)
{
    double m = 0;
    for (int64_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - (double)b[i]);
        if (!(d <= m)) m = d;   /* NaN propagates as the max */
    }
    return m;
}

#endif
