/* Fused log-softmax + gather, cross-entropy, masked sums: one work-group per row. The
 * (N, V) log-softmax is never materialized. */

/* Row log-sum-exp (max-shifted). */
float row_lse(__global const float *xr, uint V, __local float *buf)
{
    uint lid = get_local_id(0), wg = get_local_size(0);
    float m = -INFINITY;
    for (uint i = lid; i < V; i += wg) m = fmax(m, xr[i]);
    m = wg_max(buf, m);
    float acc = 0.0f;
    for (uint i = lid; i < V; i += wg) acc += exp(xr[i] - m);
    return m + log(wg_sum(buf, acc));
}

/* A target outside [0, V) other than "ignored" (< 0) gives NaN so it cannot pass unnoticed. */
__kernel void lsm_gather_fwd(__global const float *x, uint xo, __global const int *tgt, uint to,
                             __global float *logp, uint lo, __global float *lse, uint so, uint V, __local float *buf)
{
    uint row = get_group_id(0);
    __global const float *xr = x + xo + (size_t)row * V;
    float l = row_lse(xr, V, buf);
    if (get_local_id(0) == 0) {
        int t = tgt[to + row];
        logp[lo + row] = t < 0 ? 0.0f : (t < (int)V ? xr[t] - l : NAN);
        lse[so + row] = l;
    }
}

/* gx[v] += gout[n] * (onehot(target) - softmax). */
__kernel void lsm_gather_bwd(__global const float *x, uint xo, __global const int *tgt, uint to,
                             __global const float *lse, uint so, __global const float *gout, uint go,
                             __global float *gx, uint gxo, uint V)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    int t = tgt[to + row];
    if (t < 0) return;
    float g = gout[go + row], l = lse[so + row];
    size_t base = (size_t)row * V;
    for (uint i = lid; i < V; i += wg)
        gx[gxo + base + i] += g * (((int)i == t ? 1.0f : 0.0f) - exp(x[xo + base + i] - l));
}

/* Per row: lse and the negative log-likelihood (0 for ignored rows). */
__kernel void ce_rows(__global const float *x, uint xo, __global const int *tgt, uint to, __global float *lse,
                      uint so, __global float *nll, uint V, __local float *buf)
{
    uint row = get_group_id(0);
    __global const float *xr = x + xo + (size_t)row * V;
    float l = row_lse(xr, V, buf);
    if (get_local_id(0) == 0) {
        int t = tgt[to + row];
        nll[row] = t < 0 ? 0.0f : (t < (int)V ? l - xr[t] : NAN);
        lse[so + row] = l;
    }
}

/* One work-group: loss = sum(nll) / count(non-ignored), 0 when all are ignored. */
__kernel void ce_final(__global const float *nll, __global const int *tgt, uint to, uint N, __global float *loss,
                       uint lo, __local float *buf)
{
    uint lid = get_local_id(0), wg = get_local_size(0);
    float acc = 0.0f, cnt = 0.0f;
    for (uint i = lid; i < N; i += wg) {
        acc += nll[i];
        cnt += tgt[to + i] >= 0 ? 1.0f : 0.0f;
    }
    float s = wg_sum(buf, acc);
    float c = wg_sum(buf, cnt);
    if (lid == 0) loss[lo] = c > 0.0f ? s / c : 0.0f;
}

/* gx += gloss / count * (softmax - onehot) on non-ignored rows. */
__kernel void ce_bwd(__global const float *x, uint xo, __global const int *tgt, uint to, __global const float *lse,
                     uint so, __global const float *gloss, uint glo, __global float *gx, uint gxo, uint N, uint V,
                     __local float *buf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    float cnt = 0.0f;
    for (uint i = lid; i < N; i += wg) cnt += tgt[to + i] >= 0 ? 1.0f : 0.0f;
    cnt = wg_sum(buf, cnt);
    int t = tgt[to + row];
    if (t < 0 || cnt == 0.0f) return;
    float g = gloss[glo] / cnt, l = lse[so + row];
    size_t base = (size_t)row * V;
    for (uint i = lid; i < V; i += wg)
        gx[gxo + base + i] += g * (exp(x[xo + base + i] - l) - ((int)i == t ? 1.0f : 0.0f));
}

__kernel void masked_sum_fwd(__global const float *x, uint xo, __global const float *mask, uint mo,
                             __global float *out, uint oo, uint T, int mean, __local float *buf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    size_t base = (size_t)row * T;
    float a = 0.0f, c = 0.0f;
    for (uint i = lid; i < T; i += wg) {
        float mk = mask[mo + base + i];
        a += x[xo + base + i] * mk;
        c += mk;
    }
    a = wg_sum(buf, a);
    c = wg_sum(buf, c);
    if (lid == 0) out[oo + row] = mean ? (c != 0.0f ? a / c : 0.0f) : a;
}

__kernel void masked_sum_bwd(__global const float *mask, uint mo, __global const float *gout, uint go,
                             __global float *gx, uint gxo, uint T, int mean, __local float *buf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    size_t base = (size_t)row * T;
    float c = 0.0f;
    for (uint i = lid; i < T; i += wg) c += mask[mo + base + i];
    c = wg_sum(buf, c);
    float g = gout[go + row];
    if (mean) g = c != 0.0f ? g / c : 0.0f;
    for (uint i = lid; i < T; i += wg) gx[gxo + base + i] += g * mask[mo + base + i];
}
