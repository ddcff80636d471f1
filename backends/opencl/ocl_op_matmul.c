/* Matmul through CLBlast (row-major SGEMM, strided-batched for leading batch dims), with
 * bias + activation as a separate kernel and a residual as an axpy; the backward is three more GEMM families and a
 * column sum. All GEMMs are CLBlast's, which is deterministic for fixed sizes. */
#include <clblast_c.h>

#include "ocl.h"

static sea_status blast_fail(sea_stream *s, CLBlastStatusCode c, const char *what, size_t m, size_t n, size_t k,
                             size_t batch)
{
    ocl_device_ctx *d = ocl_dev(s);
    bool oom = c == CLBlastTempBufferAllocFailure || c == CLBlastOpenCLOutOfResources ||
               c == CLBlastOpenCLOutOfHostMemory || c == CLBlastInsufficientMemoryTemp;
    return sea_error(oom ? SEA_ERR_OOM : SEA_ERR_DEVICE, "%s: CLBlast %s (m %zu, n %zu, k %zu, batch %zu) failed: status %d",
                     d->label, what, m, n, k, batch, (int)c);
}

sea_status ocl_gemm(sea_stream *s, bool ta, bool tb, size_t m, size_t n, size_t k, float alpha, cl_mem a,
                    size_t a_off, size_t lda, size_t a_stride, cl_mem b, size_t b_off, size_t ldb, size_t b_stride,
                    float beta, cl_mem c, size_t c_off, size_t ldc, size_t c_stride, size_t batch)
{
    if (m == 0 || n == 0 || batch == 0) return SEA_OK;
    cl_command_queue q = ocl_queue(s);
    CLBlastTranspose ta_ = ta ? CLBlastTransposeYes : CLBlastTransposeNo;
    CLBlastTranspose tb_ = tb ? CLBlastTransposeYes : CLBlastTransposeNo;
    ocl_device_ctx *d = ocl_dev(s);
    /* CLBlast enqueues kernels on our queue: keep it serialized with our own launches. */
    pthread_mutex_lock(&d->launch_lock);
    CLBlastStatusCode st;
    if (batch == 1)
        st = CLBlastSgemm(CLBlastLayoutRowMajor, ta_, tb_, m, n, k, alpha, a, a_off, lda, b, b_off, ldb, beta, c, c_off,
                          ldc, &q, NULL);
    else
        st = CLBlastSgemmStridedBatched(CLBlastLayoutRowMajor, ta_, tb_, m, n, k, alpha, a, a_off, lda, a_stride, b,
                                        b_off, ldb, b_stride, beta, c, c_off, ldc, c_stride, batch, &q, NULL);
    pthread_mutex_unlock(&d->launch_lock);
    if (st != CLBlastSuccess) return blast_fail(s, st, batch == 1 ? "SGEMM" : "SGEMM strided batched", m, n, k, batch);
    return SEA_OK;
}

#define T_ARGS(t) cl_mem t##_m = ocl_mem(t); cl_uint t##_o = ocl_off(t)

sea_status ocl_col_chunks_acc(sea_stream *s, cl_mem part, cl_uint po, cl_mem g, cl_uint go, cl_uint batch,
                              cl_uint nch, cl_uint N)
{
    return OCL_RUN(s, OCL_K_col_chunks_acc, (size_t)batch * N, 0, OA(part), OA(po), OA(g), OA(go), OA(batch), OA(nch),
                   OA(N));
}

sea_status ocl_col_sum_acc(sea_stream *s, cl_mem z, cl_uint zo, cl_mem g, cl_uint go, cl_uint batch, cl_uint rows,
                           cl_uint N)
{
    cl_uint rpc = OCL_ROWS_PER_CHUNK, nch = (rows + rpc - 1) / rpc;
    if (nch == 0) return SEA_OK;
    cl_mem part;
    SEA_TRY(ocl_temp_alloc(s, (size_t)batch * nch * N * sizeof(float), &part));
    sea_status st = OCL_RUN(s, OCL_K_col_sum_partial, (size_t)batch * nch * N, 0, OA(z), OA(zo), OA(part), OA(batch),
                            OA(rows), OA(N), OA(rpc), OA(nch));
    cl_uint zero = 0;
    if (!st) st = ocl_col_chunks_acc(s, part, zero, g, go, batch, nch, N);
    ocl_temp_free(s, part);
    return st;
}

sea_status ocl_op_matmul(sea_stream *s, const sea_op *op, bool backward)
{
    const sea_tensor *A = op->in[0], *Bt = op->in[1], *bias = op->in[2];
    sea_tensor *out = op->out[0], *pre = op->out[1];
    bool ta = op->p.matmul.trans_a, tb = op->p.matmul.trans_b;
    sea_act act = op->p.matmul.act;
    int an = A->ndim;
    size_t M = (size_t)A->shape[an - (ta ? 1 : 2)], K = (size_t)A->shape[an - (ta ? 2 : 1)];
    size_t N = (size_t)Bt->shape[Bt->ndim - (tb ? 2 : 1)];
    size_t batch = 1;
    for (int i = 0; i < an - 2; i++) batch *= (size_t)A->shape[i];
    bool b_batched = Bt->ndim > 2;
    size_t lda = ta ? M : K, ldb = tb ? K : N;
    size_t sa = M * K, sb = b_batched ? K * N : 0, sc = M * N;
    T_ARGS(A);
    T_ARGS(Bt);
    if (!backward) {
        T_ARGS(out);
        SEA_TRY(ocl_gemm(s, ta, tb, M, N, K, 1.0f, A_m, A_o, lda, sa, Bt_m, Bt_o, ldb, sb, 0.0f, out_m, out_o, N, sc,
                         batch));
        cl_uint n = (cl_uint)(batch * M * N);
        if (bias || act != SEA_ACT_NONE || pre) {
            cl_int has_bias = bias != NULL, has_pre = pre != NULL, a = (cl_int)act;
            cl_mem b_m = bias ? ocl_mem(bias) : out_m, p_m = pre ? ocl_mem(pre) : out_m;
            cl_uint b_o = bias ? ocl_off(bias) : 0, p_o = pre ? ocl_off(pre) : 0;
            cl_uint Nn = (cl_uint)N, mn = n ? n : 1, bstride = 0;
            SEA_TRY(OCL_RUN(s, OCL_K_bias_act_fwd, n, 0, OA(out_m), OA(out_o), OA(b_m), OA(b_o), OA(has_bias), OA(p_m),
                            OA(p_o), OA(has_pre), OA(n), OA(Nn), OA(mn), OA(bstride), OA(a)));
        }
        if (!op->in[3]) return SEA_OK;
        /* out += residual, after the bias (act is none with a residual) */
        const sea_tensor *res = op->in[3];
        T_ARGS(res);
        float one = 1.0f;
        return OCL_RUN(s, OCL_K_axpy, n, 0, OA(res_m), OA(res_o), OA(out_m), OA(out_o), OA(n), OA(one));
    }

    const sea_tensor *go = op->gout[0];
    sea_tensor *gA = op->gin[0], *gB = op->gin[1], *gbias = bias ? op->gin[2] : NULL;
    sea_tensor *gres = op->in[3] ? op->gin[3] : NULL;
    if (!go || (!gA && !gB && !gbias && !gres)) return SEA_OK;
    T_ARGS(go);
    if (gres) { /* the residual's gradient is the output's */
        T_ARGS(gres);
        cl_uint n = (cl_uint)(batch * M * N);
        float one = 1.0f;
        SEA_TRY(OCL_RUN(s, OCL_K_axpy, n, 0, OA(go_m), OA(go_o), OA(gres_m), OA(gres_o), OA(n), OA(one)));
    }
    cl_mem gz = go_m;
    size_t gz_o = go_o;
    cl_mem tmp = NULL;
    if (act != SEA_ACT_NONE) {
        if (!pre)
            return sea_error(SEA_ERR_INVALID, "%s: matmul backward with activation needs the saved pre-activation (out[1])",
                             ocl_dev(s)->label);
        T_ARGS(pre);
        SEA_TRY(ocl_temp_alloc(s, batch * M * N * sizeof(float), &tmp));
        cl_uint n = (cl_uint)(batch * M * N), zero = 0;
        cl_int a = (cl_int)act;
        sea_status st = OCL_RUN(s, OCL_K_act_bwd, n, 0, OA(go_m), OA(go_o), OA(pre_m), OA(pre_o), OA(tmp), OA(zero),
                                OA(n), OA(a));
        if (st) {
            ocl_temp_free(s, tmp);
            return st;
        }
        gz = tmp;
        gz_o = 0;
    }
    sea_status st = SEA_OK;
    if (gA) {
        T_ARGS(gA);
        if (!ta) /* gA (M, K) += gz (M, N) op(B)^T */
            st = ocl_gemm(s, false, !tb, M, K, N, 1.0f, gz, gz_o, N, sc, Bt_m, Bt_o, ldb, sb, 1.0f, gA_m, gA_o, K, sa,
                          batch);
        else /* gA (K, M) += op(B) (K, N) gz^T */
            st = ocl_gemm(s, tb, true, K, M, N, 1.0f, Bt_m, Bt_o, ldb, sb, gz, gz_o, N, sc, 1.0f, gA_m, gA_o, M, sa,
                          batch);
    }
    if (!st && gB) {
        T_ARGS(gB);
        /* !tb: gB (K, N) += op(A)^T gz;  tb: gB (N, K) += gz^T op(A). */
        if (b_batched) {
            if (!tb) st = ocl_gemm(s, !ta, false, K, N, M, 1.0f, A_m, A_o, lda, sa, gz, gz_o, N, sc, 1.0f, gB_m, gB_o, N, K * N, batch);
            else st = ocl_gemm(s, true, ta, N, K, M, 1.0f, gz, gz_o, N, sc, A_m, A_o, lda, sa, 1.0f, gB_m, gB_o, K, K * N, batch);
        } else if (!ta) {
            /* Shared B, A rows contiguous across the batch: one GEMM over batch*M rows. */
            size_t R = batch * M;
            if (!tb) st = ocl_gemm(s, true, false, K, N, R, 1.0f, A_m, A_o, K, 0, gz, gz_o, N, 0, 1.0f, gB_m, gB_o, N, 0, 1);
            else st = ocl_gemm(s, true, false, N, K, R, 1.0f, gz, gz_o, N, 0, A_m, A_o, K, 0, 1.0f, gB_m, gB_o, K, 0, 1);
        } else {
            /* Shared B with A stored transposed: sum the batches one after another (fixed order). */
            for (size_t i = 0; i < batch && !st; i++) {
                if (!tb)
                    st = ocl_gemm(s, false, false, K, N, M, 1.0f, A_m, A_o + i * sa, M, 0, gz, gz_o + i * sc, N, 0, 1.0f,
                                  gB_m, gB_o, N, 0, 1);
                else
                    st = ocl_gemm(s, true, true, N, K, M, 1.0f, gz, gz_o + i * sc, N, 0, A_m, A_o + i * sa, M, 0, 1.0f,
                                  gB_m, gB_o, K, 0, 1);
            }
        }
    }
    if (!st && gbias) {
        T_ARGS(gbias);
        st = ocl_col_sum_acc(s, gz, (cl_uint)gz_o, gbias_m, gbias_o, 1, (cl_uint)(batch * M), (cl_uint)N);
    }
    ocl_temp_free(s, tmp);
    return st;
}
