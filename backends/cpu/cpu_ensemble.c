/* K independent reward-model heads d -> h -> ReLU -> h -> ReLU -> 1 over shared inputs.
 * Heads run one after another (each GEMM uses the whole pool); gradients of the shared
 * input x accumulate head by head in order, so results are deterministic. */
#include <string.h>

#include "cpu_internal.h"
#include "cpu_matmul.h"

typedef struct ens {
    int64_t N, d, h, K;
    const float *x, *W1, *b1, *W2, *b2, *W3, *b3;   /* shapes in op.h */
} ens;

static ens ens_of(const sea_op *op)
{
    ens e = {.N = op->in[0]->shape[0], .d = op->in[0]->shape[1], .h = op->in[1]->shape[2], .K = op->in[1]->shape[0]};
    e.x = cpu_f32(op->in[0]);
    e.W1 = cpu_f32(op->in[1]);
    e.b1 = cpu_f32(op->in[2]);
    e.W2 = cpu_f32(op->in[3]);
    e.b2 = cpu_f32(op->in[4]);
    e.W3 = cpu_f32(op->in[5]);
    e.b3 = cpu_f32(op->in[6]);
    return e;
}

static void bias_relu(float *y, const float *b, int64_t N, int64_t h)
{
    for (int64_t n = 0; n < N; n++)
        for (int64_t j = 0; j < h; j++) {
            float v = y[n * h + j] + b[j];
            y[n * h + j] = v > 0 ? v : 0.0f;
        }
}

sea_status sea_cpu_ensemble_mlp(const sea_op *op)
{
    ens e = ens_of(op);
    size_t nh = (size_t)(e.N * e.h);
    float *tmp = NULL;
    if (!op->out[1] || !op->out[2]) {
        tmp = malloc(2 * nh * sizeof(float) + 1);
        if (!tmp) return sea_error(SEA_ERR_OOM, "ensemble_mlp: out of host memory for (%lld, %lld) activations on cpu",
                                   (long long)e.N, (long long)e.h);
    }
    float *r = cpu_f32(op->out[0]);
    for (int64_t k = 0; k < e.K; k++) {
        float *h1 = op->out[1] ? cpu_f32(op->out[1]) + k * (int64_t)nh : tmp;
        float *h2 = op->out[2] ? cpu_f32(op->out[2]) + k * (int64_t)nh : tmp + nh;
        sea_cpu_gemm(false, false, e.N, e.h, e.d, 1.0f, e.x, e.d, e.W1 + k * e.d * e.h, e.h, 0.0f, h1, e.h);
        bias_relu(h1, e.b1 + k * e.h, e.N, e.h);
        sea_cpu_gemm(false, false, e.N, e.h, e.h, 1.0f, h1, e.h, e.W2 + k * e.h * e.h, e.h, 0.0f, h2, e.h);
        bias_relu(h2, e.b2 + k * e.h, e.N, e.h);
        for (int64_t n = 0; n < e.N; n++) r[k * e.N + n] = sea_cpu_dot(h2 + n * e.h, e.W3 + k * e.h, e.h) + e.b3[k];
    }
    free(tmp);
    return SEA_OK;
}

sea_status sea_cpu_ensemble_mlp_backward(const sea_op *op)
{
    if (!op->gout[0]) return SEA_OK;
    ens e = ens_of(op);
    size_t nh = (size_t)(e.N * e.h);
    float *g[7];
    for (int i = 0; i < 7; i++) g[i] = op->gin[i] ? cpu_f32(op->gin[i]) : NULL;
    const float *gr = cpu_f32(op->gout[0]);   /* (K, N) */
    float *dpre2 = malloc(2 * nh * sizeof(float) + 1);
    if (!dpre2) return sea_error(SEA_ERR_OOM, "ensemble_mlp backward: out of host memory on cpu");
    float *dpre1 = dpre2 + nh;
    for (int64_t k = 0; k < e.K; k++) {
        const float *h1 = cpu_f32(op->out[1]) + k * (int64_t)nh, *h2 = cpu_f32(op->out[2]) + k * (int64_t)nh;
        const float *W1 = e.W1 + k * e.d * e.h, *W2 = e.W2 + k * e.h * e.h, *W3 = e.W3 + k * e.h;
        const float *grk = gr + k * e.N;
        for (int64_t n = 0; n < e.N; n++)
            for (int64_t j = 0; j < e.h; j++) dpre2[n * e.h + j] = h2[n * e.h + j] > 0 ? grk[n] * W3[j] : 0.0f;
        if (g[5]) /* W3 */
            for (int64_t n = 0; n < e.N; n++) sea_cpu_axpy(g[5] + k * e.h, grk[n], h2 + n * e.h, e.h);
        if (g[6]) {
            float s = 0;
            for (int64_t n = 0; n < e.N; n++) s += grk[n];
            g[6][k] += s;
        }
        if (g[3]) sea_cpu_gemm(true, false, e.h, e.h, e.N, 1.0f, h1, e.h, dpre2, e.h, 1.0f, g[3] + k * e.h * e.h, e.h);
        if (g[4]) sea_cpu_colsum_add(dpre2, e.N, e.h, g[4] + k * e.h);
        if (!g[0] && !g[1] && !g[2]) continue;
        sea_cpu_gemm(false, true, e.N, e.h, e.h, 1.0f, dpre2, e.h, W2, e.h, 0.0f, dpre1, e.h);
        for (size_t i = 0; i < nh; i++)
            if (!(h1[i] > 0)) dpre1[i] = 0.0f;
        if (g[1]) sea_cpu_gemm(true, false, e.d, e.h, e.N, 1.0f, e.x, e.d, dpre1, e.h, 1.0f, g[1] + k * e.d * e.h, e.h);
        if (g[2]) sea_cpu_colsum_add(dpre1, e.N, e.h, g[2] + k * e.h);
        if (g[0]) sea_cpu_gemm(false, true, e.N, e.d, e.h, 1.0f, dpre1, e.h, W1, e.h, 1.0f, g[0], e.d);
    }
    free(dpre2);
    return SEA_OK;
}
