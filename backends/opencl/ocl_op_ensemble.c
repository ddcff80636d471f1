/* The K-head ensemble MLP (d -> h -> ReLU -> h -> ReLU -> 1): both hidden layers are one
 * CLBlast strided-batched GEMM over the K heads (x shared: stride 0); bias+ReLU and the
 * 1-wide output layer are small kernels. */
#include "ocl.h"

#define T_ARGS(t) cl_mem t##_m = ocl_mem(t); cl_uint t##_o = ocl_off(t)

static sea_status bias_relu(sea_stream *s, cl_mem y, cl_uint yo, const sea_tensor *bias, cl_uint K, cl_uint N, cl_uint h)
{
    cl_mem b_m = ocl_mem(bias);
    cl_uint b_o = ocl_off(bias), n = K * N * h, mn = N * h, bstride = h;
    cl_int has_bias = 1, has_pre = 0, act = SEA_ACT_RELU;
    return OCL_RUN(s, OCL_K_bias_act_fwd, n, 0, OA(y), OA(yo), OA(b_m), OA(b_o), OA(has_bias), OA(y), OA(yo),
                   OA(has_pre), OA(n), OA(h), OA(mn), OA(bstride), OA(act));
}

static sea_status col_sum(sea_stream *s, cl_mem z, cl_uint zo, sea_tensor *g, cl_uint K, cl_uint N, cl_uint h)
{
    T_ARGS(g);
    return ocl_col_sum_acc(s, z, zo, g_m, g_o, K, N, h);
}

static sea_status forward(sea_stream *s, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *W1 = op->in[1], *b1 = op->in[2], *W2 = op->in[3], *b2 = op->in[4];
    const sea_tensor *W3 = op->in[5], *b3 = op->in[6];
    cl_uint N = (cl_uint)x->shape[0], d = (cl_uint)x->shape[1], K = (cl_uint)W1->shape[0], h = (cl_uint)W1->shape[2];
    T_ARGS(x);
    T_ARGS(W1);
    T_ARGS(W2);
    cl_mem tmp = NULL;
    cl_mem h1_m, h2_m;
    cl_uint h1_o, h2_o;
    size_t hn = (size_t)K * N * h;
    if (!op->out[1] || !op->out[2]) SEA_TRY(ocl_temp_alloc(s, 2 * hn * sizeof(float), &tmp));
    if (op->out[1]) h1_m = ocl_mem(op->out[1]), h1_o = ocl_off(op->out[1]);
    else h1_m = tmp, h1_o = 0;
    if (op->out[2]) h2_m = ocl_mem(op->out[2]), h2_o = ocl_off(op->out[2]);
    else h2_m = tmp, h2_o = (cl_uint)hn;
    sea_status st = ocl_gemm(s, false, false, N, h, d, 1.0f, x_m, x_o, d, 0, W1_m, W1_o, h, (size_t)d * h, 0.0f, h1_m,
                             h1_o, h, (size_t)N * h, K);
    if (!st) st = bias_relu(s, h1_m, h1_o, b1, K, N, h);
    if (!st)
        st = ocl_gemm(s, false, false, N, h, h, 1.0f, h1_m, h1_o, h, (size_t)N * h, W2_m, W2_o, h, (size_t)h * h, 0.0f,
                      h2_m, h2_o, h, (size_t)N * h, K);
    if (!st) st = bias_relu(s, h2_m, h2_o, b2, K, N, h);
    if (!st) {
        sea_tensor *r = op->out[0];
        T_ARGS(W3);
        T_ARGS(b3);
        T_ARGS(r);
        st = OCL_RUN(s, OCL_K_emlp_out_fwd, (size_t)K * N, 0, OA(h2_m), OA(h2_o), OA(W3_m), OA(W3_o), OA(b3_m), OA(b3_o),
                     OA(r_m), OA(r_o), OA(K), OA(N), OA(h));
    }
    ocl_temp_free(s, tmp);
    return st;
}

static sea_status backward(sea_stream *s, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *W1 = op->in[1], *W2 = op->in[3], *W3 = op->in[5];
    const sea_tensor *h1 = op->out[1], *h2 = op->out[2], *gr = op->gout[0];
    cl_uint N = (cl_uint)x->shape[0], d = (cl_uint)x->shape[1], K = (cl_uint)W1->shape[0], h = (cl_uint)W1->shape[2];
    if (!gr) return SEA_OK;
    if (!h1 || !h2)
        return sea_error(SEA_ERR_INVALID, "%s: ensemble_mlp backward needs the saved activations h1, h2 (out[1], out[2])",
                         ocl_dev(s)->label);
    T_ARGS(x);
    T_ARGS(W1);
    T_ARGS(W2);
    T_ARGS(W3);
    T_ARGS(h1);
    T_ARGS(h2);
    T_ARGS(gr);
    sea_tensor *gx = op->gin[0], *gW1 = op->gin[1], *gb1 = op->gin[2], *gW2 = op->gin[3], *gb2 = op->gin[4];
    sea_tensor *gW3 = op->gin[5], *gb3 = op->gin[6];
    size_t hn = (size_t)K * N * h;
    cl_mem gz; /* (2, K, N, h): layer-2 then layer-1 pre-activation gradients */
    SEA_TRY(ocl_temp_alloc(s, 2 * hn * sizeof(float), &gz));
    cl_uint gz1_o = (cl_uint)hn;
    sea_status st = OCL_RUN(s, OCL_K_emlp_gz2, hn, 0, OA(gr_m), OA(gr_o), OA(W3_m), OA(W3_o), OA(h2_m), OA(h2_o), OA(gz),
                            OA(K), OA(N), OA(h));
    if (!st && (gW3 || gb3)) {
        cl_int has_w = gW3 != NULL, has_b = gb3 != NULL;
        cl_mem w_m = gW3 ? ocl_mem(gW3) : gz, b_m = gb3 ? ocl_mem(gb3) : gz;
        cl_uint w_o = gW3 ? ocl_off(gW3) : 0, b_o = gb3 ? ocl_off(gb3) : 0;
        st = OCL_RUN(s, OCL_K_emlp_out_bwd, (size_t)K * (h + 1), 0, OA(gr_m), OA(gr_o), OA(h2_m), OA(h2_o), OA(w_m),
                     OA(w_o), OA(has_w), OA(b_m), OA(b_o), OA(has_b), OA(K), OA(N), OA(h));
    }
    if (!st && gW2) {
        T_ARGS(gW2);
        st = ocl_gemm(s, true, false, h, h, N, 1.0f, h1_m, h1_o, h, (size_t)N * h, gz, 0, h, (size_t)N * h, 1.0f, gW2_m,
                      gW2_o, h, (size_t)h * h, K);
    }
    if (!st && gb2) st = col_sum(s, gz, 0, gb2, K, N, h);
    if (!st && (gx || gW1 || gb1)) {
        st = ocl_gemm(s, false, true, N, h, h, 1.0f, gz, 0, h, (size_t)N * h, W2_m, W2_o, h, (size_t)h * h, 0.0f, gz,
                      gz1_o, h, (size_t)N * h, K);
        cl_uint n = (cl_uint)hn;
        cl_int act = SEA_ACT_RELU;
        if (!st)
            st = OCL_RUN(s, OCL_K_act_bwd, hn, 0, OA(gz), OA(gz1_o), OA(h1_m), OA(h1_o), OA(gz), OA(gz1_o), OA(n), OA(act));
    }
    if (!st && gW1) {
        T_ARGS(gW1);
        st = ocl_gemm(s, true, false, d, h, N, 1.0f, x_m, x_o, d, 0, gz, gz1_o, h, (size_t)N * h, 1.0f, gW1_m, gW1_o, h,
                      (size_t)d * h, K);
    }
    if (!st && gb1) st = col_sum(s, gz, gz1_o, gb1, K, N, h);
    if (!st && gx) {
        T_ARGS(gx);
        /* Sum over heads in a fixed order: one accumulating GEMM per head. */
        for (cl_uint k = 0; k < K && !st; k++)
            st = ocl_gemm(s, false, true, N, d, h, 1.0f, gz, gz1_o + (size_t)k * N * h, h, 0, W1_m,
                          W1_o + (size_t)k * d * h, h, 0, 1.0f, gx_m, gx_o, d, 0, 1);
    }
    ocl_temp_free(s, gz);
    return st;
}

sea_status ocl_op_ensemble_mlp(sea_stream *s, const sea_op *op, bool backward_pass)
{
    return backward_pass ? backward(s, op) : forward(s, op);
}
