/* set_rows (KV-cache slot writes): dst[rows[n], :] = x[n, :] as raw bits (shaders/set_rows.comp),
 * so every dtype is written exactly and no f32 conversion is involved.
 *
 * A KV cache layer easily exceeds one storage-buffer binding (maxStorageBufferRange: 128 MiB
 * on lavapipe), and a prompt's keys written at once may too. Both are split into chunks of
 * whole rows, each bound as its own range (vk_bind_tensor aligns the start down and passes the
 * element offset): every x chunk is dispatched once per dst chunk, and each dispatch writes only
 * the rows that fall inside its dst chunk. The split depends on shapes alone, never on the row
 * values (they are not read on the host), so a recorded decode step replays with new slots. */
#include "vk_internal.h"

/* Rows of row_elems elements of es bytes per dispatch: what one binding holds, and at most
 * 2^31 elements (the shader's indices). 0 when one row alone is beyond a binding
 * (vk_bind_tensor then reports it, naming the tensor and the limit). */
static uint64_t rows_per_binding(const vk_dev *d, uint64_t row_elems, size_t es)
{
    uint64_t per = vk_rows_per_binding(d, row_elems * es);
    uint64_t per_elems = 0x7fffffffu / row_elems;
    return per < per_elems ? per : per_elems;
}

sea_status vk_set_rows(sea_stream *s, const sea_op *op)
{
    vk_dev *d = s->dev->ctx;
    const sea_tensor *x = op->in[0], *rows = op->in[1], *dst = op->out[0];
    uint64_t N = (uint64_t)x->shape[0], R = (uint64_t)x->shape[1], M = (uint64_t)dst->shape[0];
    size_t es = sea_dtype_size(dst->dtype);
    if (es != 2 && es != 4)
        return sea_error(SEA_ERR_DTYPE, "set_rows on %s: dst dtype %s has %zu-byte elements (2 or 4 supported)", d->label,
                         sea_dtype_name(dst->dtype), es);
    if (N == 0 || R == 0 || M == 0) return SEA_OK;
    /* A chunk of x goes with its row indices (4 bytes a row: wider than x's rows when R = 1). */
    /* x's rows may be strided (a column slice of a fused q/k/v output): a chunk of x spans
     * its row stride per row. */
    uint64_t xs = N > 1 ? (uint64_t)x->stride[0] : R;
    uint64_t mper = rows_per_binding(d, R, es), iper = rows_per_binding(d, 1, 4), xper = rows_per_binding(d, xs, es);
    uint64_t nper = xper < iper ? xper : iper;
    if (nper == 0) nper = 1;
    if (mper == 0) mper = 1;
    if (nper > N) nper = N;
    if (mper > M) mper = M;
    vk_binding b[3];
    for (uint64_t n0 = 0; n0 < N; n0 += nper) {
        uint64_t nlen = N - n0 < nper ? N - n0 : nper;
        sea_tensor xc = *x, rc = *rows;
        if (nper < N) {
            SEA_TRY(sea_tensor_slice(x, 0, (int64_t)n0, (int64_t)nlen, &xc));
            SEA_TRY(sea_tensor_slice(rows, 0, (int64_t)n0, (int64_t)nlen, &rc));
        }
        SEA_TRY(vk_bind_tensor(d, &xc, "set_rows", "x", &b[0]));
        SEA_TRY(vk_bind_tensor(d, &rc, "set_rows", "rows", &b[1]));
        /* rows are i32: dst rows from 2^31 on can never be addressed. */
        for (uint64_t m0 = 0; m0 < M && m0 <= INT32_MAX; m0 += mper) {
            uint64_t mlen = M - m0 < mper ? M - m0 : mper;
            sea_tensor dc = *dst;
            if (mper < M) SEA_TRY(sea_tensor_slice(dst, 0, (int64_t)m0, (int64_t)mlen, &dc));
            SEA_TRY(vk_bind_tensor(d, &dc, "set_rows", "dst", &b[2]));
            struct {
                uint32_t N, R, m0, Mc, ox, orow, od, esize, xs;
            } pc = {(uint32_t)nlen, (uint32_t)R,    (uint32_t)m0,       (uint32_t)mlen, b[0].elem,
                    b[1].elem,      b[2].elem,      (uint32_t)es,       (uint32_t)xs};
            uint32_t gx, gy;
            vk_grid_1d(d, nlen * R, 256, &gx, &gy);
            SEA_TRY(vk_dispatch(s, VK_SH_SET_ROWS, NULL, b, 3, &pc, sizeof pc, gx, gy, 1));
        }
    }
    return SEA_OK;
}
