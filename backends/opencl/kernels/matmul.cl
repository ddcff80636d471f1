/* The non-GEMM parts of matmul and the ensemble MLP (the GEMMs go through CLBlast). */

/* z = y + bias (bias row b*bstride for batch b = i / mn); pre = z when has_pre; y = act(z). */
__kernel void bias_act_fwd(__global float *y, uint yo, __global const float *bias, uint bo, int has_bias,
                           __global float *pre, uint po, int has_pre, uint n, uint N, uint mn, uint bstride,
                           int act)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    float z = y[yo + i];
    if (has_bias) z += bias[bo + (i / mn) * bstride + i % N];
    if (has_pre) pre[po + i] = z;
    y[yo + i] = act_apply(act, z);
}

/* gz = gout * act'(pre); pre may be a post-ReLU value (same sign pattern). gz may alias gout. */
__kernel void act_bwd(__global const float *gout, uint go, __global const float *pre, uint po,
                      __global float *gz, uint gzo, uint n, int act)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    gz[gzo + i] = gout[go + i] * act_grad(act, pre[po + i]);
}

/* Bias gradients g[b, j] += sum over rows r of z[b, r, j], in two deterministic stages:
 * part[b, c, j] = sum of rows [c*rpc, (c+1)*rpc) in order, then col_chunks_acc. */
__kernel void col_sum_partial(__global const float *z, uint zo, __global float *part, uint batch, uint rows, uint N,
                              uint rpc, uint nch)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)batch * nch * N) return;
    size_t j = i % N, c = (i / N) % nch, b = i / ((size_t)N * nch);
    uint r1 = min(rows, (uint)(c + 1) * rpc);
    __global const float *zb = z + zo + b * rows * N + j;
    float acc = 0.0f;
    for (uint r = (uint)c * rpc; r < r1; r++) acc += zb[(size_t)r * N];
    part[i] = acc;
}

/* g[b, j] += sum over c in order of part[po + (b*nch + c)*N + j]. */
__kernel void col_chunks_acc(__global const float *part, uint po, __global float *g, uint gof, uint batch, uint nch,
                             uint N)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)batch * N) return;
    size_t b = i / N, j = i % N;
    float acc = 0.0f;
    for (uint c = 0; c < nch; c++) acc += part[po + (b * nch + c) * N + j];
    g[gof + i] += acc;
}

/* Ensemble output layer: r[k, n] = h2[k, n, :] . W3[k, :] + b3[k]. */
__kernel void emlp_out_fwd(__global const float *h2, uint ho, __global const float *w3, uint wo,
                           __global const float *b3, uint bo, __global float *r, uint ro, uint K, uint N, uint h)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)K * N) return;
    size_t kk = i / N;
    __global const float *hr = h2 + ho + i * h;
    __global const float *wr = w3 + wo + kk * h;
    float acc = 0.0f;
    for (uint j = 0; j < h; j++) acc += hr[j] * wr[j];
    r[ro + i] = acc + b3[bo + kk];
}

/* gz2[k, n, j] = gr[k, n] * W3[k, j] * (h2 > 0): the gradient at layer 2's pre-activation. */
__kernel void emlp_gz2(__global const float *gr, uint gro, __global const float *w3, uint wo,
                       __global const float *h2, uint ho, __global float *gz2, uint K, uint N, uint h)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)K * N * h) return;
    size_t j = i % h, kn = i / h, kk = kn / N;
    gz2[i] = h2[ho + i] > 0.0f ? gr[gro + kn] * w3[wo + kk * h + j] : 0.0f;
}

/* gW3[k, j] += sum_n gr[k, n] h2[k, n, j]  (j < h);  gb3[k] += sum_n gr[k, n]  (j == h). */
__kernel void emlp_out_bwd(__global const float *gr, uint gro, __global const float *h2, uint ho,
                           __global float *gw3, uint gwo, int has_gw3, __global float *gb3, uint gbo, int has_gb3,
                           uint K, uint N, uint h)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)K * (h + 1)) return;
    size_t kk = i / (h + 1), j = i % (h + 1);
    float acc = 0.0f;
    if (j < h) {
        if (!has_gw3) return;
        for (uint n = 0; n < N; n++) acc += gr[gro + kk * N + n] * h2[ho + (kk * N + n) * h + j];
        gw3[gwo + kk * h + j] += acc;
    } else {
        if (!has_gb3) return;
        for (uint n = 0; n < N; n++) acc += gr[gro + kk * N + n];
        gb3[gbo + kk] += acc;
    }
}
