/* The K-head reward ensemble (d -> h -> ReLU -> h -> ReLU -> 1 per head) as batched strided
 * GEMMs over the head dimension (shaders/matmul.comp), ReLU masks (unary.comp) and column
 * sums (colsum.comp). The gradient of the shared input x accumulates head by head in a fixed
 * order, so results are deterministic. */
#include "vk_internal.h"

#define DEV(s) ((vk_dev *)(s)->dev->ctx)

static sea_status bind_or_temp(sea_stream *s, const sea_tensor *t, VkDeviceSize bytes, const char *what, vk_binding *out)
{
    if (t) return vk_bind_tensor(DEV(s), t, "ensemble_mlp", what, out);
    vk_alloc a;
    SEA_TRY(vk_temp(s, bytes ? bytes : 4, &a));
    *out = vk_bind_alloc(&a);
    return SEA_OK;
}

sea_status vk_ensemble(sea_stream *s, const sea_op *op, bool backward)
{
    vk_dev *d = DEV(s);
    const char *name = backward ? "ensemble_mlp backward" : "ensemble_mlp";
    uint32_t N = (uint32_t)op->in[0]->shape[0], D = (uint32_t)op->in[0]->shape[1];
    uint32_t K = (uint32_t)op->in[1]->shape[0], h = (uint32_t)op->in[1]->shape[2];
    if (N == 0 || K == 0) return SEA_OK;
    if ((uint64_t)K * N * h * 4 > d->max_range || (uint64_t)K * D * h > 0x7fffffffu)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s on %s: K=%u N=%u h=%u activations exceed maxStorageBufferRange %zu", name,
                         d->label, K, N, h, (size_t)d->max_range);
    vk_binding x, W1, b1, W2, b2, W3, b3, h1, h2;
    SEA_TRY(vk_bind_tensor(d, op->in[0], name, "x", &x));
    SEA_TRY(vk_bind_tensor(d, op->in[1], name, "W1", &W1));
    SEA_TRY(vk_bind_tensor(d, op->in[2], name, "b1", &b1));
    SEA_TRY(vk_bind_tensor(d, op->in[3], name, "W2", &W2));
    SEA_TRY(vk_bind_tensor(d, op->in[4], name, "b2", &b2));
    SEA_TRY(vk_bind_tensor(d, op->in[5], name, "W3", &W3));
    SEA_TRY(vk_bind_tensor(d, op->in[6], name, "b3", &b3));
    VkDeviceSize nh = (VkDeviceSize)K * N * h * 4;
    int32_t Nh = (int32_t)(N * h), hh = (int32_t)(h * h), Dh = (int32_t)(D * h);

    if (!backward) {
        SEA_TRY(bind_or_temp(s, op->out[1], nh, "h1", &h1));
        SEA_TRY(bind_or_temp(s, op->out[2], nh, "h2", &h2));
        vk_binding r;
        SEA_TRY(vk_bind_tensor(d, op->out[0], name, "r", &r));
        vk_gemm g1 = {.M = N, .N = h, .K = D, .batch = K, .sa_b = 0, .sa_m = (int32_t)D, .sa_k = 1, .sb_b = Dh,
                      .sb_k = (int32_t)h, .sb_n = 1, .sc_b = Nh, .sc_m = (int32_t)h, .sc_n = 1, .sbias_b = (int32_t)h,
                      .a = x, .b = W1, .c = h1, .bias = b1, .has_bias = true, .act = SEA_ACT_RELU};
        SEA_TRY(vk_gemm_run(s, &g1));
        vk_gemm g2 = {.M = N, .N = h, .K = h, .batch = K, .sa_b = Nh, .sa_m = (int32_t)h, .sa_k = 1, .sb_b = hh,
                      .sb_k = (int32_t)h, .sb_n = 1, .sc_b = Nh, .sc_m = (int32_t)h, .sc_n = 1, .sbias_b = (int32_t)h,
                      .a = h1, .b = W2, .c = h2, .bias = b2, .has_bias = true, .act = SEA_ACT_RELU};
        SEA_TRY(vk_gemm_run(s, &g2));
        vk_gemm g3 = {.M = N, .N = 1, .K = h, .batch = K, .sa_b = Nh, .sa_m = (int32_t)h, .sa_k = 1, .sb_b = (int32_t)h,
                      .sb_k = 1, .sb_n = 0, .sc_b = (int32_t)N, .sc_m = 1, .sc_n = 0, .sbias_b = 1,
                      .a = h2, .b = W3, .c = r, .bias = b3, .has_bias = true};
        return vk_gemm_run(s, &g3);
    }

    if (!op->gout[0]) return SEA_OK;
    bool any = false;
    for (int i = 0; i < 7; i++) any |= op->gin[i] != NULL;
    if (!any) return SEA_OK;
    vk_binding dr;
    SEA_TRY(vk_bind_tensor(d, op->out[1], name, "h1", &h1));
    SEA_TRY(vk_bind_tensor(d, op->out[2], name, "h2", &h2));
    SEA_TRY(vk_bind_tensor(d, op->gout[0], name, "grad of r", &dr));
    vk_alloc t1, t2;
    SEA_TRY(vk_temp(s, nh, &t1));
    SEA_TRY(vk_temp(s, nh, &t2));
    vk_binding dh1 = vk_bind_alloc(&t1), dh2 = vk_bind_alloc(&t2);
    uint32_t n_act = K * N * h;

    /* dh2 = (dr outer W3) masked by h2 > 0 */
    vk_gemm g = {.M = N, .N = h, .K = 1, .batch = K, .sa_b = (int32_t)N, .sa_m = 1, .sa_k = 0, .sb_b = (int32_t)h,
                 .sb_k = 0, .sb_n = 1, .sc_b = Nh, .sc_m = (int32_t)h, .sc_n = 1, .a = dr, .b = W3, .c = dh2};
    SEA_TRY(vk_gemm_run(s, &g));
    SEA_TRY(vk_unary_raw(s, 7, 0, false, 0.0f, n_act, h2, dh2, dh2));
    if (op->gin[5]) {
        vk_binding gW3;
        SEA_TRY(vk_bind_tensor(d, op->gin[5], name, "grad of W3", &gW3));
        g = (vk_gemm){.M = 1, .N = h, .K = N, .batch = K, .sa_b = (int32_t)N, .sa_m = 0, .sa_k = 1, .sb_b = Nh,
                      .sb_k = (int32_t)h, .sb_n = 1, .sc_b = (int32_t)h, .sc_m = 0, .sc_n = 1, .a = dr, .b = h2, .c = gW3,
                      .accumulate = true};
        SEA_TRY(vk_gemm_run(s, &g));
    }
    if (op->gin[6]) {
        vk_binding gb3;
        SEA_TRY(vk_bind_tensor(d, op->gin[6], name, "grad of b3", &gb3));
        SEA_TRY(vk_colsum_batched(s, dr, (vk_binding){0}, false, gb3, N, 1, 1, 0, K, N, 1, true));
    }
    /* dh1 = (dh2 @ W2^T) masked by h1 > 0 */
    g = (vk_gemm){.M = N, .N = h, .K = h, .batch = K, .sa_b = Nh, .sa_m = (int32_t)h, .sa_k = 1, .sb_b = hh, .sb_k = 1,
                  .sb_n = (int32_t)h, .sc_b = Nh, .sc_m = (int32_t)h, .sc_n = 1, .a = dh2, .b = W2, .c = dh1};
    SEA_TRY(vk_gemm_run(s, &g));
    SEA_TRY(vk_unary_raw(s, 7, 0, false, 0.0f, n_act, h1, dh1, dh1));
    if (op->gin[3]) {
        vk_binding gW2;
        SEA_TRY(vk_bind_tensor(d, op->gin[3], name, "grad of W2", &gW2));
        g = (vk_gemm){.M = h, .N = h, .K = N, .batch = K, .sa_b = Nh, .sa_m = 1, .sa_k = (int32_t)h, .sb_b = Nh,
                      .sb_k = (int32_t)h, .sb_n = 1, .sc_b = hh, .sc_m = (int32_t)h, .sc_n = 1, .a = h1, .b = dh2, .c = gW2,
                      .accumulate = true};
        SEA_TRY(vk_gemm_run(s, &g));
    }
    if (op->gin[4]) {
        vk_binding gb2;
        SEA_TRY(vk_bind_tensor(d, op->gin[4], name, "grad of b2", &gb2));
        SEA_TRY(vk_colsum_batched(s, dh2, (vk_binding){0}, false, gb2, N, h, h, 1, K, (uint32_t)Nh, h, true));
    }
    if (op->gin[0]) {
        vk_binding gx;
        SEA_TRY(vk_bind_tensor(d, op->gin[0], name, "grad of x", &gx));
        for (uint32_t k = 0; k < K; k++) {
            vk_binding a = dh1, b = W1;
            a.elem += k * N * h;
            b.elem += k * D * h;
            g = (vk_gemm){.M = N, .N = D, .K = h, .batch = 1, .sa_m = (int32_t)h, .sa_k = 1, .sb_k = 1, .sb_n = (int32_t)h,
                          .sc_m = (int32_t)D, .sc_n = 1, .a = a, .b = b, .c = gx, .accumulate = true};
            SEA_TRY(vk_gemm_run(s, &g));
        }
    }
    if (op->gin[1]) {
        vk_binding gW1;
        SEA_TRY(vk_bind_tensor(d, op->gin[1], name, "grad of W1", &gW1));
        g = (vk_gemm){.M = D, .N = h, .K = N, .batch = K, .sa_b = 0, .sa_m = 1, .sa_k = (int32_t)D, .sb_b = Nh,
                      .sb_k = (int32_t)h, .sb_n = 1, .sc_b = Dh, .sc_m = (int32_t)h, .sc_n = 1, .a = x, .b = dh1, .c = gW1,
                      .accumulate = true};
        SEA_TRY(vk_gemm_run(s, &g));
    }
    if (op->gin[2]) {
        vk_binding gb1;
        SEA_TRY(vk_bind_tensor(d, op->gin[2], name, "grad of b1", &gb1));
        SEA_TRY(vk_colsum_batched(s, dh1, (vk_binding){0}, false, gb1, N, h, h, 1, K, (uint32_t)Nh, h, true));
    }
    return SEA_OK;
}
