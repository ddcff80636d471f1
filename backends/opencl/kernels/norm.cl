/* layernorm, rmsnorm, softmax: one work-group per row, fixed-order local-memory reductions. */

/* has_w2: the second affine of a pair (op.h: w2, b2 -> y2) from the same mean and rstd;
 * absent tensors are bound to a placeholder buffer and never read. */
__kernel void layernorm_fwd(__global const float *x, uint xo, __global const float *w, uint wo,
                            __global const float *b, uint bo, int has_b, __global float *y, uint yo,
                            __global float *mean, uint mo, __global float *rstd, uint ro, uint D, float eps,
                            __global const float *w2, uint w2o, int has_w2, __global const float *b2, uint b2o,
                            int has_b2, __global float *y2, uint y2o, __local float *buf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    __global const float *xr = x + xo + (size_t)row * D;
    float acc = 0.0f;
    for (uint i = lid; i < D; i += wg) acc += xr[i];
    float mu = wg_sum(buf, acc) / (float)D;
    /* Two passes (mean, then centred squares): no cancellation for rows with a large mean. */
    acc = 0.0f;
    for (uint i = lid; i < D; i += wg) {
        float c = xr[i] - mu;
        acc += c * c;
    }
    float var = wg_sum(buf, acc) / (float)D;
    float rs = 1.0f / sqrt(var + eps);
    __global float *yr = y + yo + (size_t)row * D;
    for (uint i = lid; i < D; i += wg) {
        float v = (xr[i] - mu) * rs * w[wo + i];
        yr[i] = has_b ? v + b[bo + i] : v;
    }
    if (has_w2) {
        __global float *y2r = y2 + y2o + (size_t)row * D;
        for (uint i = lid; i < D; i += wg) {
            float v = (xr[i] - mu) * rs * w2[w2o + i];
            y2r[i] = has_b2 ? v + b2[b2o + i] : v;
        }
    }
    if (lid == 0) {
        mean[mo + row] = mu;
        rstd[ro + row] = rs;
    }
}

/* g = gy * w + gy2 * w2 (a pair's two affines; either gradient may be absent = zero: the
 * backward is linear in g, so both go through one pass). Exactly gy * w without gy2. */
inline float ln_g(__global const float *w, uint wo, __global const float *gy, uint gyo, int has_gy,
                  __global const float *w2, uint w2o, __global const float *gy2, uint gy2o, int has_gy2, size_t k,
                  uint i)
{
    float g = has_gy ? gy[gyo + k] * w[wo + i] : 0.0f;
    if (has_gy2) g += gy2[gy2o + k] * w2[w2o + i];
    return g;
}

/* gx += rstd * (g - mean(g) - xhat * mean(g * xhat)), g as ln_g. */
__kernel void layernorm_bwd_x(__global const float *x, uint xo, __global const float *w, uint wo,
                              __global const float *mean, uint mo, __global const float *rstd, uint ro,
                              __global const float *gy, uint gyo, __global float *gx, uint gxo, uint D,
                              int has_gy, __global const float *w2, uint w2o, __global const float *gy2, uint gy2o,
                              int has_gy2, __local float *buf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    size_t base = (size_t)row * D;
    float mu = mean[mo + row], rs = rstd[ro + row];
    float s1 = 0.0f, s2 = 0.0f;
    for (uint i = lid; i < D; i += wg) {
        float g = ln_g(w, wo, gy, gyo, has_gy, w2, w2o, gy2, gy2o, has_gy2, base + i, i);
        float xh = (x[xo + base + i] - mu) * rs;
        s1 += g;
        s2 += g * xh;
    }
    float m1 = wg_sum(buf, s1) / (float)D;
    float m2 = wg_sum(buf, s2) / (float)D;
    for (uint i = lid; i < D; i += wg) {
        float g = ln_g(w, wo, gy, gyo, has_gy, w2, w2o, gy2, gy2o, has_gy2, base + i, i);
        float xh = (x[xo + base + i] - mu) * rs;
        gx[gxo + base + i] += rs * (g - m1 - xh * m2);
    }
}

/* Weight/bias gradients are column sums over rows. Two deterministic stages so a GPU has
 * enough parallelism: work-item (c, j) sums rows [c*rpc, (c+1)*rpc) of column j in order into
 * part[c, j] (gw partials) and part[nch + c, j] (gb partials); col_chunks_acc then adds the
 * chunks in order. The chunking depends only on N, never on the device. */
__kernel void layernorm_bwd_wb(__global const float *x, uint xo, __global const float *mean, uint mo,
                               __global const float *rstd, uint ro, __global const float *gy, uint gyo,
                               __global float *part, uint N, uint D, uint rpc, uint nch)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)nch * D) return;
    uint c = i / D, j = i % D;
    uint r1 = min(N, (c + 1) * rpc);
    float aw = 0.0f, ab = 0.0f;
    for (uint r = c * rpc; r < r1; r++) {
        size_t k = (size_t)r * D + j;
        float d = gy[gyo + k];
        aw += d * (x[xo + k] - mean[mo + r]) * rstd[ro + r];
        ab += d;
    }
    part[i] = aw;
    part[(size_t)nch * D + i] = ab;
}

__kernel void rmsnorm_fwd(__global const float *x, uint xo, __global const float *w, uint wo, __global float *y,
                          uint yo, __global float *rstd, uint ro, uint D, float eps, __local float *buf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    __global const float *xr = x + xo + (size_t)row * D;
    float acc = 0.0f;
    for (uint i = lid; i < D; i += wg) acc += xr[i] * xr[i];
    float rs = 1.0f / sqrt(wg_sum(buf, acc) / (float)D + eps);
    for (uint i = lid; i < D; i += wg) y[yo + (size_t)row * D + i] = xr[i] * rs * w[wo + i];
    if (lid == 0) rstd[ro + row] = rs;
}

/* gx += rstd * (g - x * rstd^2 * mean(g * x)), g = gy * w. */
__kernel void rmsnorm_bwd_x(__global const float *x, uint xo, __global const float *w, uint wo,
                            __global const float *rstd, uint ro, __global const float *gy, uint gyo,
                            __global float *gx, uint gxo, uint D, __local float *buf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    size_t base = (size_t)row * D;
    float rs = rstd[ro + row];
    float acc = 0.0f;
    for (uint i = lid; i < D; i += wg) acc += gy[gyo + base + i] * w[wo + i] * x[xo + base + i];
    float m = wg_sum(buf, acc) / (float)D;
    for (uint i = lid; i < D; i += wg) {
        float g = gy[gyo + base + i] * w[wo + i];
        gx[gxo + base + i] += rs * (g - x[xo + base + i] * rs * rs * m);
    }
}

/* Stage 1 of gw (see layernorm_bwd_wb): part[c, j] = sum over chunk c of gy * x * rstd. */
__kernel void rmsnorm_bwd_w(__global const float *x, uint xo, __global const float *rstd, uint ro,
                            __global const float *gy, uint gyo, __global float *part, uint N, uint D, uint rpc,
                            uint nch)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)nch * D) return;
    uint c = i / D, j = i % D;
    uint r1 = min(N, (c + 1) * rpc);
    float aw = 0.0f;
    for (uint r = c * rpc; r < r1; r++) {
        size_t k = (size_t)r * D + j;
        aw += gy[gyo + k] * x[xo + k] * rstd[ro + r];
    }
    part[i] = aw;
}

__kernel void softmax_fwd(__global const float *x, uint xo, __global float *y, uint yo, uint D, __local float *buf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    __global const float *xr = x + xo + (size_t)row * D;
    float m = -INFINITY;
    for (uint i = lid; i < D; i += wg) m = fmax(m, xr[i]);
    m = wg_max(buf, m);
    float acc = 0.0f;
    for (uint i = lid; i < D; i += wg) acc += exp(xr[i] - m);
    float inv = 1.0f / wg_sum(buf, acc);
    for (uint i = lid; i < D; i += wg) y[yo + (size_t)row * D + i] = exp(xr[i] - m) * inv;
}

/* gx += y * (gy - sum(gy * y)). */
__kernel void softmax_bwd(__global const float *y, uint yo, __global const float *gy, uint gyo, __global float *gx,
                          uint gxo, uint D, __local float *buf)
{
    uint row = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    size_t base = (size_t)row * D;
    float acc = 0.0f;
    for (uint i = lid; i < D; i += wg) acc += gy[gyo + base + i] * y[yo + base + i];
    float dot = wg_sum(buf, acc);
    for (uint i = lid; i < D; i += wg) gx[gxo + base + i] += y[yo + base + i] * (gy[gyo + base + i] - dot);
}
