/* Quick OpenCL backend check: every op of runtime/op.h, forward and backward, on opencl:0
 * against the CPU backend (the reference implementation) on the same random inputs, through
 * the public dispatcher. Outputs are poisoned with NaN first; input gradients start from random
 * values so the backward's accumulation (+=) is checked too. Exit 77 when there is no OpenCL
 * device. Usage: test_opencl_ops [opencl:N] [op-name-filter] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/backend.h"
#include "runtime/ops.h"
#include "runtime/rng.h"
#include "tests/set_rows_views.h"

enum gen { G_NORMAL = 0, G_INDEX, G_INDEX_IGN, G_MASK, G_KEYVALID, G_POS, G_POSITIVE, G_ROWS, G_NONE };

typedef struct tspec {
    sea_dtype dt;
    int ndim;
    int64_t shape[4];
    enum gen gen;
    int range;          /* G_INDEX*: values in [0, range); G_ROWS: distinct (7 i + 3) mod range */
} tspec;

typedef struct ocase {
    const char *name;
    sea_op_kind kind;
    sea_op_params p;
    int nin, nout;
    tspec in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT];
    bool backward;
    double tol;
    bool in_place;      /* adamw/clip: outputs start from random values, not NaN */
} ocase;

#define F32(...) {SEA_F32, sizeof((int64_t[]){__VA_ARGS__}) / 8, {__VA_ARGS__}, G_NORMAL, 0}
#define TS(dt, gen, range, ...) {dt, sizeof((int64_t[]){__VA_ARGS__}) / 8, {__VA_ARGS__}, gen, range}
#define ABSENT {SEA_F32, -1, {0}, G_NONE, 0}

static sea_rng rng;
static int failures, checks;

static int64_t numel(const tspec *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

static void gen_host(const tspec *t, float *f, int32_t *iv)
{
    int64_t n = numel(t);
    int64_t row = t->ndim ? t->shape[t->ndim - 1] : 1;
    for (int64_t i = 0; i < n; i++) {
        switch (t->gen) {
        case G_INDEX: iv[i] = (int32_t)sea_rng_next_below(&rng, (uint32_t)t->range); break;
        case G_INDEX_IGN: iv[i] = sea_rng_next_below(&rng, 5) == 0 ? -1 : (int32_t)sea_rng_next_below(&rng, (uint32_t)t->range); break;
        case G_MASK: f[i] = (float)(sea_rng_next_below(&rng, 3) != 0); break;
        case G_KEYVALID: iv[i] = (i % row) >= (i / row) % 3 ? 1 : 0; break; /* left padding of 0..2 */
        case G_POS: iv[i] = (int32_t)(i % row) * 37 + 5; break;              /* large-ish positions */
        case G_POSITIVE: f[i] = 0.5f + (float)sea_rng_next_uniform(&rng); break;
        case G_ROWS: iv[i] = (int32_t)((7 * i + 3) % t->range); break;   /* range not a multiple of 7 */
        default: f[i] = sea_rng_next_normal(&rng); break;
        }
    }
}

typedef struct pair {
    sea_tensor c, o;    /* cpu, opencl */
} pair;

static sea_status pair_alloc(sea_device *cpu, sea_device *ocl, const tspec *t, pair *p)
{
    SEA_TRY(sea_tensor_alloc(cpu, t->dt, t->ndim, t->shape, &p->c));
    return sea_tensor_alloc(ocl, t->dt, t->ndim, t->shape, &p->o);
}

static sea_status pair_write(sea_device *cpu, sea_device *ocl, pair *p, const float *f, const int32_t *iv)
{
    /* f32 host data converted to the tensor's dtype by the runtime (bf16/f16 via sea_convert). */
    if (p->c.dtype == SEA_I32) {
        SEA_TRY(sea_tensor_write_i32(sea_device_stream(cpu), &p->c, iv));
        return sea_tensor_write_i32(sea_device_stream(ocl), &p->o, iv);
    }
    SEA_TRY(sea_tensor_write_f32(sea_device_stream(cpu), &p->c, f));
    return sea_tensor_write_f32(sea_device_stream(ocl), &p->o, f);
}

/* ||a - b|| / ||b||, treating equal infinities as equal; NaN in either = fail (1e30). */
static double rel_err(const float *a, const float *b, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isnan(a[i]) || isnan(b[i])) {
            if (isnan(a[i]) && isnan(b[i])) continue;
            return 1e30;
        }
        if (isinf(a[i]) || isinf(b[i])) {
            if (a[i] == b[i]) continue;
            return 1e30;
        }
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

static bool compare(const char *what, const char *case_name, sea_device *cpu, sea_device *ocl, pair *p, double tol)
{
    int64_t n = sea_tensor_numel(&p->c);
    checks++;
    if (p->c.dtype == SEA_I32) {
        int32_t *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);
        sea_tensor_read_i32(sea_device_stream(ocl), &p->o, a);
        sea_tensor_read_i32(sea_device_stream(cpu), &p->c, b);
        int64_t bad = 0;
        for (int64_t i = 0; i < n; i++) bad += a[i] != b[i];
        free(a);
        free(b);
        printf("  %-44s %-8s mismatches %lld/%lld %s\n", case_name, what, (long long)bad, (long long)n, bad ? "FAIL" : "ok");
        if (bad) failures++;
        return !bad;
    }
    float *a = malloc((size_t)n * 4), *b = malloc((size_t)n * 4);
    sea_status s1 = sea_tensor_read_f32(sea_device_stream(ocl), &p->o, a);
    sea_status s2 = sea_tensor_read_f32(sea_device_stream(cpu), &p->c, b);
    double e = (s1 || s2) ? 1e30 : rel_err(a, b, n);
    if (s1 || s2) printf("    read failed: %s\n", sea_last_error());
    if (e > tol && !s1 && !s2) /* show where it went wrong */
        for (int64_t i = 0, shown = 0; i < n && shown < 3; i++)
            if (!(fabsf(a[i] - b[i]) <= 1e-5f * (1 + fabsf(b[i])))) {
                printf("    [%lld] got %g want %g\n", (long long)i, a[i], b[i]);
                shown++;
            }
    free(a);
    free(b);
    bool ok = e <= tol;
    printf("  %-44s %-8s rel err %.2e (tol %.0e) %s\n", case_name, what, e, tol, ok ? "ok" : "FAIL");
    if (!ok) failures++;
    return ok;
}

static bool float_input(const tspec *t) { return t->dt != SEA_I32 && t->gen != G_MASK; }

static void run_case(sea_device *cpu, sea_device *ocl, const ocase *k)
{
    pair in[SEA_OP_MAX_IN] = {0}, out[SEA_OP_MAX_OUT] = {0}, gin[SEA_OP_MAX_IN] = {0}, gout[SEA_OP_MAX_OUT] = {0};
    sea_op oc, oo;
    memset(&oc, 0, sizeof oc);
    oc.kind = k->kind;
    oc.p = k->p;
    sea_status st = SEA_OK;
    char label[128];
    snprintf(label, sizeof label, "%s %s", sea_op_name(k->kind), k->name);
    for (int i = 0; i < k->nin && !st; i++) {
        if (k->in[i].ndim < 0) continue;
        int64_t n = numel(&k->in[i]);
        float *f = malloc((size_t)n * 4);
        int32_t *iv = malloc((size_t)n * 4);
        gen_host(&k->in[i], f, iv);
        st = pair_alloc(cpu, ocl, &k->in[i], &in[i]);
        if (!st) st = pair_write(cpu, ocl, &in[i], f, iv);
        free(f);
        free(iv);
    }
    for (int j = 0; j < k->nout && !st; j++) {
        if (k->out[j].ndim < 0) continue;
        int64_t n = numel(&k->out[j]);
        float *f = malloc((size_t)n * 4);
        int32_t *iv = malloc((size_t)n * 4);
        for (int64_t i = 0; i < n; i++) {
            f[i] = k->in_place ? (k->out[j].gen == G_POSITIVE ? 0.5f + (float)sea_rng_next_uniform(&rng) : sea_rng_next_normal(&rng)) : NAN;
            iv[i] = -12345;
        }
        st = pair_alloc(cpu, ocl, &k->out[j], &out[j]);
        if (!st) st = pair_write(cpu, ocl, &out[j], f, iv);
        free(f);
        free(iv);
    }
    if (st) {
        printf("  %-44s setup failed: %s FAIL\n", label, sea_last_error());
        failures++;
        goto done;
    }
    oo = oc;
    for (int i = 0; i < k->nin; i++) {
        oc.in[i] = in[i].c.buf ? &in[i].c : NULL;
        oo.in[i] = in[i].o.buf ? &in[i].o : NULL;
    }
    for (int j = 0; j < k->nout; j++) {
        oc.out[j] = out[j].c.buf ? &out[j].c : NULL;
        oo.out[j] = out[j].o.buf ? &out[j].o : NULL;
    }
    if ((st = sea_op_run(sea_device_stream(cpu), &oc))) {
        printf("  %-44s cpu forward failed: %s FAIL\n", label, sea_last_error());
        failures++;
        goto done;
    }
    if ((st = sea_op_run(sea_device_stream(ocl), &oo))) {
        printf("  %-44s opencl forward failed: %s FAIL\n", label, sea_last_error());
        failures++;
        goto done;
    }
    for (int j = 0; j < k->nout; j++) {
        if (!out[j].c.buf) continue;
        char w[16];
        snprintf(w, sizeof w, "out[%d]", j);
        compare(w, label, cpu, ocl, &out[j], k->tol);
    }
    if (!k->backward) goto done;
    /* Seed gout for out[0] and a layernorm pair's out[3]: the other outputs are saved
     * statistics. */
    for (int j = 0; j < k->nout && !st; j += 3) {
        if (j && (k->kind != SEA_OP_LAYERNORM || k->out[j].ndim < 0)) continue;
        tspec t = k->out[j];
        t.gen = G_NORMAL;
        int64_t n = numel(&t);
        float *f = malloc((size_t)n * 4);
        gen_host(&t, f, NULL);
        st = pair_alloc(cpu, ocl, &t, &gout[j]);
        if (!st) st = pair_write(cpu, ocl, &gout[j], f, NULL);
        free(f);
        oc.gout[j] = &gout[j].c;
        oo.gout[j] = &gout[j].o;
    }
    for (int i = 0; i < k->nin && !st; i++) {
        if (k->in[i].ndim < 0 || !float_input(&k->in[i])) continue;
        tspec t = k->in[i];
        t.gen = G_NORMAL;
        int64_t n = numel(&t);
        float *f = malloc((size_t)n * 4);
        gen_host(&t, f, NULL);
        st = pair_alloc(cpu, ocl, &t, &gin[i]);
        if (!st) st = pair_write(cpu, ocl, &gin[i], f, NULL);
        free(f);
        oc.gin[i] = &gin[i].c;
        oo.gin[i] = &gin[i].o;
    }
    if (!st && (st = sea_op_run_backward(sea_device_stream(cpu), &oc)))
        printf("  %-44s cpu backward failed: %s FAIL\n", label, sea_last_error());
    if (!st && (st = sea_op_run_backward(sea_device_stream(ocl), &oo)))
        printf("  %-44s opencl backward failed: %s FAIL\n", label, sea_last_error());
    if (st) {
        failures++;
        goto done;
    }
    for (int i = 0; i < k->nin; i++) {
        if (!gin[i].c.buf) continue;
        char w[16];
        snprintf(w, sizeof w, "gin[%d]", i);
        compare(w, label, cpu, ocl, &gin[i], k->tol);
    }
done:
    for (int i = 0; i < SEA_OP_MAX_IN; i++) {
        sea_tensor_free(&in[i].c), sea_tensor_free(&in[i].o);
        sea_tensor_free(&gin[i].c), sea_tensor_free(&gin[i].o);
    }
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
        sea_tensor_free(&out[j].c), sea_tensor_free(&out[j].o);
        sea_tensor_free(&gout[j].c), sea_tensor_free(&gout[j].o);
    }
}

/* Copies through strided views are checked separately (the case table makes contiguous tensors). */
static void strided_copy(sea_device *cpu, sea_device *ocl, sea_dtype src_dt, sea_dtype dst_dt)
{
    int64_t shape[3] = {3, 5, 7};
    pair src = {0}, dst = {0};
    tspec ts = {src_dt, 3, {3, 5, 7}, src_dt == SEA_I32 ? G_INDEX : G_NORMAL, 1 << 30};
    tspec td = {dst_dt, 3, {7, 5, 3}, G_NORMAL, 0};
    float f[105];
    int32_t iv[105];
    gen_host(&ts, f, iv);
    char label[96];
    snprintf(label, sizeof label, "copy strided %s->%s (3,5,7)->(7,5,3)^T", sea_dtype_name(src_dt), sea_dtype_name(dst_dt));
    if (pair_alloc(cpu, ocl, &ts, &src) || pair_write(cpu, ocl, &src, f, iv) || pair_alloc(cpu, ocl, &td, &dst)) {
        printf("  %s setup failed: %s FAIL\n", label, sea_last_error());
        failures++;
        return;
    }
    /* dst viewed as (3, 5, 7) through a permutation: a non-contiguous destination. */
    int perm[3] = {2, 1, 0};
    sea_tensor vc, vo;
    sea_tensor_permute(&dst.c, perm, &vc);
    sea_tensor_permute(&dst.o, perm, &vo);
    (void)shape;
    sea_status st = sea_copy(sea_device_stream(cpu), &src.c, &vc);
    if (!st) st = sea_copy(sea_device_stream(ocl), &src.o, &vo);
    if (st) {
        printf("  %s failed: %s FAIL\n", label, sea_last_error());
        failures++;
    } else {
        compare("out", label, cpu, ocl, &dst, 0);
    }
    sea_tensor_free(&src.c), sea_tensor_free(&src.o), sea_tensor_free(&dst.c), sea_tensor_free(&dst.o);
}

/* set_rows through views at odd element offsets (16-bit elements then start mid-word), with
 * row indices outside [0, M) that must be skipped without an error. Checked against a host
 * scatter on small integers (exact in every dtype); the CPU backend would reject the bad rows. */
static void set_rows_views(sea_device *ocl, sea_dtype dt)
{
    int n = 0, bad = set_rows_views_diff(ocl, dt, 9, 7, &n);
    bool ok = bad == 0;
    checks++;
    printf("  %-44s %s: %d of %d elements differ%s%s %s\n", "set_rows views at odd offsets, bad rows", sea_dtype_name(dt),
           bad, n, bad < 0 ? ": " : "", bad < 0 ? sea_last_error() : "", ok ? "ok" : "FAIL");
    if (!ok) failures++;
}

#include "test_opencl_cases.h"

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0); /* progress is visible while PoCL compiles */
    const char *spec = argc > 1 ? argv[1] : "opencl:0";
    const char *filter = argc > 2 ? argv[2] : NULL;
    const struct sea_backend_ops *b = sea_backend_find("opencl");
    if (!b || b->device_count() == 0) {
        printf("SKIP: no OpenCL device (%s)\n",
               b ? (b->unavailable_reason ? b->unavailable_reason() : "0 devices") : sea_backend_module_error("opencl"));
        return 77;
    }
    sea_device *cpu, *ocl;
    if (sea_device_open("cpu", &cpu)) {
        fprintf(stderr, "cpu: %s\n", sea_last_error());
        return 1;
    }
    if (sea_device_open(spec, &ocl)) {
        fprintf(stderr, "%s: %s\n", spec, sea_last_error());
        return 1;
    }
    printf("checking %s against %s\n", sea_device_label(ocl), sea_device_label(cpu));
    rng = sea_rng_make(1234, 7);
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        if (filter && !strstr(sea_op_name(cases[i].kind), filter)) continue;
        run_case(cpu, ocl, &cases[i]);
    }
    /* bf16/f16 compute variants are covered by the op suite (tests/ops, 'ops opencl'). */
    /* Same device as "reference": the identical inputs run twice; tolerance 0. */
    for (size_t i = 0; i < sizeof det_cases / sizeof det_cases[0]; i++)
        if (!filter || strstr(sea_op_name(det_cases[i].kind), filter)) run_case(ocl, ocl, &det_cases[i]);
    if (!filter || strstr("copy", filter)) {
        const sea_dtype dts[4] = {SEA_F32, SEA_BF16, SEA_F16, SEA_I32};
        for (int a = 0; a < 4; a++)
            for (int c = 0; c < 4; c++) strided_copy(cpu, ocl, dts[a], dts[c]);
    }
    if (!filter || strstr("set_rows", filter)) {
        const sea_dtype dts[4] = {SEA_F32, SEA_BF16, SEA_F16, SEA_I32};
        for (int a = 0; a < 4; a++) set_rows_views(ocl, dts[a]);
    }
    printf("%d checks, %d failed\n", checks, failures);
    sea_device_close(ocl);
    sea_device_close(cpu);
    return failures ? 1 : 0;
}
