/* fill and copy/cast over any strides and dtypes (f32, bf16, f16, i32).
 * Copy with a strided destination is how KV caches are written, so rows whose last dims are
 * contiguous take the fast path (one sea_convert per row). */
#include <string.h>

#include "cpu_internal.h"

/* The view as exactly 4 dims (leading dims of size 1). */
typedef struct layout4 {
    int64_t shape[4], stride[4];
} layout4;

static layout4 layout_of(const sea_tensor *t)
{
    layout4 l;
    int pad = 4 - t->ndim;
    for (int d = 0; d < 4; d++) {
        l.shape[d] = d < pad ? 1 : t->shape[d - pad];
        l.stride[d] = d < pad ? 0 : t->stride[d - pad];
    }
    return l;
}

static float load_f(const char *p, sea_dtype t)
{
    switch (t) {
    case SEA_F32: { float v; memcpy(&v, p, 4); return v; }
    case SEA_BF16: { uint16_t h; memcpy(&h, p, 2); return sea_bf16_to_f32(h); }
    case SEA_F16: { uint16_t h; memcpy(&h, p, 2); return sea_f16_to_f32(h); }
    case SEA_I32: { int32_t v; memcpy(&v, p, 4); return (float)v; }
    default: return NAN;
    }
}

static void store_f(char *p, sea_dtype t, float v)
{
    switch (t) {
    case SEA_F32: memcpy(p, &v, 4); break;
    case SEA_BF16: { uint16_t h = sea_f32_to_bf16(v); memcpy(p, &h, 2); break; }
    case SEA_F16: { uint16_t h = sea_f32_to_f16(v); memcpy(p, &h, 2); break; }
    case SEA_I32: { int32_t i = (int32_t)lrintf(v); memcpy(p, &i, 4); break; }
    default: break;
    }
}

/* bf16 <-> f32 rows in loops the compiler vectorizes (weights arrive in bf16): the same
 * round-to-nearest-even and quiet-NaN rule as sea_f32_to_bf16. */
SEA_CPU_CLONES static void f32_to_bf16_row(uint16_t *restrict d, const float *restrict s, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        union { float f; uint32_t u; } v = {s[i]};
        uint32_t rounded = (v.u + 0x7fffu + ((v.u >> 16) & 1u)) >> 16;
        uint32_t nan = (v.u >> 16) | 0x40u;
        d[i] = (uint16_t)((v.u & 0x7fffffffu) > 0x7f800000u ? nan : rounded);
    }
}

SEA_CPU_CLONES static void bf16_to_f32_row(float *restrict d, const uint16_t *restrict s, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        union { uint32_t u; float f; } v = {(uint32_t)s[i] << 16};
        d[i] = v.f;
    }
}

/* dst = convert(src) for n contiguous elements. */
static void convert_row(void *d, sea_dtype dt, const void *s, sea_dtype st, int64_t n)
{
    if (st == SEA_F32 && dt == SEA_BF16) f32_to_bf16_row(d, s, n);
    else if (st == SEA_BF16 && dt == SEA_F32) bf16_to_f32_row(d, s, n);
    else sea_convert(d, dt, s, st, (size_t)n);
}

/* ---- fill ---- */

typedef struct fill_ctx {
    char *base;
    layout4 l;
    size_t esize;
    unsigned char bits[4];
} fill_ctx;

static void fill_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    fill_ctx *c = vctx;
    (void)tid;
    for (int64_t r = begin; r < end; r++) {
        int64_t i2 = r % c->l.shape[2], i1 = (r / c->l.shape[2]) % c->l.shape[1], i0 = r / (c->l.shape[2] * c->l.shape[1]);
        char *row = c->base + (i0 * c->l.stride[0] + i1 * c->l.stride[1] + i2 * c->l.stride[2]) * (int64_t)c->esize;
        if (c->esize == 4 && c->l.stride[3] == 1) {
            uint32_t v;
            memcpy(&v, c->bits, 4);
            uint32_t *p = (uint32_t *)row;
            for (int64_t j = 0; j < c->l.shape[3]; j++) p[j] = v;
        } else {
            for (int64_t j = 0; j < c->l.shape[3]; j++) memcpy(row + j * c->l.stride[3] * (int64_t)c->esize, c->bits, c->esize);
        }
    }
}

sea_status sea_cpu_fill(const sea_op *op)
{
    sea_tensor *o = op->out[0];
    fill_ctx c = {.base = cpu_ptr(o), .l = layout_of(o), .esize = sea_dtype_size(o->dtype)};
    double v = op->p.fill.value;
    if (o->dtype == SEA_I32) {
        int32_t i = (int32_t)llrint(v);
        memcpy(c.bits, &i, 4);
    } else {
        store_f((char *)c.bits, o->dtype, (float)v);
    }
    if (cpu_numel(o) == 0) return SEA_OK;
    /* A contiguous tensor is one long row: split it so the pool can share it. */
    if (sea_tensor_is_contiguous(o)) {
        int64_t n = cpu_numel(o), rowlen = 4096;
        /* the last row may be partial: fill full rows in parallel, the tail here */
        int64_t full = n / rowlen;
        c.l = (layout4){{1, 1, full, rowlen}, {0, 0, rowlen, 1}};
        cpu_for(full, cpu_min_items(rowlen), fill_rows, &c);
        fill_ctx t = c;
        t.base = c.base + full * rowlen * (int64_t)c.esize;
        t.l = (layout4){{1, 1, 1, n - full * rowlen}, {0, 0, 0, 1}};
        if (t.l.shape[3]) fill_rows(&t, 0, 1, 0);
        return SEA_OK;
    }
    cpu_for(c.l.shape[0] * c.l.shape[1] * c.l.shape[2], cpu_min_items(c.l.shape[3]), fill_rows, &c);
    return SEA_OK;
}

/* ---- copy ---- */

typedef struct copy_ctx {
    const char *src;
    char *dst;
    layout4 ls, ld;
    sea_dtype st, dt;
    bool accumulate;   /* backward: dst += src */
} copy_ctx;

static void copy_rows(void *vctx, int64_t begin, int64_t end, int tid)
{
    copy_ctx *c = vctx;
    (void)tid;
    size_t ses = sea_dtype_size(c->st), des = sea_dtype_size(c->dt);
    const int64_t *sh = c->ld.shape;
    for (int64_t r = begin; r < end; r++) {
        int64_t i2 = r % sh[2], i1 = (r / sh[2]) % sh[1], i0 = r / (sh[2] * sh[1]);
        const char *s = c->src + (i0 * c->ls.stride[0] + i1 * c->ls.stride[1] + i2 * c->ls.stride[2]) * (int64_t)ses;
        char *d = c->dst + (i0 * c->ld.stride[0] + i1 * c->ld.stride[1] + i2 * c->ld.stride[2]) * (int64_t)des;
        int64_t n = sh[3];
        if (c->accumulate) {
            if (c->st == SEA_F32 && c->dt == SEA_F32 && c->ls.stride[3] == 1 && c->ld.stride[3] == 1) {
                float *df = (float *)d;
                const float *sf = (const float *)s;
                for (int64_t j = 0; j < n; j++) df[j] += sf[j];
            } else {
                for (int64_t j = 0; j < n; j++) {
                    char *dp = d + j * c->ld.stride[3] * (int64_t)des;
                    store_f(dp, c->dt, load_f(dp, c->dt) + load_f(s + j * c->ls.stride[3] * (int64_t)ses, c->st));
                }
            }
        } else if (c->ls.stride[3] == 1 && c->ld.stride[3] == 1) {
            convert_row(d, c->dt, s, c->st, n);
        } else {
            for (int64_t j = 0; j < n; j++)
                sea_convert(d + j * c->ld.stride[3] * (int64_t)des, c->dt, s + j * c->ls.stride[3] * (int64_t)ses, c->st, 1);
        }
    }
}

/* Views of equal shape (up to leading 1s) as 4-dim layouts over the destination's shape. */
static void run_copy(const sea_tensor *src, sea_tensor *dst, bool accumulate)
{
    copy_ctx c = {.src = cpu_ptr(src), .dst = cpu_ptr(dst), .ls = layout_of(src), .ld = layout_of(dst),
                  .st = src->dtype, .dt = dst->dtype, .accumulate = accumulate};
    int64_t n = cpu_numel(dst);
    if (n == 0) return;
    if (sea_tensor_is_contiguous(src) && sea_tensor_is_contiguous(dst)) {
        /* One long row, cut into fixed pieces for the pool. */
        int64_t rowlen = 8192, full = n / rowlen;
        c.ls = c.ld = (layout4){{1, 1, full, rowlen}, {0, 0, rowlen, 1}};
        cpu_for(full, cpu_min_items(rowlen), copy_rows, &c);
        int64_t tail = n - full * rowlen;
        if (tail) {
            copy_ctx t = c;
            t.src += full * rowlen * (int64_t)sea_dtype_size(c.st);
            t.dst += full * rowlen * (int64_t)sea_dtype_size(c.dt);
            t.ls = t.ld = (layout4){{1, 1, 1, tail}, {0, 0, 0, 1}};
            copy_rows(&t, 0, 1, 0);
        }
        return;
    }
    cpu_for(c.ld.shape[0] * c.ld.shape[1] * c.ld.shape[2], cpu_min_items(c.ld.shape[3]), copy_rows, &c);
}

sea_status sea_cpu_copy(const sea_op *op)
{
    run_copy(op->in[0], op->out[0], false);
    return SEA_OK;
}

sea_status sea_cpu_copy_backward(const sea_op *op)
{
    if (op->gin[0] && op->gout[0]) run_copy(op->gout[0], op->gin[0], true);
    return SEA_OK;
}

/* dst[rows[n]] = x[n] as bytes (any dtype; x's rows at any stride). Rows are checked before anything is written, so
 * a bad index leaves dst untouched. Rows are short (one KV slot: Hkv * hd elements): one
 * thread, no pool hand-off. */
sea_status sea_cpu_set_rows(const sea_op *op)
{
    const sea_tensor *x = op->in[0];
    const int32_t *rows = cpu_i32(op->in[1]);
    sea_tensor *dst = op->out[0];
    int64_t N = x->shape[0], M = dst->shape[0];
    size_t row_bytes = (size_t)x->shape[1] * sea_dtype_size(x->dtype);
    for (int64_t n = 0; n < N; n++)
        if (rows[n] < 0 || rows[n] >= M)
            return sea_error(SEA_ERR_INVALID, "set_rows: rows[%lld] = %d is outside [0, %lld) (dst (%lld, %lld) %s) on cpu",
                             (long long)n, rows[n], (long long)M, (long long)M, (long long)dst->shape[1],
                             sea_dtype_name(dst->dtype));
    const char *src = cpu_ptr(x);
    char *d = cpu_ptr(dst);
    /* x's rows may be strided (a column slice of a fused projection); dst is contiguous. */
    size_t x_row = (size_t)(N > 1 ? x->stride[0] : x->shape[1]) * sea_dtype_size(x->dtype);
    for (int64_t n = 0; n < N; n++) memcpy(d + (size_t)rows[n] * row_bytes, src + (size_t)n * x_row, row_bytes);
    return SEA_OK;
}
