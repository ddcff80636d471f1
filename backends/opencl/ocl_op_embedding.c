/* Embedding gather, and its scatter-add made deterministic by grouping positions per id on
 * the host (the ids are small: one int per token). */
#include <stdlib.h>

#include "ocl.h"

typedef struct id_pos {
    int32_t id, pos;
} id_pos;

static int cmp_id_pos(const void *a, const void *b)
{
    const id_pos *x = a, *y = b;
    if (x->id != y->id) return x->id < y->id ? -1 : 1;
    return (x->pos > y->pos) - (x->pos < y->pos);
}

sea_status ocl_op_embedding(sea_stream *s, const sea_op *op, bool backward)
{
    const sea_tensor *table = op->in[0], *ids = op->in[1];
    cl_uint V = (cl_uint)table->shape[0], D = (cl_uint)table->shape[1];
    cl_uint N = (cl_uint)sea_tensor_numel(ids);
    cl_mem ids_m = ocl_mem(ids);
    cl_uint ids_o = ocl_off(ids);
    if (!backward) {
        sea_tensor *out = op->out[0];
        cl_mem t_m = ocl_mem(table), o_m = ocl_mem(out);
        cl_uint t_o = ocl_off(table), o_o = ocl_off(out);
        return OCL_RUN(s, OCL_K_embedding_fwd, (size_t)N * D, 0, OA(t_m), OA(t_o), OA(ids_m), OA(ids_o), OA(o_m),
                       OA(o_o), OA(N), OA(D), OA(V));
    }
    const sea_tensor *gout = op->gout[0];
    sea_tensor *gt = op->gin[0];
    if (!gout || !gt || N == 0) return SEA_OK;
    int32_t *host_ids = malloc((size_t)N * sizeof *host_ids);
    id_pos *pairs = malloc((size_t)N * sizeof *pairs);
    int32_t *uid = malloc((size_t)N * sizeof *uid), *start = malloc(((size_t)N + 1) * sizeof *start);
    int32_t *pos = malloc((size_t)N * sizeof *pos);
    sea_status st = SEA_OK;
    if (!host_ids || !pairs || !uid || !start || !pos) {
        st = sea_error(SEA_ERR_OOM, "%s: embedding backward: out of host memory for %u ids", ocl_dev(s)->label, N);
        goto done;
    }
    st = ocl_buffer_read(s, ids->buf, ids->offset, host_ids, (size_t)N * sizeof *host_ids);
    if (st) goto done;
    cl_uint np = 0;
    for (cl_uint i = 0; i < N; i++)
        if (host_ids[i] >= 0 && (cl_uint)host_ids[i] < V) pairs[np++] = (id_pos){host_ids[i], (int32_t)i};
    qsort(pairs, np, sizeof *pairs, cmp_id_pos);
    cl_uint nu = 0;
    for (cl_uint i = 0; i < np; i++) {
        if (i == 0 || pairs[i].id != pairs[i - 1].id) {
            uid[nu] = pairs[i].id;
            start[nu++] = (int32_t)i;
        }
        pos[i] = pairs[i].pos;
    }
    start[nu] = (int32_t)np;
    if (nu == 0) goto done;
    cl_mem uid_m = NULL, start_m = NULL, pos_m = NULL;
    st = ocl_temp_upload(s, uid, nu * sizeof *uid, &uid_m);
    if (!st) st = ocl_temp_upload(s, start, (nu + 1) * sizeof *start, &start_m);
    if (!st) st = ocl_temp_upload(s, pos, np * sizeof *pos, &pos_m);
    if (!st) {
        cl_mem g_m = ocl_mem(gout), gt_m = ocl_mem(gt);
        cl_uint g_o = ocl_off(gout), gt_o = ocl_off(gt);
        st = OCL_RUN(s, OCL_K_embedding_bwd, (size_t)nu * D, 0, OA(g_m), OA(g_o), OA(uid_m), OA(start_m), OA(pos_m),
                     OA(gt_m), OA(gt_o), OA(nu), OA(D));
    }
    ocl_temp_free(s, uid_m);
    ocl_temp_free(s, start_m);
    ocl_temp_free(s, pos_m);
done:
    free(host_ids);
    free(pairs);
    free(uid);
    free(start);
    free(pos);
    return st;
}
