/* set_rows (KV-cache slot writes): a row scatter that moves raw bits (kernels/copy.cl), so
 * bf16/f16 run natively and exactly instead of through the f32 twins of ocl_op_f32_twin.c
 * (whose round trip would also rewrite every row of dst). The row indices are never read on
 * the host: the op stays one launch that a recorded decode step can replay with new slots. */
#include "ocl.h"

/* Element offsets and counts travel as uint (ocl_off); the kernel indexes dst in size_t, so a
 * dst of any size works as long as its offset and row count fit (whole = false). */
static sea_status check_u32(sea_stream *s, const sea_tensor *t, const char *what, bool whole)
{
    int64_t count = whole ? sea_tensor_numel(t) : t->shape[0];
    if (t->offset / sea_dtype_size(t->dtype) < UINT32_MAX && count < (int64_t)UINT32_MAX) return SEA_OK;
    char desc[96];
    return sea_error(SEA_ERR_UNSUPPORTED, "%s: set_rows: %s %s is beyond 32-bit element indexing", ocl_dev(s)->label,
                     what, sea_tensor_describe(t, desc, sizeof desc));
}

sea_status ocl_op_set_rows(sea_stream *s, const sea_op *op)
{
    const sea_tensor *x = op->in[0], *rows = op->in[1];
    sea_tensor *dst = op->out[0];
    cl_int esz = (cl_int)sea_dtype_size(dst->dtype);
    if (esz != 2 && esz != 4)
        return sea_error(SEA_ERR_DTYPE, "%s: set_rows: dst dtype %s has %d-byte elements (2 or 4 supported)",
                         ocl_dev(s)->label, sea_dtype_name(dst->dtype), (int)esz);
    SEA_TRY(check_u32(s, x, "x", false));
    SEA_TRY(check_u32(s, rows, "rows", true));
    SEA_TRY(check_u32(s, dst, "dst", false));
    cl_uint N = (cl_uint)x->shape[0], R = (cl_uint)x->shape[1], M = (cl_uint)dst->shape[0];
    if (N == 0 || R == 0 || M == 0) return SEA_OK;
    cl_mem x_m = ocl_mem(x), r_m = ocl_mem(rows), d_m = ocl_mem(dst);
    cl_uint x_o = ocl_off(x), r_o = ocl_off(rows), d_o = ocl_off(dst);
    /* x's rows may be strided (a column slice of a fused q/k/v output); its extent must fit
     * 32-bit element offsets too. */
    cl_uint xs = N > 1 ? (cl_uint)x->stride[0] : R;
    if ((uint64_t)x_o + (uint64_t)(N - 1) * xs + R >= UINT32_MAX)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: set_rows: x rows at stride %u are beyond 32-bit element indexing",
                         ocl_dev(s)->label, (unsigned)xs);
    return OCL_RUN(s, OCL_K_set_rows, (size_t)N * R, 0, OA(x_m), OA(x_o), OA(r_m), OA(r_o), OA(d_m), OA(d_o), OA(esz),
                   OA(N), OA(R), OA(M), OA(xs));
}
