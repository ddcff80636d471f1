/* Elementwise ops over contiguous f32 (offsets in elements). Backward kernels accumulate. */

__kernel void gelu_fwd(__global const float *x, uint xo, __global float *y, uint yo, uint n, int approximate)
{
    size_t i = get_global_id(0);
    if (i < n) y[yo + i] = act_apply(approximate ? ACT_GELU_TANH : ACT_GELU, x[xo + i]);
}

__kernel void gelu_bwd(__global const float *x, uint xo, __global const float *gy, uint go, __global float *gx,
                       uint gxo, uint n, int approximate)
{
    size_t i = get_global_id(0);
    if (i < n) gx[gxo + i] += gy[go + i] * act_grad(approximate ? ACT_GELU_TANH : ACT_GELU, x[xo + i]);
}

__kernel void silu_fwd(__global const float *x, uint xo, __global float *y, uint yo, uint n)
{
    size_t i = get_global_id(0);
    if (i < n) y[yo + i] = act_apply(ACT_SILU, x[xo + i]);
}

__kernel void silu_bwd(__global const float *x, uint xo, __global const float *gy, uint go, __global float *gx,
                       uint gxo, uint n)
{
    size_t i = get_global_id(0);
    if (i < n) gx[gxo + i] += gy[go + i] * act_grad(ACT_SILU, x[xo + i]);
}

__kernel void relu_fwd(__global const float *x, uint xo, __global float *y, uint yo, uint n)
{
    size_t i = get_global_id(0);
    if (i < n) y[yo + i] = act_apply(ACT_RELU, x[xo + i]);
}

__kernel void relu_bwd(__global const float *x, uint xo, __global const float *gy, uint go, __global float *gx,
                       uint gxo, uint n)
{
    size_t i = get_global_id(0);
    if (i < n) gx[gxo + i] += gy[go + i] * act_grad(ACT_RELU, x[xo + i]);
}

__kernel void swiglu_fwd(__global const float *g, uint gof, __global const float *u, uint uo, __global float *y,
                         uint yo, uint n)
{
    size_t i = get_global_id(0);
    if (i < n) y[yo + i] = act_apply(ACT_SILU, g[gof + i]) * u[uo + i];
}

/* gg/gu may be absent (has_* = 0); the pointers are then any valid buffer. */
__kernel void swiglu_bwd(__global const float *g, uint gof, __global const float *u, uint uo,
                         __global const float *gy, uint gyo, __global float *gg, uint ggo, int has_gg,
                         __global float *gu, uint guo, int has_gu, uint n)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    float a = g[gof + i], d = gy[gyo + i];
    if (has_gg) gg[ggo + i] += d * u[uo + i] * act_grad(ACT_SILU, a);
    if (has_gu) gu[guo + i] += d * act_apply(ACT_SILU, a);
}

/* op 0 = add, 1 = mul; b has nb elements and repeats over a's leading dims. */
__kernel void binary_fwd(__global const float *a, uint ao, __global const float *b, uint bo, __global float *y,
                         uint yo, uint n, uint nb, int op)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    float x = a[ao + i], z = b[bo + i % nb];
    y[yo + i] = op ? x * z : x + z;
}

__kernel void binary_bwd_a(__global const float *gy, uint gyo, __global const float *b, uint bo,
                           __global float *ga, uint gao, uint n, uint nb, int op)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    float d = gy[gyo + i];
    ga[gao + i] += op ? d * b[bo + i % nb] : d;
}

__kernel void binary_bwd_b_same(__global const float *gy, uint gyo, __global const float *a, uint ao,
                                __global float *gb, uint gbo, uint n, int op)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    float d = gy[gyo + i];
    gb[gbo + i] += op ? d * a[ao + i] : d;
}

/* Broadcast b: each work-item owns one element of b and sums its rows in order. */
__kernel void binary_bwd_b_bcast(__global const float *gy, uint gyo, __global const float *a, uint ao,
                                 __global float *gb, uint gbo, uint rows, uint nb, int op)
{
    size_t j = get_global_id(0);
    if (j >= nb) return;
    float acc = 0.0f;
    for (uint r = 0; r < rows; r++) {
        size_t i = (size_t)r * nb + j;
        float d = gy[gyo + i];
        acc += op ? d * a[ao + i] : d;
    }
    gb[gbo + j] += acc;
}

__kernel void scale_fwd(__global const float *x, uint xo, __global float *y, uint yo, uint n, float alpha)
{
    size_t i = get_global_id(0);
    if (i < n) y[yo + i] = alpha * x[xo + i];
}

/* y += alpha x */
__kernel void axpy(__global const float *x, uint xo, __global float *y, uint yo, uint n, float alpha)
{
    size_t i = get_global_id(0);
    if (i < n) y[yo + i] += alpha * x[xo + i];
}
