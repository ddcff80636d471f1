/* Matmul GFLOP/s through the public op API on any device (sanity numbers for CLBlast; the
 * project's full benchmark is `sea bench`). Usage: ocl_matmul_rate DEVICE [N ...]
 * Each size: one warm-up call (CLBlast compiles its kernels on first use), then timed calls,
 * plain and with trans_b (the HF Linear layout). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/ops.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "opencl:0";
    sea_device *d;
    if (sea_device_open(spec, &d)) {
        fprintf(stderr, "%s\n", sea_last_error());
        return 77;
    }
    sea_stream *s = sea_device_stream(d);
    int sizes[8] = {256, 512, 1024}, ns = 3;
    if (argc > 2) {
        ns = 0;
        for (int i = 2; i < argc && ns < 8; i++) sizes[ns++] = atoi(argv[i]);
    }
    for (int si = 0; si < ns; si++) {
        int n = sizes[si];
        int64_t sh[2] = {n, n};
        sea_tensor a, b, c;
        if (sea_tensor_alloc(d, SEA_F32, 2, sh, &a) || sea_tensor_alloc(d, SEA_F32, 2, sh, &b) ||
            sea_tensor_alloc(d, SEA_F32, 2, sh, &c)) {
            fprintf(stderr, "%s\n", sea_last_error());
            return 1;
        }
        float *h = malloc(sizeof(float) * (size_t)n * (size_t)n);
        for (int64_t i = 0; i < (int64_t)n * n; i++) h[i] = (float)(i % 7) * 0.1f;
        sea_tensor_write_f32(s, &a, h);
        sea_tensor_write_f32(s, &b, h);
        for (int tb = 0; tb < 2; tb++) {
            if (sea_matmul(s, &a, &b, NULL, false, tb, SEA_ACT_NONE, &c, NULL) || sea_stream_sync(s)) {
                fprintf(stderr, "%s\n", sea_last_error());
                return 1;
            }
            double t0 = now(), dt;
            int reps = 0;
            do { /* at least 3 calls and 0.2 s */
                sea_matmul(s, &a, &b, NULL, false, tb, SEA_ACT_NONE, &c, NULL);
                reps++;
                sea_stream_sync(s);
                dt = now() - t0;
            } while (reps < 3 || dt < 0.2);
            dt /= reps;
            printf("%s matmul %dx%dx%d%s: %.3f ms, %.1f GFLOP/s (%d reps)\n", sea_device_label(d), n, n, n,
                   tb ? " trans_b" : "", dt * 1e3, 2.0 * n * n * (double)n / dt / 1e9, reps);
        }
        free(h);
        sea_tensor_free(&a);
        sea_tensor_free(&b);
        sea_tensor_free(&c);
    }
    sea_device_close(d);
    return 0;
}
