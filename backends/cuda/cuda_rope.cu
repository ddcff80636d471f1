/* Rotary position embedding (NeoX rotate-half and GPT-J interleaved), with llama3 frequency
 * scaling. Inverse frequencies are computed on the host in float64 (as HF does) and passed
 * by value; angles pos * inv_freq and their sin/cos are computed in float64 on the device, so
 * long positions lose no precision (op.h asks backends to agree to ~1e-6). */
#include "cuda_common.cuh"

SEA_CUDA_ABI_UNIT(rope)

#define MAX_PAIRS 256   /* rot_dims <= 512 */

struct rope_freqs {
    double inv_freq[MAX_PAIRS];
};

static void compute_freqs(const sea_op_params *p, rope_freqs *f)
{
    int half = p->rope.rot_dims / 2;
    for (int i = 0; i < half; i++) {
        double inv = pow((double)p->rope.theta, -2.0 * i / (double)p->rope.rot_dims);
        if (p->rope.scaling == SEA_ROPE_SCALING_LLAMA3) {
            /* transformers' _compute_llama3_parameters */
            double factor = p->rope.factor, lo = p->rope.low_freq_factor, hi = p->rope.high_freq_factor;
            double old_ctx = p->rope.original_max_pos;
            double low_wavelen = old_ctx / lo, high_wavelen = old_ctx / hi;
            double wavelen = 2.0 * M_PI / inv;
            double v = wavelen > low_wavelen ? inv / factor : inv;
            if (!(wavelen < high_wavelen) && !(wavelen > low_wavelen)) {
                double smooth = (old_ctx / wavelen - lo) / (hi - lo);
                v = (1.0 - smooth) * v / factor + smooth * v;
            }
            inv = v;
        }
        f->inv_freq[i] = inv;
    }
}

/* One block per (b, t) token. The token's cos/sin (one float64 sincos per rotated pair, shared
 * by its H heads) go to shared memory first; then the block walks the token's H x hd
 * elements with 32-bit indices. (A thread per element recomputed the sincos for every head
 * and spent most of its time on four 64-bit divisions, which the GPU emulates in software.)
 * sign = +1 forward (rotate by +angle), -1 backward (rotate by -angle, accumulate). */
__global__ void k_rope(const char *x, int xt, int64_t sx0, int64_t sx1, int64_t sx2, const int32_t *pos, char *y,
                       int yt, int64_t sy0, int64_t sy1, int64_t sy2, int64_t T, int H, int hd, int rot, int gptj,
                       float sign, bool accumulate, rope_freqs f, int64_t BT)
{
    __shared__ float cos_sin[2 * MAX_PAIRS]; /* cos of pair k at k, sin at half + k */
    const int half = rot / 2, per_head = half + (hd - rot), xs = sea_dtype_size_dev(xt), ys = sea_dtype_size_dev(yt);
    for (int64_t bt = blockIdx.x; bt < BT; bt += gridDim.x) {
        const int64_t t = bt % T, b = bt / T;
        __syncthreads(); /* the previous token's cos_sin is no longer read */
        for (int k = threadIdx.x; k < half; k += blockDim.x) {
            double sd, cd;
            sincos((double)pos[bt] * f.inv_freq[k], &sd, &cd);
            cos_sin[k] = (float)cd;
            cos_sin[half + k] = (float)sd;
        }
        __syncthreads();
        const char *x_tok = x + (b * sx0 + t * sx1) * xs;
        char *y_tok = y + (b * sy0 + t * sy1) * ys;
        for (int e = threadIdx.x; e < H * per_head; e += blockDim.x) {
            const int h = e / per_head, k = e - h * per_head;
            const char *xr = x_tok + h * sx2 * xs;
            char *yr = y_tok + h * sy2 * ys;
            if (k < half) {
                const int i0 = gptj ? 2 * k : k, i1 = gptj ? 2 * k + 1 : k + half;
                const float c = cos_sin[k], s = sign * cos_sin[half + k];
                const float a0 = ldf(xr, xt, i0), a1 = ldf(xr, xt, i1);
                float o0 = a0 * c - a1 * s, o1 = a1 * c + a0 * s;
                if (accumulate) {
                    o0 += ldf(yr, yt, i0);
                    o1 += ldf(yr, yt, i1);
                }
                stf(yr, yt, i0, o0);
                stf(yr, yt, i1, o1);
            } else {
                const int i = rot + (k - half);
                float v = ldf(xr, xt, i);
                if (accumulate) v += ldf(yr, yt, i);
                stf(yr, yt, i, v);
            }
        }
    }
}

static sea_status launch(sea_cuda_stream *cs, const sea_op *op, const sea_tensor *x, sea_tensor *y, float sign,
                         bool accumulate, const char *name)
{
    int64_t B = x->shape[0], T = x->shape[1], H = x->shape[2], hd = x->shape[3];
    int rot = op->p.rope.rot_dims;
    if (rot / 2 > MAX_PAIRS)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: rot_dims %d above the supported %d", cs->cdev->label, name, rot,
                         2 * MAX_PAIRS);
    if (H * (rot / 2 + (hd - rot)) > INT32_MAX)
        return sea_error(SEA_ERR_UNSUPPORTED, "%s: %s: %lld heads of %lld dims in one token", cs->cdev->label, name,
                         (long long)H, (long long)hd);
    int64_t BT = B * T;
    if (BT == 0 || H == 0 || hd == 0) return SEA_OK;
    rope_freqs f;
    compute_freqs(&op->p, &f);
    k_rope<<<grid_for(BT, 1), 256, 0, cs->stream>>>(
        (const char *)sea_cuda_ptr(x), x->dtype, x->stride[0], x->stride[1], x->stride[2],
        (const int32_t *)sea_cuda_ptr(op->in[1]), (char *)sea_cuda_ptr(y), y->dtype, y->stride[0], y->stride[1],
        y->stride[2], T, (int)H, (int)hd, rot, op->p.rope.style == SEA_ROPE_GPTJ, sign, accumulate, f, BT);
    return sea_cuda_launch_check(cs, name);
}

extern "C" sea_status sea_cuda_rope_forward(sea_cuda_stream *cs, const sea_op *op)
{
    return launch(cs, op, op->in[0], op->out[0], 1.0f, false, "rope");
}

extern "C" sea_status sea_cuda_rope_backward(sea_cuda_stream *cs, const sea_op *op)
{
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    return launch(cs, op, op->gout[0], op->gin[0], -1.0f, true, "rope backward");
}
