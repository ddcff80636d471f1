/* Vulkan ops against the CPU backend (the reference), forward and backward.
 *
 * Each case builds the same random inputs on cpu and vulkan:0, runs the op on both and
 * compares every output (and, for backward, every input gradient, accumulated onto the same
 * random initial values) by ||vk - cpu|| / ||cpu||. Exit 77 when there is no Vulkan device.
 * The full op suite (runtime/check, tests/ops) also runs on vulkan:0; this test is the
 * backend's own quick check and covers the shapes that exercise its special paths (tiles
 * with ragged edges, transposes, shared/batched B, GQA, padding masks, strided copies). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "ops.h"
#include "rng.h"
#include "tests/set_rows_views.h"

enum gen { G_RAND = 0, G_IDS, G_MASK, G_VALID, G_POS, G_POSITIVE, G_TARGETS, G_POSBIG, G_ROWS };

typedef struct tdesc {
    int ndim;
    int64_t shape[4];
    sea_dtype dt;
    enum gen gen;
    int range;   /* ids: [0, range); targets: [-1, range); rows: distinct (7 i + 3) mod range */
} tdesc;

typedef struct tcase {
    const char *name;
    sea_op_kind kind;
    tdesc in[SEA_OP_MAX_IN];
    tdesc out[SEA_OP_MAX_OUT];
    sea_op_params p;
    bool backward;
    double tol;
} tcase;

static sea_rng rng;
static int failures;

static float frand(void) { return (float)(sea_rng_next_uniform(&rng) * 2.0 - 1.0); }

static int64_t numel(const tdesc *t)
{
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

static void gen_data(const tdesc *t, float *f, int32_t *iv)
{
    int64_t n = numel(t);
    for (int64_t i = 0; i < n; i++) {
        switch (t->gen) {
        case G_RAND: f[i] = frand(); break;
        case G_POSITIVE: f[i] = 0.5f + 0.5f * (frand() + 1.0f); break;
        case G_MASK: f[i] = sea_rng_next_below(&rng, 4) ? 1.0f : 0.0f; break;
        case G_IDS: iv[i] = (int32_t)sea_rng_next_below(&rng, (uint32_t)t->range); break;
        case G_TARGETS: iv[i] = (int32_t)sea_rng_next_below(&rng, (uint32_t)t->range + 1) - 1; break;
        case G_VALID: iv[i] = (i % t->shape[t->ndim - 1]) == 0 || sea_rng_next_below(&rng, 5) != 0; break;
        case G_POS: iv[i] = (int32_t)((i % t->shape[t->ndim - 1]) * 37 + 3); break;
        case G_POSBIG: iv[i] = (int32_t)((i % t->shape[t->ndim - 1]) * 1021 + 7001); break;   /* 7001..40000 */
        case G_ROWS: iv[i] = (int32_t)((7 * i + 3) % t->range); break;   /* range not a multiple of 7 */
        }
    }
}

static bool is_int(const tdesc *t) { return t->gen == G_IDS || t->gen == G_VALID || t->gen == G_POS || t->gen == G_POSBIG || t->gen == G_TARGETS || t->gen == G_ROWS || t->dt == SEA_I32; }

typedef struct side {
    sea_device *dev;
    sea_tensor in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT], gin[SEA_OP_MAX_IN], gout[SEA_OP_MAX_OUT];
} side;

static sea_status upload(sea_device *dev, const tdesc *t, const float *f, const int32_t *iv, sea_tensor *out)
{
    SEA_TRY(sea_tensor_alloc(dev, t->dt, t->ndim, t->shape, out));
    if (t->dt == SEA_I32) return sea_tensor_write_i32(sea_device_stream(dev), out, iv);
    return sea_tensor_write_f32(sea_device_stream(dev), out, f);
}

static double compare(const char *what, const sea_tensor *a, const sea_tensor *b, const tdesc *t)
{
    int64_t n = sea_tensor_numel(a);
    double err = 0, ref = 0;
    if (t->dt == SEA_I32) {
        int32_t *x = malloc((size_t)n * 4 + 4), *y = malloc((size_t)n * 4 + 4);
        sea_tensor_read_i32(sea_device_stream(a->buf->dev), a, x);
        sea_tensor_read_i32(sea_device_stream(b->buf->dev), b, y);
        int64_t bad = 0;
        for (int64_t i = 0; i < n; i++) bad += x[i] != y[i];
        free(x);
        free(y);
        return bad ? 1.0 : 0.0;
    }
    float *x = malloc((size_t)n * 4 + 4), *y = malloc((size_t)n * 4 + 4);
    sea_status s1 = sea_tensor_read_f32(sea_device_stream(a->buf->dev), a, x);
    sea_status s2 = sea_tensor_read_f32(sea_device_stream(b->buf->dev), b, y);
    if (s1 || s2) {
        printf("  %s: read failed: %s\n", what, sea_last_error());
        free(x);
        free(y);
        return INFINITY;
    }
    for (int64_t i = 0; i < n; i++) {
        double dx = (double)x[i] - (double)y[i];
        if (isinf(x[i]) && isinf(y[i]) && (x[i] > 0) == (y[i] > 0)) dx = 0;
        err += dx * dx;
        if (isfinite(y[i])) ref += (double)y[i] * y[i];
    }
    free(x);
    free(y);
    return sqrt(err) / (sqrt(ref) + 1e-30);
}

static void report(const tcase *c, const char *what, double e, double tol)
{
    bool ok = e <= tol;
    printf("%-4s %-28s %-14s rel err %.3e (tol %.0e)\n", ok ? "ok" : "FAIL", c->name, what, e, tol);
    if (!ok) failures++;
}

static sea_status run_case(sea_device *cpu, sea_device *vk, const tcase *c)
{
    side sd[2] = {{.dev = cpu}, {.dev = vk}};
    float *fbuf[SEA_OP_MAX_IN + 2 * SEA_OP_MAX_OUT + SEA_OP_MAX_IN] = {0};
    int32_t *ibuf[SEA_OP_MAX_IN + 2 * SEA_OP_MAX_OUT + SEA_OP_MAX_IN] = {0};
    /* host data: inputs, initial outputs, gouts, initial gins */
    const tdesc *descs[SEA_OP_MAX_IN + 2 * SEA_OP_MAX_OUT + SEA_OP_MAX_IN] = {0};
    int nd = 0;
    for (int i = 0; i < SEA_OP_MAX_IN; i++) descs[nd++] = c->in[i].ndim || c->in[i].shape[0] ? &c->in[i] : NULL;
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) descs[nd++] = c->out[j].shape[0] ? &c->out[j] : NULL;
    for (int j = 0; j < SEA_OP_MAX_OUT; j++) descs[nd++] = c->out[j].shape[0] ? &c->out[j] : NULL;
    for (int i = 0; i < SEA_OP_MAX_IN; i++) descs[nd++] = c->in[i].shape[0] ? &c->in[i] : NULL;
    for (int k = 0; k < nd; k++) {
        if (!descs[k]) continue;
        int64_t n = numel(descs[k]);
        fbuf[k] = malloc((size_t)n * 4 + 4);
        ibuf[k] = malloc((size_t)n * 4 + 4);
        tdesc g = *descs[k];
        if (k >= SEA_OP_MAX_IN) g.gen = G_RAND;   /* initial outputs, gouts, gins */
        if (k >= SEA_OP_MAX_IN && c->kind == SEA_OP_ADAMW && k < SEA_OP_MAX_IN + SEA_OP_MAX_OUT && k > SEA_OP_MAX_IN)
            g.gen = G_POSITIVE;                     /* Adam second moment v >= 0 */
        if (g.dt == SEA_I32 && k >= SEA_OP_MAX_IN) g.gen = G_IDS, g.range = 1000;
        gen_data(&g, fbuf[k], ibuf[k]);
    }
    sea_status st = SEA_OK;
    for (int s = 0; s < 2 && !st; s++) {
        sea_op op = {.kind = c->kind, .p = c->p};
        for (int i = 0; i < SEA_OP_MAX_IN; i++)
            if (descs[i]) {
                if ((st = upload(sd[s].dev, descs[i], fbuf[i], ibuf[i], &sd[s].in[i]))) break;
                op.in[i] = &sd[s].in[i];
            }
        for (int j = 0; j < SEA_OP_MAX_OUT && !st; j++)
            if (descs[SEA_OP_MAX_IN + j]) {
                if ((st = upload(sd[s].dev, descs[SEA_OP_MAX_IN + j], fbuf[SEA_OP_MAX_IN + j], ibuf[SEA_OP_MAX_IN + j],
                                 &sd[s].out[j])))
                    break;
                op.out[j] = &sd[s].out[j];
            }
        if (st) break;
        if ((st = sea_op_run(sea_device_stream(sd[s].dev), &op))) break;
        if (!c->backward) continue;
        int k0 = SEA_OP_MAX_IN + SEA_OP_MAX_OUT;
        /* Seed the gradient of out[0] and of a layernorm pair's out[3] (the others are saved
         * statistics). */
        for (int j = 0; j < SEA_OP_MAX_OUT && !st; j += 3) {
            if (!descs[k0 + j] || (j && c->kind != SEA_OP_LAYERNORM)) continue;
            if ((st = upload(sd[s].dev, descs[k0 + j], fbuf[k0 + j], ibuf[k0 + j], &sd[s].gout[j]))) break;
            op.gout[j] = &sd[s].gout[j];
        }
        if (st) break;
        for (int i = 0; i < SEA_OP_MAX_IN && !st; i++) {
            int k = k0 + SEA_OP_MAX_OUT + i;
            if (!descs[k] || descs[k]->dt == SEA_I32 || is_int(descs[i]) || descs[i]->gen == G_MASK) continue;
            if ((st = upload(sd[s].dev, descs[k], fbuf[k], ibuf[k], &sd[s].gin[i]))) break;
            op.gin[i] = &sd[s].gin[i];
        }
        if (st) break;
        st = sea_op_run_backward(sea_device_stream(sd[s].dev), &op);
    }
    if (st) {
        printf("FAIL %-28s %s\n", c->name, sea_last_error());
        failures++;
    } else {
        for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
            if (!descs[SEA_OP_MAX_IN + j]) continue;
            char what[32];
            snprintf(what, sizeof what, "out[%d]", j);
            report(c, what, compare(what, &sd[1].out[j], &sd[0].out[j], &c->out[j]), c->out[j].dt == SEA_I32 ? 0 : c->tol);
        }
        if (c->backward)
            for (int i = 0; i < SEA_OP_MAX_IN; i++) {
                if (!sd[0].gin[i].buf) continue;
                char what[32];
                snprintf(what, sizeof what, "grad in[%d]", i);
                report(c, what, compare(what, &sd[1].gin[i], &sd[0].gin[i], &c->in[i]), c->tol);
            }
    }
    for (int s = 0; s < 2; s++) {
        for (int i = 0; i < SEA_OP_MAX_IN; i++) {
            if (sd[s].in[i].buf) sea_tensor_free(&sd[s].in[i]);
            if (sd[s].gin[i].buf) sea_tensor_free(&sd[s].gin[i]);
        }
        for (int j = 0; j < SEA_OP_MAX_OUT; j++) {
            if (sd[s].out[j].buf) sea_tensor_free(&sd[s].out[j]);
            if (sd[s].gout[j].buf) sea_tensor_free(&sd[s].gout[j]);
        }
    }
    for (int k = 0; k < nd; k++) {
        free(fbuf[k]);
        free(ibuf[k]);
    }
    return SEA_OK;
}

#define F(...) {.ndim = sizeof((int64_t[]){__VA_ARGS__}) / 8, .shape = {__VA_ARGS__}, .dt = SEA_F32}
#define T(g, r, ...) {.ndim = sizeof((int64_t[]){__VA_ARGS__}) / 8, .shape = {__VA_ARGS__}, .dt = SEA_I32, .gen = g, .range = r}
#define MASK(...) {.ndim = sizeof((int64_t[]){__VA_ARGS__}) / 8, .shape = {__VA_ARGS__}, .dt = SEA_F32, .gen = G_MASK}
#define POSF(...) {.ndim = sizeof((int64_t[]){__VA_ARGS__}) / 8, .shape = {__VA_ARGS__}, .dt = SEA_F32, .gen = G_POSITIVE}
#define DT(dt_, ...) {.ndim = sizeof((int64_t[]){__VA_ARGS__}) / 8, .shape = {__VA_ARGS__}, .dt = dt_}

/* set_rows through views at odd element offsets (16-bit elements then start mid-word), with
 * row indices outside [0, M) that must be skipped without an error. Checked against a host
 * scatter on small integers (exact in every dtype); the CPU backend would reject the bad rows.
 * With SEA_VK_MAX_RANGE=65536 and a large M, dst is also written in several chunks. */
static void test_set_rows_views(sea_device *vk, sea_dtype dt, int M, int R)
{
    int n = 0, bad = set_rows_views_diff(vk, dt, M, R, &n);
    bool ok = bad == 0;
    printf("%-4s set_rows %s views at odd offsets, bad rows, dst (%d, %d): %d of %d elements differ%s%s\n",
           ok ? "ok" : "FAIL", sea_dtype_name(dt), M, R, bad, n, bad < 0 ? ": " : "", bad < 0 ? sea_last_error() : "");
    if (!ok) failures++;
}

/* Strided copies and casts: a transposed view into a bf16/f16 destination and back. */
static void test_copy_casts(sea_device *cpu, sea_device *vk)
{
    const sea_dtype dts[] = {SEA_F32, SEA_BF16, SEA_F16, SEA_I32};
    int64_t shape[3] = {5, 7, 9};
    int64_t n = 5 * 7 * 9;
    float *h = malloc((size_t)n * 4), *r0 = malloc((size_t)n * 4), *r1 = malloc((size_t)n * 4);
    for (int64_t i = 0; i < n; i++) h[i] = frand() * 300.0f;
    h[0] = 1.0f + 1.0f / 256;   /* a bf16 rounding tie */
    h[1] = 6.1e-5f;             /* f16 subnormal range */
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            sea_status st = SEA_OK;
            float *res[2] = {r0, r1};
            sea_device *devs[2] = {cpu, vk};
            for (int s = 0; s < 2 && !st; s++) {
                sea_tensor src, dst, srcT, out;
                st = sea_tensor_alloc(devs[s], SEA_F32, 3, shape, &src);
                if (!st) st = sea_tensor_write_f32(sea_device_stream(devs[s]), &src, h);
                int64_t shape2[3] = {9, 7, 5};
                sea_tensor tmp;
                if (!st) st = sea_tensor_alloc(devs[s], dts[a], 3, shape, &tmp);
                if (!st) st = sea_copy(sea_device_stream(devs[s]), &src, &tmp);   /* f32 -> a */
                if (!st) st = sea_tensor_alloc(devs[s], dts[b], 3, shape2, &dst);
                const int perm[3] = {2, 1, 0};
                if (!st) st = sea_tensor_permute(&dst, perm, &srcT);                /* (5,7,9) view of dst */
                if (!st) st = sea_copy(sea_device_stream(devs[s]), &tmp, &srcT);   /* a -> b, strided */
                if (!st) st = sea_tensor_alloc(devs[s], SEA_F32, 3, shape2, &out);
                if (!st) st = sea_copy(sea_device_stream(devs[s]), &dst, &out);
                if (!st) st = sea_tensor_read_f32(sea_device_stream(devs[s]), &out, res[s]);
                sea_tensor_free(&src);
                sea_tensor_free(&tmp);
                sea_tensor_free(&dst);
                sea_tensor_free(&out);
            }
            int64_t bad = 0;
            for (int64_t i = 0; i < n && !st; i++) bad += memcmp(&r0[i], &r1[i], 4) != 0;
            bool ok = !st && bad == 0;
            printf("%-4s copy %s -> %s (strided)%*s %lld of %lld elements differ%s%s\n", ok ? "ok" : "FAIL",
                   sea_dtype_name(dts[a]), sea_dtype_name(dts[b]), 8, "", (long long)bad, (long long)n, st ? ": " : "",
                   st ? sea_last_error() : "");
            if (!ok) failures++;
        }
    /* fill of every dtype through a strided view */
    for (int a = 0; a < 4; a++) {
        float got[2][64];
        sea_device *devs[2] = {cpu, vk};
        sea_status st = SEA_OK;
        for (int s = 0; s < 2 && !st; s++) {
            int64_t sh[2] = {8, 8}, sh2[2] = {8, 4};
            sea_tensor t, v, o;
            st = sea_tensor_alloc(devs[s], dts[a], 2, sh, &t);
            if (!st) st = sea_fill(sea_device_stream(devs[s]), &t, 7.0);
            if (!st) st = sea_tensor_slice(&t, 1, 2, 4, &v);
            (void)sh2;
            if (!st) st = sea_fill(sea_device_stream(devs[s]), &v, -2.5);
            if (!st) st = sea_tensor_alloc(devs[s], SEA_F32, 2, sh, &o);
            if (!st) st = sea_copy(sea_device_stream(devs[s]), &t, &o);
            if (!st) st = sea_tensor_read_f32(sea_device_stream(devs[s]), &o, got[s]);
            sea_tensor_free(&t);
            sea_tensor_free(&o);
        }
        bool ok = !st && !memcmp(got[0], got[1], sizeof got[0]);
        printf("%-4s fill %s (strided view)%s%s\n", ok ? "ok" : "FAIL", sea_dtype_name(dts[a]), st ? ": " : "",
               st ? sea_last_error() : "");
        if (!ok) failures++;
    }
    free(h);
    free(r0);
    free(r1);
}

/* Thousands of dependent ops recorded before one read: command-buffer batching, barriers and
 * (without VK_KHR_push_descriptor) descriptor-pool exhaustion mid-batch. */
static void test_long_batch(sea_device *vk)
{
    enum { N = 1000, OPS = 2500 };
    int64_t sh[1] = {N};
    sea_tensor t[2];
    sea_stream *s = sea_device_stream(vk);
    float h[N], ref[N], got[N];
    for (int i = 0; i < N; i++) ref[i] = h[i] = frand();
    sea_status st = sea_tensor_alloc(vk, SEA_F32, 1, sh, &t[0]);
    if (!st) st = sea_tensor_alloc(vk, SEA_F32, 1, sh, &t[1]);
    if (!st) st = sea_tensor_write_f32(s, &t[0], h);
    for (int k = 0; k < OPS && !st; k++) {
        float a = (k & 1) ? 1.001f : -0.999f;
        st = sea_scale(s, &t[k & 1], a, &t[(k + 1) & 1]);
        for (int i = 0; i < N; i++) ref[i] = a * ref[i];
    }
    if (!st) st = sea_tensor_read_f32(s, &t[OPS & 1], got);
    double err = 0, nrm = 0;
    for (int i = 0; i < N && !st; i++) {
        err += ((double)got[i] - ref[i]) * ((double)got[i] - ref[i]);
        nrm += (double)ref[i] * ref[i];
    }
    bool ok = !st && sqrt(err) <= 1e-6 * sqrt(nrm);
    printf("%-4s %d dependent ops in one batch: rel err %.2e%s%s\n", ok ? "ok" : "FAIL", OPS, st ? 0.0 : sqrt(err / nrm),
           st ? ": " : "", st ? sea_last_error() : "");
    if (!ok) failures++;
    sea_tensor_free(&t[0]);
    sea_tensor_free(&t[1]);
}

/* A weight beyond the binding limit cannot be split by rows: a clear error, no crash. */
static void test_too_big(sea_device *vk)
{
    int64_t sa[2] = {4, 200}, sb[2] = {200, 100}, sc[2] = {4, 100};
    sea_tensor a, b, c;
    sea_stream *s = sea_device_stream(vk);
    bool ok = false;
    if (!sea_tensor_alloc(vk, SEA_F32, 2, sa, &a) && !sea_tensor_alloc(vk, SEA_F32, 2, sb, &b) &&
        !sea_tensor_alloc(vk, SEA_F32, 2, sc, &c)) {
        sea_status st = sea_matmul(s, &a, &b, NULL, false, false, SEA_ACT_NONE, &c, NULL);
        ok = st == SEA_ERR_UNSUPPORTED && strstr(sea_last_error(), "maxStorageBufferRange");
        printf("%-4s matmul with a weight beyond the binding limit -> %s: %s\n", ok ? "ok" : "FAIL", sea_status_name(st),
               sea_last_error());
        sea_tensor_free(&a);
        sea_tensor_free(&b);
        sea_tensor_free(&c);
    }
    if (!ok) failures++;
}

int main(int argc, char **argv)
{
    const struct sea_backend_ops *vb = sea_backend_find("vulkan");
    if (argc > 1 && !strcmp(argv[1], "--expect-no-device")) {
        /* Run with VK_ICD_FILENAMES pointing nowhere: 0 devices with a reason, no crash. */
        int n = vb ? vb->device_count() : -1;
        const char *why = vb && vb->unavailable_reason ? vb->unavailable_reason() : NULL;
        sea_device *dev = NULL;
        sea_status st = sea_device_open("vulkan:0", &dev);
        bool ok = n == 0 && why && *why && st == SEA_ERR_DEVICE;
        printf("%-4s no driver: %d devices, reason \"%s\", open -> %s\n", ok ? "ok" : "FAIL", n, why ? why : "(none)",
               sea_last_error());
        return ok ? 0 : 1;
    }
    const char *spec = argc > 1 ? argv[1] : "vulkan:0";
    if (!vb || vb->device_count() == 0) {
        printf("SKIP: no Vulkan device (%s)\n", vb ? (vb->unavailable_reason() ? vb->unavailable_reason() : "?")
                                                   : (sea_backend_module_error("vulkan") ? sea_backend_module_error("vulkan") : "?"));
        return 77;
    }
    sea_device *cpu, *vk;
    if (sea_device_open("cpu", &cpu) || sea_device_open(spec, &vk)) {
        printf("FAIL: open: %s\n", sea_last_error());
        return 1;
    }
    printf("device %s\n", sea_device_label(vk));
    rng = sea_rng_make(1234, 7);

    sea_op_params p_none = {0};
    sea_op_params mm_plain = {.matmul = {false, false, SEA_ACT_NONE}};
    sea_op_params mm_tb_gelu = {.matmul = {false, true, SEA_ACT_GELU}};
    sea_op_params mm_ta_silu = {.matmul = {true, false, SEA_ACT_SILU}};
    sea_op_params mm_tt_tanh = {.matmul = {true, true, SEA_ACT_GELU_TANH}};
    sea_op_params mm_relu = {.matmul = {false, false, SEA_ACT_RELU}};
    sea_op_params mm_tb_split = {.matmul = {false, false, SEA_ACT_GELU}};
    sea_op_params mm_tb_plain = {.matmul = {false, true, SEA_ACT_NONE}};
    sea_op_params fill = {.fill = {-3.25}};
    sea_op_params norm = {.norm = {1e-5f}};
    sea_op_params attn = {.attn = {0.25f, 0}};
    sea_op_params dec = {.attn = {0.25f, 11}};
    sea_op_params rope_neox = {.rope = {12, 10000.0f, SEA_ROPE_NEOX, SEA_ROPE_SCALING_NONE, 0, 0, 0, 0}};
    sea_op_params rope_gptj = {.rope = {16, 500000.0f, SEA_ROPE_GPTJ, SEA_ROPE_SCALING_LLAMA3, 8.0f, 1.0f, 4.0f, 64}};
    sea_op_params rope_long = {.rope = {64, 10000.0f, SEA_ROPE_NEOX, SEA_ROPE_SCALING_NONE, 0, 0, 0, 0}};
    sea_op_params gelu_erf = {.act = {false}}, gelu_tanh = {.act = {true}};
    sea_op_params scale = {.scale = {-1.75f}};
    sea_op_params msum = {.masked = {false}}, mmean = {.masked = {true}};
    sea_op_params adamw = {.adamw = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.001f, 3}};
    sea_op_params clip = {.clip = {0.5f}};
    sea_op_params greedy = {.sample = {0.0f, 0, 1.0f, 42, 3}};
    sea_op_params samp = {.sample = {0.8f, 0, 1.0f, 42, 5}};
    sea_op_params samp_k = {.sample = {1.2f, 20, 1.0f, 99, 1}};
    sea_op_params samp_kp = {.sample = {0.7f, 50, 0.9f, 7, 2}};
    sea_op_params samp_p = {.sample = {1.0f, 0, 0.5f, 11, 9}};

    const tcase cases[] = {
        {"matmul 2d ragged", SEA_OP_MATMUL, {F(37, 29), F(29, 71)}, {F(37, 71)}, mm_plain, true, 1e-5},
        {"matmul tb+bias+gelu", SEA_OP_MATMUL, {F(70, 33), F(45, 33), F(45)}, {F(70, 45), F(70, 45)}, mm_tb_gelu, true, 1e-5},
        {"matmul ta shared-B silu", SEA_OP_MATMUL, {F(3, 19, 22), F(19, 40), F(40)}, {F(3, 22, 40), F(3, 22, 40)}, mm_ta_silu, true, 1e-5},
        {"matmul batched tt tanh", SEA_OP_MATMUL, {F(2, 3, 17, 9), F(2, 3, 12, 17)}, {F(2, 3, 9, 12), F(2, 3, 9, 12)}, mm_tt_tanh, true, 1e-5},
        {"matmul shared-B relu", SEA_OP_MATMUL, {F(4, 66, 24), F(24, 10), F(10)}, {F(4, 66, 10), F(4, 66, 10)}, mm_relu, true, 1e-5},
        {"matmul M=1 row", SEA_OP_MATMUL, {F(1, 300), F(300, 130)}, {F(1, 130)}, mm_plain, true, 1e-5},
        /* Row splitting: run with SEA_VK_MAX_RANGE=65536 (meson test vulkan-ops-split). */
        {"split matmul rows", SEA_OP_MATMUL, {F(3, 100, 64), F(64, 100), F(100)}, {F(3, 100, 100), F(3, 100, 100)}, mm_tb_split, true, 1e-5},
        {"split softmax", SEA_OP_SOFTMAX, {F(200, 300)}, {F(200, 300)}, p_none, true, 1e-5},
        {"split logsoftmax_gather", SEA_OP_LOGSOFTMAX_GATHER, {F(2, 50, 1000), T(G_TARGETS, 1000, 2, 50)}, {F(2, 50), F(2, 50)}, p_none, true, 1e-5},
        {"split matmul weight (tied unembedding)", SEA_OP_MATMUL, {F(2, 30, 40), F(700, 40), F(700)}, {F(2, 30, 700), F(2, 30, 700)}, mm_tb_gelu, true, 1e-5},
        {"split matmul weight, no bias", SEA_OP_MATMUL, {F(50, 40), F(900, 40)}, {F(50, 900)}, mm_tb_plain, true, 1e-5},
        {"split embedding table", SEA_OP_EMBEDDING, {F(1000, 40), T(G_IDS, 1000, 300)}, {F(300, 40)}, p_none, true, 1e-6},
        {"split adamw", SEA_OP_ADAMW, {F(40000)}, {F(40000), F(40000), POSF(40000)}, adamw, false, 1e-6},
        {"split global_norm", SEA_OP_GLOBAL_NORM, {F(50001)}, {F(1)}, p_none, false, 1e-6},
        {"split clip", SEA_OP_CLIP, {POSF(1)}, {F(30000)}, clip, false, 1e-6},
        {"split copy", SEA_OP_COPY, {F(2, 20000)}, {F(2, 20000)}, p_none, false, 0},
        {"split fill", SEA_OP_FILL, {{0}}, {F(20000, 2)}, fill, false, 0},
        /* set_rows: in place, the rows not written keep their random values; 64 KiB chunks of
         * dst (and of x; with R = 1 of the row indices) under vulkan-ops-split. */
        {"split set_rows f32", SEA_OP_SET_ROWS, {F(3000, 10), T(G_ROWS, 5000, 3000)}, {F(5000, 10)}, p_none, false, 0},
        {"split set_rows bf16", SEA_OP_SET_ROWS, {DT(SEA_BF16, 3000, 11), T(G_ROWS, 7001, 3000)}, {DT(SEA_BF16, 7001, 11)},
         p_none, false, 0},
        {"split set_rows f16 R=1", SEA_OP_SET_ROWS, {DT(SEA_F16, 20000, 1), T(G_ROWS, 30001, 20000)}, {DT(SEA_F16, 30001, 1)},
         p_none, false, 0},
        {"set_rows f32", SEA_OP_SET_ROWS, {F(6, 10), T(G_ROWS, 20, 6)}, {F(20, 10)}, p_none, false, 0},
        {"set_rows bf16 odd rows", SEA_OP_SET_ROWS, {DT(SEA_BF16, 5, 33), T(G_ROWS, 40, 5)}, {DT(SEA_BF16, 40, 33)}, p_none, false, 0},
        {"set_rows f16 odd rows", SEA_OP_SET_ROWS, {DT(SEA_F16, 3, 7), T(G_ROWS, 11, 3)}, {DT(SEA_F16, 11, 7)}, p_none, false, 0},
        {"set_rows i32", SEA_OP_SET_ROWS, {T(G_IDS, 1000, 4, 3), T(G_ROWS, 9, 4)}, {T(G_IDS, 1000, 9, 3)}, p_none, false, 0},
        {"layernorm", SEA_OP_LAYERNORM, {F(13, 300), F(300), F(300)}, {F(13, 300), F(13), F(13)}, norm, true, 1e-5},
        /* a pair: second affine (weight2, bias2 -> out[3]) */
        {"layernorm pair", SEA_OP_LAYERNORM, {F(13, 300), F(300), F(300), F(300), F(300)},
         {F(13, 300), F(13), F(13), F(13, 300)}, norm, true, 1e-5},
        {"layernorm pair no biases", SEA_OP_LAYERNORM, {F(6, 70), F(70), {0}, F(70)}, {F(6, 70), F(6), F(6), F(6, 70)},
         norm, true, 1e-5},
        {"rmsnorm", SEA_OP_RMSNORM, {F(6, 64), F(64)}, {F(6, 64), F(6)}, norm, true, 1e-5},
        {"softmax", SEA_OP_SOFTMAX, {F(9, 515)}, {F(9, 515)}, p_none, true, 1e-5},
        {"gelu erf", SEA_OP_GELU, {F(1000)}, {F(1000)}, gelu_erf, true, 1e-5},
        {"gelu tanh", SEA_OP_GELU, {F(1000)}, {F(1000)}, gelu_tanh, true, 1e-5},
        {"silu", SEA_OP_SILU, {F(777)}, {F(777)}, p_none, true, 1e-5},
        {"relu", SEA_OP_RELU, {F(777)}, {F(777)}, p_none, true, 1e-6},
        {"swiglu", SEA_OP_SWIGLU, {F(5, 40), F(5, 40)}, {F(5, 40)}, p_none, true, 1e-5},
        {"add broadcast", SEA_OP_ADD, {F(7, 3, 33), F(33)}, {F(7, 3, 33)}, p_none, true, 1e-6},
        {"mul broadcast", SEA_OP_MUL, {F(7, 3, 33), F(3, 33)}, {F(7, 3, 33)}, p_none, true, 1e-6},
        {"mul same", SEA_OP_MUL, {F(70), F(70)}, {F(70)}, p_none, true, 1e-6},
        {"scale", SEA_OP_SCALE, {F(300)}, {F(300)}, scale, true, 1e-6},
        {"embedding", SEA_OP_EMBEDDING, {F(50, 24), T(G_IDS, 50, 40)}, {F(40, 24)}, p_none, true, 1e-6},
        {"logsoftmax_gather", SEA_OP_LOGSOFTMAX_GATHER, {F(12, 1001), T(G_TARGETS, 1001, 12)}, {F(12), F(12)}, p_none, true, 1e-5},
        {"cross_entropy", SEA_OP_CROSS_ENTROPY, {F(12, 517), T(G_TARGETS, 517, 12)}, {F(1), F(12)}, p_none, true, 1e-5},
        {"masked_sum", SEA_OP_MASKED_SUM, {F(5, 77), MASK(5, 77)}, {F(5)}, msum, true, 1e-5},
        {"masked_mean", SEA_OP_MASKED_SUM, {F(5, 77), MASK(5, 77)}, {F(5)}, mmean, true, 1e-5},
        {"rope neox partial", SEA_OP_ROPE, {F(2, 9, 3, 16), T(G_POS, 0, 2, 9)}, {F(2, 9, 3, 16)}, rope_neox, true, 1e-6},
        {"rope gptj llama3", SEA_OP_ROPE, {F(2, 9, 2, 16), T(G_POS, 0, 2, 9)}, {F(2, 9, 2, 16)}, rope_gptj, true, 1e-6},
        {"rope neox long positions", SEA_OP_ROPE, {F(1, 33, 2, 64), T(G_POSBIG, 0, 1, 33)}, {F(1, 33, 2, 64)}, rope_long, true, 1e-6},
        {"attention gqa+mask", SEA_OP_ATTENTION, {F(2, 70, 4, 16), F(2, 70, 2, 16), F(2, 70, 2, 16), T(G_VALID, 0, 2, 70)},
         {F(2, 70, 4, 16), F(2, 4, 70)}, attn, true, 1e-5},
        {"attention hd=80", SEA_OP_ATTENTION, {F(1, 20, 2, 80), F(1, 20, 2, 80), F(1, 20, 2, 80)}, {F(1, 20, 2, 80), F(1, 2, 20)}, attn, true, 1e-5},
        {"decode_attention", SEA_OP_DECODE_ATTENTION, {F(3, 4, 16), F(3, 16, 2, 16), F(3, 16, 2, 16), T(G_VALID, 0, 3, 16)},
         {F(3, 4, 16)}, dec, false, 1e-5},
        /* the shared prefix in[4..6]: 2 rows for 4 sequences; one row of 70 keys (two chunks of 64) for 2 */
        {"decode_attention prefix", SEA_OP_DECODE_ATTENTION,
         {F(4, 4, 16), F(4, 16, 2, 16), F(4, 16, 2, 16), T(G_VALID, 0, 4, 16), F(2, 9, 2, 16), F(2, 9, 2, 16), T(G_VALID, 0, 2, 9)},
         {F(4, 4, 16)}, dec, false, 1e-5},
        {"decode_attention long prefix", SEA_OP_DECODE_ATTENTION,
         {F(2, 2, 80), F(2, 16, 1, 80), F(2, 16, 1, 80), T(G_VALID, 0, 2, 16), F(1, 70, 1, 80), F(1, 70, 1, 80), T(G_VALID, 0, 1, 70)},
         {F(2, 2, 80)}, dec, false, 1e-5},
        {"ensemble_mlp", SEA_OP_ENSEMBLE_MLP, {F(13, 20), F(3, 20, 16), F(3, 16), F(3, 16, 16), F(3, 16), F(3, 16), F(3)},
         {F(3, 13), F(3, 13, 16), F(3, 13, 16)}, p_none, true, 1e-5},
        {"adamw", SEA_OP_ADAMW, {F(5000)}, {F(5000), F(5000), POSF(5000)}, adamw, false, 1e-6},
        {"global_norm", SEA_OP_GLOBAL_NORM, {F(10007)}, {F(1)}, p_none, false, 1e-6},
        {"clip", SEA_OP_CLIP, {POSF(1)}, {F(1000)}, clip, false, 1e-6},
        {"sample greedy", SEA_OP_SAMPLE, {F(4, 3000), T(G_IDS, 100, 4)}, {T(G_IDS, 1, 4), F(4)}, greedy, false, 1e-5},
        {"sample T=0.8", SEA_OP_SAMPLE, {F(4, 3000), T(G_IDS, 100, 4)}, {T(G_IDS, 1, 4), F(4)}, samp, false, 1e-5},
        {"sample top-k", SEA_OP_SAMPLE, {F(4, 3000), T(G_IDS, 100, 4)}, {T(G_IDS, 1, 4), F(4)}, samp_k, false, 1e-5},
        {"sample top-k top-p", SEA_OP_SAMPLE, {F(4, 3000), T(G_IDS, 100, 4)}, {T(G_IDS, 1, 4), F(4)}, samp_kp, false, 1e-5},
        {"sample top-p", SEA_OP_SAMPLE, {F(4, 3000), T(G_IDS, 100, 4)}, {T(G_IDS, 1, 4), F(4)}, samp_p, false, 1e-5},
    };
    const char *only = getenv("VK_TEST_ONLY");
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
        if (!only || strstr(cases[i].name, only)) run_case(cpu, vk, &cases[i]);
    if (!only || strstr("copy", only)) test_copy_casts(cpu, vk);
    if (only && strstr(only, "split")) test_too_big(vk);
    if (!only || strstr("set_rows", only) || strstr(only, "split")) {
        const sea_dtype dts[4] = {SEA_F32, SEA_BF16, SEA_F16, SEA_I32};
        for (int a = 0; a < 4; a++) {
            test_set_rows_views(vk, dts[a], 9, 7);
            test_set_rows_views(vk, dts[a], 3001, 13);   /* several dst chunks under vulkan-ops-split */
        }
    }
    if (!only || strstr("batch", only)) test_long_batch(vk);
    if (!only) {
        /* An allocation beyond the device's limits is SEA_ERR_OOM naming device and size. */
        int64_t huge[1] = {(int64_t)1 << 40};
        sea_tensor t;
        sea_status st = sea_tensor_alloc(vk, SEA_F32, 1, huge, &t);
        bool ok = st == SEA_ERR_OOM && strstr(sea_last_error(), "vulkan:0") && strstr(sea_last_error(), "4398046511104");
        printf("%-4s 4 TiB allocation -> %s: %s\n", ok ? "ok" : "FAIL", sea_status_name(st), sea_last_error());
        if (!ok) failures++;
        if (!st) sea_tensor_free(&t);
    }

    sea_device_close(vk);
    sea_device_close(cpu);
    printf("%d failure(s)\n", failures);
    return failures ? 1 : 0;
}
