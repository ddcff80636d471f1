/* Token sampling: one work-group per sequence (kernels/sample.cl). */
#include "ocl.h"

sea_status ocl_op_sample(sea_stream *s, const sea_op *op)
{
    const sea_tensor *logits = op->in[0], *seq = op->in[1];
    sea_tensor *tok = op->out[0], *logp = op->out[1];
    cl_uint B = (cl_uint)logits->shape[0], V = (cl_uint)logits->shape[1];
    cl_mem l_m = ocl_mem(logits), s_m = ocl_mem(seq), t_m = ocl_mem(tok);
    cl_uint l_o = ocl_off(logits), s_o = ocl_off(seq), t_o = ocl_off(tok);
    cl_mem p_m = logp ? ocl_mem(logp) : NULL;
    cl_uint p_o = logp ? ocl_off(logp) : 0;
    cl_mem scratch = NULL;
    if (!logp) {
        /* logp is optional for callers that only want tokens. */
        SEA_TRY(ocl_temp_alloc(s, (size_t)B * sizeof(float), &scratch));
        p_m = scratch;
    }
    float temp = op->p.sample.temperature, top_p = op->p.sample.top_p;
    cl_int top_k = op->p.sample.top_k;
    cl_ulong seed = op->p.sample.seed;
    cl_uint step = op->p.sample.step;
    size_t wg = ocl_reduce_wg(s, OCL_K_sample_rows, 256);
    sea_status st = OCL_RUN(s, OCL_K_sample_rows, (size_t)B * wg, wg, OA(l_m), OA(l_o), OA(s_m), OA(s_o), OA(t_m),
                            OA(t_o), OA(p_m), OA(p_o), OA(V), OA(temp), OA(top_k), OA(top_p), OA(seed), OA(step),
                            OA_LOCAL(wg * sizeof(float)), OA_LOCAL(wg * sizeof(cl_int)));
    ocl_temp_free(s, scratch);
    return st;
}
