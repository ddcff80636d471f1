/* Masked sums and means per sequence: out[b] = sum_t x[b,t] mask[b,t] (/ sum_t mask[b,t]).
 * Each row is summed in index order in double (sequences are short; exactness is cheap). */
#include "cpu_internal.h"

sea_status sea_cpu_masked_sum(const sea_op *op)
{
    const float *x = cpu_f32(op->in[0]), *m = cpu_f32(op->in[1]);
    float *out = cpu_f32(op->out[0]);
    int64_t B = cpu_rows(op->in[0]), T = cpu_last(op->in[0]);
    for (int64_t b = 0; b < B; b++) {
        double s = 0, w = 0;
        for (int64_t t = 0; t < T; t++) {
            s += (double)x[b * T + t] * m[b * T + t];
            w += m[b * T + t];
        }
        out[b] = op->p.masked.mean ? (w != 0 ? (float)(s / w) : 0.0f) : (float)s;
    }
    return SEA_OK;
}

sea_status sea_cpu_masked_sum_backward(const sea_op *op)
{
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    const float *m = cpu_f32(op->in[1]), *g = cpu_f32(op->gout[0]);
    float *gx = cpu_f32(op->gin[0]);
    int64_t B = cpu_rows(op->in[0]), T = cpu_last(op->in[0]);
    for (int64_t b = 0; b < B; b++) {
        double w = 0;
        for (int64_t t = 0; t < T; t++) w += m[b * T + t];
        if (op->p.masked.mean && w == 0) continue;
        float s = op->p.masked.mean ? (float)(g[b] / w) : g[b];
        for (int64_t t = 0; t < T; t++) gx[b * T + t] += s * m[b * T + t];
    }
    return SEA_OK;
}
