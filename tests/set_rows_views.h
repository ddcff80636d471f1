/* A set_rows check for GPU backends (OpenCL, Vulkan): x and dst are views at odd element
 * offsets (16-bit elements then start mid-word), and two row indices lie outside [0, M): a
 * GPU backend skips them without an error (the CPU backend rejects them, so the reference is
 * a host scatter on small integers, exact in every dtype). */
#ifndef SEA_TESTS_SET_ROWS_VIEWS_H
#define SEA_TESTS_SET_ROWS_VIEWS_H

#include <stdlib.h>
#include <string.h>

#include "runtime/ops.h"

/* Elements of dst (M + 1 rows of R, view = rows 1..M) that differ from the reference, or -1
 * on a runtime error (sea_last_error() says which). *n receives the element count. */
static inline int set_rows_views_diff(sea_device *dev, sea_dtype dt, int M, int R, int *n)
{
    enum { N = 5 };
    const int32_t rows[N] = {M - 1, -1, 0, M, M / 2};
    int nx = (N + 1) * R, nd = (M + 1) * R;
    *n = nd;
    float *xf = malloc((size_t)nx * 4), *df = malloc((size_t)nd * 4), *want = malloc((size_t)nd * 4),
          *got = malloc((size_t)nd * 4);
    int32_t *xi = malloc((size_t)nx * 4), *di = malloc((size_t)nd * 4), *goti = malloc((size_t)nd * 4);
    sea_status st = xf && df && want && got && xi && di && goti ? SEA_OK : SEA_ERR_OOM;
    for (int i = 0; !st && i < nx; i++) xi[i] = (int32_t)(i % 97) - 50, xf[i] = (float)xi[i];
    for (int i = 0; !st && i < nd; i++) di[i] = 100 - (int32_t)(i % 89), df[i] = (float)di[i];
    if (!st) memcpy(want, df, (size_t)nd * 4);
    for (int k = 0; !st && k < N; k++)
        if (rows[k] >= 0 && rows[k] < M) memcpy(&want[(1 + rows[k]) * R], &xf[(1 + k) * R], (size_t)R * 4);
    sea_stream *s = sea_device_stream(dev);
    int64_t sx[2] = {N + 1, R}, sd[2] = {M + 1, R}, sr[1] = {N};
    sea_tensor xfull = {0}, dfull = {0}, rt = {0}, x, d;
    if (!st) st = sea_tensor_alloc(dev, dt, 2, sx, &xfull);
    if (!st) st = sea_tensor_alloc(dev, dt, 2, sd, &dfull);
    if (!st) st = sea_tensor_alloc(dev, SEA_I32, 1, sr, &rt);
    if (!st) st = dt == SEA_I32 ? sea_tensor_write_i32(s, &xfull, xi) : sea_tensor_write_f32(s, &xfull, xf);
    if (!st) st = dt == SEA_I32 ? sea_tensor_write_i32(s, &dfull, di) : sea_tensor_write_f32(s, &dfull, df);
    if (!st) st = sea_tensor_write_i32(s, &rt, rows);
    if (!st) st = sea_tensor_slice(&xfull, 0, 1, N, &x);
    if (!st) st = sea_tensor_slice(&dfull, 0, 1, M, &d);
    if (!st) st = sea_set_rows(s, &x, &rt, &d);
    if (!st && dt == SEA_I32) {
        st = sea_tensor_read_i32(s, &dfull, goti);
        for (int i = 0; i < nd; i++) got[i] = (float)goti[i];
    } else if (!st) {
        st = sea_tensor_read_f32(s, &dfull, got);
    }
    int bad = 0;
    for (int i = 0; i < nd && !st; i++) bad += got[i] != want[i];
    if (xfull.buf) sea_tensor_free(&xfull);
    if (dfull.buf) sea_tensor_free(&dfull);
    if (rt.buf) sea_tensor_free(&rt);
    free(xf), free(df), free(want), free(got), free(xi), free(di), free(goti);
    return st ? -1 : bad;
}

#endif
