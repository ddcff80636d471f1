/* The transformer forward pass, shared by GPT-NeoX and Llama, written against ops only.
 * Activations are in the model's compute dtype (f32, or bf16 over a bf16 weight copy:
 * model_precision.c); norm statistics, attention lse and logits are f32.
 *
 * Shapes: N = B*T tokens, C hidden, H heads (Hkv key/value heads), hd head dim, F mlp width,
 * V vocab. Every intermediate lives in the model's arena; with recording on, each op is kept
 * for sea_model_rec_backward (model_grad.c).
 *
 * What a block's backward reads (why training keeps what it keeps): the matmuls their inputs
 * (h1, att, h2, gelu(u)), the norms their input and mean/rstd, attention q, k, v (after rope),
 * its output and lse, gelu its input u. The residual adds and rope read nothing: rope runs in
 * place, so q and k before rope are not kept, and with a parallel residual x1 lives in the
 * block output's memory (sea_model_block). Recompute keeps just x per block and rebuilds the
 * rest in backward. */
#include <math.h>
#include <string.h>

#include "models/kv_cache.h"
#include "models/model_internal.h"

/* ---- op helpers: build an sea_op, run (and maybe record) it ---- */

static const sea_tensor *opt(const sea_tensor *t) { return t && t->buf ? t : NULL; }

static sea_status new_t(sea_model *m, sea_dtype dt, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                        sea_tensor *out)
{
    int64_t shape[4] = {d0, d1, d2, d3};
    return sea_model_arena_tensor(m->arena, dt, ndim, shape, out);
}

static sea_status reshape(const sea_tensor *t, int ndim, int64_t d0, int64_t d1, int64_t d2, int64_t d3,
                          sea_tensor *out)
{
    int64_t shape[4] = {d0, d1, d2, d3};
    return sea_tensor_reshape(t, ndim, shape, out);
}

/* out (N, rows of w) = act(x (N, cols of w) @ w^T + b) (+ res), into out's memory; pre (or
 * NULL) gets the pre-activation. */
static sea_op linear_op(const sea_tensor *x, const sea_tensor *w, const sea_tensor *b, const sea_tensor *res,
                        sea_act act, sea_tensor *pre, sea_tensor *out)
{
    sea_op op = {0};
    op.kind = SEA_OP_MATMUL;
    op.in[0] = x;
    op.in[1] = w;
    op.in[2] = opt(b);
    op.in[3] = res;
    op.out[0] = out;
    op.out[1] = pre;
    op.p.matmul.trans_b = true;
    op.p.matmul.act = act;
    return op;
}

static sea_status linear_into(sea_model *m, sea_stream *s, const sea_tensor *x, const sea_tensor *w,
                              const sea_tensor *b, const sea_tensor *res, sea_act act, sea_tensor *pre,
                              sea_tensor *out)
{
    sea_op op = linear_op(x, w, b, res, act, pre, out);
    return sea_model_run(m, s, &op);
}

/* out = x @ w^T + b, allocated in dtype dt (the activation dtype, or f32 for logits: bf16
 * operands with f32 output). */
static sea_status linear_dt(sea_model *m, sea_stream *s, const sea_tensor *x, const sea_tensor *w,
                            const sea_tensor *b, sea_dtype dt, sea_tensor *out)
{
    SEA_TRY(new_t(m, dt, 2, x->shape[0], w->shape[0], 1, 1, out));
    return linear_into(m, s, x, w, b, NULL, SEA_ACT_NONE, NULL, out);
}

static sea_status linear(sea_model *m, sea_stream *s, const sea_tensor *x, const sea_tensor *w,
                         const sea_tensor *b, sea_tensor *out)
{
    return linear_dt(m, s, x, w, b, m->dtype, out);
}

/* out = x @ w^T + b + res (out allocated here when out->buf is NULL): a projection that ends
 * a residual branch, with the residual add in the matmul (one kernel and one pass over (N, C)
 * fewer; in f32 the same bits as a separate add). */
static sea_status linear_residual(sea_model *m, sea_stream *s, const sea_tensor *x, const sea_tensor *w,
                                  const sea_tensor *b, const sea_tensor *res, sea_tensor *out)
{
    if (!out->buf) SEA_TRY(new_t(m, m->dtype, 2, x->shape[0], w->shape[0], 1, 1, out));
    return linear_into(m, s, x, w, b, res, SEA_ACT_NONE, NULL, out);
}

/* Is b the continuation of a in memory (same buffer and dtype, both contiguous, b starting
 * where a ends)? */
static bool follows(const sea_tensor *a, const sea_tensor *b)
{
    return a->buf && a->buf == b->buf && a->dtype == b->dtype && sea_tensor_is_contiguous(a) &&
           sea_tensor_is_contiguous(b) && b->offset == a->offset + sea_tensor_nbytes(a);
}

/* The q, k, v projections as one (Cq + 2 Ckv, C) weight and bias when they lie back to back
 * (GPT-NeoX's query_key_value, which sea stores as [q; k; v] rows): one GEMM instead of three.
 * False for separate tensors (Llama's q_proj, k_proj, v_proj). */
static bool fused_qkv(const sea_model_layer *y, sea_tensor *w, sea_tensor *b)
{
    bool has_b = y->bq.buf != NULL;
    if (!follows(&y->wq, &y->wk) || !follows(&y->wk, &y->wv)) return false;
    if (has_b != (y->bk.buf != NULL) || has_b != (y->bv.buf != NULL)) return false;
    if (has_b && (!follows(&y->bq, &y->bk) || !follows(&y->bk, &y->bv))) return false;
    int64_t rows = y->wq.shape[0] + y->wk.shape[0] + y->wv.shape[0], ws[2] = {rows, y->wq.shape[1]};
    *w = sea_tensor_make(y->wq.buf, y->wq.offset, y->wq.dtype, 2, ws);
    memset(b, 0, sizeof *b);
    if (has_b) *b = sea_tensor_make(y->bq.buf, y->bq.offset, y->bq.dtype, 1, &rows);
    return true;
}

/* Columns [c0, c0 + nh * hd) of a (B*T, W) projection as (B, T, nh, hd): a strided view
 * (rope takes any strides). */
static sea_tensor heads_view(const sea_tensor *x, int64_t B, int64_t T, int64_t c0, int64_t nh, int64_t hd)
{
    sea_tensor v = *x;
    int64_t W = x->shape[1];
    v.offset += (size_t)c0 * sea_dtype_size(x->dtype);
    v.ndim = 4;
    v.shape[0] = B, v.shape[1] = T, v.shape[2] = nh, v.shape[3] = hd;
    v.stride[0] = T * W, v.stride[1] = W, v.stride[2] = hd, v.stride[3] = 1;
    return v;
}

/* out = norm(x) * w (+ b); with w2 (layernorm only) also out2 = norm(x) * w2 (+ b2) from the
 * same statistics: one op (op.h's layernorm pair) for GPT-NeoX's two parallel-residual norms. */
static sea_status norm2(sea_model *m, sea_stream *s, const sea_tensor *x, const sea_tensor *w, const sea_tensor *b,
                        const sea_tensor *w2, const sea_tensor *b2, sea_tensor *out, sea_tensor *out2)
{
    int64_t N = x->shape[0], C = x->shape[1];
    sea_tensor mean, rstd;   /* statistics stay f32 in every compute dtype */
    SEA_TRY(new_t(m, x->dtype, 2, N, C, 1, 1, out));
    if (w2) SEA_TRY(new_t(m, x->dtype, 2, N, C, 1, 1, out2));
    SEA_TRY(new_t(m, SEA_F32, 1, N, 1, 1, 1, &rstd));
    sea_op op = {0};
    op.in[0] = x;
    op.in[1] = w;
    op.p.norm.eps = m->eps;
    op.out[0] = out;
    if (m->rms) {
        op.kind = SEA_OP_RMSNORM;
        op.out[1] = &rstd;
    } else {
        SEA_TRY(new_t(m, SEA_F32, 1, N, 1, 1, 1, &mean));
        op.kind = SEA_OP_LAYERNORM;
        op.in[2] = opt(b);
        op.out[1] = &mean;
        op.out[2] = &rstd;
        if (w2) {
            op.in[3] = w2;
            op.in[4] = opt(b2);
            op.out[3] = out2;
        }
    }
    return sea_model_run(m, s, &op);
}

static sea_status norm(sea_model *m, sea_stream *s, const sea_tensor *x, const sea_tensor *w, const sea_tensor *b,
                       sea_tensor *out)
{
    return norm2(m, s, x, w, b, NULL, NULL, out, NULL);
}

/* out = a (+ or * ...) b into caller memory. */
static sea_status binary_into(sea_model *m, sea_stream *s, sea_op_kind kind, const sea_tensor *a,
                              const sea_tensor *b, sea_tensor *out)
{
    sea_op op = {0};
    op.kind = kind;
    op.in[0] = a;
    op.in[1] = b;
    op.out[0] = out;
    return sea_model_run(m, s, &op);
}

static sea_status binary(sea_model *m, sea_stream *s, sea_op_kind kind, const sea_tensor *a,
                         const sea_tensor *b, sea_tensor *out)
{
    SEA_TRY(sea_model_arena_tensor(m->arena, a->dtype, a->ndim, a->shape, out));
    return binary_into(m, s, kind, a, b, out);
}

/* out = rope(x) into caller memory; out may be x itself (op.h). */
static sea_status rope_into(sea_model *m, sea_stream *s, const sea_tensor *x, const sea_tensor *pos, sea_tensor *out)
{
    sea_op op = {0};
    op.kind = SEA_OP_ROPE;
    op.in[0] = x;
    op.in[1] = pos;
    op.out[0] = out;
    op.p = m->rope;
    return sea_model_run(m, s, &op);
}

static sea_status rope(sea_model *m, sea_stream *s, const sea_tensor *x, const sea_tensor *pos,
                       sea_tensor *out)
{
    if (m->rope.rope.rot_dims == 0) {   /* rotary_pct 0: nothing rotates */
        *out = *x;
        return SEA_OK;
    }
    SEA_TRY(sea_model_arena_tensor(m->arena, x->dtype, x->ndim, x->shape, out));
    return rope_into(m, s, x, pos, out);
}

/* x (B, T, heads, hd), contiguous, rotated in place: the unrotated values are never read
 * again (rope's backward reads only positions, the projection's backward its input), so
 * keeping them would cost two (N, C) a block in training. */
static sea_status rope_in_place(sea_model *m, sea_stream *s, sea_tensor *x, const sea_tensor *pos)
{
    if (m->rope.rope.rot_dims == 0) return SEA_OK;   /* rotary_pct 0: nothing rotates */
    return rope_into(m, s, x, pos, x);
}

static sea_status copy_into(sea_model *m, sea_stream *s, const sea_tensor *src, sea_tensor *dst)
{
    sea_op op = {0};
    op.kind = SEA_OP_COPY;
    op.in[0] = src;
    op.out[0] = dst;
    /* Cache writes never need a gradient: run without recording. */
    return sea_op_run(s, &op);
}

/* Decode: x2 (B, Hkv*hd) (rows at any stride) into rows (B) of cache (B, S, Hkv, hd) seen as
 * (B*S, Hkv*hd). */
static sea_status cache_rows_write2(sea_stream *s, const sea_tensor *x2, const sea_tensor *cache, const sea_tensor *rows)
{
    if (!rows) return sea_error(SEA_ERR_INVALID, "decode pass without cache rows");
    int64_t cs[2] = {cache->shape[0] * cache->shape[1], x2->shape[1]};
    sea_tensor c2;
    SEA_TRY(sea_tensor_reshape(cache, 2, cs, &c2));
    return sea_set_rows(s, x2, rows, &c2);
}

/* Decode: x (B, 1, Hkv, hd), contiguous, into the cache as above. */
static sea_status cache_rows_write(sea_stream *s, const sea_tensor *x, const sea_tensor *cache, const sea_tensor *rows)
{
    int64_t xs[2] = {x->shape[0], x->shape[2] * x->shape[3]};
    sea_tensor x2;
    SEA_TRY(sea_tensor_reshape(x, 2, xs, &x2));
    return cache_rows_write2(s, &x2, cache, rows);
}

/* ---- blocks ---- */

/* A decode step's q, k, v from one GEMM over the fused weight, and q and k rotated by one
 * rope over the (B, 1, H + Hkv, hd) view of their columns (rope reads strided views and writes
 * contiguous). k goes into the cache from its columns of the rotated output and v from its
 * columns of the GEMM's output (set_rows takes strided rows); q3 (B, H, hd) is a strided view
 * of the rotated output (decode attention takes one). Five kernels (three GEMMs, two ropes)
 * become two (docs/cuda.md, "Kernels per decode step"). */
static sea_status decode_qkv_fused(sea_model *m, sea_stream *s, const sea_model_pass *ps, int l, const sea_tensor *h,
                                   const sea_tensor *w, const sea_tensor *b, sea_tensor *q3)
{
    int64_t B = ps->B, H = m->H, Hkv = m->Hkv, hd = m->hd;
    if (ps->T != 1) return sea_error(SEA_ERR_INTERNAL, "decode pass with %d tokens per sequence", ps->T);
    sea_tensor qkv, qk, v2;
    SEA_TRY(linear(m, s, h, w, b, &qkv));   /* (B, (H + 2 Hkv) hd) */
    sea_tensor qk4 = heads_view(&qkv, B, 1, 0, H + Hkv, hd);
    /* (B, 1, H + Hkv, hd), heads hd apart: contiguous, or with rot_dims 0 the view itself */
    SEA_TRY(rope(m, s, &qk4, ps->pos, &qk));
    sea_tensor k2 = qk;   /* heads [H, H + Hkv) as (B, Hkv hd) rows */
    k2.offset += (size_t)(H * hd) * sea_dtype_size(qk.dtype);
    k2.ndim = 2;
    k2.shape[0] = B, k2.shape[1] = Hkv * hd, k2.shape[2] = k2.shape[3] = 1;
    k2.stride[0] = qk.stride[0], k2.stride[1] = 1, k2.stride[2] = k2.stride[3] = 1;
    *q3 = qk;   /* heads [0, H) as (B, H, hd) */
    q3->ndim = 3;
    q3->shape[0] = B, q3->shape[1] = H, q3->shape[2] = hd, q3->shape[3] = 1;
    q3->stride[0] = qk.stride[0], q3->stride[1] = hd, q3->stride[2] = 1, q3->stride[3] = 1;
    SEA_TRY(sea_tensor_slice(&qkv, 1, (H + Hkv) * hd, Hkv * hd, &v2));
    SEA_TRY(cache_rows_write2(s, &k2, &ps->cache->k[l], ps->cache_rows));
    return cache_rows_write2(s, &v2, &ps->cache->v[l], ps->cache_rows);
}

/* q, k, v from three GEMMs (h (N, C) -> (B, T, heads, hd)), q and k rotated in place; in a
 * pass over a KV cache, k and v also go into it. All three contiguous, as the GEMMs wrote
 * them. */
static sea_status qkv_separate(sea_model *m, sea_stream *s, const sea_model_pass *ps, int l, const sea_tensor *h,
                               sea_tensor *qr, sea_tensor *kr, sea_tensor *v4)
{
    const sea_model_layer *y = &m->layers[l];
    int64_t B = ps->B, T = ps->T, H = m->H, Hkv = m->Hkv, hd = m->hd;
    sea_tensor q, k, v;
    SEA_TRY(linear(m, s, h, &y->wq, &y->bq, &q));
    SEA_TRY(linear(m, s, h, &y->wk, &y->bk, &k));
    SEA_TRY(linear(m, s, h, &y->wv, &y->bv, &v));
    SEA_TRY(reshape(&q, 4, B, T, H, hd, qr));
    SEA_TRY(reshape(&k, 4, B, T, Hkv, hd, kr));
    SEA_TRY(reshape(&v, 4, B, T, Hkv, hd, v4));
    SEA_TRY(rope_in_place(m, s, qr, ps->pos));
    SEA_TRY(rope_in_place(m, s, kr, ps->pos));
    if (ps->cache && ps->decode) {
        SEA_TRY(cache_rows_write(s, kr, &ps->cache->k[l], ps->cache_rows));
        SEA_TRY(cache_rows_write(s, v4, &ps->cache->v[l], ps->cache_rows));
    } else if (ps->cache) {
        sea_tensor kc, vc;
        SEA_TRY(sea_tensor_slice(&ps->cache->k[l], 1, ps->cache_pos, T, &kc));
        SEA_TRY(sea_tensor_slice(&ps->cache->v[l], 1, ps->cache_pos, T, &vc));
        SEA_TRY(copy_into(m, s, kr, &kc));
        SEA_TRY(copy_into(m, s, v4, &vc));
    }
    return SEA_OK;
}

/* Attention sublayer: h (N, C) -> out (N, C) = res + attention(h) @ Wo^T + bo (the residual
 * add folded into the output projection; out allocated here unless out->buf is set). */
static sea_status attention_part(sea_model *m, sea_stream *s, const sea_model_pass *ps, int l,
                                 const sea_tensor *h, const sea_tensor *res, sea_tensor *out)
{
    const sea_model_layer *y = &m->layers[l];
    int64_t B = ps->B, T = ps->T, H = m->H, hd = m->hd;
    float scale = 1.0f / sqrtf((float)hd);
    sea_tensor qr, kr, v4, q3, att, att2, wqkv, bqkv;
    bool fused = ps->cache && ps->decode && !m->recording && fused_qkv(y, &wqkv, &bqkv);
    if (fused) {
        SEA_TRY(decode_qkv_fused(m, s, ps, l, h, &wqkv, &bqkv, &q3));
        qr = q3;   /* for its dtype */
    } else {
        SEA_TRY(qkv_separate(m, s, ps, l, h, &qr, &kr, &v4));
    }
    if (!ps->decode) {
        sea_tensor lse;
        SEA_TRY(new_t(m, qr.dtype, 4, B, T, H, hd, &att));
        SEA_TRY(new_t(m, SEA_F32, 3, B, H, T, 1, &lse));
        sea_op op = {0};
        op.kind = SEA_OP_ATTENTION;
        op.in[0] = &qr;
        op.in[1] = &kr;
        op.in[2] = &v4;
        op.in[3] = ps->key_valid;
        op.out[0] = &att;
        op.out[1] = &lse;
        op.p.attn.scale = scale;
        SEA_TRY(sea_model_run(m, s, &op));
    } else {
        if (!fused) SEA_TRY(reshape(&qr, 3, B, H, hd, 1, &q3));
        SEA_TRY(new_t(m, qr.dtype, 3, B, H, hd, 1, &att));
        /* with a shared prefix: the prompt's keys and values, stored once per prompt */
        const sea_kv_cache *pf = ps->prefix;
        SEA_TRY(sea_decode_attention(s, &q3, &ps->cache->k[l], &ps->cache->v[l], &ps->cache->valid,
                                     pf ? &pf->k[l] : NULL, pf ? &pf->v[l] : NULL, pf ? &pf->valid : NULL,
                                     ps->n_keys ? ps->n_keys : ps->cache_pos + 1, scale, &att));
    }
    SEA_TRY(reshape(&att, 2, B * T, H * hd, 1, 1, &att2));
    return linear_residual(m, s, &att2, &y->wo, &y->bo, res, out);
}

/* y += x @ w^T + b, recorded as the matmul whose residual is y itself. op.h's matmul writes
 * its output before it reads the residual, so it runs from a copy of y at the arena's top,
 * given back at once: what is kept is y alone (the values and gradient are those of the
 * out-of-place form; the backward walk handles the shared gradient, model_grad.c). */
static sea_status linear_residual_in_place(sea_model *m, sea_stream *s, const sea_tensor *x, const sea_tensor *w,
                                           const sea_tensor *b, sea_tensor *y)
{
    sea_model_arena_mark mk = sea_model_arena_get_mark(m->arena);
    sea_tensor r;
    sea_status st = sea_model_arena_tensor(m->arena, y->dtype, y->ndim, y->shape, &r);
    if (!st) st = sea_copy(s, y, &r);
    sea_op op = linear_op(x, w, b, &r, SEA_ACT_NONE, NULL, y);
    if (!st) st = sea_op_run(s, &op);
    sea_model_arena_release(m->arena, &mk);
    op.in[3] = y;
    return st ? st : sea_model_record(m, &op);
}

/* MLP sublayer: h (N, C) -> out (N, C) = res + mlp(h), the residual add folded into the
 * down projection (out allocated here unless out->buf is set; res == out: in place). */
static sea_status mlp_part(sea_model *m, sea_stream *s, int l, const sea_tensor *h, const sea_tensor *res,
                          sea_tensor *out)
{
    const sea_model_layer *y = &m->layers[l];
    sea_tensor u, a;
    if (m->swiglu) {
        sea_tensor g;
        SEA_TRY(linear(m, s, h, &y->w_up, &y->b_up, &u));
        SEA_TRY(linear(m, s, h, &y->w_gate, &y->b_gate, &g));
        SEA_TRY(binary(m, s, SEA_OP_SWIGLU, &g, &u, &a));
    } else {
        /* a = gelu(h W_up^T + b_up) as one matmul with the activation in its epilogue: one
         * pass over (N, F) (and, on a GPU, one kernel per layer) fewer than a matmul then a
         * GELU op. The same bits in f32; in bf16 the CPU's GELU reads the f32
         * pre-activation and CUDA's its bf16 rounding (docs/cuda.md). The pre-activation u
         * is kept only when the op is recorded for the backward. */
        const int64_t N = h->shape[0], F = y->w_up.shape[0];
        SEA_TRY(new_t(m, m->dtype, 2, N, F, 1, 1, &a));
        if (m->recording) SEA_TRY(new_t(m, m->dtype, 2, N, F, 1, 1, &u));
        SEA_TRY(linear_into(m, s, h, &y->w_up, &y->b_up, NULL, m->gelu_tanh ? SEA_ACT_GELU_TANH : SEA_ACT_GELU,
                            m->recording ? &u : NULL, &a));
    }
    if (res == out && res->buf) return linear_residual_in_place(m, s, &a, &y->w_down, &y->b_down, out);
    return linear_residual(m, s, &a, &y->w_down, &y->b_down, res, out);
}

/* y = x1 + mlp(ln2(.)), x1 = x + attn(ln1(x)); ln2 reads x (parallel residual, GPT-NeoX) or
 * x1 (Llama). Both adds happen inside the branches' last matmuls. With a parallel residual
 * both layernorms are one op over x (mean and rstd once, one kernel instead of two), and a
 * training pass puts x1 in y's memory, the MLP's projection adding into it in place: nothing
 * reads x1's values after that (the matmul's backward passes the residual's gradient through
 * without reading it; ln2 read x), so a block keeps one (N, C) fewer. */
sea_status sea_model_block(sea_model *m, sea_stream *s, const sea_model_pass *ps, int l,
                           const sea_tensor *x, sea_tensor *y)
{
    const sea_model_layer *w = &m->layers[l];
    sea_tensor h1, x1, h2;
    memset(&x1, 0, sizeof x1);
    bool pair = m->parallel_residual && !m->rms;
    bool x1_in_y = m->recording && m->parallel_residual;
    if (pair) SEA_TRY(norm2(m, s, x, &w->ln1_w, &w->ln1_b, &w->ln2_w, &w->ln2_b, &h1, &h2));
    else SEA_TRY(norm(m, s, x, &w->ln1_w, &w->ln1_b, &h1));
    SEA_TRY(attention_part(m, s, ps, l, &h1, x, x1_in_y ? y : &x1));
    if (!pair) SEA_TRY(norm(m, s, m->parallel_residual ? x : &x1, &w->ln2_w, &w->ln2_b, &h2));
    return mlp_part(m, s, l, &h2, x1_in_y ? y : &x1, y);
}

/* One block in the trunk. Its output y is allocated before the mark, so giving back the
 * block's intermediates (inference, or training with recompute) keeps it. */
static sea_status trunk_block(sea_model *m, sea_stream *s, const sea_model_pass *ps, int l,
                              const sea_tensor *x, sea_tensor *y)
{
    bool drop = !ps->train || m->recompute;
    if (!drop) return sea_model_block(m, s, ps, l, x, y);
    sea_model_arena_mark mk = sea_model_arena_get_mark(m->arena);
    bool rec = m->recording;
    m->recording = false;   /* a checkpointed block is recorded as one entry, below */
    sea_status st = sea_model_block(m, s, ps, l, x, y);
    m->recording = rec;
    sea_model_arena_release(m->arena, &mk);
    if (!st && rec) st = sea_model_rec_block(m, l, x, ps->pos, ps->key_valid, y);
    return st;
}

sea_status sea_model_trunk(sea_model *m, sea_stream *s, const sea_model_pass *ps, sea_tensor *hidden)
{
    int64_t N = (int64_t)ps->B * ps->T;
    sea_tensor x, y;   /* (N, C) residual stream into and out of a block, compute dtype */
    SEA_TRY(sea_model_weights_sync(m, s));
    SEA_TRY(new_t(m, m->dtype, 2, N, m->C, 1, 1, &x));
    /* Inference needs no block input afterwards: two residual buffers take turns. */
    if (!ps->train) SEA_TRY(new_t(m, m->dtype, 2, N, m->C, 1, 1, &y));
    sea_op op = {0};
    op.kind = SEA_OP_EMBEDDING;
    op.in[0] = &m->embed;
    op.in[1] = ps->ids;
    op.out[0] = &x;
    SEA_TRY(sea_model_run(m, s, &op));
    for (int l = 0; l < m->L; l++) {
        if (ps->train) SEA_TRY(new_t(m, m->dtype, 2, N, m->C, 1, 1, &y));
        sea_status st = trunk_block(m, s, ps, l, &x, &y);
        if (st) return sea_error_context(st, "layer %d", l);
        sea_tensor t = x;
        x = y;
        y = t;
    }
    return norm(m, s, &x, &m->final_w, &m->final_b, hidden);
}

sea_status sea_model_gather_rows(sea_model *m, sea_stream *s, const sea_tensor *x,
                                 const sea_tensor *rows, sea_tensor *out)
{
    SEA_TRY(new_t(m, x->dtype, 2, rows->shape[0], x->shape[1], 1, 1, out));
    sea_op op = {0};
    op.kind = SEA_OP_EMBEDDING;
    op.in[0] = x;
    op.in[1] = rows;
    op.out[0] = out;
    return sea_model_run(m, s, &op);
}

sea_status sea_model_lm_head(sea_model *m, sea_stream *s, const sea_tensor *h, sea_tensor *logits)
{
    if (!m->lm_head.buf)
        return sea_error(SEA_ERR_INVALID, "model: %s has no language-model head",
                         m->cfg.architecture[0] ? m->cfg.architecture : "this model");
    /* f32 logits whatever the compute dtype: log-softmax and sampling read them. */
    return linear_dt(m, s, h, &m->lm_head, NULL, SEA_F32, logits);
}

sea_status sea_model_head_logprobs(sea_model *m, sea_stream *s, const sea_tensor *h, const sea_tensor *targets,
                                   const sea_tensor *logp, const sea_tensor *lse)
{
    sea_tensor logits, lp = *logp, ls = *lse;
    SEA_TRY(sea_model_lm_head(m, s, h, &logits));
    sea_op op = {0};
    op.kind = SEA_OP_LOGSOFTMAX_GATHER;
    op.in[0] = &logits;
    op.in[1] = targets;
    op.out[0] = &lp;
    op.out[1] = &ls;
    return sea_model_run(m, s, &op);
}

void sea_model_positions(const int32_t *key_valid, int B, int T, int32_t *pos)
{
    for (int b = 0; b < B; b++) {
        int32_t n = 0;
        for (int t = 0; t < T; t++) {
            bool real = !key_valid || key_valid[(size_t)b * T + t];
            pos[(size_t)b * T + t] = real ? n : (n > 0 ? n - 1 : 0);
            if (real) n++;
        }
    }
}

sea_status sea_model_upload_i32(sea_model *m, sea_stream *s, const int32_t *src, int ndim,
                                const int64_t *shape, sea_tensor *out)
{
    SEA_TRY(sea_model_arena_tensor(m->arena, SEA_I32, ndim, shape, out));
    return sea_tensor_write_i32(s, out, src);
}

sea_status sea_model_upload_f32(sea_model *m, sea_stream *s, const float *src, int ndim,
                                const int64_t *shape, sea_tensor *out)
{
    SEA_TRY(sea_model_arena_tensor(m->arena, SEA_F32, ndim, shape, out));
    return sea_tensor_write_f32(s, out, src);
}
