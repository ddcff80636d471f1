/* Elementwise kernels: fill, copy/cast, activations, add/mul/scale and their backwards,
 * and the matmul epilogue (bias + activation). Memory-bound: one grid-stride loop each. */
#include "cuda_common.cuh"

SEA_CUDA_ABI_UNIT(elementwise)

#define THREADS 256

/* ---- activations ---- */
__device__ __forceinline__ float act_f(sea_act a, float x)
{
    switch (a) {
    case SEA_ACT_GELU: return 0.5f * x * (1.0f + erff(x * 0.70710678118654752f));
    case SEA_ACT_GELU_TANH: {
        float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        return 0.5f * x * (1.0f + tanhf(u));
    }
    case SEA_ACT_RELU: return x > 0.0f ? x : 0.0f;
    case SEA_ACT_SILU: return x / (1.0f + expf(-x));
    default: return x;
    }
}

__device__ __forceinline__ float act_df(sea_act a, float x)
{
    switch (a) {
    case SEA_ACT_GELU: {
        float cdf = 0.5f * (1.0f + erff(x * 0.70710678118654752f));
        float pdf = expf(-0.5f * x * x) * 0.39894228040143268f;
        return cdf + x * pdf;
    }
    case SEA_ACT_GELU_TANH: {
        float u = 0.79788456080286536f * (x + 0.044715f * x * x * x);
        float t = tanhf(u);
        float du = 0.79788456080286536f * (1.0f + 3.0f * 0.044715f * x * x);
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * du;
    }
    case SEA_ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case SEA_ACT_SILU: {
        float s = 1.0f / (1.0f + expf(-x));
        return s * (1.0f + x * (1.0f - s));
    }
    default: return 1.0f;
    }
}

/* ---- fill ---- */
/* Element off of o (dtype ot) = the fill value: iv for i32, else fv in o's dtype. */
__device__ __forceinline__ void fill_elem(void *o, int ot, int64_t off, float fv, int32_t iv)
{
    if (ot == SEA_I32) ((int32_t *)o)[off] = iv;
    else stf(o, ot, off, fv);
}

__global__ void k_fill(cu_view o, int64_t n, float fv, int32_t iv)
{
    GRID_STRIDE(i, n)
    {
        fill_elem(o.p, o.dtype, view_offset(o, o.shape, i), fv, iv);
    }
}

/* Contiguous outputs (almost every fill) take a linear walk: view_offset's four 64-bit
 * divisions per element, emulated in software on the GPU, cost more than the store. */
__global__ void k_fill_linear(void *o, int ot, int64_t n, float fv, int32_t iv)
{
    GRID_STRIDE(i, n)
    {
        fill_elem(o, ot, i, fv, iv);
    }
}

extern "C" sea_status sea_cuda_fill_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *o = op->out[0];
    int64_t n = numel_of(o);
    if (n == 0) return SEA_OK;
    double v = op->p.fill.value;
    if (v == 0.0 && sea_tensor_is_contiguous(o))
        return sea_cuda_check(cudaMemsetAsync(sea_cuda_ptr(o), 0, (size_t)n * sea_dtype_size(o->dtype), cs->stream), cs,
                              "fill");
    const int32_t iv = o->dtype == SEA_I32 ? (int32_t)v : 0;
    if (sea_tensor_is_contiguous(o))
        k_fill_linear<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(sea_cuda_ptr(o), o->dtype, n, (float)v, iv);
    else
        k_fill<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(make_view(o), n, (float)v, iv);
    return sea_cuda_launch_check(cs, "fill");
}

extern "C" sea_status sea_cuda_fill_backward(sea_cuda_stream *cs, const sea_op *op)
{
    (void)op;
    return sea_error(SEA_ERR_INVALID, "%s: fill has no backward", cs->cdev->label);
}

/* ---- copy / cast ---- */
/* Element od of d (dtype dt) (+)= element os of s (dtype st): i32 to i32 by value, anything
 * else through f32. */
__device__ __forceinline__ void copy_elem(void *d, int dt, int64_t od, const void *s, int st, int64_t os,
                                          bool accumulate)
{
    if (dt == SEA_I32 && st == SEA_I32) {
        ((int32_t *)d)[od] = ((const int32_t *)s)[os];
    } else {
        float v = ldf(s, st, os);
        if (accumulate) v += ldf(d, dt, od);
        stf(d, dt, od, v);
    }
}

__global__ void k_copy(cu_view d, cu_view s, int64_t n, bool accumulate)
{
    GRID_STRIDE(i, n)
    {
        copy_elem(d.p, d.dtype, view_offset(d, d.shape, i), s.p, s.dtype, view_offset(s, d.shape, i), accumulate);
    }
}

/* Both contiguous (casts, the f32 -> bf16 refresh of a model's weights): a linear walk, for
 * the same reason as k_fill_linear. */
__global__ void k_copy_linear(void *d, int dt, const void *s, int st, int64_t n, bool accumulate)
{
    GRID_STRIDE(i, n)
    {
        copy_elem(d, dt, i, s, st, i, accumulate);
    }
}

/* Views whose last dim is contiguous on both sides (a KV-cache slice, a head slice of a
 * projection): one unravel per row, then the row's elements by consecutive threads, instead
 * of k_copy's two 4-d unravels per element. */
__global__ void k_copy_rows(cu_view d, cu_view s, int64_t rows, int64_t cols, bool accumulate)
{
    for (int64_t r = blockIdx.x; r < rows; r += gridDim.x) {
        int64_t i = r, od = 0, os = 0;
        for (int k = 2; k >= 0; k--) {
            const int64_t q = i / d.shape[k], c = i - q * d.shape[k];
            od += c * d.stride[k];
            os += c * s.stride[k];
            i = q;
        }
        for (int64_t c = threadIdx.x; c < cols; c += blockDim.x)
            copy_elem(d.p, d.dtype, od + c, s.p, s.dtype, os + c, accumulate);
    }
}

/* d (+)= s over d's shape: linearly when both are contiguous, by rows when their last dims
 * are, else element by element through the views. */
static sea_status launch_copy(sea_cuda_stream *cs, sea_tensor *d, const sea_tensor *s, int64_t n, bool accumulate,
                              const char *name)
{
    if (sea_tensor_same_shape(d, s) && sea_tensor_is_contiguous(d) && sea_tensor_is_contiguous(s))
        k_copy_linear<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(sea_cuda_ptr(d), d->dtype, sea_cuda_ptr(s),
                                                                        s->dtype, n, accumulate);
    else {
        const cu_view dv = make_view(d), sv = make_view(s);
        const int64_t cols = dv.shape[3];
        if (cols >= 8 && dv.stride[3] == 1 && sv.stride[3] == 1) {
            const int threads = cols >= THREADS ? THREADS : (int)((cols + 31) / 32 * 32);
            k_copy_rows<<<grid_for(n / cols, 1), threads, 0, cs->stream>>>(dv, sv, n / cols, cols, accumulate);
        } else {
            k_copy<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(dv, sv, n, accumulate);
        }
    }
    return sea_cuda_launch_check(cs, name);
}

extern "C" sea_status sea_cuda_copy_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *s = op->in[0];
    sea_tensor *d = op->out[0];
    int64_t n = numel_of(d);
    if (n == 0) return SEA_OK;
    if (s->dtype == d->dtype && sea_tensor_is_contiguous(s) && sea_tensor_is_contiguous(d))
        return sea_cuda_check(cudaMemcpyAsync(sea_cuda_ptr(d), sea_cuda_ptr(s), (size_t)n * sea_dtype_size(d->dtype),
                                              cudaMemcpyDeviceToDevice, cs->stream),
                              cs, "copy");
    return launch_copy(cs, d, s, n, false, "copy");
}

extern "C" sea_status sea_cuda_copy_backward(sea_cuda_stream *cs, const sea_op *op)
{
    sea_tensor *gi = op->gin[0];
    const sea_tensor *go = op->gout[0];
    if (!gi || !go) return SEA_OK;
    int64_t n = numel_of(gi);
    if (n == 0) return SEA_OK;
    return launch_copy(cs, gi, go, n, true, "copy backward");
}

/* ---- unary: gelu, silu, relu, scale ---- */
static sea_act unary_act(const sea_op *op)
{
    switch (op->kind) {
    case SEA_OP_GELU: return op->p.act.approximate ? SEA_ACT_GELU_TANH : SEA_ACT_GELU;
    case SEA_OP_SILU: return SEA_ACT_SILU;
    case SEA_OP_RELU: return SEA_ACT_RELU;
    default: return SEA_ACT_NONE;
    }
}

__global__ void k_unary(const void *x, int xt, void *y, int yt, int64_t n, sea_act a, float alpha)
{
    GRID_STRIDE(i, n)
    {
        float v = ldf(x, xt, i);
        stf(y, yt, i, a == SEA_ACT_NONE ? alpha * v : act_f(a, v));
    }
}

__global__ void k_unary_bw(const void *x, int xt, const void *g, int gt, void *gi, int git, int64_t n, sea_act a,
                           float alpha)
{
    GRID_STRIDE(i, n)
    {
        float gv = ldf(g, gt, i);
        float d = a == SEA_ACT_NONE ? alpha : act_df(a, ldf(x, xt, i));
        stf(gi, git, i, ldf(gi, git, i) + gv * d);
    }
}

extern "C" sea_status sea_cuda_unary_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    sea_tensor *y = op->out[0];
    int64_t n = numel_of(x);
    if (n == 0) return SEA_OK;
    float alpha = op->kind == SEA_OP_SCALE ? op->p.scale.alpha : 1.0f;
    k_unary<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(y), y->dtype, n,
                                                              unary_act(op), alpha);
    return sea_cuda_launch_check(cs, sea_op_name(op->kind));
}

extern "C" sea_status sea_cuda_unary_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *g = op->gout[0];
    sea_tensor *gi = op->gin[0];
    if (!gi || !g) return SEA_OK;
    int64_t n = numel_of(x);
    if (n == 0) return SEA_OK;
    float alpha = op->kind == SEA_OP_SCALE ? op->p.scale.alpha : 1.0f;
    k_unary_bw<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(sea_cuda_ptr(x), x->dtype, sea_cuda_ptr(g), g->dtype,
                                                                 sea_cuda_ptr(gi), gi->dtype, n, unary_act(op), alpha);
    return sea_cuda_launch_check(cs, sea_op_name(op->kind));
}

/* ---- swiglu ---- */
__global__ void k_swiglu(const void *gate, const void *up, int t, void *y, int yt, int64_t n)
{
    GRID_STRIDE(i, n) stf(y, yt, i, act_f(SEA_ACT_SILU, ldf(gate, t, i)) * ldf(up, t, i));
}

__global__ void k_swiglu_bw(const void *gate, const void *up, int t, const void *g, int gt, void *dg, void *du,
                            int dt, int64_t n)
{
    GRID_STRIDE(i, n)
    {
        float a = ldf(gate, t, i), u = ldf(up, t, i), go = ldf(g, gt, i);
        if (dg) stf(dg, dt, i, ldf(dg, dt, i) + go * u * act_df(SEA_ACT_SILU, a));
        if (du) stf(du, dt, i, ldf(du, dt, i) + go * act_f(SEA_ACT_SILU, a));
    }
}

extern "C" sea_status sea_cuda_swiglu_forward(sea_cuda_stream *cs, const sea_op *op)
{
    int64_t n = numel_of(op->in[0]);
    if (n == 0) return SEA_OK;
    k_swiglu<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(sea_cuda_ptr(op->in[0]), sea_cuda_ptr(op->in[1]),
                                                               op->in[0]->dtype, sea_cuda_ptr(op->out[0]),
                                                               op->out[0]->dtype, n);
    return sea_cuda_launch_check(cs, "swiglu");
}

extern "C" sea_status sea_cuda_swiglu_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *g = op->gout[0];
    if (!g || (!op->gin[0] && !op->gin[1])) return SEA_OK;
    int64_t n = numel_of(op->in[0]);
    if (n == 0) return SEA_OK;
    sea_dtype dt = op->gin[0] ? op->gin[0]->dtype : op->gin[1]->dtype;
    k_swiglu_bw<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(sea_cuda_ptr(op->in[0]), sea_cuda_ptr(op->in[1]),
                                                                  op->in[0]->dtype, sea_cuda_ptr(g), g->dtype,
                                                                  sea_cuda_ptr(op->gin[0]), sea_cuda_ptr(op->gin[1]), dt, n);
    return sea_cuda_launch_check(cs, "swiglu backward");
}

/* ---- add / mul with suffix broadcast of in[1] (contiguous: b index = i mod nb) ---- */
__global__ void k_binary(const void *a, const void *b, int t, int64_t nb, void *y, int yt, int64_t n, bool mul)
{
    GRID_STRIDE(i, n)
    {
        float x = ldf(a, t, i), z = ldf(b, t, i % nb);
        stf(y, yt, i, mul ? x * z : x + z);
    }
}

/* ga += g (*b); when gb is full-size, gb += g (*a) too; else prod = g (*a) for the reduction. */
__global__ void k_binary_bw(const void *a, const void *b, int t, int64_t nb, const void *g, int gt, void *ga, void *gb,
                            int dt, float *prod, int64_t n, bool mul)
{
    GRID_STRIDE(i, n)
    {
        float go = ldf(g, gt, i);
        if (ga) stf(ga, dt, i, ldf(ga, dt, i) + (mul ? go * ldf(b, t, i % nb) : go));
        float pb = mul ? go * ldf(a, t, i) : go;
        if (gb) stf(gb, dt, i, ldf(gb, dt, i) + pb);
        if (prod) prod[i] = pb;
    }
}

extern "C" sea_status sea_cuda_binary_forward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *a = op->in[0], *b = op->in[1];
    int64_t n = numel_of(a), nb = numel_of(b);
    if (n == 0) return SEA_OK;
    k_binary<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(sea_cuda_ptr(a), sea_cuda_ptr(b), a->dtype, nb,
                                                               sea_cuda_ptr(op->out[0]), op->out[0]->dtype, n,
                                                               op->kind == SEA_OP_MUL);
    return sea_cuda_launch_check(cs, sea_op_name(op->kind));
}

extern "C" sea_status sea_cuda_binary_backward(sea_cuda_stream *cs, const sea_op *op)
{
    const sea_tensor *a = op->in[0], *b = op->in[1], *g = op->gout[0];
    sea_tensor *ga = op->gin[0], *gb = op->gin[1];
    if (!g || (!ga && !gb)) return SEA_OK;
    int64_t n = numel_of(a), nb = numel_of(b);
    if (n == 0) return SEA_OK;
    bool mul = op->kind == SEA_OP_MUL;
    bool reduce = gb && nb != n;
    float *prod = NULL;
    size_t prod_bytes = (size_t)n * sizeof(float);
    if (reduce) SEA_TRY(sea_cuda_tmp_alloc(cs, prod_bytes, (void **)&prod));
    sea_dtype dt = ga ? ga->dtype : gb->dtype;
    k_binary_bw<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(sea_cuda_ptr(a), sea_cuda_ptr(b), a->dtype, nb,
                                                                  sea_cuda_ptr(g), g->dtype, sea_cuda_ptr(ga),
                                                                  reduce ? NULL : sea_cuda_ptr(gb), dt, prod, n, mul);
    sea_status st = sea_cuda_launch_check(cs, sea_op_name(op->kind));
    if (!st && reduce)
        st = sea_cuda_colsum_acc(cs, prod, SEA_F32, 1, n / nb, nb, sea_cuda_ptr(gb), gb->dtype, sea_op_name(op->kind));
    if (prod) sea_cuda_tmp_free(cs, prod, prod_bytes);
    return st;
}

/* ---- matmul epilogue ---- */
__global__ void k_bias_act(const void *c, int ct, const void *bias, int bt, int64_t rows_per_bias, void *pre, int pt,
                           const void *res, int rt, void *out, int ot, int64_t total, int64_t n, sea_act a)
{
    GRID_STRIDE(i, total)
    {
        float v = ldf(c, ct, i);
        if (bias) {
            int64_t row = i / n, col = i - row * n;
            int64_t bi = rows_per_bias ? (row / rows_per_bias) * n + col : col;
            v += ldf(bias, bt, bi);
        }
        if (pre) stf(pre, pt, i, v);
        v = act_f(a, v);
        if (res) v += ldf(res, rt, i);   /* a residual, after the bias (act is none then) */
        stf(out, ot, i, v);
    }
}

extern "C" sea_status sea_cuda_bias_act_residual(sea_cuda_stream *cs, const void *c, sea_dtype cd, const void *bias,
                                                 sea_dtype bd, int64_t rows_per_bias, void *pre, sea_dtype pd,
                                                 const void *res, sea_dtype rd, void *out, sea_dtype od, int64_t rows,
                                                 int64_t n, sea_act act, const char *op)
{
    int64_t total = rows * n;
    if (total == 0) return SEA_OK;
    k_bias_act<<<grid_for(total, THREADS), THREADS, 0, cs->stream>>>(c, cd, bias, bd, rows_per_bias, pre, pd, res, rd,
                                                                      out, od, total, n, act);
    return sea_cuda_launch_check(cs, op);
}

extern "C" sea_status sea_cuda_bias_act(sea_cuda_stream *cs, const void *c, sea_dtype cd, const void *bias,
                                        sea_dtype bd, int64_t rows_per_bias, void *pre, sea_dtype pd, void *out,
                                        sea_dtype od, int64_t rows, int64_t n, sea_act act, const char *op)
{
    return sea_cuda_bias_act_residual(cs, c, cd, bias, bd, rows_per_bias, pre, pd, NULL, SEA_F32, out, od, rows, n,
                                      act, op);
}

__global__ void k_act_bw(const void *g, int gt, const void *gpre, int gpt, const void *pre, int pt, void *d, int dt,
                         int64_t n, sea_act a)
{
    GRID_STRIDE(i, n)
    {
        float v = ldf(g, gt, i) * act_df(a, ldf(pre, pt, i));
        if (gpre) v += ldf(gpre, gpt, i);
        stf(d, dt, i, v);
    }
}

extern "C" sea_status sea_cuda_act_backward(sea_cuda_stream *cs, const void *gout, sea_dtype gd, const void *gpre,
                                            sea_dtype gpd, const void *pre, sea_dtype pd, void *dpre, sea_dtype dd,
                                            int64_t n, sea_act act, const char *op)
{
    if (n == 0) return SEA_OK;
    k_act_bw<<<grid_for(n, THREADS), THREADS, 0, cs->stream>>>(gout, gd, gpre, gpd, pre, pd, dpre, dd, n, act);
    return sea_cuda_launch_check(cs, op);
}
