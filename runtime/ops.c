/* The op dispatcher: validate an op against runtime/op.h, check the backend supports its
 * dtypes, run it on the stream's device, and record it on the stream's tape.
 *
 * Validation is strict and centralised here so backends can trust their inputs; every
 * message names the op, the offending tensor and all tensors' shapes, dtypes and device. */
#include "ops.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "graph.h"
#include "tape.h"
#include "op_profile.h"

/* Slot names for messages, per op: inputs then outputs. */
static const char *const in_names[SEA_OP_COUNT][SEA_OP_MAX_IN] = {
    [SEA_OP_FILL] = {0},
    [SEA_OP_COPY] = {"src"},
    [SEA_OP_EMBEDDING] = {"table", "ids"},
    [SEA_OP_MATMUL] = {"a", "b", "bias", "residual"},
    [SEA_OP_LAYERNORM] = {"x", "weight", "bias", "weight2", "bias2"},
    [SEA_OP_RMSNORM] = {"x", "weight"},
    [SEA_OP_ROPE] = {"x", "positions"},
    [SEA_OP_ATTENTION] = {"q", "k", "v", "key_valid"},
    [SEA_OP_DECODE_ATTENTION] = {"q", "k_cache", "v_cache", "key_valid", "prefix_k", "prefix_v", "prefix_valid"},
    [SEA_OP_GELU] = {"x"},
    [SEA_OP_SILU] = {"x"},
    [SEA_OP_RELU] = {"x"},
    [SEA_OP_SWIGLU] = {"gate", "up"},
    [SEA_OP_ADD] = {"a", "b"},
    [SEA_OP_MUL] = {"a", "b"},
    [SEA_OP_SCALE] = {"x"},
    [SEA_OP_SOFTMAX] = {"x"},
    [SEA_OP_LOGSOFTMAX_GATHER] = {"logits", "targets"},
    [SEA_OP_CROSS_ENTROPY] = {"logits", "targets"},
    [SEA_OP_MASKED_SUM] = {"x", "mask"},
    [SEA_OP_SAMPLE] = {"logits", "seq_ids"},
    [SEA_OP_ENSEMBLE_MLP] = {"x", "W1", "b1", "W2", "b2", "W3", "b3"},
    [SEA_OP_ADAMW] = {"grad"},
    [SEA_OP_GLOBAL_NORM] = {"x"},
    [SEA_OP_CLIP] = {"norm"},
    [SEA_OP_SET_ROWS] = {"x", "rows"},
};
static const char *const out_names[SEA_OP_COUNT][SEA_OP_MAX_OUT] = {
    [SEA_OP_FILL] = {"out"},
    [SEA_OP_COPY] = {"dst"},
    [SEA_OP_EMBEDDING] = {"out"},
    [SEA_OP_MATMUL] = {"out", "preact"},
    [SEA_OP_LAYERNORM] = {"out", "mean", "rstd", "out2"},
    [SEA_OP_RMSNORM] = {"out", "rstd"},
    [SEA_OP_ROPE] = {"out"},
    [SEA_OP_ATTENTION] = {"out", "lse"},
    [SEA_OP_DECODE_ATTENTION] = {"out"},
    [SEA_OP_GELU] = {"out"},
    [SEA_OP_SILU] = {"out"},
    [SEA_OP_RELU] = {"out"},
    [SEA_OP_SWIGLU] = {"out"},
    [SEA_OP_ADD] = {"out"},
    [SEA_OP_MUL] = {"out"},
    [SEA_OP_SCALE] = {"out"},
    [SEA_OP_SOFTMAX] = {"out"},
    [SEA_OP_LOGSOFTMAX_GATHER] = {"logp", "lse"},
    [SEA_OP_CROSS_ENTROPY] = {"loss", "lse"},
    [SEA_OP_MASKED_SUM] = {"out"},
    [SEA_OP_SAMPLE] = {"tokens", "logp"},
    [SEA_OP_ENSEMBLE_MLP] = {"r", "h1", "h2"},
    [SEA_OP_ADAMW] = {"param", "m", "v"},
    [SEA_OP_GLOBAL_NORM] = {"out"},
    [SEA_OP_CLIP] = {"grad"},
    [SEA_OP_SET_ROWS] = {"dst"},
};

typedef struct vctx {
    const sea_op *op;
    bool backward;
    const sea_device *dev;
} vctx;

static const char *in_name(const sea_op *op, int i)
{
    const char *n = (unsigned)op->kind < SEA_OP_COUNT ? in_names[op->kind][i] : NULL;
    return n ? n : "in";
}

static const char *out_name(const sea_op *op, int j)
{
    const char *n = (unsigned)op->kind < SEA_OP_COUNT ? out_names[op->kind][j] : NULL;
    return n ? n : "out";
}

static void describe(const sea_tensor *t, char *buf, size_t n)
{
    if (!t) {
        snprintf(buf, n, "none");
        return;
    }
    int len = snprintf(buf, n, "(");
    for (int d = 0; d < t->ndim && d < SEA_MAX_DIMS && len > 0 && (size_t)len < n; d++)
        len += snprintf(buf + len, n - (size_t)len, "%s%lld", d ? ", " : "", (long long)t->shape[d]);
    if (len > 0 && (size_t)len < n) snprintf(buf + len, n - (size_t)len, ") %s", sea_dtype_name(t->dtype));
}

/* Append "name shape dtype" for every present tensor of a list. */
static size_t list_tensors(char *buf, size_t n, size_t len, const char *title, const sea_tensor *const *ts,
                           int count, const char *(*namer)(const sea_op *, int), const sea_op *op)
{
    bool first = true;
    for (int i = 0; i < count; i++) {
        if (!ts[i] || len >= n) continue;
        char d[96];
        describe(ts[i], d, sizeof d);
        int w = snprintf(buf + len, n - len, "%s%s%s %s", first ? title : "", first ? "" : ", ", namer(op, i), d);
        if (w > 0) len += (size_t)w;
        first = false;
    }
    return len < n ? len : n - 1;
}

static const char *gin_name(const sea_op *op, int i) { (void)op; (void)i; return "gin"; }
static const char *gout_name(const sea_op *op, int j) { (void)op; (void)j; return "gout"; }

/* Fail with "<op>[ backward]: <what> [tensors] on <device>". */
__attribute__((format(printf, 3, 4))) static sea_status vfail(const vctx *v, sea_status code, const char *fmt, ...)
{
    char what[512], ctx[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    size_t len = 0;
    ctx[0] = '\0';
    len = list_tensors(ctx, sizeof ctx, len, "in: ", (const sea_tensor *const *)v->op->in, SEA_OP_MAX_IN, in_name, v->op);
    if (len + 2 < sizeof ctx && len) { strcat(ctx, "; "); len += 2; }
    len = list_tensors(ctx, sizeof ctx, len, "out: ", (const sea_tensor *const *)v->op->out, SEA_OP_MAX_OUT, out_name, v->op);
    if (v->backward) {
        if (len + 2 < sizeof ctx && len) { strcat(ctx, "; "); len += 2; }
        len = list_tensors(ctx, sizeof ctx, len, "grads: ", (const sea_tensor *const *)v->op->gin, SEA_OP_MAX_IN, gin_name, v->op);
        if (len + 2 < sizeof ctx && len) { strcat(ctx, "; "); len += 2; }
        len = list_tensors(ctx, sizeof ctx, len, "", v->op->gout, SEA_OP_MAX_OUT, gout_name, v->op);
    }
    return sea_error(code, "%s%s: %s [%s] on %s", sea_op_name(v->op->kind), v->backward ? " backward" : "", what, ctx,
                     v->dev ? sea_device_label(v->dev) : "unknown device");
}


static int64_t numel(const sea_tensor *t)
{
    int64_t n = 1;
    for (int d = 0; d < t->ndim; d++) n *= t->shape[d];
    return n;
}

static int64_t last_dim(const sea_tensor *t) { return t->ndim ? t->shape[t->ndim - 1] : 1; }
static int64_t rows(const sea_tensor *t) { return last_dim(t) ? numel(t) / last_dim(t) : 0; }

static bool contiguous(const sea_tensor *t)
{
    int64_t s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) {
        if (t->shape[d] != 1 && t->stride[d] != s) return false;
        s *= t->shape[d];
    }
    return true;
}

/* Do the memory extents of a and b (first to last element) intersect? A cheap, conservative
 * test: interleaved views of one buffer count as overlapping. */
static bool overlap(const sea_tensor *a, const sea_tensor *b)
{
    if (a->buf != b->buf) return false;
    size_t ea = sea_dtype_size(a->dtype), eb = sea_dtype_size(b->dtype);
    size_t a0 = a->offset, b0 = b->offset, a1 = a0 + ea, b1 = b0 + eb;
    for (int d = 0; d < a->ndim; d++)
        if (a->shape[d] > 1) a1 += (size_t)((a->shape[d] - 1) * a->stride[d]) * ea;
    for (int d = 0; d < b->ndim; d++)
        if (b->shape[d] > 1) b1 += (size_t)((b->shape[d] - 1) * b->stride[d]) * eb;
    return a0 < b1 && b0 < a1;
}

/* Same shape, ignoring leading dims of size 1 (a (1, 4, 8) view equals (4, 8)). */
static bool same_shape(const sea_tensor *a, const sea_tensor *b)
{
    int na = a->ndim, nb = b->ndim;
    while (na > nb) if (a->shape[a->ndim - na--] != 1) return false;
    while (nb > na) if (b->shape[b->ndim - nb--] != 1) return false;
    for (int k = 0; k < na; k++)
        if (a->shape[a->ndim - na + k] != b->shape[b->ndim - nb + k]) return false;
    return true;
}

/* A tensor must point into its buffer and have a sane shape. */
static sea_status check_tensor(const vctx *v, const sea_tensor *t, const char *kind, const char *name)
{
    if (!t->buf) return vfail(v, SEA_ERR_INVALID, "%s '%s' has no buffer", kind, name);
    if (t->ndim < 0 || t->ndim > SEA_MAX_DIMS) return vfail(v, SEA_ERR_SHAPE, "%s '%s' has ndim %d", kind, name, t->ndim);
    if ((unsigned)t->dtype >= SEA_DTYPE_COUNT) return vfail(v, SEA_ERR_DTYPE, "%s '%s' has an invalid dtype", kind, name);
    int64_t extent = 1;
    bool empty = false;
    for (int d = 0; d < t->ndim; d++) {
        if (t->shape[d] < 0) return vfail(v, SEA_ERR_SHAPE, "%s '%s' has a negative dim", kind, name);
        if (t->stride[d] < 0) return vfail(v, SEA_ERR_SHAPE, "%s '%s' has a negative stride", kind, name);
        if (t->shape[d] == 0) empty = true;
        else extent += (t->shape[d] - 1) * t->stride[d];
    }
    if (!empty && t->offset + (size_t)extent * sea_dtype_size(t->dtype) > t->buf->size)
        return vfail(v, SEA_ERR_SHAPE, "%s '%s' (offset %zu, extent %lld elements) overruns its buffer of %zu bytes",
                     kind, name, t->offset, (long long)extent, t->buf->size);
    if (v->dev && t->buf->dev != v->dev)
        return vfail(v, SEA_ERR_DEVICE, "%s '%s' lives on %s, not on the op's device", kind, name,
                     t->buf->dev ? sea_device_label(t->buf->dev) : "no device");
    return SEA_OK;
}

#define IN(i) (op->in[i])
#define OUT(j) (op->out[j])
#define INN(i) in_name(op, i)
#define OUTN(j) out_name(op, j)

static sea_status need_in(const vctx *v, int i)
{
    const sea_op *op = v->op;
    return IN(i) ? SEA_OK : vfail(v, SEA_ERR_INVALID, "missing input in[%d] '%s'", i, INN(i));
}

static sea_status need_out(const vctx *v, int j)
{
    const sea_op *op = v->op;
    return OUT(j) ? SEA_OK : vfail(v, SEA_ERR_INVALID, "missing output out[%d] '%s'", j, OUTN(j));
}

static sea_status want_dtype(const vctx *v, const sea_tensor *t, const char *name, sea_dtype want)
{
    if (t && t->dtype != want)
        return vfail(v, SEA_ERR_DTYPE, "'%s' is %s, expected %s", name, sea_dtype_name(t->dtype), sea_dtype_name(want));
    return SEA_OK;
}

static sea_status want_float(const vctx *v, const sea_tensor *t, const char *name)
{
    if (t && !sea_dtype_is_float(t->dtype))
        return vfail(v, SEA_ERR_DTYPE, "'%s' is %s, expected a float dtype", name, sea_dtype_name(t->dtype));
    return SEA_OK;
}

static sea_status want_contig(const vctx *v, const sea_tensor *t, const char *name)
{
    if (t && !contiguous(t)) return vfail(v, SEA_ERR_SHAPE, "'%s' must be contiguous", name);
    return SEA_OK;
}

static sea_status want_numel(const vctx *v, const sea_tensor *t, const char *name, int64_t n, const char *why)
{
    if (t && numel(t) != n)
        return vfail(v, SEA_ERR_SHAPE, "'%s' has %lld elements, expected %lld (%s)", name, (long long)numel(t),
                     (long long)n, why);
    return SEA_OK;
}

static sea_status want_same(const vctx *v, const sea_tensor *a, const char *an, const sea_tensor *b, const char *bn)
{
    if (a && b && !same_shape(a, b)) return vfail(v, SEA_ERR_SHAPE, "'%s' and '%s' differ in shape", an, bn);
    return SEA_OK;
}

static sea_status want_ndim(const vctx *v, const sea_tensor *t, const char *name, int ndim)
{
    if (t && t->ndim != ndim) return vfail(v, SEA_ERR_SHAPE, "'%s' must have %d dims, has %d", name, ndim, t->ndim);
    return SEA_OK;
}

/* Every float tensor of the op's "main" data path shares in[0]'s dtype. */
static sea_status want_dtype_as(const vctx *v, const sea_tensor *t, const char *name, const sea_tensor *ref, const char *refname)
{
    if (t && ref && t->dtype != ref->dtype)
        return vfail(v, SEA_ERR_DTYPE, "'%s' is %s but '%s' is %s", name, sea_dtype_name(t->dtype), refname,
                     sea_dtype_name(ref->dtype));
    return SEA_OK;
}

/* Float data tensor: float dtype, contiguous. */
static sea_status want_fdata(const vctx *v, const sea_tensor *t, const char *name)
{
    SEA_TRY(want_float(v, t, name));
    return want_contig(v, t, name);
}

/* f32 contiguous (statistics, losses, optimizer state). */
static sea_status want_f32(const vctx *v, const sea_tensor *t, const char *name)
{
    SEA_TRY(want_dtype(v, t, name, SEA_F32));
    return want_contig(v, t, name);
}

static sea_status want_i32(const vctx *v, const sea_tensor *t, const char *name)
{
    SEA_TRY(want_dtype(v, t, name, SEA_I32));
    return want_contig(v, t, name);
}

static sea_status validate_matmul(const vctx *v)
{
    const sea_op *op = v->op;
    const sea_tensor *a = IN(0), *b = IN(1), *bias = IN(2);
    SEA_TRY(need_in(v, 0));
    SEA_TRY(need_in(v, 1));
    SEA_TRY(need_out(v, 0));
    SEA_TRY(want_fdata(v, a, "a"));
    SEA_TRY(want_fdata(v, b, "b"));
    SEA_TRY(want_dtype_as(v, b, "b", a, "a"));
    SEA_TRY(want_dtype_as(v, bias, "bias", a, "a"));
    SEA_TRY(want_contig(v, bias, "bias"));
    if (a->ndim < 2 || a->ndim > 4) return vfail(v, SEA_ERR_SHAPE, "'a' must have 2 to 4 dims (up to 2 batch dims)");
    if (b->ndim != 2 && b->ndim != a->ndim)
        return vfail(v, SEA_ERR_SHAPE, "'b' must have 2 dims or as many as 'a' (%d)", a->ndim);
    int nb = a->ndim - 2;
    int64_t M = op->p.matmul.trans_a ? a->shape[nb + 1] : a->shape[nb];
    int64_t K = op->p.matmul.trans_a ? a->shape[nb] : a->shape[nb + 1];
    int bo = b->ndim - 2;
    int64_t Kb = op->p.matmul.trans_b ? b->shape[bo + 1] : b->shape[bo];
    int64_t N = op->p.matmul.trans_b ? b->shape[bo] : b->shape[bo + 1];
    if (K != Kb)
        return vfail(v, SEA_ERR_SHAPE, "inner dims %lld != %lld (trans_a %d, trans_b %d)", (long long)K, (long long)Kb,
                     op->p.matmul.trans_a, op->p.matmul.trans_b);
    if (b->ndim > 2)
        for (int d = 0; d < nb; d++)
            if (b->shape[d] != a->shape[d]) return vfail(v, SEA_ERR_SHAPE, "batch dim %d of 'a' and 'b' differ", d);
    if (bias && (bias->ndim != 1 || bias->shape[0] != N))
        return vfail(v, SEA_ERR_SHAPE, "'bias' must be (%lld)", (long long)N);
    if ((unsigned)op->p.matmul.act > SEA_ACT_SILU) return vfail(v, SEA_ERR_INVALID, "unknown activation %d", (int)op->p.matmul.act);
    const sea_tensor *res = IN(3);
    if (res) {
        if (op->p.matmul.act != SEA_ACT_NONE)
            return vfail(v, SEA_ERR_INVALID, "a 'residual' goes with act none only (it is added after the bias)");
        if (OUT(1)) return vfail(v, SEA_ERR_INVALID, "a 'residual' goes without 'preact' (out[1])");
        SEA_TRY(want_fdata(v, res, "residual"));
        SEA_TRY(want_same(v, res, "residual", OUT(0), "out"));
        SEA_TRY(want_dtype_as(v, res, "residual", OUT(0), "out"));
        if (overlap(res, OUT(0))) return vfail(v, SEA_ERR_INVALID, "'residual' overlaps 'out' (the GEMM writes out before the residual is read)");
    }
    for (int j = 0; j < 2; j++) {
        const sea_tensor *o = OUT(j);
        if (!o) continue;
        SEA_TRY(want_fdata(v, o, OUTN(j)));
        /* Half-precision operands may produce f32 (mixed precision: logits, score heads). */
        if (!(o->dtype == SEA_F32 && (a->dtype == SEA_BF16 || a->dtype == SEA_F16)))
            SEA_TRY(want_dtype_as(v, o, OUTN(j), a, "a"));
        bool ok = o->ndim == a->ndim && o->shape[nb] == M && o->shape[nb + 1] == N;
        for (int d = 0; ok && d < nb; d++) ok = o->shape[d] == a->shape[d];
        if (!ok) return vfail(v, SEA_ERR_SHAPE, "'%s' must be (..., %lld, %lld) with a's batch dims", OUTN(j), (long long)M, (long long)N);
    }
    if (v->backward && op->p.matmul.act != SEA_ACT_NONE && !OUT(1))
        return vfail(v, SEA_ERR_INVALID, "backward through an activation needs the saved pre-activation out[1]");
    return SEA_OK;
}

static sea_status validate_rope(const vctx *v)
{
    const sea_op *op = v->op;
    SEA_TRY(need_in(v, 0));
    SEA_TRY(need_in(v, 1));
    SEA_TRY(need_out(v, 0));
    const sea_tensor *x = IN(0), *pos = IN(1), *o = OUT(0);
    SEA_TRY(want_float(v, x, "x"));
    SEA_TRY(want_ndim(v, x, "x", 4));
    if (x->stride[3] != 1 && x->shape[3] != 1) return vfail(v, SEA_ERR_SHAPE, "'x' must have last stride 1");
    SEA_TRY(want_i32(v, pos, "positions"));
    if (pos->ndim != 2 || pos->shape[0] != x->shape[0] || pos->shape[1] != x->shape[1])
        return vfail(v, SEA_ERR_SHAPE, "'positions' must be (B, T) = (%lld, %lld)", (long long)x->shape[0], (long long)x->shape[1]);
    SEA_TRY(want_fdata(v, o, "out"));
    SEA_TRY(want_dtype_as(v, o, "out", x, "x"));
    SEA_TRY(want_same(v, o, "out", x, "x"));
    /* In place is the one overlap allowed: out the very contiguous tensor x is. */
    if (overlap(x, o) && !(x->offset == o->offset && contiguous(x) && contiguous(o)))
        return vfail(v, SEA_ERR_INVALID, "'out' overlaps 'x' (rope runs in place only when out is x itself, "
                     "contiguous)");
    const __typeof__(op->p.rope) *r = &op->p.rope;
    if (r->rot_dims <= 0 || r->rot_dims > x->shape[3] || r->rot_dims % 2)
        return vfail(v, SEA_ERR_INVALID, "rot_dims %d must be even and in (0, head dim %lld]", r->rot_dims, (long long)x->shape[3]);
    if (!(r->theta > 0)) return vfail(v, SEA_ERR_INVALID, "theta %g must be > 0", r->theta);
    if ((unsigned)r->style > SEA_ROPE_GPTJ) return vfail(v, SEA_ERR_INVALID, "unknown rope style %d", (int)r->style);
    if (r->scaling == SEA_ROPE_SCALING_LLAMA3) {
        if (!(r->factor > 0) || !(r->low_freq_factor > 0) || !(r->high_freq_factor > r->low_freq_factor) ||
            r->original_max_pos <= 0)
            return vfail(v, SEA_ERR_INVALID,
                         "llama3 scaling needs factor > 0, 0 < low_freq_factor < high_freq_factor and original_max_pos > 0 "
                         "(got %g, %g, %g, %d)", r->factor, r->low_freq_factor, r->high_freq_factor, r->original_max_pos);
    } else if (r->scaling != SEA_ROPE_SCALING_NONE) {
        return vfail(v, SEA_ERR_INVALID, "unknown rope scaling %d", (int)r->scaling);
    }
    return SEA_OK;
}

/* Shared by attention and decode attention. q, k, v: float data of q's dtype. */
/* q, k, v float, one dtype, contiguous; q_strided: q may have any strides but the last
 * (decode attention's q, a head slice of a fused rope output). */
static sea_status want_qkv(const vctx *v, bool q_strided)
{
    const sea_op *op = v->op;
    for (int i = 0; i < 3; i++) {
        if (i == 0 && q_strided) {
            const sea_tensor *q = IN(0);
            SEA_TRY(want_float(v, q, "q"));
            if (q->shape[q->ndim - 1] > 1 && q->stride[q->ndim - 1] != 1)
                return vfail(v, SEA_ERR_SHAPE, "'q' must have last stride 1");
            continue;
        }
        SEA_TRY(want_fdata(v, IN(i), INN(i)));
        SEA_TRY(want_dtype_as(v, IN(i), INN(i), IN(0), "q"));
    }
    return SEA_OK;
}

static sea_status want_head_groups(const vctx *v, int64_t H, int64_t Hkv)
{
    if (Hkv <= 0 || H % Hkv) return vfail(v, SEA_ERR_SHAPE, "query heads %lld not a multiple of kv heads %lld", (long long)H, (long long)Hkv);
    return SEA_OK;
}

/* key_valid i32 (B, len); len_name says which length ("T", "S"). */
static sea_status want_key_valid(const vctx *v, const sea_tensor *kv, int64_t B, int64_t len, const char *len_name)
{
    SEA_TRY(want_i32(v, kv, "key_valid"));
    if (kv->ndim != 2 || kv->shape[0] != B || kv->shape[1] != len)
        return vfail(v, SEA_ERR_SHAPE, "'key_valid' must be (B, %s) = (%lld, %lld)", len_name, (long long)B, (long long)len);
    return SEA_OK;
}

/* out[0] like q; a finite scale. */
static sea_status want_attn_out(const vctx *v)
{
    const sea_op *op = v->op;
    SEA_TRY(want_fdata(v, OUT(0), "out"));
    SEA_TRY(want_dtype_as(v, OUT(0), "out", IN(0), "q"));
    SEA_TRY(want_same(v, OUT(0), "out", IN(0), "q"));
    if (!isfinite(op->p.attn.scale)) return vfail(v, SEA_ERR_INVALID, "scale %g is not finite", op->p.attn.scale);
    return SEA_OK;
}

static sea_status validate_attention(const vctx *v)
{
    const sea_op *op = v->op;
    for (int i = 0; i < 3; i++) SEA_TRY(need_in(v, i));
    SEA_TRY(need_out(v, 0));
    const sea_tensor *q = IN(0), *k = IN(1), *val = IN(2), *kv = IN(3);
    SEA_TRY(want_qkv(v, false));
    for (int i = 0; i < 3; i++) SEA_TRY(want_ndim(v, IN(i), INN(i), 4));
    int64_t B = q->shape[0], T = q->shape[1], H = q->shape[2], hd = q->shape[3], Hkv = k->shape[2];
    if (k->shape[0] != B || k->shape[1] != T || k->shape[3] != hd)
        return vfail(v, SEA_ERR_SHAPE, "'k' must be (B, T, Hkv, hd) = (%lld, %lld, Hkv, %lld)", (long long)B, (long long)T, (long long)hd);
    if (!same_shape(k, val)) return vfail(v, SEA_ERR_SHAPE, "'k' and 'v' differ in shape");
    SEA_TRY(want_head_groups(v, H, Hkv));
    if (kv) SEA_TRY(want_key_valid(v, kv, B, T, "T"));
    SEA_TRY(want_attn_out(v));
    if (OUT(1)) {
        SEA_TRY(want_f32(v, OUT(1), "lse"));
        if (OUT(1)->ndim != 3 || OUT(1)->shape[0] != B || OUT(1)->shape[1] != H || OUT(1)->shape[2] != T)
            return vfail(v, SEA_ERR_SHAPE, "'lse' must be (B, H, T) = (%lld, %lld, %lld)", (long long)B, (long long)H, (long long)T);
    } else if (v->backward) {
        return vfail(v, SEA_ERR_INVALID, "backward needs the saved lse out[1]");
    }
    return SEA_OK;
}

/* Decode attention's optional shared prefix in[4..6]: all three or none; prefix_k and
 * prefix_v (Bp, Sp, Hkv, hd) in the caches' dtype, prefix_valid i32 (Bp, Sp), B % Bp == 0
 * (each prefix row serves B / Bp consecutive sequences). */
static sea_status want_decode_prefix(const vctx *v, int64_t B, int64_t Hkv, int64_t hd)
{
    const sea_op *op = v->op;
    if (!IN(4) && !IN(5) && !IN(6)) return SEA_OK;
    for (int i = 4; i < 7; i++)
        if (!IN(i)) return vfail(v, SEA_ERR_INVALID, "missing input in[%d] '%s' (the prefix inputs in[4..6] come all three or none)", i, INN(i));
    const sea_tensor *pk = IN(4), *pv = IN(5), *pvalid = IN(6);
    for (int i = 4; i < 6; i++) {
        SEA_TRY(want_fdata(v, IN(i), INN(i)));
        SEA_TRY(want_dtype_as(v, IN(i), INN(i), IN(1), "k_cache"));
    }
    SEA_TRY(want_ndim(v, pk, "prefix_k", 4));
    int64_t Bp = pk->shape[0], Sp = pk->shape[1];
    if (pk->shape[2] != Hkv || pk->shape[3] != hd)
        return vfail(v, SEA_ERR_SHAPE, "'prefix_k' must be (Bp, Sp, Hkv, hd) = (Bp, Sp, %lld, %lld)", (long long)Hkv, (long long)hd);
    if (Bp <= 0 || B % Bp)
        return vfail(v, SEA_ERR_SHAPE, "'prefix_k' has %lld rows, which do not divide the batch B = %lld", (long long)Bp, (long long)B);
    if (!same_shape(pk, pv)) return vfail(v, SEA_ERR_SHAPE, "'prefix_k' and 'prefix_v' differ in shape");
    SEA_TRY(want_i32(v, pvalid, "prefix_valid"));
    if (pvalid->ndim != 2 || pvalid->shape[0] != Bp || pvalid->shape[1] != Sp)
        return vfail(v, SEA_ERR_SHAPE, "'prefix_valid' must be (Bp, Sp) = (%lld, %lld)", (long long)Bp, (long long)Sp);
    return SEA_OK;
}

static sea_status validate_decode_attention(const vctx *v)
{
    const sea_op *op = v->op;
    for (int i = 0; i < 4; i++) SEA_TRY(need_in(v, i));
    SEA_TRY(need_out(v, 0));
    const sea_tensor *q = IN(0), *k = IN(1), *val = IN(2);
    SEA_TRY(want_qkv(v, true));
    SEA_TRY(want_ndim(v, q, "q", 3));
    SEA_TRY(want_ndim(v, k, "k_cache", 4));
    int64_t B = q->shape[0], H = q->shape[1], hd = q->shape[2], S = k->shape[1], Hkv = k->shape[2];
    if (k->shape[0] != B || k->shape[3] != hd)
        return vfail(v, SEA_ERR_SHAPE, "'k_cache' must be (B, S, Hkv, hd) = (%lld, S, Hkv, %lld)", (long long)B, (long long)hd);
    if (!same_shape(k, val)) return vfail(v, SEA_ERR_SHAPE, "'k_cache' and 'v_cache' differ in shape");
    SEA_TRY(want_head_groups(v, H, Hkv));
    SEA_TRY(want_key_valid(v, IN(3), B, S, "S"));
    if (op->p.attn.n_keys < 0 || op->p.attn.n_keys > S)
        return vfail(v, SEA_ERR_INVALID, "n_keys %d outside [0, S = %lld]", op->p.attn.n_keys, (long long)S);
    SEA_TRY(want_decode_prefix(v, B, Hkv, hd));
    return want_attn_out(v);
}

/* (rows, D) ops with per-row statistics: layernorm, rmsnorm. */
static sea_status validate_norm(const vctx *v, bool layer)
{
    const sea_op *op = v->op;
    SEA_TRY(need_in(v, 0));
    SEA_TRY(need_in(v, 1));
    SEA_TRY(need_out(v, 0));
    const sea_tensor *x = IN(0);
    SEA_TRY(want_fdata(v, x, "x"));
    if (x->ndim < 1) return vfail(v, SEA_ERR_SHAPE, "'x' must have at least 1 dim");
    int64_t D = last_dim(x), N = rows(x);
    for (int i = 1; i < (layer ? 5 : 2); i++) {
        const sea_tensor *t = IN(i);
        if (!t) continue;
        SEA_TRY(want_fdata(v, t, INN(i)));
        SEA_TRY(want_dtype_as(v, t, INN(i), x, "x"));
        if (t->ndim != 1 || t->shape[0] != D) return vfail(v, SEA_ERR_SHAPE, "'%s' must be (%lld)", INN(i), (long long)D);
    }
    for (int j = 0; j < (layer ? 4 : 1); j += 3) {   /* y and layernorm's y2 */
        if (j == 3 && !IN(3)) {
            if (OUT(3)) return vfail(v, SEA_ERR_INVALID, "'out2' (out[3]) given without 'weight2' (in[3])");
            break;
        }
        SEA_TRY(need_out(v, j));
        SEA_TRY(want_fdata(v, OUT(j), OUTN(j)));
        SEA_TRY(want_dtype_as(v, OUT(j), OUTN(j), x, "x"));
        SEA_TRY(want_same(v, OUT(j), OUTN(j), x, "x"));
    }
    if (layer && IN(4) && !IN(3)) return vfail(v, SEA_ERR_INVALID, "'bias2' (in[4]) given without 'weight2' (in[3])");
    for (int j = 1; j < (layer ? 3 : 2); j++) {
        if (!OUT(j)) {
            if (v->backward) return vfail(v, SEA_ERR_INVALID, "backward needs the saved '%s' out[%d]", OUTN(j), j);
            continue;
        }
        SEA_TRY(want_f32(v, OUT(j), OUTN(j)));
        SEA_TRY(want_numel(v, OUT(j), OUTN(j), N, "one per row of x"));
    }
    if (!(op->p.norm.eps >= 0)) return vfail(v, SEA_ERR_INVALID, "eps %g must be >= 0", op->p.norm.eps);
    return SEA_OK;
}

/* Elementwise one- or two-input ops with out shaped like in[0]. */
static sea_status validate_elementwise(const vctx *v, int n_in, bool broadcast)
{
    const sea_op *op = v->op;
    for (int i = 0; i < n_in; i++) SEA_TRY(need_in(v, i));
    SEA_TRY(need_out(v, 0));
    const sea_tensor *a = IN(0);
    for (int i = 0; i < n_in; i++) {
        SEA_TRY(want_fdata(v, IN(i), INN(i)));
        SEA_TRY(want_dtype_as(v, IN(i), INN(i), a, INN(0)));
    }
    if (n_in == 2) {
        const sea_tensor *b = IN(1);
        bool ok = same_shape(a, b);
        if (!ok && broadcast) {
            int nb = b->ndim;
            while (nb > 0 && b->shape[b->ndim - nb] == 1 && nb > a->ndim) nb--;
            ok = nb <= a->ndim;
            for (int k = 0; ok && k < nb; k++) ok = b->shape[b->ndim - nb + k] == a->shape[a->ndim - nb + k];
        }
        if (!ok)
            return vfail(v, SEA_ERR_SHAPE, "'%s' must have the shape of '%s'%s", INN(1), INN(0),
                         broadcast ? " or a suffix of it (broadcast over leading dims)" : "");
    }
    SEA_TRY(want_fdata(v, OUT(0), OUTN(0)));
    SEA_TRY(want_dtype_as(v, OUT(0), OUTN(0), a, INN(0)));
    return want_same(v, OUT(0), OUTN(0), a, INN(0));
}

/* logits (..., V) + targets (rows) ops. */
static sea_status validate_logits_targets(const vctx *v, bool loss)
{
    const sea_op *op = v->op;
    SEA_TRY(need_in(v, 0));
    SEA_TRY(need_in(v, 1));
    SEA_TRY(need_out(v, 0));
    const sea_tensor *x = IN(0);
    SEA_TRY(want_fdata(v, x, "logits"));
    if (x->ndim < 1) return vfail(v, SEA_ERR_SHAPE, "'logits' must have at least 1 dim");
    int64_t N = rows(x);
    SEA_TRY(want_i32(v, IN(1), "targets"));
    SEA_TRY(want_numel(v, IN(1), "targets", N, "one per row of logits"));
    SEA_TRY(want_f32(v, OUT(0), OUTN(0)));
    SEA_TRY(want_numel(v, OUT(0), OUTN(0), loss ? 1 : N, loss ? "a scalar" : "one per row of logits"));
    if (OUT(1)) {
        SEA_TRY(want_f32(v, OUT(1), "lse"));
        SEA_TRY(want_numel(v, OUT(1), "lse", N, "one per row of logits"));
    } else if (v->backward) {
        return vfail(v, SEA_ERR_INVALID, "backward needs the saved lse out[1]");
    }
    return SEA_OK;
}

static sea_status validate_ensemble(const vctx *v)
{
    const sea_op *op = v->op;
    for (int i = 0; i < 7; i++) SEA_TRY(need_in(v, i));
    SEA_TRY(need_out(v, 0));
    const sea_tensor *x = IN(0);
    for (int i = 0; i < 7; i++) {
        SEA_TRY(want_fdata(v, IN(i), INN(i)));
        SEA_TRY(want_dtype_as(v, IN(i), INN(i), x, "x"));
    }
    SEA_TRY(want_ndim(v, x, "x", 2));
    SEA_TRY(want_ndim(v, IN(1), "W1", 3));
    int64_t N = x->shape[0], d = x->shape[1], K = IN(1)->shape[0], h = IN(1)->shape[2];
    const int64_t want[7][3] = {{N, d, 0}, {K, d, h}, {K, h, 0}, {K, h, h}, {K, h, 0}, {K, h, 0}, {K, 0, 0}};
    const int nd[7] = {2, 3, 2, 3, 2, 2, 1};
    for (int i = 1; i < 7; i++) {
        const sea_tensor *t = IN(i);
        bool ok = t->ndim == nd[i];
        for (int k = 0; ok && k < nd[i]; k++) ok = t->shape[k] == want[i][k];
        if (!ok)
            return vfail(v, SEA_ERR_SHAPE, "'%s' must be %s with K %lld, d %lld, h %lld", INN(i),
                         (const char *[]){"", "(K, d, h)", "(K, h)", "(K, h, h)", "(K, h)", "(K, h)", "(K)"}[i],
                         (long long)K, (long long)d, (long long)h);
    }
    SEA_TRY(want_fdata(v, OUT(0), "r"));
    SEA_TRY(want_dtype_as(v, OUT(0), "r", x, "x"));
    if (OUT(0)->ndim != 2 || OUT(0)->shape[0] != K || OUT(0)->shape[1] != N)
        return vfail(v, SEA_ERR_SHAPE, "'r' must be (K, N) = (%lld, %lld)", (long long)K, (long long)N);
    for (int j = 1; j < 3; j++) {
        const sea_tensor *t = OUT(j);
        if (!t) {
            if (v->backward) return vfail(v, SEA_ERR_INVALID, "backward needs the saved activations '%s' out[%d]", OUTN(j), j);
            continue;
        }
        SEA_TRY(want_fdata(v, t, OUTN(j)));
        SEA_TRY(want_dtype_as(v, t, OUTN(j), x, "x"));
        if (t->ndim != 3 || t->shape[0] != K || t->shape[1] != N || t->shape[2] != h)
            return vfail(v, SEA_ERR_SHAPE, "'%s' must be (K, N, h) = (%lld, %lld, %lld)", OUTN(j), (long long)K, (long long)N, (long long)h);
    }
    return SEA_OK;
}

static sea_status validate_set_rows(const vctx *v)
{
    const sea_op *op = v->op;
    SEA_TRY(need_in(v, 0));
    SEA_TRY(need_in(v, 1));
    SEA_TRY(need_out(v, 0));
    SEA_TRY(want_ndim(v, IN(0), "x", 2));
    SEA_TRY(want_ndim(v, OUT(0), "dst", 2));
    SEA_TRY(want_i32(v, IN(1), "rows"));
    const sea_tensor *x = IN(0);
    if (x->shape[1] > 1 && x->stride[1] != 1) return vfail(v, SEA_ERR_SHAPE, "'x' must have last stride 1");
    if (x->shape[0] > 1 && x->stride[0] < x->shape[1])
        return vfail(v, SEA_ERR_SHAPE, "'x' rows overlap (row stride %lld < %lld)", (long long)x->stride[0], (long long)x->shape[1]);
    SEA_TRY(want_contig(v, OUT(0), "dst"));
    SEA_TRY(want_dtype_as(v, OUT(0), "dst", IN(0), "x"));
    SEA_TRY(want_numel(v, IN(1), "rows", IN(0)->shape[0], "one row index per row of x"));
    if (OUT(0)->shape[1] != IN(0)->shape[1])
        return vfail(v, SEA_ERR_SHAPE, "'dst' rows have %lld elements, 'x' rows %lld", (long long)OUT(0)->shape[1],
                     (long long)IN(0)->shape[1]);
    return SEA_OK;
}

static sea_status validate_forward(const vctx *v)
{
    const sea_op *op = v->op;
    switch (op->kind) {
    case SEA_OP_FILL:
        SEA_TRY(need_out(v, 0));
        if (OUT(0)->dtype == SEA_I32 && !(op->p.fill.value >= INT32_MIN && op->p.fill.value <= INT32_MAX))
            return vfail(v, SEA_ERR_INVALID, "value %g does not fit i32", op->p.fill.value);
        return SEA_OK;
    case SEA_OP_COPY:
        SEA_TRY(need_in(v, 0));
        SEA_TRY(need_out(v, 0));
        for (int d = 0; d < OUT(0)->ndim; d++)
            if (OUT(0)->shape[d] > 1 && OUT(0)->stride[d] == 0)
                return vfail(v, SEA_ERR_SHAPE, "'dst' has a zero stride in dim %d (overlapping writes)", d);
        return want_same(v, OUT(0), "dst", IN(0), "src");
    case SEA_OP_EMBEDDING: {
        SEA_TRY(need_in(v, 0));
        SEA_TRY(need_in(v, 1));
        SEA_TRY(need_out(v, 0));
        SEA_TRY(want_fdata(v, IN(0), "table"));
        SEA_TRY(want_ndim(v, IN(0), "table", 2));
        SEA_TRY(want_i32(v, IN(1), "ids"));
        SEA_TRY(want_fdata(v, OUT(0), "out"));
        SEA_TRY(want_dtype_as(v, OUT(0), "out", IN(0), "table"));
        int64_t D = IN(0)->shape[1];
        if (last_dim(OUT(0)) != D || numel(OUT(0)) != numel(IN(1)) * D)
            return vfail(v, SEA_ERR_SHAPE, "'out' must be (N, D) = (%lld, %lld)", (long long)numel(IN(1)), (long long)D);
        return SEA_OK;
    }
    case SEA_OP_MATMUL: return validate_matmul(v);
    case SEA_OP_SET_ROWS: return validate_set_rows(v);
    case SEA_OP_LAYERNORM: return validate_norm(v, true);
    case SEA_OP_RMSNORM: return validate_norm(v, false);
    case SEA_OP_ROPE: return validate_rope(v);
    case SEA_OP_ATTENTION: return validate_attention(v);
    case SEA_OP_DECODE_ATTENTION: return validate_decode_attention(v);
    case SEA_OP_GELU:
    case SEA_OP_SILU:
    case SEA_OP_RELU:
    case SEA_OP_SCALE:
    case SEA_OP_SOFTMAX: return validate_elementwise(v, 1, false);
    case SEA_OP_SWIGLU: return validate_elementwise(v, 2, false);
    case SEA_OP_ADD:
    case SEA_OP_MUL: return validate_elementwise(v, 2, true);
    case SEA_OP_LOGSOFTMAX_GATHER: return validate_logits_targets(v, false);
    case SEA_OP_CROSS_ENTROPY: return validate_logits_targets(v, true);
    case SEA_OP_MASKED_SUM:
        SEA_TRY(need_in(v, 0));
        SEA_TRY(need_in(v, 1));
        SEA_TRY(need_out(v, 0));
        SEA_TRY(want_fdata(v, IN(0), "x"));
        SEA_TRY(want_f32(v, IN(1), "mask"));
        SEA_TRY(want_same(v, IN(1), "mask", IN(0), "x"));
        SEA_TRY(want_f32(v, OUT(0), "out"));
        return want_numel(v, OUT(0), "out", rows(IN(0)), "one per row of x");
    case SEA_OP_SAMPLE: {
        SEA_TRY(need_in(v, 0));
        SEA_TRY(need_in(v, 1));
        SEA_TRY(need_out(v, 0));
        SEA_TRY(want_f32(v, IN(0), "logits"));
        SEA_TRY(want_ndim(v, IN(0), "logits", 2));
        int64_t B = IN(0)->shape[0];
        SEA_TRY(want_i32(v, IN(1), "seq_ids"));
        SEA_TRY(want_numel(v, IN(1), "seq_ids", B, "one per row of logits"));
        SEA_TRY(want_i32(v, OUT(0), "tokens"));
        SEA_TRY(want_numel(v, OUT(0), "tokens", B, "one per row of logits"));
        SEA_TRY(want_f32(v, OUT(1), "logp"));
        SEA_TRY(want_numel(v, OUT(1), "logp", B, "one per row of logits"));
        const __typeof__(op->p.sample) *p = &op->p.sample;
        if (!(p->temperature >= 0) || !isfinite(p->temperature))
            return vfail(v, SEA_ERR_INVALID, "temperature %g must be finite and >= 0", p->temperature);
        if (p->top_k < 0) return vfail(v, SEA_ERR_INVALID, "top_k %d must be >= 0", p->top_k);
        if (!(p->top_p > 0 && p->top_p <= 1)) return vfail(v, SEA_ERR_INVALID, "top_p %g must be in (0, 1]", p->top_p);
        return SEA_OK;
    }
    case SEA_OP_ENSEMBLE_MLP: return validate_ensemble(v);
    case SEA_OP_ADAMW: {
        SEA_TRY(need_in(v, 0));
        for (int j = 0; j < 3; j++) SEA_TRY(need_out(v, j));
        SEA_TRY(want_f32(v, IN(0), "grad"));
        int64_t n = numel(IN(0));
        for (int j = 0; j < 3; j++) {
            SEA_TRY(want_f32(v, OUT(j), OUTN(j)));
            SEA_TRY(want_numel(v, OUT(j), OUTN(j), n, "as many as grad"));
        }
        const __typeof__(op->p.adamw) *p = &op->p.adamw;
        if (p->step < 1) return vfail(v, SEA_ERR_INVALID, "step %d must be >= 1", p->step);
        if (!(p->beta1 >= 0 && p->beta1 < 1) || !(p->beta2 >= 0 && p->beta2 < 1) || !(p->eps > 0))
            return vfail(v, SEA_ERR_INVALID, "needs 0 <= beta1, beta2 < 1 and eps > 0 (got %g, %g, %g)", p->beta1, p->beta2, p->eps);
        return SEA_OK;
    }
    case SEA_OP_GLOBAL_NORM:
        SEA_TRY(need_in(v, 0));
        SEA_TRY(need_out(v, 0));
        SEA_TRY(want_f32(v, IN(0), "x"));
        SEA_TRY(want_f32(v, OUT(0), "out"));
        return want_numel(v, OUT(0), "out", 1, "a scalar");
    case SEA_OP_CLIP:
        SEA_TRY(need_in(v, 0));
        SEA_TRY(need_out(v, 0));
        SEA_TRY(want_f32(v, IN(0), "norm"));
        SEA_TRY(want_numel(v, IN(0), "norm", 1, "a scalar"));
        SEA_TRY(want_f32(v, OUT(0), "grad"));
        if (!(op->p.clip.max_norm > 0)) return vfail(v, SEA_ERR_INVALID, "max_norm %g must be > 0", op->p.clip.max_norm);
        return SEA_OK;
    default:
        return vfail(v, SEA_ERR_INVALID, "unknown op kind %d", (int)op->kind);
    }
}

/* Gradients mirror their tensors; which inputs are differentiable is per op. */
static bool differentiable_input(sea_op_kind k, int i)
{
    switch (k) {
    case SEA_OP_COPY: return i == 0;
    case SEA_OP_EMBEDDING: return i == 0;
    case SEA_OP_MATMUL: return i < 4;
    case SEA_OP_LAYERNORM: return i < 5;
    case SEA_OP_RMSNORM: return i < 2;
    case SEA_OP_ROPE: return i == 0;
    case SEA_OP_ATTENTION: return i < 3;
    case SEA_OP_SWIGLU: case SEA_OP_ADD: case SEA_OP_MUL: return i < 2;
    case SEA_OP_ENSEMBLE_MLP: return i < 7;
    default: return i == 0;
    }
}

/* The inputs that are model weights (matmul's B and bias, the norms' weights and biases, the
 * embedding table): the ones whose gradient may be f32 when they are bf16/f16. */
static bool weight_input(sea_op_kind k, int i)
{
    switch (k) {
    case SEA_OP_MATMUL: return i == 1 || i == 2;
    case SEA_OP_LAYERNORM: return i >= 1 && i <= 4;
    case SEA_OP_RMSNORM: return i == 1;
    case SEA_OP_EMBEDDING: return i == 0;
    default: return false;
    }
}

static sea_status validate_backward(const vctx *v)
{
    const sea_op *op = v->op;
    if (!sea_op_has_backward(op->kind)) return vfail(v, SEA_ERR_INVALID, "this op has no backward");
    SEA_TRY(validate_forward(v));
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        sea_tensor *g = op->gin[i];
        if (!g || !differentiable_input(op->kind, i)) continue;
        if (!IN(i)) return vfail(v, SEA_ERR_INVALID, "gin[%d] given for absent input '%s'", i, INN(i));
        SEA_TRY(check_tensor(v, g, "gradient of", INN(i)));
        char name[64];
        snprintf(name, sizeof name, "gradient of %s", INN(i));
        SEA_TRY(want_float(v, g, name));
        if (op->kind == SEA_OP_ROPE) {
            /* like x, the gradient may be a strided view (of a fused qkv gradient) */
            SEA_TRY(want_dtype_as(v, g, name, IN(i), INN(i)));
            if (g->ndim != 4 || (g->stride[3] != 1 && g->shape[3] != 1))
                return vfail(v, SEA_ERR_SHAPE, "'%s' must have 4 dims and last stride 1", name);
        } else if (op->kind != SEA_OP_COPY) {
            SEA_TRY(want_contig(v, g, name));
            /* A half-precision weight may accumulate its gradient in f32 (mixed precision:
             * the f32 gradient of the master weights, models/model_precision.c). */
            bool f32_weight_grad = weight_input(op->kind, i) && g->dtype == SEA_F32 &&
                                   (IN(i)->dtype == SEA_BF16 || IN(i)->dtype == SEA_F16);
            if (!f32_weight_grad) SEA_TRY(want_dtype_as(v, g, name, IN(i), INN(i)));
        }
        if (!same_shape(g, IN(i))) return vfail(v, SEA_ERR_SHAPE, "'%s' differs in shape from '%s'", name, INN(i));
    }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        const sea_tensor *g = op->gout[j];
        if (!g) continue;
        if (!OUT(j)) return vfail(v, SEA_ERR_INVALID, "gout[%d] given for absent output '%s'", j, OUTN(j));
        SEA_TRY(check_tensor(v, g, "gradient of", OUTN(j)));
        char name[64];
        snprintf(name, sizeof name, "gradient of %s", OUTN(j));
        SEA_TRY(want_float(v, g, name));
        if (op->kind != SEA_OP_COPY) {
            SEA_TRY(want_contig(v, g, name));
            SEA_TRY(want_dtype_as(v, g, name, OUT(j), OUTN(j)));
        }
        if (!same_shape(g, OUT(j))) return vfail(v, SEA_ERR_SHAPE, "'%s' differs in shape from '%s'", name, OUTN(j));
        if (op->kind == SEA_OP_ROPE && g->ndim != 4) return vfail(v, SEA_ERR_SHAPE, "'%s' must have 4 dims", name);
    }
    if (op->kind == SEA_OP_COPY && (!sea_dtype_is_float(IN(0)->dtype) || !sea_dtype_is_float(OUT(0)->dtype)))
        return vfail(v, SEA_ERR_DTYPE, "backward of copy needs float tensors");
    return SEA_OK;
}

/* First present tensor decides the device; check_tensor then compares all others to it. */
static const sea_device *op_device(const sea_op *op)
{
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (op->out[j] && op->out[j]->buf) return op->out[j]->buf->dev;
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (op->in[i] && op->in[i]->buf) return op->in[i]->buf->dev;
    return NULL;
}

sea_status sea_op_validate(const sea_op *op, bool backward)
{
    if (!op) return sea_error(SEA_ERR_INVALID, "sea_op_validate: op is NULL");
    vctx v = {op, backward, op_device(op)};
    if ((unsigned)op->kind >= SEA_OP_COUNT) return vfail(&v, SEA_ERR_INVALID, "unknown op kind %d", (int)op->kind);
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (op->in[i]) SEA_TRY(check_tensor(&v, op->in[i], "input", in_name(op, i)));
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (op->out[j]) SEA_TRY(check_tensor(&v, op->out[j], "output", out_name(op, j)));
    return backward ? validate_backward(&v) : validate_forward(&v);
}

/* With no supports() a backend runs f32 data (and i32 index/token tensors). */
static bool default_supports(sea_op_kind kind, sea_dtype in0, sea_dtype out0)
{
    switch (kind) {
    case SEA_OP_FILL: return out0 == SEA_F32 || out0 == SEA_I32;
    case SEA_OP_COPY: return (in0 == SEA_F32 || in0 == SEA_I32) && (out0 == SEA_F32 || out0 == SEA_I32);
    case SEA_OP_SAMPLE: return in0 == SEA_F32 && out0 == SEA_I32;
    case SEA_OP_CLIP: return out0 == SEA_F32;
    case SEA_OP_SET_ROWS: return in0 == out0 && (in0 == SEA_F32 || in0 == SEA_I32);
    default: return in0 == SEA_F32 && out0 == SEA_F32;
    }
}

static sea_status check_stream(sea_stream *s, const sea_op *op, bool backward)
{
    vctx v = {op, backward, op_device(op)};
    if (!s || !s->dev) return vfail(&v, SEA_ERR_INVALID, "no stream given");
    if (v.dev != s->dev)
        return vfail(&v, SEA_ERR_DEVICE, "tensors live on %s but the stream belongs to %s",
                     v.dev ? sea_device_label(v.dev) : "no device", sea_device_label(s->dev));
    const struct sea_backend_ops *be = s->dev->backend;
    sea_dtype in0 = op->in[0] ? op->in[0]->dtype : SEA_F32;
    sea_dtype out0 = op->out[0] ? op->out[0]->dtype : in0;
    if (!op->in[0]) in0 = out0;
    bool ok = be->supports ? be->supports(op->kind, in0, out0) : default_supports(op->kind, in0, out0);
    if (!ok)
        return vfail(&v, SEA_ERR_UNSUPPORTED, "the %s backend does not run this op with %s input and %s output",
                     be->name, sea_dtype_name(in0), sea_dtype_name(out0));
    return SEA_OK;
}

/* A recorded op must carry the outputs its backward will read. */
static sea_status check_saved_for_tape(sea_stream *s, const sea_op *op)
{
    bool needs = false;
    for (int i = 0; i < SEA_OP_MAX_IN && !needs; i++)
        needs = op->in[i] && differentiable_input(op->kind, i) && sea_tape_requires_grad(s->tape, op->in[i]);
    if (!needs) return SEA_OK;
    vctx v = {op, false, op_device(op)};
    int saved[SEA_OP_MAX_OUT] = {0};
    switch (op->kind) {
    case SEA_OP_MATMUL: saved[1] = op->p.matmul.act != SEA_ACT_NONE; break;
    case SEA_OP_LAYERNORM: saved[1] = saved[2] = 1; break;
    case SEA_OP_RMSNORM: saved[1] = 1; break;
    case SEA_OP_ATTENTION: saved[1] = 1; break;
    case SEA_OP_LOGSOFTMAX_GATHER: case SEA_OP_CROSS_ENTROPY: saved[1] = 1; break;
    case SEA_OP_ENSEMBLE_MLP: saved[1] = saved[2] = 1; break;
    default: break;
    }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (saved[j] && !op->out[j])
            return vfail(&v, SEA_ERR_INVALID, "recording on a tape needs the saved output out[%d] '%s'", j, out_name(op, j));
    return SEA_OK;
}

/* Run one kernel, timed when SEA_PROFILE is set (see op_profile.h). */
static sea_status run_kernel(sea_stream *s, const sea_op *op, bool backward)
{
    const struct sea_backend_ops *be = s->dev->backend;
    if (!sea_op_profile_enabled()) return backward ? be->op_backward(s, op) : be->op_forward(s, op);
    SEA_TRY(sea_stream_sync(s));
    double t0 = sea_op_profile_now();
    SEA_TRY(backward ? be->op_backward(s, op) : be->op_forward(s, op));
    SEA_TRY(sea_stream_sync(s));
    sea_op_profile_add(op, backward, sea_op_profile_now() - t0);
    return SEA_OK;
}

/* An op on a capturing stream (graph.h): recorded; run only by a backend that captures
 * natively (it then enqueues into its graph instead of executing). Never timed: timing
 * syncs, which a capture cannot do. */
static sea_status capture_op(sea_stream *s, const sea_op *op)
{
    if (s->tape) {
        vctx v = {op, false, s->dev};
        return vfail(&v, SEA_ERR_INVALID, "a stream cannot capture a graph and record a tape at once");
    }
    SEA_TRY(sea_graph_record_op(s, op));
    if (s->dev->backend->graph_begin) return s->dev->backend->op_forward(s, op);
    return SEA_OK;
}

sea_status sea_op_run(sea_stream *s, const sea_op *op)
{
    SEA_TRY(sea_op_validate(op, false));
    SEA_TRY(check_stream(s, op, false));
    if (s->capture) return capture_op(s, op);
    bool record = s->tape && sea_op_has_backward(op->kind);
    if (record) SEA_TRY(check_saved_for_tape(s, op));
    for (int j = 0; j < SEA_OP_MAX_OUT; j++)
        if (op->out[j] && op->out[j]->buf) op->out[j]->buf->writes++;
    SEA_TRY(run_kernel(s, op, false));
    if (record) SEA_TRY(sea_tape_record(s->tape, op));
    return SEA_OK;
}

sea_status sea_op_run_backward(sea_stream *s, const sea_op *op)
{
    SEA_TRY(sea_op_validate(op, true));
    SEA_TRY(check_stream(s, op, true));
    if (!s->dev->backend->op_backward) {
        vctx v = {op, true, s->dev};
        return vfail(&v, SEA_ERR_UNSUPPORTED, "the %s backend has no backward kernels", s->dev->backend->name);
    }
    if (s->capture) {
        vctx v = {op, true, s->dev};
        return vfail(&v, SEA_ERR_INVALID, "backward ops cannot be captured in a graph");
    }
    for (int i = 0; i < SEA_OP_MAX_IN; i++)
        if (op->gin[i] && op->gin[i]->buf) op->gin[i]->buf->writes++;
    return run_kernel(s, op, true);
}

/* Convenience wrappers: build the op, run it. */
static sea_op op_make(sea_op_kind kind)
{
    sea_op op;
    memset(&op, 0, sizeof op);
    op.kind = kind;
    return op;
}

sea_status sea_fill(sea_stream *s, sea_tensor *out, double value)
{
    sea_op op = op_make(SEA_OP_FILL);
    op.out[0] = out;
    op.p.fill.value = value;
    return sea_op_run(s, &op);
}

sea_status sea_copy(sea_stream *s, const sea_tensor *in, sea_tensor *out)
{
    sea_op op = op_make(SEA_OP_COPY);
    op.in[0] = in;
    op.out[0] = out;
    return sea_op_run(s, &op);
}

sea_status sea_embedding(sea_stream *s, const sea_tensor *table, const sea_tensor *ids, sea_tensor *out)
{
    sea_op op = op_make(SEA_OP_EMBEDDING);
    op.in[0] = table;
    op.in[1] = ids;
    op.out[0] = out;
    return sea_op_run(s, &op);
}

sea_status sea_matmul(sea_stream *s, const sea_tensor *a, const sea_tensor *b, const sea_tensor *bias, bool trans_a,
                      bool trans_b, sea_act act, sea_tensor *out, sea_tensor *preact)
{
    sea_op op = op_make(SEA_OP_MATMUL);
    op.in[0] = a;
    op.in[1] = b;
    op.in[2] = bias;
    op.out[0] = out;
    op.out[1] = preact;
    op.p.matmul.trans_a = trans_a;
    op.p.matmul.trans_b = trans_b;
    op.p.matmul.act = act;
    return sea_op_run(s, &op);
}

sea_status sea_layernorm(sea_stream *s, const sea_tensor *x, const sea_tensor *w, const sea_tensor *b, float eps,
                         sea_tensor *out, sea_tensor *mean, sea_tensor *rstd)
{
    sea_op op = op_make(SEA_OP_LAYERNORM);
    op.in[0] = x;
    op.in[1] = w;
    op.in[2] = b;
    op.out[0] = out;
    op.out[1] = mean;
    op.out[2] = rstd;
    op.p.norm.eps = eps;
    return sea_op_run(s, &op);
}

sea_status sea_rmsnorm(sea_stream *s, const sea_tensor *x, const sea_tensor *w, float eps, sea_tensor *out, sea_tensor *rstd)
{
    sea_op op = op_make(SEA_OP_RMSNORM);
    op.in[0] = x;
    op.in[1] = w;
    op.out[0] = out;
    op.out[1] = rstd;
    op.p.norm.eps = eps;
    return sea_op_run(s, &op);
}

sea_status sea_rope(sea_stream *s, const sea_tensor *x, const sea_tensor *positions, const sea_op_params *rope_params,
                    sea_tensor *out)
{
    sea_op op = op_make(SEA_OP_ROPE);
    if (!rope_params) return sea_error(SEA_ERR_INVALID, "rope: no parameters given");
    op.in[0] = x;
    op.in[1] = positions;
    op.out[0] = out;
    op.p = *rope_params;
    return sea_op_run(s, &op);
}

sea_status sea_attention(sea_stream *s, const sea_tensor *q, const sea_tensor *k, const sea_tensor *v,
                         const sea_tensor *key_valid, float scale, sea_tensor *out, sea_tensor *lse)
{
    sea_op op = op_make(SEA_OP_ATTENTION);
    op.in[0] = q;
    op.in[1] = k;
    op.in[2] = v;
    op.in[3] = key_valid;
    op.out[0] = out;
    op.out[1] = lse;
    op.p.attn.scale = scale;
    return sea_op_run(s, &op);
}

sea_status sea_decode_attention(sea_stream *s, const sea_tensor *q, const sea_tensor *k_cache, const sea_tensor *v_cache,
                                const sea_tensor *key_valid, const sea_tensor *prefix_k, const sea_tensor *prefix_v,
                                const sea_tensor *prefix_valid, int n_keys, float scale, sea_tensor *out)
{
    sea_op op = op_make(SEA_OP_DECODE_ATTENTION);
    op.in[0] = q;
    op.in[1] = k_cache;
    op.in[2] = v_cache;
    op.in[3] = key_valid;
    op.in[4] = prefix_k;
    op.in[5] = prefix_v;
    op.in[6] = prefix_valid;
    op.out[0] = out;
    op.p.attn.scale = scale;
    op.p.attn.n_keys = n_keys;
    return sea_op_run(s, &op);
}

sea_status sea_set_rows(sea_stream *s, const sea_tensor *x, const sea_tensor *rows, sea_tensor *dst)
{
    sea_op op = op_make(SEA_OP_SET_ROWS);
    op.in[0] = x;
    op.in[1] = rows;
    op.out[0] = dst;
    return sea_op_run(s, &op);
}

static sea_status unary(sea_stream *s, sea_op_kind kind, const sea_tensor *x, sea_tensor *out, sea_op_params p)
{
    sea_op op = op_make(kind);
    op.in[0] = x;
    op.out[0] = out;
    op.p = p;
    return sea_op_run(s, &op);
}

static sea_status binary(sea_stream *s, sea_op_kind kind, const sea_tensor *a, const sea_tensor *b, sea_tensor *out)
{
    sea_op op = op_make(kind);
    op.in[0] = a;
    op.in[1] = b;
    op.out[0] = out;
    return sea_op_run(s, &op);
}

sea_status sea_gelu(sea_stream *s, const sea_tensor *x, bool approximate, sea_tensor *out)
{
    sea_op_params p = {.act = {approximate}};
    return unary(s, SEA_OP_GELU, x, out, p);
}

sea_status sea_silu(sea_stream *s, const sea_tensor *x, sea_tensor *out)
{
    return unary(s, SEA_OP_SILU, x, out, (sea_op_params){.fill = {0}});
}

sea_status sea_relu(sea_stream *s, const sea_tensor *x, sea_tensor *out)
{
    return unary(s, SEA_OP_RELU, x, out, (sea_op_params){.fill = {0}});
}

sea_status sea_swiglu(sea_stream *s, const sea_tensor *gate, const sea_tensor *up, sea_tensor *out)
{
    return binary(s, SEA_OP_SWIGLU, gate, up, out);
}

sea_status sea_add(sea_stream *s, const sea_tensor *a, const sea_tensor *b, sea_tensor *out)
{
    return binary(s, SEA_OP_ADD, a, b, out);
}

sea_status sea_mul(sea_stream *s, const sea_tensor *a, const sea_tensor *b, sea_tensor *out)
{
    return binary(s, SEA_OP_MUL, a, b, out);
}

sea_status sea_scale(sea_stream *s, const sea_tensor *x, float alpha, sea_tensor *out)
{
    sea_op_params p = {.scale = {alpha}};
    return unary(s, SEA_OP_SCALE, x, out, p);
}

sea_status sea_softmax(sea_stream *s, const sea_tensor *x, sea_tensor *out)
{
    return unary(s, SEA_OP_SOFTMAX, x, out, (sea_op_params){.fill = {0}});
}

sea_status sea_logsoftmax_gather(sea_stream *s, const sea_tensor *logits, const sea_tensor *targets, sea_tensor *logp,
                                 sea_tensor *lse)
{
    sea_op op = op_make(SEA_OP_LOGSOFTMAX_GATHER);
    op.in[0] = logits;
    op.in[1] = targets;
    op.out[0] = logp;
    op.out[1] = lse;
    return sea_op_run(s, &op);
}

sea_status sea_cross_entropy(sea_stream *s, const sea_tensor *logits, const sea_tensor *targets, sea_tensor *loss,
                             sea_tensor *lse)
{
    sea_op op = op_make(SEA_OP_CROSS_ENTROPY);
    op.in[0] = logits;
    op.in[1] = targets;
    op.out[0] = loss;
    op.out[1] = lse;
    return sea_op_run(s, &op);
}

sea_status sea_masked_sum(sea_stream *s, const sea_tensor *x, const sea_tensor *mask, bool mean, sea_tensor *out)
{
    sea_op op = op_make(SEA_OP_MASKED_SUM);
    op.in[0] = x;
    op.in[1] = mask;
    op.out[0] = out;
    op.p.masked.mean = mean;
    return sea_op_run(s, &op);
}

sea_status sea_sample(sea_stream *s, const sea_tensor *logits, const sea_tensor *seq_ids, float temperature, int top_k,
                      float top_p, uint64_t seed, uint32_t step, sea_tensor *tokens, sea_tensor *logp)
{
    sea_op op = op_make(SEA_OP_SAMPLE);
    op.in[0] = logits;
    op.in[1] = seq_ids;
    op.out[0] = tokens;
    op.out[1] = logp;
    op.p.sample.temperature = temperature;
    op.p.sample.top_k = top_k;
    op.p.sample.top_p = top_p;
    op.p.sample.seed = seed;
    op.p.sample.step = step;
    return sea_op_run(s, &op);
}

sea_status sea_ensemble_mlp(sea_stream *s, const sea_tensor *x, const sea_tensor *const w[6], sea_tensor *r,
                            sea_tensor *h1, sea_tensor *h2)
{
    sea_op op = op_make(SEA_OP_ENSEMBLE_MLP);
    if (!w) return sea_error(SEA_ERR_INVALID, "ensemble_mlp: no weights given");
    op.in[0] = x;
    for (int i = 0; i < 6; i++) op.in[1 + i] = w[i];
    op.out[0] = r;
    op.out[1] = h1;
    op.out[2] = h2;
    return sea_op_run(s, &op);
}

sea_status sea_adamw(sea_stream *s, sea_tensor *param, const sea_tensor *grad, sea_tensor *m, sea_tensor *v, float lr,
                     float beta1, float beta2, float eps, float weight_decay, float l2, int step)
{
    sea_op op = op_make(SEA_OP_ADAMW);
    op.in[0] = grad;
    op.out[0] = param;
    op.out[1] = m;
    op.out[2] = v;
    op.p.adamw.lr = lr;
    op.p.adamw.beta1 = beta1;
    op.p.adamw.beta2 = beta2;
    op.p.adamw.eps = eps;
    op.p.adamw.weight_decay = weight_decay;
    op.p.adamw.l2 = l2;
    op.p.adamw.step = step;
    return sea_op_run(s, &op);
}

sea_status sea_global_norm(sea_stream *s, const sea_tensor *x, sea_tensor *out)
{
    sea_op op = op_make(SEA_OP_GLOBAL_NORM);
    op.in[0] = x;
    op.out[0] = out;
    return sea_op_run(s, &op);
}

sea_status sea_clip(sea_stream *s, sea_tensor *grad, const sea_tensor *norm, float max_norm)
{
    sea_op op = op_make(SEA_OP_CLIP);
    op.in[0] = norm;
    op.out[0] = grad;
    op.p.clip.max_norm = max_norm;
    return sea_op_run(s, &op);
}
