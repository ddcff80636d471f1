/* Rotary position embedding (NeoX "rotate half" and GPT-J interleaved), partial rotary and
 * llama3 frequency scaling. Frequencies and angles are computed in float64 (one cos/sin per
 * (position, pair), shared by all heads) so long positions lose no precision. */
#include <stdio.h>

#include "cpu_internal.h"

/* inv_freq[i] for i < rot_dims / 2, after HF's _compute_llama3_parameters when asked. */
static void rope_inv_freq(const sea_op_params *p, double *inv)
{
    int half = p->rope.rot_dims / 2;
    for (int i = 0; i < half; i++) {
        double f = pow((double)p->rope.theta, -2.0 * i / p->rope.rot_dims);
        if (p->rope.scaling == SEA_ROPE_SCALING_LLAMA3) {
            double old = p->rope.original_max_pos, lf = p->rope.low_freq_factor, hf = p->rope.high_freq_factor;
            double wavelen = 2.0 * M_PI / f;
            if (wavelen > old / lf) {
                f = f / p->rope.factor;
            } else if (wavelen >= old / hf) {
                double smooth = (old / wavelen - lf) / (hf - lf);
                f = (1.0 - smooth) * f / p->rope.factor + smooth * f;
            }
        }
        inv[i] = f;
    }
}

typedef struct rope_ctx {
    const sea_op *op;
    const char *x;        /* (B, T, H, hd) strided, last stride 1 (gout in backward: contiguous) */
    int64_t xs[4];
    char *y;              /* (B, T, H, hd) out (contiguous) or gin (strided, accumulate) */
    int64_t ys[4];
    const int32_t *pos;   /* (B, T) */
    const double *inv;
    int64_t B, T, H, hd;
    int rot;
    bool neox, backward;
} rope_ctx;

static void rope_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    rope_ctx *c = vctx;
    (void)tid;
    int half = c->rot / 2;
    float cs[512], sn[512];   /* rot_dims/2 <= 512 for any sane head size; larger heads loop below */
    for (int64_t r = begin; r < end; r++) {
        int64_t b = r / c->T, t = r % c->T;
        double p = c->pos[r];
        for (int i0 = 0; i0 < half; i0 += 512) {
            int i1 = half - i0 < 512 ? half : i0 + 512;
            for (int i = i0; i < i1; i++) {
                double a = p * c->inv[i];
                cs[i - i0] = (float)cos(a);
                /* backward rotates by -angle */
                sn[i - i0] = c->backward ? -(float)sin(a) : (float)sin(a);
            }
            for (int64_t h = 0; h < c->H; h++) {
                const float *x = (const float *)c->x + b * c->xs[0] + t * c->xs[1] + h * c->xs[2];
                float *y = (float *)c->y + b * c->ys[0] + t * c->ys[1] + h * c->ys[2];
                for (int i = i0; i < i1; i++) {
                    int j1 = c->neox ? i : 2 * i, j2 = c->neox ? i + half : 2 * i + 1;
                    float x1 = x[j1], x2 = x[j2], co = cs[i - i0], si = sn[i - i0];
                    float o1 = x1 * co - x2 * si, o2 = x2 * co + x1 * si;
                    if (c->backward) {
                        y[j1] += o1;
                        y[j2] += o2;
                    } else {
                        y[j1] = o1;
                        y[j2] = o2;
                    }
                }
                if (i1 == half) {
                    if (c->backward)
                        for (int64_t k = c->rot; k < c->hd; k++) y[k] += x[k];
                    else
                        for (int64_t k = c->rot; k < c->hd; k++) y[k] = x[k];
                }
            }
        }
    }
}

static sea_status rope_run(const sea_op *op, const sea_tensor *x, sea_tensor *y, bool backward)
{
    const sea_tensor *in = op->in[0];
    int half = op->p.rope.rot_dims / 2;
    double *inv = malloc((size_t)(half ? half : 1) * sizeof *inv);
    if (!inv) return sea_error(SEA_ERR_OOM, "rope: out of host memory on cpu");
    rope_inv_freq(&op->p, inv);
    rope_ctx c = {.op = op, .x = cpu_ptr(x), .y = cpu_ptr(y), .pos = cpu_i32(op->in[1]), .inv = inv,
                  .B = in->shape[0], .T = in->shape[1], .H = in->shape[2], .hd = in->shape[3],
                  .rot = op->p.rope.rot_dims, .neox = op->p.rope.style == SEA_ROPE_NEOX, .backward = backward};
    for (int d = 0; d < 4; d++) {
        c.xs[d] = x->stride[d];
        c.ys[d] = y->stride[d];
    }
    cpu_for(c.B * c.T, cpu_min_items(4 * c.H * c.hd), rope_rows, &c);
    free(inv);
    return SEA_OK;
}

sea_status sea_cpu_rope(const sea_op *op) { return rope_run(op, op->in[0], op->out[0], false); }

sea_status sea_cpu_rope_backward(const sea_op *op)
{
    if (!op->gin[0] || !op->gout[0]) return SEA_OK;
    return rope_run(op, op->gout[0], op->gin[0], true);
}
