/* float64 references of the elementwise, data-movement and optimizer ops.
 * Written from the definitions in op.h, independently of any backend's kernels. */
#include <math.h>
#include <string.h>

#include "check_internal.h"

double ct_act(sea_act act, double x)
{
    switch (act) {
    case SEA_ACT_GELU: return 0.5 * x * (1.0 + erf(x / sqrt(2.0)));
    case SEA_ACT_GELU_TANH: return 0.5 * x * (1.0 + tanh(sqrt(2.0 / M_PI) * (x + 0.044715 * x * x * x)));
    case SEA_ACT_RELU: return x > 0 ? x : 0.0;
    case SEA_ACT_SILU: return x / (1.0 + exp(-x));
    default: return x;
    }
}

void ct_ref_fill(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)in;
    double v = c->out[0].dtype == SEA_I32 ? nearbyint(c->p.fill.value) : c->p.fill.value;
    for (int64_t i = 0; i < out[0].n; i++) out[0].v[i] = v;
}

/* Round to `bits` significant bits, ties to even (normal range), in float64 arithmetic. */
static double round_sig(double x, int bits)
{
    if (x == 0 || !isfinite(x)) return x;
    int e;
    frexp(x, &e);
    return ldexp(nearbyint(ldexp(x, bits - e)), e - bits);
}

/* Float destinations: the value rounded to nearest-even at the destination's precision
 * (bf16: 8 significant bits, f16: 11; cases keep values in the normal range), computed
 * independently of dtype.c; i32 destinations: rint. */
void ct_ref_copy(const check_case *c, const ct_host *in, ct_host *out)
{
    sea_dtype dt = c->out[0].dtype;
    for (int64_t i = 0; i < out[0].n; i++) {
        double x = in[0].v[i];
        switch (dt) {
        case SEA_I32: out[0].v[i] = nearbyint(x); break;
        case SEA_BF16: out[0].v[i] = round_sig(x, 8); break;
        case SEA_F16: out[0].v[i] = round_sig(x, 11); break;
        default: out[0].v[i] = round_sig(x, 24); break;
        }
    }
}

void ct_ref_identity(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)c;
    for (int64_t i = 0; i < out[0].n; i++) out[0].v[i] = in[0].v[i];
}

void ct_ref_unary(const check_case *c, const ct_host *in, ct_host *out)
{
    for (int64_t i = 0; i < out[0].n; i++) {
        double x = in[0].v[i];
        switch (c->kind) {
        case SEA_OP_GELU: out[0].v[i] = ct_act(c->p.act.approximate ? SEA_ACT_GELU_TANH : SEA_ACT_GELU, x); break;
        case SEA_OP_SILU: out[0].v[i] = ct_act(SEA_ACT_SILU, x); break;
        case SEA_OP_RELU: out[0].v[i] = ct_act(SEA_ACT_RELU, x); break;
        case SEA_OP_SCALE: out[0].v[i] = (double)c->p.scale.alpha * x; break;
        default: out[0].v[i] = NAN; break;
        }
    }
}

void ct_ref_swiglu(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)c;
    for (int64_t i = 0; i < out[0].n; i++) out[0].v[i] = ct_act(SEA_ACT_SILU, in[0].v[i]) * in[1].v[i];
}

/* b repeats over a's leading dims (b's element count divides a's). */
void ct_ref_binary(const check_case *c, const ct_host *in, ct_host *out)
{
    int64_t inner = in[1].n;
    for (int64_t i = 0; i < out[0].n; i++) {
        double a = in[0].v[i], b = in[1].v[i % inner];
        out[0].v[i] = c->kind == SEA_OP_ADD ? a + b : a * b;
    }
}

void ct_ref_adamw(const check_case *c, const ct_host *in, ct_host *out)
{
    const __typeof__(c->p.adamw) *a = &c->p.adamw;
    double b1 = a->beta1, b2 = a->beta2;
    double bc1 = 1.0 - pow(b1, a->step), bc2 = 1.0 - pow(b2, a->step);
    for (int64_t i = 0; i < in[0].n; i++) {
        double p = out[0].v[i], m = out[1].v[i], v = out[2].v[i];
        double g = in[0].v[i] + (double)a->l2 * p;
        m = b1 * m + (1.0 - b1) * g;
        v = b2 * v + (1.0 - b2) * g * g;
        p -= (double)a->lr * ((m / bc1) / (sqrt(v / bc2) + (double)a->eps) + (double)a->weight_decay * p);
        out[0].v[i] = p;
        out[1].v[i] = m;
        out[2].v[i] = v;
    }
}

void ct_ref_global_norm(const check_case *c, const ct_host *in, ct_host *out)
{
    (void)c;
    double s = 0;
    for (int64_t i = 0; i < in[0].n; i++) s += in[0].v[i] * in[0].v[i];
    out[0].v[0] = sqrt(s);
}

void ct_ref_clip(const check_case *c, const ct_host *in, ct_host *out)
{
    double s = (double)c->p.clip.max_norm / (in[0].v[0] + 1e-6);
    if (s > 1) s = 1;
    for (int64_t i = 0; i < out[0].n; i++) out[0].v[i] *= s;
}
