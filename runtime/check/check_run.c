/* The op-suite runner: per case, draw inputs, poison outputs, run forward (and backward)
 * on the device, and compare with the float64 reference (and its finite differences). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"

#define FD_MAX_COORDS 200   /* finite-difference coordinates per input (all when fewer) */
#define FD_STEP 1e-6

double ct_normal(sea_rng *rng)
{
    double u1 = sea_rng_next_uniform(rng), u2 = sea_rng_next_uniform(rng);
    if (u1 < 1e-300) u1 = 1e-300;
    return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

double ct_uniform(sea_rng *rng, double a, double b) { return a + (b - a) * sea_rng_next_uniform(rng); }

/* One tensor of a case on the device and on the host. */
typedef struct ct_slot {
    bool present;
    ct_spec spec;
    sea_tensor parent, view;
    int64_t pnumel;
    size_t esize;
    unsigned char *bytes;   /* host image of the parent */
    double *pvals;          /* the parent decoded */
    ct_host h;              /* the view's values, logical order */
} ct_slot;

static int64_t numel_of(int ndim, const int64_t *shape)
{
    int64_t n = 1;
    for (int d = 0; d < ndim; d++) n *= shape[d];
    return n;
}

static void encode(unsigned char *dst, sea_dtype t, double v)
{
    switch (t) {
    case SEA_F32: { float f = (float)v; memcpy(dst, &f, 4); break; }
    case SEA_BF16: { uint16_t h = sea_f32_to_bf16((float)v); memcpy(dst, &h, 2); break; }
    case SEA_F16: { uint16_t h = sea_f32_to_f16((float)v); memcpy(dst, &h, 2); break; }
    case SEA_I32: { int32_t i = (int32_t)v; memcpy(dst, &i, 4); break; }
    default: break;
    }
}

static double decode(const unsigned char *src, sea_dtype t)
{
    switch (t) {
    case SEA_F32: { float f; memcpy(&f, src, 4); return f; }
    case SEA_BF16: { uint16_t h; memcpy(&h, src, 2); return sea_bf16_to_f32(h); }
    case SEA_F16: { uint16_t h; memcpy(&h, src, 2); return sea_f16_to_f32(h); }
    case SEA_I32: { int32_t i; memcpy(&i, src, 4); return i; }
    default: return NAN;
    }
}

/* NaN in every float format; for i32 a huge value no op produces. */
static void poison(unsigned char *dst, sea_dtype t)
{
    static const uint32_t f32_nan = 0x7fc00000u, i32_poison = 0x7fc0dead;
    static const uint16_t bf16_nan = 0x7fc0, f16_nan = 0x7e00;
    switch (t) {
    case SEA_F32: memcpy(dst, &f32_nan, 4); break;
    case SEA_I32: memcpy(dst, &i32_poison, 4); break;
    case SEA_BF16: memcpy(dst, &bf16_nan, 2); break;
    case SEA_F16: memcpy(dst, &f16_nan, 2); break;
    default: break;
    }
}

/* Element index (from the parent's start) of each view element, in logical order. */
static void view_index(const sea_tensor *view, size_t esize, int64_t *idx)
{
    int64_t sh[4] = {1, 1, 1, 1}, st[4] = {0, 0, 0, 0};
    int pad = 4 - view->ndim;
    for (int d = 0; d < view->ndim; d++) {
        sh[pad + d] = view->shape[d];
        st[pad + d] = view->stride[d];
    }
    int64_t base = (int64_t)(view->offset / esize), k = 0;
    for (int64_t a = 0; a < sh[0]; a++)
        for (int64_t b = 0; b < sh[1]; b++)
            for (int64_t c = 0; c < sh[2]; c++)
                for (int64_t d = 0; d < sh[3]; d++) idx[k++] = base + a * st[0] + b * st[1] + c * st[2] + d * st[3];
}

static void slot_free(ct_slot *s)
{
    if (s->parent.buf) sea_tensor_free(&s->parent);
    free(s->bytes);
    free(s->pvals);
    free(s->h.v);
    memset(s, 0, sizeof *s);
}

static sea_status slot_alloc(sea_device *dev, const ct_spec *spec, sea_dtype variant, ct_slot *s)
{
    memset(s, 0, sizeof *s);
    s->present = true;
    s->spec = *spec;
    if (variant != SEA_F32 && !spec->fixed_dtype && spec->dtype == SEA_F32) s->spec.dtype = variant;
    int64_t pshape[4];
    memcpy(pshape, spec->shape, sizeof pshape);
    if (spec->view == CT_SLICE) pshape[spec->view_dim] = spec->view_parent;
    if (spec->view == CT_BROADCAST) pshape[spec->view_dim] = 1;
    if (spec->view == CT_TRANSPOSED && spec->ndim >= 2) {
        pshape[spec->ndim - 1] = spec->shape[spec->ndim - 2];
        pshape[spec->ndim - 2] = spec->shape[spec->ndim - 1];
    }
    SEA_TRY(sea_tensor_alloc(dev, s->spec.dtype, spec->ndim, pshape, &s->parent));
    s->view = s->parent;
    if (spec->view == CT_SLICE) {
        SEA_TRY(sea_tensor_slice(&s->parent, spec->view_dim, spec->view_start, spec->shape[spec->view_dim], &s->view));
    } else if (spec->view == CT_TRANSPOSED && spec->ndim >= 2) {
        int perm[4] = {0, 1, 2, 3};
        perm[spec->ndim - 1] = spec->ndim - 2;
        perm[spec->ndim - 2] = spec->ndim - 1;
        SEA_TRY(sea_tensor_permute(&s->parent, perm, &s->view));
    } else if (spec->view == CT_BROADCAST) {
        s->view.shape[spec->view_dim] = spec->shape[spec->view_dim];
        s->view.stride[spec->view_dim] = 0;
    }
    s->pnumel = numel_of(spec->ndim, pshape);
    s->esize = sea_dtype_size(s->spec.dtype);
    s->h.n = numel_of(spec->ndim, spec->shape);
    s->h.ndim = spec->ndim;
    memcpy(s->h.shape, spec->shape, sizeof s->h.shape);
    s->bytes = malloc((size_t)s->pnumel * s->esize + 1);
    s->pvals = malloc((size_t)s->pnumel * sizeof(double) + 1);
    s->h.v = malloc((size_t)s->h.n * sizeof(double) + 1);
    if (!s->bytes || !s->pvals || !s->h.v) return sea_error(SEA_ERR_OOM, "selftest: out of host memory");
    return SEA_OK;
}

/* Draw the parent's values (rounded to the dtype), upload, and gather the view. */
static double draw(const ct_spec *sp, sea_rng *rng, int64_t i, const int64_t *pshape, int ndim)
{
    int64_t row_len = ndim ? pshape[ndim - 1] : 1, row = row_len ? i / row_len : 0, col = row_len ? i % row_len : 0;
    switch (sp->gen) {
    case CT_NORMAL: {
        double v = sp->a * ct_normal(rng);
        /* never zero, never so small it only tests rounding */
        if (fabs(v) < 1e-3 * sp->a) v = v < 0 ? -1e-3 * sp->a : 1e-3 * sp->a;
        return v;
    }
    case CT_UNIFORM: return ct_uniform(rng, sp->a, sp->b);
    case CT_INT: return floor(ct_uniform(rng, sp->a, sp->b));
    case CT_INT_IGNORE: {
        double v = floor(ct_uniform(rng, sp->a, sp->b));
        return sea_rng_next_uniform(rng) < 0.25 ? -1 : v;
    }
    case CT_MASK: {
        if (row == 0) return 1;
        int64_t pad = (int64_t)llround(sp->a * (double)row_len) * row;
        if (col < pad) return 0;
        return sea_rng_next_uniform(rng) < sp->b ? 0 : 1;
    }
    case CT_POSITIONS: {
        /* the offset must be the same along a row: derive it from the row index */
        sea_rng r2 = sea_rng_make(rng->seed ^ 0x5eed, (uint32_t)row + 1000);
        return (double)col + floor(ct_uniform(&r2, 0, sp->a > 0 ? sp->a : 1));
    }
    case CT_SEQ_IDS: return (double)(i * 7 + 3);
    case CT_ROWS: return (double)((i * 7 + 3) % (int64_t)sp->a);
    case CT_TIES: {
        int bits = (int)sp->a;
        double m = floor(ct_uniform(rng, ldexp(1, bits - 1), ldexp(1, bits)));
        int e = (int)floor(ct_uniform(rng, -3, 4));
        return (sea_rng_next_uniform(rng) < 0.5 ? -1 : 1) * ldexp(m + 0.5, e - bits);
    }
    }
    return 0;
}

static sea_status slot_fill(sea_stream *st, ct_slot *s, sea_rng *rng, bool poisoned)
{
    int64_t pshape[4];
    for (int d = 0; d < 4; d++) pshape[d] = s->parent.shape[d];
    for (int64_t i = 0; i < s->pnumel; i++) {
        unsigned char *p = s->bytes + (size_t)i * s->esize;
        if (poisoned) {
            poison(p, s->spec.dtype);
        } else {
            encode(p, s->spec.dtype, draw(&s->spec, rng, i, pshape, s->parent.ndim));
        }
        s->pvals[i] = decode(p, s->spec.dtype);
    }
    SEA_TRY(sea_buffer_write(st, s->parent.buf, s->parent.offset, s->bytes, (size_t)s->pnumel * s->esize));
    int64_t *idx = malloc((size_t)s->h.n * sizeof *idx + 1);
    if (!idx) return sea_error(SEA_ERR_OOM, "selftest: out of host memory");
    view_index(&s->view, s->esize, idx);
    for (int64_t k = 0; k < s->h.n; k++) s->h.v[k] = s->pvals[idx[k]];
    free(idx);
    return SEA_OK;
}

/* Read the device parent back; gather the view into got (n); count parent elements outside
 * the view that no longer hold the poison (an op wrote outside its output view). */
static sea_status slot_read(sea_stream *st, ct_slot *s, double *got, int64_t *stray)
{
    unsigned char *dev_bytes = malloc((size_t)s->pnumel * s->esize + 1);
    int64_t *idx = malloc((size_t)s->h.n * sizeof *idx + 1);
    char *inview = calloc((size_t)s->pnumel + 1, 1);
    if (!dev_bytes || !idx || !inview) {
        free(dev_bytes);
        free(idx);
        free(inview);
        return sea_error(SEA_ERR_OOM, "selftest: out of host memory");
    }
    sea_status rc = sea_stream_sync(st);
    if (!rc) rc = sea_buffer_read(st, s->parent.buf, s->parent.offset, dev_bytes, (size_t)s->pnumel * s->esize);
    if (!rc) {
        view_index(&s->view, s->esize, idx);
        for (int64_t k = 0; k < s->h.n; k++) {
            got[k] = decode(dev_bytes + (size_t)idx[k] * s->esize, s->spec.dtype);
            inview[idx[k]] = 1;
        }
        *stray = 0;
        for (int64_t i = 0; i < s->pnumel; i++)
            if (!inview[i] && memcmp(dev_bytes + (size_t)i * s->esize, s->bytes + (size_t)i * s->esize, s->esize)) (*stray)++;
    }
    free(dev_bytes);
    free(idx);
    free(inview);
    return rc;
}

/* ||got - ref|| / ||ref||; non-finite reference entries must be matched exactly. */
static double rel_error(const double *got, const double *ref, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        if (!isfinite(ref[i])) {
            if (!(got[i] == ref[i])) return INFINITY;
            continue;
        }
        if (!isfinite(got[i])) return INFINITY;
        num += (got[i] - ref[i]) * (got[i] - ref[i]);
        den += ref[i] * ref[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static double default_tol(sea_dtype t, bool backward)
{
    switch (t) {
    case SEA_F32: return backward ? 1e-4 : 2e-5;
    case SEA_BF16: return backward ? 3e-2 : 1.5e-2;
    case SEA_F16: return backward ? 4e-3 : 2e-3;
    default: return 0;
    }
}

static bool backend_supports(sea_device *dev, sea_op_kind k, sea_dtype in0, sea_dtype out0)
{
    const struct sea_backend_ops *be = dev->backend;
    if (be->supports) return be->supports(k, in0, out0);
    switch (k) {
    case SEA_OP_FILL: return out0 == SEA_F32 || out0 == SEA_I32;
    case SEA_OP_COPY: return (in0 == SEA_F32 || in0 == SEA_I32) && (out0 == SEA_F32 || out0 == SEA_I32);
    case SEA_OP_SAMPLE: return in0 == SEA_F32 && out0 == SEA_I32;
    default: return in0 == SEA_F32 && out0 == SEA_F32;
    }
}

void ct_report_add(sea_check_report *r, const sea_check_result *res)
{
    if (r->count == r->cap) {
        int cap = r->cap ? 2 * r->cap : 64;
        sea_check_result *n = realloc(r->items, (size_t)cap * sizeof *n);
        if (!n) return;
        r->items = n;
        r->cap = cap;
    }
    r->items[r->count++] = *res;
    if (res->skipped) r->skipped++;
    else if (res->passed) r->passed++;
    else r->failed++;
}

static sea_check_result result_for(const check_case *c, sea_check_dir dir, sea_dtype dt)
{
    sea_check_result res;
    memset(&res, 0, sizeof res);
    snprintf(res.op, sizeof res.op, "%s", sea_op_name(c->kind));
    snprintf(res.name, sizeof res.name, "%s", c->name);
    res.dir = dir;
    res.dtype = dt;
    return res;
}

typedef struct ct_run {
    sea_device *dev;
    sea_stream *st;
    const check_case *c;
    sea_dtype variant;
    ct_slot in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT];
    ct_host ref_out[SEA_OP_MAX_OUT];
    sea_op op;
} ct_run;

static void run_free(ct_run *r)
{
    for (int i = 0; i < SEA_OP_MAX_IN; i++) slot_free(&r->in[i]);
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        slot_free(&r->out[j]);
        free(r->ref_out[j].v);
        r->ref_out[j].v = NULL;
    }
}

/* The reference inputs (absent slots have v == NULL). */
static void ref_inputs(const ct_run *r, ct_host *in)
{
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        memset(&in[i], 0, sizeof in[i]);
        if (r->in[i].present) in[i] = r->in[i].h;
    }
}

/* Fresh reference output arrays; in-place outputs start from their initial values. */
static sea_status ref_outputs(const ct_run *r, ct_host *out)
{
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        memset(&out[j], 0, sizeof out[j]);
        const ct_spec *sp = &r->c->out[j];
        if (!sp->use) continue;
        out[j].ndim = sp->ndim;
        memcpy(out[j].shape, sp->shape, sizeof out[j].shape);
        out[j].n = numel_of(sp->ndim, sp->shape);
        out[j].v = malloc((size_t)out[j].n * sizeof(double) + 1);
        if (!out[j].v) return sea_error(SEA_ERR_OOM, "selftest: out of host memory");
        if (r->c->inout & (1u << j)) memcpy(out[j].v, r->out[j].h.v, (size_t)out[j].n * sizeof(double));
        else
            for (int64_t k = 0; k < out[j].n; k++) out[j].v[k] = NAN;
    }
    return SEA_OK;
}

static void free_outputs(ct_host *out)
{
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) free(out[j].v);
}

static void fail(sea_check_result *res, const char *what)
{
    res->passed = false;
    res->error = INFINITY;
    snprintf(res->message, sizeof res->message, "%s: %s", what, sea_last_error());
}

/* Sampling: the token must equal the float64 Gumbel-max reference (or an alternative when
 * the reference sits on a float32-sized tie); logp must be log_softmax(logits)[token]. */
static void compare_sample(ct_run *r, sea_check_result *res)
{
    int64_t B = r->in[0].h.shape[0], V = r->in[0].h.shape[1], bad = 0;
    double *tok = malloc((size_t)B * sizeof(double) + 1), *lp = malloc((size_t)B * sizeof(double) + 1);
    int64_t stray = 0;
    res->passed = false;
    res->error = INFINITY;
    if (!tok || !lp || slot_read(r->st, &r->out[0], tok, &stray) || (r->out[1].present && slot_read(r->st, &r->out[1], lp, &stray))) {
        fail(res, "reading outputs");
        free(tok);
        free(lp);
        return;
    }
    double num = 0, den = 0;
    char first[160] = "";
    for (int64_t b = 0; b < B; b++) {
        const double *alt = r->ref_out[2].v + b * 4;
        double want = r->ref_out[0].v[b], got = tok[b];
        bool ok = got == want || got == alt[0] || got == alt[1] || (alt[2] >= 0 && got == alt[2]);
        if (!ok || !(got >= 0 && got < (double)V)) {
            if (!bad)
                snprintf(first, sizeof first, "row %lld: token %.0f, want %.0f", (long long)b, got, want);
            bad++;
            continue;
        }
        if (r->out[1].present) {
            const double *x = r->in[0].h.v + b * V;
            double m = -INFINITY, z = 0;
            for (int64_t i = 0; i < V; i++) m = x[i] > m ? x[i] : m;
            for (int64_t i = 0; i < V; i++) z += exp(x[i] - m);
            double want_lp = x[(int64_t)got] - m - log(z);
            num += (lp[b] - want_lp) * (lp[b] - want_lp);
            den += want_lp * want_lp;
            if (!isfinite(lp[b])) num = INFINITY;
        }
    }
    double lp_err = den > 0 ? sqrt(num / den) : sqrt(num);
    double tol = default_tol(SEA_F32, false);
    res->error = bad ? (double)bad / (double)B : lp_err;
    res->tolerance = bad ? 0 : tol;
    res->passed = !bad && lp_err <= tol;
    if (bad)
        snprintf(res->message, sizeof res->message, "%lld of %lld tokens differ from the float64 Gumbel-max reference; %s",
                 (long long)bad, (long long)B, first);
    else if (!res->passed)
        snprintf(res->message, sizeof res->message, "logp error %.3g > %.3g", lp_err, tol);
    free(tok);
    free(lp);
}

/* Forward: returns true when outputs are on the device and good enough to run backward on. */
static bool check_forward(ct_run *r, sea_rng *rng, sea_check_report *rep)
{
    const check_case *c = r->c;
    sea_check_result res = result_for(c, SEA_CHECK_FORWARD, r->variant);
    sea_status rc = SEA_OK;
    memset(&r->op, 0, sizeof r->op);
    r->op.kind = c->kind;
    r->op.p = c->p;
    for (int i = 0; i < SEA_OP_MAX_IN && !rc; i++) {
        if (!c->in[i].use) continue;
        rc = slot_alloc(r->dev, &c->in[i], r->variant, &r->in[i]);
        if (!rc) rc = slot_fill(r->st, &r->in[i], rng, false);
        r->op.in[i] = &r->in[i].view;
    }
    for (int j = 0; j < SEA_OP_MAX_OUT && !rc; j++) {
        if (!c->out[j].use) continue;
        rc = slot_alloc(r->dev, &c->out[j], r->variant, &r->out[j]);
        if (!rc) rc = slot_fill(r->st, &r->out[j], rng, !(c->inout & (1u << j)));
        r->op.out[j] = &r->out[j].view;
    }
    if (rc) {
        fail(&res, "setting up tensors");
        ct_report_add(rep, &res);
        return false;
    }
    ct_host in[SEA_OP_MAX_IN];
    ref_inputs(r, in);
    rc = ref_outputs(r, r->ref_out);
    if (rc) {
        fail(&res, "reference");
        ct_report_add(rep, &res);
        return false;
    }
    if (c->kind == SEA_OP_SAMPLE) {
        /* scratch for the accepted alternatives of each row */
        r->ref_out[2].n = c->out[0].shape[0] * 4;
        r->ref_out[2].v = malloc((size_t)r->ref_out[2].n * sizeof(double) + 1);
        if (!r->ref_out[2].v) {
            fail(&res, "reference");
            ct_report_add(rep, &res);
            return false;
        }
    }
    c->ref(c, in, r->ref_out);
    rc = sea_op_run(r->st, &r->op);
    if (rc) {
        fail(&res, "run");
        ct_report_add(rep, &res);
        return false;
    }
    if (c->kind == SEA_OP_SAMPLE) {
        compare_sample(r, &res);
        ct_report_add(rep, &res);
        return res.passed;
    }
    res.passed = true;
    double worst_ratio = -1;
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        if (!c->out[j].use || (c->no_compare & (1u << j))) continue;
        ct_slot *s = &r->out[j];
        double *got = malloc((size_t)s->h.n * sizeof(double) + 1);
        int64_t stray = 0;
        if (!got || slot_read(r->st, s, got, &stray)) {
            free(got);
            fail(&res, "reading outputs");
            ct_report_add(rep, &res);
            return false;
        }
        double err = rel_error(got, r->ref_out[j].v, s->h.n);
        double tol = s->spec.dtype == SEA_I32 || c->exact
                         ? 0
                         : (c->tol_fwd && s->spec.dtype == SEA_F32 ? c->tol_fwd : default_tol(s->spec.dtype, false));
        double ratio = tol > 0 ? err / tol : (err > 0 ? INFINITY : 0);
        if (ratio > worst_ratio) {
            worst_ratio = ratio;
            res.error = err;
            res.tolerance = tol;
        }
        if (!(err <= tol)) {
            res.passed = false;
            /* first mismatching element helps more than the norm */
            int64_t k = 0;
            for (; k < s->h.n; k++) {
                double d = fabs(got[k] - r->ref_out[j].v[k]);
                if (!(d <= tol * (fabs(r->ref_out[j].v[k]) + 1e-3)) && !(got[k] == r->ref_out[j].v[k])) break;
            }
            if (k < s->h.n)
                snprintf(res.message, sizeof res.message, "out[%d]: error %.3g > %.3g; first bad element %lld: got %.9g, want %.9g",
                         j, err, tol, (long long)k, got[k], r->ref_out[j].v[k]);
            else
                snprintf(res.message, sizeof res.message, "out[%d]: error %.3g > %.3g", j, err, tol);
        }
        if (stray) {
            res.passed = false;
            snprintf(res.message, sizeof res.message, "out[%d]: %lld elements outside the output view were overwritten", j,
                     (long long)stray);
        }
        free(got);
    }
    ct_report_add(rep, &res);
    return res.passed;
}

/* L = sum_j gout_j . out_j of the float64 reference at the given inputs. */
static double ref_loss(const ct_run *r, ct_host *in, ct_host *out, double *const *gout)
{
    const check_case *c = r->c;
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (out[j].v) for (int64_t k = 0; k < out[j].n; k++) out[j].v[k] = NAN;
    (c->grad_ref ? c->grad_ref : c->ref)(c, in, out);
    double L = 0;
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        if (!(c->grad_out & (1u << j))) continue;
        for (int64_t k = 0; k < out[j].n; k++) L += gout[j][k] * out[j].v[k];
    }
    return L;
}

static void check_backward(ct_run *r, sea_rng *rng, sea_check_report *rep)
{
    const check_case *c = r->c;
    sea_check_result res = result_for(c, SEA_CHECK_BACKWARD, r->variant);
    if (!r->dev->backend->op_backward) {
        res.skipped = true;
        snprintf(res.message, sizeof res.message, "backend %s has no backward kernels", r->dev->backend->name);
        ct_report_add(rep, &res);
        return;
    }
    ct_slot gout[SEA_OP_MAX_OUT], gin[SEA_OP_MAX_IN];
    memset(gout, 0, sizeof gout);
    memset(gin, 0, sizeof gin);
    double *gout_v[SEA_OP_MAX_OUT] = {0};
    double *fd[SEA_OP_MAX_IN] = {0};
    int64_t *coords[SEA_OP_MAX_IN] = {0};
    int64_t ncoords[SEA_OP_MAX_IN] = {0};
    ct_host in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT];
    memset(out, 0, sizeof out);
    sea_status rc = SEA_OK;
    sea_op op = r->op;

    /* random output gradients, as contiguous tensors of the outputs' shapes */
    for (int j = 0; j < SEA_OP_MAX_OUT && !rc; j++) {
        if (!(c->grad_out & (1u << j))) continue;
        ct_spec sp = c->out[j];
        sp.view = CT_PLAIN;
        sp.gen = CT_NORMAL;
        sp.a = 1.0;
        sp.dtype = r->out[j].spec.dtype;
        sp.fixed_dtype = true;
        rc = slot_alloc(r->dev, &sp, SEA_F32, &gout[j]);
        if (!rc) rc = slot_fill(r->st, &gout[j], rng, false);
        gout_v[j] = gout[j].h.v;
        op.gout[j] = &gout[j].view;
    }
    /* finite differences of the reference, on private copies of the inputs */
    ref_inputs(r, in);
    double *copies[SEA_OP_MAX_IN] = {0};
    for (int i = 0; i < SEA_OP_MAX_IN && !rc; i++) {
        if (!in[i].v) continue;
        copies[i] = malloc((size_t)in[i].n * sizeof(double) + 1);
        if (!copies[i]) rc = sea_error(SEA_ERR_OOM, "selftest: out of host memory");
        else memcpy(copies[i], in[i].v, (size_t)in[i].n * sizeof(double));
        in[i].v = copies[i];
    }
    if (!rc) rc = ref_outputs(r, out);
    /* ReLU makes L piecewise linear: a central difference across a kink measures neither
     * side. Where the one-sided differences disagree the coordinate sits on a kink (any
     * subgradient is right there) and is left out of the comparison. */
    bool kinky = c->kind == SEA_OP_RELU || c->kind == SEA_OP_ENSEMBLE_MLP ||
                 (c->kind == SEA_OP_MATMUL && c->p.matmul.act == SEA_ACT_RELU);
    double l0 = rc || !kinky ? 0 : ref_loss(r, in, out, gout_v);
    int64_t kinks = 0;
    for (int i = 0; i < SEA_OP_MAX_IN && !rc; i++) {
        if (!(c->grad_in & (1u << i)) || !in[i].v) continue;
        int64_t n = in[i].n, m = n <= FD_MAX_COORDS ? n : FD_MAX_COORDS;
        coords[i] = malloc((size_t)m * sizeof(int64_t) + 1);
        fd[i] = malloc((size_t)m * sizeof(double) + 1);
        if (!coords[i] || !fd[i]) {
            rc = sea_error(SEA_ERR_OOM, "selftest: out of host memory");
            break;
        }
        ncoords[i] = m;
        for (int64_t k = 0; k < m; k++) {
            int64_t e = n <= FD_MAX_COORDS ? k : (int64_t)sea_rng_next_below(rng, (uint32_t)n);
            coords[i][k] = e;
            double v = in[i].v[e], h = FD_STEP * (1.0 + fabs(v));
            in[i].v[e] = v + h;
            double lp = ref_loss(r, in, out, gout_v);
            in[i].v[e] = v - h;
            double lm = ref_loss(r, in, out, gout_v);
            in[i].v[e] = v;
            fd[i][k] = (lp - lm) / (2 * h);
            if (kinky) {
                double fwd = (lp - l0) / h, bwd = (l0 - lm) / h;
                if (fabs(fwd - bwd) > 1e-3 * (fabs(fwd) + fabs(bwd)) + 1e-7) {
                    fd[i][k] = NAN;
                    kinks++;
                }
            }
        }
    }
    /* input gradients start at random values of the gradients' scale: backward must add */
    for (int i = 0; i < SEA_OP_MAX_IN && !rc; i++) {
        if (!(c->grad_in & (1u << i)) || !in[i].v) continue;
        double ss = 0;
        for (int64_t k = 0; k < ncoords[i]; k++)
            if (!isnan(fd[i][k])) ss += fd[i][k] * fd[i][k];
        double rms = ncoords[i] ? sqrt(ss / (double)ncoords[i]) : 0;
        ct_spec sp = c->in[i];
        sp.view = CT_PLAIN;
        sp.gen = CT_NORMAL;
        sp.a = rms > 0 ? 0.5 * rms : 0.1;
        sp.dtype = r->in[i].spec.dtype;
        sp.fixed_dtype = true;
        rc = slot_alloc(r->dev, &sp, SEA_F32, &gin[i]);
        if (!rc) rc = slot_fill(r->st, &gin[i], rng, false);
        op.gin[i] = &gin[i].view;
    }
    if (rc) {
        fail(&res, "setting up gradients");
    } else if ((rc = sea_op_run_backward(r->st, &op))) {
        fail(&res, "run backward");
    } else {
        res.passed = true;
        double worst_ratio = -1;
        for (int i = 0; i < SEA_OP_MAX_IN; i++) {
            if (!op.gin[i]) continue;
            ct_slot *s = &gin[i];
            double *got = malloc((size_t)s->h.n * sizeof(double) + 1);
            int64_t stray = 0;
            if (!got || slot_read(r->st, s, got, &stray)) {
                free(got);
                fail(&res, "reading gradients");
                break;
            }
            double num = 0, den = 0;
            bool finite = true;
            for (int64_t k = 0; k < s->h.n; k++) finite = finite && isfinite(got[k]);
            for (int64_t k = 0; k < ncoords[i]; k++) {
                int64_t e = coords[i][k];
                if (isnan(fd[i][k])) continue;   /* on a ReLU kink */
                double want = s->h.v[e] + fd[i][k];
                num += (got[e] - want) * (got[e] - want);
                den += fd[i][k] * fd[i][k];
            }
            double err = finite ? (den > 0 ? sqrt(num / den) : sqrt(num)) : INFINITY;
            double tol = c->tol_bwd && s->spec.dtype == SEA_F32 ? c->tol_bwd : default_tol(s->spec.dtype, true);
            if (err / tol > worst_ratio) {
                worst_ratio = err / tol;
                res.error = err;
                res.tolerance = tol;
            }
            if (!(err <= tol)) {
                res.passed = false;
                int64_t e = coords[i][0];
                double worst = -1;
                for (int64_t k = 0; k < ncoords[i]; k++) {
                    if (isnan(fd[i][k])) continue;
                    double d = fabs(got[coords[i][k]] - s->h.v[coords[i][k]] - fd[i][k]);
                    if (!(d <= worst)) {
                        worst = d;
                        e = k;
                    }
                }
                snprintf(res.message, sizeof res.message,
                         "gradient of in[%d]: error %.3g > %.3g (%s); worst element %lld: got %.9g, want %.9g%s",
                         i, err, tol, finite ? "vs finite differences" : "non-finite values", (long long)coords[i][e],
                         got[coords[i][e]] - s->h.v[coords[i][e]], fd[i][e], kinks ? " (some coordinates on ReLU kinks skipped)" : "");
            }
            free(got);
        }
    }
    ct_report_add(rep, &res);
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        slot_free(&gin[i]);
        free(fd[i]);
        free(coords[i]);
        free(copies[i]);
    }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) slot_free(&gout[j]);
    free_outputs(out);
}

static bool filter_match(const char *filter, const char *name)
{
    if (!filter || !*filter || !strcmp(filter, "all")) return true;
    size_t n = strlen(name);
    for (const char *p = filter; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && !strncmp(p, name, n)) return true;
        if (!e) break;
        p = e + 1;
    }
    return false;
}

static void run_case(sea_device *dev, const check_case *c, int index, sea_dtype variant, uint64_t seed, sea_check_report *rep)
{
    sea_dtype in0 = c->in[0].use ? c->in[0].dtype : c->out[0].dtype;
    sea_dtype out0 = c->out[0].dtype;
    if (variant != SEA_F32) {
        if (c->in[0].use && !c->in[0].fixed_dtype && in0 == SEA_F32) in0 = variant;
        if (!c->out[0].fixed_dtype && out0 == SEA_F32) out0 = variant;
    }
    if (!backend_supports(dev, c->kind, in0, out0)) {
        for (int d = 0; d < 1 + (sea_op_has_backward(c->kind) && c->grad_in); d++) {
            sea_check_result res = result_for(c, d ? SEA_CHECK_BACKWARD : SEA_CHECK_FORWARD, variant);
            res.skipped = true;
            snprintf(res.message, sizeof res.message, "backend %s does not run %s with %s -> %s", dev->backend->name,
                     sea_op_name(c->kind), sea_dtype_name(in0), sea_dtype_name(out0));
            ct_report_add(rep, &res);
        }
        return;
    }
    /* each case (and dtype) has its own RNG stream: adding cases does not change others' inputs */
    sea_rng rng = sea_rng_make(seed, (uint32_t)(index * 8 + (int)variant));
    ct_run r;
    memset(&r, 0, sizeof r);
    r.dev = dev;
    r.st = sea_device_stream(dev);
    r.c = c;
    r.variant = variant;
    bool ok = check_forward(&r, &rng, rep);
    if (sea_op_has_backward(c->kind) && c->grad_in) {
        if (ok) {
            check_backward(&r, &rng, rep);
        } else {
            sea_check_result res = result_for(c, SEA_CHECK_BACKWARD, variant);
            res.passed = false;
            res.error = INFINITY;
            snprintf(res.message, sizeof res.message, "not run: the forward failed");
            ct_report_add(rep, &res);
        }
    }
    run_free(&r);
}

sea_status sea_check_run(sea_device *dev, uint64_t seed, const char *filter, sea_check_report *report)
{
    if (!dev || !report) return sea_error(SEA_ERR_INVALID, "selftest: no device or report");
    snprintf(report->device, sizeof report->device, "%s", sea_device_label(dev));
    report->seed = seed;
    for (int i = 0; i < sea_check_case_count; i++) {
        const check_case *c = &sea_check_cases[i];
        if (!filter_match(filter, sea_op_name(c->kind))) continue;
        run_case(dev, c, i, SEA_F32, seed, report);
        if (c->bf16_variant) run_case(dev, c, i, SEA_BF16, seed, report);
    }
    if (filter_match(filter, "validate")) ct_bad_inputs(dev, report);
    return SEA_OK;
}

void sea_check_report_free(sea_check_report *report)
{
    if (!report) return;
    free(report->items);
    memset(report, 0, sizeof *report);
}
