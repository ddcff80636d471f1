/* Matmul forward and backward on the tiled GEMM shader (shaders/matmul.comp).
 *
 * Everything is expressed as one strided batched GEMM: transposes swap strides, a shared B
 * has batch stride 0, and the backward products are the same GEMM with operands and
 * strides exchanged, accumulating (+=) into the caller's gradients. When B is shared across
 * a batch, dB sums over the batch: merged into the reduction dimension when A's rows are
 * contiguous across batches, else one accumulating GEMM per batch entry in order, so the
 * result stays deterministic. */
#include <stdio.h>

#include "vk_internal.h"

#define DEV(s) ((vk_dev *)(s)->dev->ctx)

typedef struct gemm_pc {
    uint32_t M, N, K, flags;
    int32_t sa_b, sa_m, sa_k, sb_b, sb_k, sb_n, sc_b, sc_m, sc_n, sbias_b;
    uint32_t oa, ob, oc, obias, opre;
} gemm_pc;

sea_status vk_gemm_run(sea_stream *s, const vk_gemm *g)
{
    vk_dev *d = DEV(s);
    if (g->M == 0 || g->N == 0 || g->batch == 0) return SEA_OK;
    gemm_pc fpc = {g->M, g->N, g->K,
                   (g->has_bias ? 1u : 0u) | (g->has_pre ? 2u : 0u) | (g->accumulate ? 4u : 0u) | ((uint32_t)g->act << 8),
                   g->sa_b, g->sa_m, g->sa_k, g->sb_b, g->sb_k, g->sb_n, g->sc_b, g->sc_m, g->sc_n, g->sbias_b,
                   g->a.elem, g->b.elem, g->c.elem, g->has_bias ? g->bias.elem : 0, g->has_pre ? g->pre.elem : 0};
    if (d->matmul_flat) {
        vk_binding fb[5] = {g->a, g->b, g->c, g->has_bias ? g->bias : (vk_binding){0}, g->has_pre ? g->pre : (vk_binding){0}};
        return vk_dispatch(s, VK_SH_MATMUL_FLAT, NULL, fb, 5, &fpc, sizeof fpc, (g->N + 31) / 32, (g->M + 3) / 4, g->batch);
    }
    /* Tile shape: 64x64 (16x16 invocations, 4x4 each) for real matrices; a wide 1 x 256
     * strip for row vectors (decode-time matmuls with M = 1). */
    uint32_t spec[4] = {16, 16, 4, 4};
    if (g->M <= 8) {
        spec[0] = 64;
        spec[1] = 1;
        spec[2] = 1;
        spec[3] = 4;
    }
    uint32_t BM = spec[1] * spec[2], BN = spec[0] * spec[3];
    if (16 * (BM + BN) * 4 > d->shared_bytes)
        return sea_error(SEA_ERR_UNSUPPORTED, "matmul on %s: a %ux%u tile needs %u bytes of shared memory (device has %u)",
                         d->label, BM, BN, 16 * (BM + BN) * 4, d->shared_bytes);
    gemm_pc pc = {g->M, g->N, g->K,
                  (g->has_bias ? 1u : 0u) | (g->has_pre ? 2u : 0u) | (g->accumulate ? 4u : 0u) | ((uint32_t)g->act << 8),
                  g->sa_b, g->sa_m, g->sa_k, g->sb_b, g->sb_k, g->sb_n, g->sc_b, g->sc_m, g->sc_n, g->sbias_b,
                  g->a.elem, g->b.elem, g->c.elem, g->has_bias ? g->bias.elem : 0, g->has_pre ? g->pre.elem : 0};
    vk_binding b[5] = {g->a, g->b, g->c, g->has_bias ? g->bias : (vk_binding){0}, g->has_pre ? g->pre : (vk_binding){0}};
    return vk_dispatch(s, VK_SH_MATMUL, spec, b, 5, &pc, sizeof pc, (g->N + BN - 1) / BN, (g->M + BM - 1) / BM, g->batch);
}

typedef struct mm_shape {
    uint32_t batch, M, N, K;
    bool b_batched;
    int32_t sa_m, sa_k, sb_k, sb_n;
} mm_shape;

static sea_status mm_shape_of(const sea_op *op, mm_shape *m)
{
    const sea_tensor *a = op->in[0], *b = op->in[1];
    int nb = a->ndim - 2;
    bool ta = op->p.matmul.trans_a, tb = op->p.matmul.trans_b;
    uint64_t batch = 1;
    for (int i = 0; i < nb; i++) batch *= (uint64_t)a->shape[i];
    int64_t M = ta ? a->shape[nb + 1] : a->shape[nb], K = ta ? a->shape[nb] : a->shape[nb + 1];
    int bo = b->ndim - 2;
    int64_t N = tb ? b->shape[bo] : b->shape[bo + 1];
    if (batch * (uint64_t)M * (uint64_t)(N > K ? N : K) > 0x7fffffffu || batch > 65535)
        return sea_error(SEA_ERR_UNSUPPORTED, "matmul on %s: %llu x %lld x %lld x %lld exceeds 32-bit indexing",
                         sea_device_label(op->in[0]->buf->dev), (unsigned long long)batch, (long long)M, (long long)N,
                         (long long)K);
    m->batch = (uint32_t)batch;
    m->M = (uint32_t)M;
    m->N = (uint32_t)N;
    m->K = (uint32_t)K;
    m->b_batched = b->ndim > 2;
    m->sa_m = ta ? 1 : (int32_t)K;
    m->sa_k = ta ? (int32_t)M : 1;
    m->sb_k = tb ? 1 : (int32_t)N;
    m->sb_n = tb ? (int32_t)K : 1;
    return SEA_OK;
}

sea_status vk_matmul_fwd(sea_stream *s, const sea_op *op)
{
    vk_dev *d = DEV(s);
    mm_shape m;
    SEA_TRY(mm_shape_of(op, &m));
    vk_gemm g = {.M = m.M, .N = m.N, .K = m.K, .batch = m.batch,
                 .sa_b = (int32_t)(m.M * m.K), .sa_m = m.sa_m, .sa_k = m.sa_k,
                 .sb_b = m.b_batched ? (int32_t)(m.K * m.N) : 0, .sb_k = m.sb_k, .sb_n = m.sb_n,
                 .sc_b = (int32_t)(m.M * m.N), .sc_m = (int32_t)m.N, .sc_n = 1, .sbias_b = 0,
                 .act = op->p.matmul.act};
    SEA_TRY(vk_bind_tensor(d, op->in[0], "matmul", "a", &g.a));
    SEA_TRY(vk_bind_tensor(d, op->in[1], "matmul", "b", &g.b));
    SEA_TRY(vk_bind_tensor(d, op->out[0], "matmul", "out", &g.c));
    if (op->in[2]) {
        SEA_TRY(vk_bind_tensor(d, op->in[2], "matmul", "bias", &g.bias));
        g.has_bias = true;
    }
    if (op->out[1]) {
        SEA_TRY(vk_bind_tensor(d, op->out[1], "matmul", "pre-activation", &g.pre));
        g.has_pre = true;
    }
    return vk_gemm_run(s, &g);
}

sea_status vk_matmul_bwd(sea_stream *s, const sea_op *op)
{
    vk_dev *d = DEV(s);
    const sea_tensor *g0 = op->gout[0], *g1 = op->gout[1];
    if (!g0 && !g1) return SEA_OK;
    if (!op->gin[0] && !op->gin[1] && !op->gin[2]) return SEA_OK;
    mm_shape m;
    SEA_TRY(mm_shape_of(op, &m));
    uint32_t n_out = m.batch * m.M * m.N;
    if (n_out == 0) return SEA_OK;
    sea_act act = op->p.matmul.act;

    /* dZ = gout0 * act'(pre) (+ gout1): the gradient at the pre-activation. */
    vk_binding dz;
    if (act == SEA_ACT_NONE && g0 && !g1) {
        SEA_TRY(vk_bind_tensor(d, g0, "matmul backward", "grad of out", &dz));
    } else {
        if ((uint64_t)n_out * 4 > d->max_range)
            return sea_error(SEA_ERR_UNSUPPORTED, "matmul backward on %s: the (%u, %u, %u) pre-activation gradient exceeds "
                             "maxStorageBufferRange %zu", d->label, m.batch, m.M, m.N, (size_t)d->max_range);
        vk_alloc t;
        SEA_TRY(vk_temp(s, (VkDeviceSize)n_out * 4, &t));
        dz = vk_bind_alloc(&t);
        bool written = false;
        if (g0) {
            vk_binding bg, bp = {0};
            SEA_TRY(vk_bind_tensor(d, g0, "matmul backward", "grad of out", &bg));
            if (act != SEA_ACT_NONE) {
                SEA_TRY(vk_bind_tensor(d, op->out[1], "matmul backward", "pre-activation", &bp));
                SEA_TRY(vk_unary_raw(s, 3, act, false, 0.0f, n_out, bp, bg, dz));
            } else {
                SEA_TRY(vk_unary_raw(s, 4, 0, false, 1.0f, n_out, bg, bg, dz));
            }
            written = true;
        }
        if (g1) {
            vk_binding bg;
            SEA_TRY(vk_bind_tensor(d, g1, "matmul backward", "grad of pre-activation", &bg));
            SEA_TRY(vk_unary_raw(s, 4, 0, written, 1.0f, n_out, bg, bg, dz));
        }
    }

    int32_t sb_b = m.b_batched ? (int32_t)(m.K * m.N) : 0;
    if (op->gin[0]) {
        /* dA[m,k] = sum_n dZ[m,n] B[k,n], stored in A's layout. */
        vk_gemm g = {.M = m.M, .N = m.K, .K = m.N, .batch = m.batch,
                     .sa_b = (int32_t)(m.M * m.N), .sa_m = (int32_t)m.N, .sa_k = 1, .a = dz,
                     .sb_b = sb_b, .sb_k = m.sb_n, .sb_n = m.sb_k,
                     .sc_b = (int32_t)(m.M * m.K), .sc_m = m.sa_m, .sc_n = m.sa_k, .accumulate = true};
        SEA_TRY(vk_bind_tensor(d, op->in[1], "matmul backward", "b", &g.b));
        SEA_TRY(vk_bind_tensor(d, op->gin[0], "matmul backward", "grad of a", &g.c));
        SEA_TRY(vk_gemm_run(s, &g));
    }
    if (op->gin[1]) {
        /* dB[k,n] = sum_m A[m,k] dZ[m,n], stored in B's layout. */
        vk_gemm g = {.M = m.K, .N = m.N, .K = m.M, .batch = m.batch,
                     .sa_b = (int32_t)(m.M * m.K), .sa_m = m.sa_k, .sa_k = m.sa_m,
                     .sb_b = (int32_t)(m.M * m.N), .sb_k = (int32_t)m.N, .sb_n = 1, .b = dz,
                     .sc_b = sb_b, .sc_m = m.sb_k, .sc_n = m.sb_n, .accumulate = true};
        SEA_TRY(vk_bind_tensor(d, op->in[0], "matmul backward", "a", &g.a));
        SEA_TRY(vk_bind_tensor(d, op->gin[1], "matmul backward", "grad of b", &g.c));
        if (m.b_batched || m.batch == 1) {
            SEA_TRY(vk_gemm_run(s, &g));
        } else if (!op->p.matmul.trans_a) {
            /* Rows of A (and dZ) are contiguous across the batch: one reduction of length batch*M. */
            g.K = m.batch * m.M;
            g.batch = 1;
            SEA_TRY(vk_gemm_run(s, &g));
        } else {
            vk_gemm one = g;
            one.batch = 1;
            for (uint32_t bt = 0; bt < m.batch; bt++) {
                one.a.elem = g.a.elem + bt * m.M * m.K;
                one.b.elem = g.b.elem + bt * m.M * m.N;
                SEA_TRY(vk_gemm_run(s, &one));
            }
        }
    }
    if (op->gin[2]) {
        vk_binding gb;
        SEA_TRY(vk_bind_tensor(d, op->gin[2], "matmul backward", "grad of bias", &gb));
        SEA_TRY(vk_colsum(s, dz, (vk_binding){0}, false, gb, m.batch * m.M, m.N, m.N, true));
    }
    return SEA_OK;
}

/* A contiguous (rows, cols) f32 temporary for a sub-op (vk_temp_tensor). */
static sea_status temp_tensor(sea_stream *s, int64_t rows, int64_t cols, sea_buffer *buf, vk_alloc *a, sea_tensor *out)
{
    const int64_t shape[2] = {rows, cols};
    return vk_temp_tensor(s, SEA_F32, 2, shape, buf, a, out);
}

/* Columns [n0, n0 + len) of t viewed as (rows, N). */
static sea_status col_view(const sea_tensor *t, int64_t rows, int64_t N, int64_t n0, int64_t len, sea_tensor *out)
{
    int64_t shape[2] = {rows, N};
    sea_tensor t2;
    SEA_TRY(sea_tensor_reshape(t, 2, shape, &t2));
    return sea_tensor_slice(&t2, 1, n0, len, out);
}

/* A weight B (N, K) with trans_b (the HF layout, e.g. a tied (vocab, d) unembedding) larger
 * than one binding: run the matmul over chunks of B's rows, i.e. of the output's columns.
 * Each chunk computes into a contiguous temporary and is copied into (or, backward, copied
 * out of) the strided column block; dA accumulates over the chunks in order. */
sea_status vk_matmul_nsplit(sea_stream *s, const sea_op *op, bool backward, bool *handled)
{
    vk_dev *d = s->dev->ctx;
    *handled = false;
    const sea_tensor *a = op->in[0], *b = op->in[1];
    if (b->ndim != 2 || !op->p.matmul.trans_b || sea_tensor_nbytes(b) <= d->max_range) return SEA_OK;
    if (op->p.matmul.trans_a && a->ndim > 2) return SEA_OK;   /* vk_bind_tensor reports the limit */
    int64_t N = b->shape[0], K = b->shape[1];
    int64_t rows = sea_tensor_numel(a) / K;
    int64_t per = (int64_t)vk_rows_per_binding(d, (uint64_t)K * 4);
    if (per < 1) return SEA_OK;
    *handled = true;
    sea_tensor a2;
    int64_t ash[2] = {rows, K};
    if (op->p.matmul.trans_a) a2 = *a;
    else SEA_TRY(sea_tensor_reshape(a, 2, ash, &a2));
    if (op->p.matmul.trans_a) rows = a->shape[1];
    for (int64_t n0 = 0; n0 < N; n0 += per) {
        int64_t len = N - n0 < per ? N - n0 : per;
        sea_op sub = *op;
        sea_tensor bv, biasv, c_t, p_t, g_t, g1_t, gin0, gin1v, gin2v, colv;
        sea_buffer bufs[4];
        vk_alloc al[4];
        SEA_TRY(sea_tensor_slice(b, 0, n0, len, &bv));
        sub.in[0] = &a2;
        sub.in[1] = &bv;
        if (op->in[2]) {
            SEA_TRY(sea_tensor_slice(op->in[2], 0, n0, len, &biasv));
            sub.in[2] = &biasv;
        }
        SEA_TRY(temp_tensor(s, rows, len, &bufs[0], &al[0], &c_t));
        sub.out[0] = &c_t;
        sub.out[1] = NULL;
        if (op->out[1]) {
            SEA_TRY(temp_tensor(s, rows, len, &bufs[1], &al[1], &p_t));
            sub.out[1] = &p_t;
        }
        if (!backward) {
            SEA_TRY(vk_matmul_fwd(s, &sub));
            SEA_TRY(col_view(op->out[0], rows, N, n0, len, &colv));
            SEA_TRY(vk_copy(s, &c_t, &colv, false, "matmul (column chunk)"));
            if (op->out[1]) {
                SEA_TRY(col_view(op->out[1], rows, N, n0, len, &colv));
                SEA_TRY(vk_copy(s, &p_t, &colv, false, "matmul (column chunk)"));
            }
            continue;
        }
        if (op->out[1]) {
            SEA_TRY(col_view(op->out[1], rows, N, n0, len, &colv));
            SEA_TRY(vk_copy(s, &colv, &p_t, false, "matmul backward (column chunk)"));
        }
        sub.gout[0] = sub.gout[1] = NULL;
        if (op->gout[0]) {
            SEA_TRY(temp_tensor(s, rows, len, &bufs[2], &al[2], &g_t));
            SEA_TRY(col_view(op->gout[0], rows, N, n0, len, &colv));
            SEA_TRY(vk_copy(s, &colv, &g_t, false, "matmul backward (column chunk)"));
            sub.gout[0] = &g_t;
        }
        if (op->gout[1]) {
            SEA_TRY(temp_tensor(s, rows, len, &bufs[3], &al[3], &g1_t));
            SEA_TRY(col_view(op->gout[1], rows, N, n0, len, &colv));
            SEA_TRY(vk_copy(s, &colv, &g1_t, false, "matmul backward (column chunk)"));
            sub.gout[1] = &g1_t;
        }
        if (op->gin[0]) {
            if (op->p.matmul.trans_a) gin0 = *op->gin[0];
            else SEA_TRY(sea_tensor_reshape(op->gin[0], 2, ash, &gin0));
            sub.gin[0] = &gin0;
        }
        if (op->gin[1]) {
            SEA_TRY(sea_tensor_slice(op->gin[1], 0, n0, len, &gin1v));
            sub.gin[1] = &gin1v;
        }
        if (op->gin[2]) {
            SEA_TRY(sea_tensor_slice(op->gin[2], 0, n0, len, &gin2v));
            sub.gin[2] = &gin2v;
        }
        SEA_TRY(vk_matmul_bwd(s, &sub));
    }
    return SEA_OK;
}
