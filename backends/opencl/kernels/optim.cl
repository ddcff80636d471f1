/* AdamW, global norm and clipping over flat f32 buffers. */

/* bc1 = 1 - beta1^step, bc2 = 1 - beta2^step (computed on the host in double). */
__kernel void adamw(__global const float *g, uint go, __global float *p, uint po, __global float *m, uint mo,
                    __global float *v, uint vo, uint n, float lr, float b1, float b2, float eps, float wd, float l2,
                    float bc1, float bc2)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    float w = p[po + i];
    float gr = g[go + i] + l2 * w;
    float mm = b1 * m[mo + i] + (1.0f - b1) * gr;
    float vv = b2 * v[vo + i] + (1.0f - b2) * gr * gr;
    m[mo + i] = mm;
    v[vo + i] = vv;
    float mhat = mm / bc1, vhat = vv / bc2;
    p[po + i] = w - lr * (mhat / (sqrt(vhat) + eps) + wd * w);
}

/* Pass 1: work-group gid sums squares of its fixed chunk [gid*chunk, (gid+1)*chunk). */
__kernel void sumsq_partial(__global const float *x, uint xo, uint n, uint chunk, __global float *partial,
                            __local float *buf)
{
    uint gid = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    size_t begin = (size_t)gid * chunk, end = min((size_t)n, begin + chunk);
    float acc = 0.0f;
    for (size_t i = begin + lid; i < end; i += wg) {
        float a = x[xo + i];
        acc += a * a;
    }
    float s = wg_sum(buf, acc);
    if (lid == 0) partial[gid] = s;
}

/* Pass 2 (one work-group): out = sqrt(sum of partials). */
__kernel void sumsq_final(__global const float *partial, uint np, __global float *out, uint oo, __local float *buf)
{
    uint lid = get_local_id(0), wg = get_local_size(0);
    float acc = 0.0f;
    for (uint i = lid; i < np; i += wg) acc += partial[i];
    float s = wg_sum(buf, acc);
    if (lid == 0) out[oo] = sqrt(s);
}

__kernel void clip(__global const float *norm, uint no, __global float *g, uint go, uint n, float max_norm)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    float sc = fmin(1.0f, max_norm / (norm[no] + 1e-6f));
    g[go + i] *= sc;
}
