/* Small vector primitives used by several kernels. Eight partial sums in a fixed pattern:
 * the compiler maps them onto one AVX register (or two SSE ones) and the summation order,
 * hence the result bits, is the same for every instruction set. */
#include "cpu_internal.h"

SEA_CPU_CLONES float sea_cpu_dot(const float *a, const float *b, int64_t n) { return sea_cpu_dot_inline(a, b, n); }

SEA_CPU_CLONES void sea_cpu_axpy(float *y, float alpha, const float *x, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += alpha * x[i];
}

SEA_CPU_CLONES float sea_cpu_max(const float *x, int64_t n)
{
    float m[8];
    for (int j = 0; j < 8; j++) m[j] = -INFINITY;
    int64_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++) m[j] = x[i + j] > m[j] ? x[i + j] : m[j];
    for (int j = 0; i < n; i++, j++) m[j] = x[i] > m[j] ? x[i] : m[j];
    float r = m[0];
    for (int j = 1; j < 8; j++) r = m[j] > r ? m[j] : r;
    return r;
}

#define EXP_BLOCK 1024

/* Sum of a block of floats: 8 lanes, then pairwise. */
static inline float lanes_sum(const float s[8])
{
    return ((s[0] + s[4]) + (s[1] + s[5])) + ((s[2] + s[6]) + (s[3] + s[7]));
}

SEA_CPU_CLONES double sea_cpu_exp_sum(float *y, const float *x, float shift, int64_t n)
{
    double total = 0;
    for (int64_t b = 0; b < n; b += EXP_BLOCK) {
        int64_t e = b + EXP_BLOCK < n ? b + EXP_BLOCK : n;
        for (int64_t i = b; i < e; i++) y[i] = sea_cpu_vexpf(x[i] - shift);
        float s[8] = {0};
        int64_t i = b;
        for (; i + 8 <= e; i += 8)
            for (int j = 0; j < 8; j++) s[j] += y[i + j];
        for (int j = 0; i < e; i++, j++) s[j] += y[i];
        total += lanes_sum(s);
    }
    return total;
}

SEA_CPU_CLONES double sea_cpu_sum_exp(const float *x, float shift, int64_t n)
{
    float buf[EXP_BLOCK];
    double total = 0;
    for (int64_t b = 0; b < n; b += EXP_BLOCK) {
        int64_t m = b + EXP_BLOCK < n ? EXP_BLOCK : n - b;
        for (int64_t i = 0; i < m; i++) buf[i] = sea_cpu_vexpf(x[b + i] - shift);
        float s[8] = {0};
        int64_t i = 0;
        for (; i + 8 <= m; i += 8)
            for (int j = 0; j < 8; j++) s[j] += buf[i + j];
        for (int j = 0; i < m; i++, j++) s[j] += buf[i];
        total += lanes_sum(s);
    }
    return total;
}

SEA_CPU_CLONES void sea_cpu_axpy_exp(float *y, float alpha, const float *x, float shift, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] += alpha * sea_cpu_vexpf(x[i] - shift);
}
