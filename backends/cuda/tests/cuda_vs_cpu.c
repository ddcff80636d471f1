/* Every op of the CUDA backend against the CPU backend (the reference), forward and backward,
 * on the same random inputs; and every GPU result run twice must be bitwise identical
 * (op.h's determinism contract). Exits 77 when no CUDA device is present.
 * Inputs of bf16/f16 cases are generated already rounded to that dtype, so the CPU's f32
 * reference sees the same values and the tolerance measures the kernel, not the inputs.
 * The attention_flash_* cases run with SEA_CUDA_ATTN=flash (the tensor-core kernels or an
 * error), attention_bf16_basic with SEA_CUDA_ATTN=basic.
 *   cuda_vs_cpu [--list] [--skip case-name-prefix]... [case-name-prefix]
 * Running one case per process (check.sh does) keeps one device fault from hiding the rest. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "ops.h"

enum { R_FLOAT = 0, R_IDS, R_MASK, R_POS, R_IDS_NEG, R_PAD, R_ROWS };

typedef struct tspec {
    sea_dtype dt;
    int ndim;
    int64_t shape[4];
    int fill;   /* R_* */
    int range;  /* ids in [0, range) */
} tspec;

typedef struct tcase {
    const char *name;
    sea_op_kind kind;
    tspec in[SEA_OP_MAX_IN];
    tspec out[SEA_OP_MAX_OUT];
    sea_op_params p;
    bool backward;
    double tol;
    bool permute_in0; /* copy: read in[0] through a transposed view */
    const char *attn_env; /* SEA_CUDA_ATTN (SEA_CUDA_DECODE for decode_attention) for the GPU
                             runs of this case, or NULL */
    double maxtol;        /* > 0: also max |out - ref| / rms(ref) <= maxtol (a few wrong rows
                             cannot hide in the norm of a large output) */
    unsigned gin_f32;     /* bit i: gin[i] is f32 whatever in[i] is (a bf16 weight's master
                             gradient, op.h) */
} tcase;

#define F32(...) {SEA_F32, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_FLOAT, 0}
#define BF16(...) {SEA_BF16, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_FLOAT, 0}
#define F16(...) {SEA_F16, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_FLOAT, 0}
#define NDIMS(...) (int)(sizeof((int64_t[]){__VA_ARGS__}) / sizeof(int64_t))
#define IDS(range, ...) {SEA_I32, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_IDS, range}
/* distinct row indices in [0, range): (7 i + 3) mod range (range not a multiple of 7) */
#define ROWS(range, ...) {SEA_I32, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_ROWS, range}
#define IDSNEG(range, ...) {SEA_I32, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_IDS_NEG, range}
#define MASKI(...) {SEA_I32, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_MASK, 0}
/* key_valid (B, T) with sequence padding: b % 3 == 0 left-padded by T/4 (its first queries
 * see no key at all), b % 3 == 1 right-padded by T/5, b % 3 == 2 both */
#define PADI(...) {SEA_I32, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_PAD, 0}
#define MASKF(...) {SEA_F32, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_MASK, 0}
#define POSF(...) {SEA_F32, NDIMS(__VA_ARGS__), {__VA_ARGS__}, R_POS, 0}
#define NONE {SEA_F32, -1, {0}, 0, 0}

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;
static double urand(void)
{
    rng_state = rng_state * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng_state >> 11) / 9007199254740992.0;
}

static int64_t spec_numel(const tspec *s)
{
    int64_t n = 1;
    for (int d = 0; d < s->ndim; d++) n *= s->shape[d];
    return n;
}

static void gen(const tspec *s, float *f, int32_t *ids, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        switch (s->fill) {
        case R_IDS: ids[i] = (int32_t)(urand() * s->range); break;
        case R_IDS_NEG: ids[i] = urand() < 0.2 ? -1 : (int32_t)(urand() * s->range); break;
        case R_ROWS: ids[i] = (int32_t)((i * 7 + 3) % s->range); break;
        case R_MASK:
            if (s->dt == SEA_I32) ids[i] = (i % 7 == 0) ? 1 : urand() < 0.8;
            else f[i] = urand() < 0.75 ? 1.0f : 0.0f;
            break;
        case R_POS: f[i] = (float)(0.5 + urand()); break;
        case R_PAD: {
            int64_t T = s->shape[1], b = i / T, t = i % T;
            int64_t left = b % 3 != 1 ? T / 4 : 0, right = b % 3 != 0 ? T / 5 : 0;
            ids[i] = t >= left && t < T - right;
            break;
        }
        default: f[i] = (float)(2.0 * urand() - 1.0); break;
        }
    }
}

typedef struct side {
    sea_device *dev;
    sea_tensor in[SEA_OP_MAX_IN], out[SEA_OP_MAX_OUT], gin[SEA_OP_MAX_IN], gout[SEA_OP_MAX_OUT];
    sea_tensor in0_view, gin0_view;
} side;

/* NONE, or a slot a case leaves out (zero: out[3] of the cases written with three outputs). */
static bool absent(const tspec *s) { return s->ndim <= 0; }

static sea_status make(sea_device *dev, const tspec *s, const float *f, const int32_t *ids, sea_tensor *t)
{
    SEA_TRY(sea_tensor_alloc(dev, s->dt, s->ndim, s->shape, t));
    if (s->dt == SEA_I32) return sea_tensor_write_i32(sea_device_stream(dev), t, ids);
    return sea_tensor_write_f32(sea_device_stream(dev), t, f);
}

/* Host data of one case, shared by both sides. */
typedef struct hostdata {
    float *f[SEA_OP_MAX_IN + 3 * SEA_OP_MAX_OUT + SEA_OP_MAX_IN];
    int32_t *i[SEA_OP_MAX_IN + 3 * SEA_OP_MAX_OUT + SEA_OP_MAX_IN];
} hostdata;

static int setup(side *sd, const tcase *c, hostdata *h, bool backward)
{
    int slot = 0;
    for (int k = 0; k < SEA_OP_MAX_IN; k++, slot++) {
        if (absent(&c->in[k])) continue;
        if (make(sd->dev, &c->in[k], h->f[slot], h->i[slot], &sd->in[k])) return 1;
    }
    for (int k = 0; k < SEA_OP_MAX_OUT; k++, slot++) {
        if (absent(&c->out[k])) continue;
        if (make(sd->dev, &c->out[k], h->f[slot], h->i[slot], &sd->out[k])) return 1;
    }
    if (!backward) return 0;
    for (int k = 0; k < SEA_OP_MAX_OUT; k++, slot++) {
        if (absent(&c->out[k]) || c->out[k].dt == SEA_I32) continue;
        if (make(sd->dev, &c->out[k], h->f[slot], h->i[slot], &sd->gout[k])) return 1;
    }
    for (int k = 0; k < SEA_OP_MAX_IN; k++, slot++) {
        if (absent(&c->in[k]) || c->in[k].dt == SEA_I32 || c->in[k].fill == R_MASK) continue;
        tspec g = c->in[k];
        if (c->gin_f32 & (1u << k)) g.dt = SEA_F32;
        if (make(sd->dev, &g, h->f[slot], h->i[slot], &sd->gin[k])) return 1;
    }
    return 0;
}

static void build_op(side *sd, const tcase *c, sea_op *op, bool backward)
{
    memset(op, 0, sizeof *op);
    op->kind = c->kind;
    op->p = c->p;
    for (int k = 0; k < SEA_OP_MAX_IN; k++) op->in[k] = sd->in[k].buf ? &sd->in[k] : NULL;
    for (int k = 0; k < SEA_OP_MAX_OUT; k++) op->out[k] = sd->out[k].buf ? &sd->out[k] : NULL;
    if (c->permute_in0) {
        int perm[2] = {1, 0};
        sea_tensor_permute(&sd->in[0], perm, &sd->in0_view);
        op->in[0] = &sd->in0_view;
    }
    if (!backward) return;
    /* Only the first output's gradient is seeded, and a layernorm pair's y2 (out[3]): the
     * others are saved statistics. */
    op->gout[0] = sd->gout[0].buf ? &sd->gout[0] : NULL;
    if (c->kind == SEA_OP_LAYERNORM) op->gout[3] = sd->gout[3].buf ? &sd->gout[3] : NULL;
    for (int k = 0; k < SEA_OP_MAX_IN; k++) op->gin[k] = sd->gin[k].buf ? &sd->gin[k] : NULL;
    if (c->permute_in0 && op->gin[0]) {
        int perm[2] = {1, 0};
        sea_tensor_permute(&sd->gin[0], perm, &sd->gin0_view);
        op->gin[0] = &sd->gin0_view;
    }
}

static void release(side *sd)
{
    for (int k = 0; k < SEA_OP_MAX_IN; k++) {
        sea_tensor_free(&sd->in[k]);
        sea_tensor_free(&sd->gin[k]);
    }
    for (int k = 0; k < SEA_OP_MAX_OUT; k++) {
        sea_tensor_free(&sd->out[k]);
        sea_tensor_free(&sd->gout[k]);
    }
}

static int read_all(side *sd, const tcase *c, bool backward, float **vals, int64_t *ns)
{
    int n = 0;
    sea_stream *s = sea_device_stream(sd->dev);
    for (int k = 0; k < SEA_OP_MAX_OUT; k++) {
        sea_tensor *t = &sd->out[k];
        if (!t->buf) continue;
        int64_t m = sea_tensor_numel(t);
        vals[n] = malloc((size_t)m * sizeof(float));
        ns[n] = m;
        if (t->dtype == SEA_I32) {
            int32_t *tmp = malloc((size_t)m * 4);
            if (sea_tensor_read_i32(s, t, tmp)) return -1;
            for (int64_t i = 0; i < m; i++) vals[n][i] = (float)tmp[i];
            free(tmp);
        } else if (sea_tensor_read_f32(s, t, vals[n])) {
            return -1;
        }
        n++;
    }
    if (!backward) return n;
    for (int k = 0; k < SEA_OP_MAX_IN; k++) {
        sea_tensor *t = &sd->gin[k];
        if (!t->buf) continue;
        int64_t m = sea_tensor_numel(t);
        vals[n] = malloc((size_t)m * sizeof(float));
        ns[n] = m;
        if (sea_tensor_read_f32(s, t, vals[n])) return -1;
        n++;
    }
    (void)c;
    return n;
}

/* Run one case on one device; results into vals. */
static int run_side(sea_device *dev, const tcase *c, hostdata *h, bool backward, float **vals, int64_t *ns)
{
    side sd;
    memset(&sd, 0, sizeof sd);
    sd.dev = dev;
    int n = -1;
    sea_op op;
    if (setup(&sd, c, h, backward)) goto done;
    build_op(&sd, c, &op, false);
    if (sea_op_run(sea_device_stream(dev), &op)) goto done;
    if (backward) {
        build_op(&sd, c, &op, true);
        if (sea_op_run_backward(sea_device_stream(dev), &op)) goto done;
    }
    if (sea_stream_sync(sea_device_stream(dev))) goto done;
    n = read_all(&sd, c, backward, vals, ns);
done:
    release(&sd);
    return n;
}

static double rel_err(const float *a, const float *b, int64_t n)
{
    double num = 0, den = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isinf(a[i]) && isinf(b[i]) && (a[i] > 0) == (b[i] > 0)) continue;
        double d = (double)a[i] - b[i];
        num += d * d;
        den += (double)b[i] * b[i];
    }
    if (isnan(num)) return INFINITY;
    return den > 0 ? sqrt(num / den) : sqrt(num);
}

/* max |a - b| / rms(b): catches errors confined to a few rows or a tile edge. */
static double max_err(const float *a, const float *b, int64_t n)
{
    double worst = 0, den = 0;
    int64_t m = 0;
    for (int64_t i = 0; i < n; i++) {
        if (isinf(a[i]) && isinf(b[i]) && (a[i] > 0) == (b[i] > 0)) continue;
        double d = fabs((double)a[i] - b[i]);
        if (isnan(d)) return INFINITY;
        if (d > worst) worst = d;
        den += (double)b[i] * b[i];
        m++;
    }
    den = m ? sqrt(den / (double)m) : 0;
    return den > 0 ? worst / den : worst;
}

/* Round to what a tensor of dtype dt holds, so both sides start from the same values. */
static void round_to(sea_dtype dt, float *f, int64_t n)
{
    for (int64_t i = 0; i < n; i++) {
        if (dt == SEA_BF16) f[i] = sea_bf16_to_f32(sea_f32_to_bf16(f[i]));
        else if (dt == SEA_F16) f[i] = sea_f16_to_f32(sea_f32_to_f16(f[i]));
    }
}

/* The variable that picks this case's kernel: SEA_CUDA_DECODE for decode, else SEA_CUDA_ATTN. */
static const char *attn_env_var(const tcase *c)
{
    return c->kind == SEA_OP_DECODE_ATTENTION ? "SEA_CUDA_DECODE" : "SEA_CUDA_ATTN";
}

/* Set (attn_env != NULL) the case's kernel variable for one case; restore what was there. */
static char *saved_attn_env;
static void attn_env_push(const tcase *c)
{
    if (!c->attn_env) return;
    const char *old = getenv(attn_env_var(c));
    saved_attn_env = old ? strdup(old) : NULL;
    setenv(attn_env_var(c), c->attn_env, 1);
}

static void attn_env_pop(const tcase *c)
{
    if (!c->attn_env) return;
    if (saved_attn_env) setenv(attn_env_var(c), saved_attn_env, 1);
    else unsetenv(attn_env_var(c));
    free(saved_attn_env);
    saved_attn_env = NULL;
}

static const tcase *cases(int *count);

int main(int argc, char **argv)
{
    int nc;
    const tcase *cs = cases(&nc);
    const char *filter = NULL, *skip[8];
    int n_skip = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--list")) {
            for (int k = 0; k < nc; k++) printf("%s\n", cs[k].name);
            return 0;
        }
        if (!strcmp(argv[i], "--skip") && i + 1 < argc && n_skip < 8) {
            skip[n_skip++] = argv[++i];
            continue;
        }
        filter = argv[i];
    }
    sea_device *gpu = NULL, *cpu = NULL;
    /* SEA_VS_DEVICE=cpu checks the harness itself (every case must then agree exactly). */
    const char *spec = getenv("SEA_VS_DEVICE") ? getenv("SEA_VS_DEVICE") : "cuda:0";
    if (sea_device_open(spec, &gpu)) {
        printf("SKIP: no device %s: %s\n", spec, sea_last_error());
        return 77;
    }
    if (sea_device_open("cpu", &cpu)) {
        fprintf(stderr, "cpu: %s\n", sea_last_error());
        return 1;
    }
    printf("device: %s\n", sea_device_label(gpu));
    const bool self_check = !strcmp(spec, "cpu");
    int failed = 0, ran = 0;
    for (int k = 0; k < nc; k++) {
        const tcase *c = &cs[k];
        if (filter && strncmp(c->name, filter, strlen(filter))) continue;
        bool skipped = false;
        for (int i = 0; i < n_skip; i++) skipped = skipped || !strncmp(c->name, skip[i], strlen(skip[i]));
        if (skipped) continue;
        ran++;
        /* host data: every tensor slot gets its own random contents */
        hostdata h;
        memset(&h, 0, sizeof h);
        int slot = 0;
        const tspec *specs[SEA_OP_MAX_IN + 3 * SEA_OP_MAX_OUT + SEA_OP_MAX_IN];
        for (int i = 0; i < SEA_OP_MAX_IN; i++) specs[slot++] = &c->in[i];
        for (int i = 0; i < SEA_OP_MAX_OUT; i++) specs[slot++] = &c->out[i];
        for (int i = 0; i < SEA_OP_MAX_OUT; i++) specs[slot++] = &c->out[i];
        for (int i = 0; i < SEA_OP_MAX_IN; i++) specs[slot++] = &c->in[i];
        for (int i = 0; i < slot; i++) {
            tspec s = *specs[i];
            if (absent(&s)) continue;
            if (i >= SEA_OP_MAX_IN + SEA_OP_MAX_OUT) s.fill = R_FLOAT; /* gradients: plain random */
            int64_t n = spec_numel(&s);
            h.f[i] = malloc((size_t)n * sizeof(float) + 4);
            h.i[i] = malloc((size_t)n * sizeof(int32_t) + 4);
            gen(&s, h.f[i], h.i[i], n);
            if (s.fill != R_IDS && s.fill != R_IDS_NEG && s.fill != R_PAD) round_to(s.dt, h.f[i], n);
        }
        float *ref[16] = {0}, *got[16] = {0}, *again[16] = {0};
        int64_t nr[16], ng[16], na[16];
        /* The CPU runs f32 only for some ops: its reference for a bf16 case is the same case
         * in f32 (the inputs are the same floats; the tolerance covers bf16 rounding). */
        tcase c32 = *c;
        for (int i = 0; i < SEA_OP_MAX_IN; i++)
            if (c32.in[i].dt == SEA_BF16 || c32.in[i].dt == SEA_F16) c32.in[i].dt = SEA_F32;
        for (int i = 0; i < SEA_OP_MAX_OUT; i++)
            if (c32.out[i].dt == SEA_BF16 || c32.out[i].dt == SEA_F16) c32.out[i].dt = SEA_F32;
        int a = run_side(cpu, c, &h, c->backward, ref, nr);
        if (a < 0) a = run_side(cpu, &c32, &h, c->backward, ref, nr);
        if (a < 0) {
            printf("%-28s SKIP (cpu reference: %s)\n", c->name, sea_last_error());
            continue;
        }
        attn_env_push(c);
        /* The CPU checking itself runs 16-bit cases as their f32 twins on both sides. */
        const tcase *cg = self_check && run_side(gpu, c, &h, c->backward, got, ng) < 0 ? &c32 : c;
        for (int i = 0; i < 16; i++) {
            free(got[i]);
            got[i] = NULL;
        }
        int b = run_side(gpu, cg, &h, c->backward, got, ng);
        int b2 = b < 0 ? -1 : run_side(gpu, cg, &h, c->backward, again, na);
        attn_env_pop(c);
        if (b < 0) {
            printf("%-28s FAIL (cuda: %s)\n", c->name, sea_last_error());
            failed++;
            continue;
        }
        double worst = 0, worst_max = 0;
        bool same_bits = b2 == b;
        for (int i = 0; i < a && i < b; i++) {
            double e = rel_err(got[i], ref[i], nr[i]);
            if (e > worst) worst = e;
            if (c->maxtol > 0) {
                double em = max_err(got[i], ref[i], nr[i]);
                if (em > worst_max) worst_max = em;
            }
            if (same_bits && memcmp(got[i], again[i], (size_t)ng[i] * 4) != 0) same_bits = false;
        }
        bool ok = a == b && worst <= c->tol && same_bits && (c->maxtol <= 0 || worst_max <= c->maxtol);
        char extra[64] = "";
        if (c->maxtol > 0) snprintf(extra, sizeof extra, ", max %.2e (tol %.2g)", worst_max, c->maxtol);
        printf("%-28s %s  rel err %.2e (tol %.2g)%s%s\n", c->name, ok ? "ok  " : "FAIL", worst, c->tol, extra,
               same_bits ? "" : "  NOT DETERMINISTIC");
        failed += !ok;
        for (int i = 0; i < 16; i++) {
            free(ref[i]);
            free(got[i]);
            free(again[i]);
        }
        for (int i = 0; i < slot; i++) {
            free(h.f[i]);
            free(h.i[i]);
        }
    }
    sea_device_close(gpu);
    sea_device_close(cpu);
    printf("%d cases, %d failed\n", ran, failed);
    return failed ? 1 : 0;
}

/* ---- the cases ---- */
#define NO3 NONE, NONE, NONE
#define NO7 NONE, NONE, NONE, NONE, NONE, NONE, NONE

static const tcase *cases(int *count)
{
    enum { MAX_CASES = 96 };
    static tcase c[MAX_CASES];
    int n = 0;
    sea_op_params p;
#define ADD(...)                                                                         \
    do {                                                                                 \
        if (n == MAX_CASES) {                                                            \
            fprintf(stderr, "cuda_vs_cpu: more than %d cases: raise MAX_CASES\n", MAX_CASES); \
            exit(2);                                                                     \
        }                                                                                \
        c[n++] = (tcase){__VA_ARGS__, false, NULL, 0, 0};                                \
    } while (0)
    memset(&p, 0, sizeof p);
    p.fill.value = 1.5;
    ADD("fill_f32", SEA_OP_FILL, {NO7}, {F32(3, 5), NONE, NONE}, p, false, 0);
    ADD("fill_bf16", SEA_OP_FILL, {NO7}, {BF16(4, 33), NONE, NONE}, p, false, 0);
    memset(&p, 0, sizeof p);
    ADD("copy_f32_bf16", SEA_OP_COPY, {F32(4, 7), NONE, NONE, NONE, NONE, NONE, NONE}, {BF16(4, 7), NONE, NONE}, p, true, 1e-6);
    ADD("copy_transposed", SEA_OP_COPY, {F32(9, 5), NONE, NONE, NONE, NONE, NONE, NONE}, {F32(5, 9), NONE, NONE}, p, true,
        1e-7);
    c[n - 1].permute_in0 = true;
    ADD("set_rows_f32", SEA_OP_SET_ROWS, {F32(64, 256), ROWS(300, 64), NONE, NONE, NONE, NONE, NONE},
        {F32(300, 256), NONE, NONE}, p, false, 0);
    ADD("set_rows_bf16_kv", SEA_OP_SET_ROWS, {BF16(16, 2048), ROWS(640, 16), NONE, NONE, NONE, NONE, NONE},
        {BF16(640, 2048), NONE, NONE}, p, false, 0);
    ADD("set_rows_f16_odd", SEA_OP_SET_ROWS, {F16(5, 3), ROWS(11, 5), NONE, NONE, NONE, NONE, NONE},
        {F16(11, 3), NONE, NONE}, p, false, 0);
    ADD("embedding", SEA_OP_EMBEDDING, {F32(50, 40), IDS(50, 300), NONE, NONE, NONE, NONE, NONE}, {F32(300, 40), NONE, NONE},
        p, true, 1e-6);
    p.matmul.act = SEA_ACT_GELU;
    ADD("matmul_bias_gelu", SEA_OP_MATMUL, {F32(2, 3, 17, 9), F32(9, 13), F32(13), NONE, NONE, NONE, NONE},
        {F32(2, 3, 17, 13), F32(2, 3, 17, 13), NONE}, p, true, 1e-5);
    memset(&p, 0, sizeof p);
    p.matmul.trans_b = true;
    ADD("matmul_trans_b", SEA_OP_MATMUL, {F32(33, 64), F32(70, 64), NONE, NONE, NONE, NONE, NONE}, {F32(33, 70), NONE, NONE},
        p, true, 1e-5);
    memset(&p, 0, sizeof p);
    p.matmul.trans_a = true;
    ADD("matmul_trans_a_batched", SEA_OP_MATMUL, {F32(3, 11, 7), F32(3, 11, 5), NONE, NONE, NONE, NONE, NONE},
        {F32(3, 7, 5), NONE, NONE}, p, true, 1e-5);
    ADD("matmul_trans_a_shared_b", SEA_OP_MATMUL, {F32(3, 11, 7), F32(11, 5), NONE, NONE, NONE, NONE, NONE},
        {F32(3, 7, 5), NONE, NONE}, p, true, 1e-5);
    /* A bias without an activation: cuBLASLt's bias epilogue (cuda_gemm_lt.c), here through a
     * shared-B batch folded into one GEMM, and in f16. */
    memset(&p, 0, sizeof p);
    p.matmul.trans_b = true;
    ADD("matmul_bias_lt_f32", SEA_OP_MATMUL, {F32(2, 19, 40), F32(24, 40), F32(24), NONE, NONE, NONE, NONE},
        {F32(2, 19, 24), NONE, NONE}, p, true, 1e-5);
    ADD("matmul_bias_lt_f16", SEA_OP_MATMUL, {F16(16, 64), F16(40, 64), F16(40), NONE, NONE, NONE, NONE},
        {F16(16, 40), NONE, NONE}, p, false, 2e-3);
    /* A residual (in[3]): in cuBLASLt as C with beta 1 beside the bias epilogue, or alone;
     * bf16 as in the models' dense and MLP-down projections; a batched GEMM (per-batch B)
     * takes the epilogue-kernel path. */
    ADD("matmul_residual_lt_f32", SEA_OP_MATMUL, {F32(2, 19, 40), F32(24, 40), F32(24), F32(2, 19, 24), NONE, NONE, NONE},
        {F32(2, 19, 24), NONE, NONE}, p, true, 1e-5);
    ADD("matmul_residual_lt_bf16", SEA_OP_MATMUL, {BF16(16, 64), BF16(40, 64), BF16(40), BF16(16, 40), NONE, NONE, NONE},
        {BF16(16, 40), NONE, NONE}, p, true, 2e-2);
    ADD("matmul_residual_nobias_f16", SEA_OP_MATMUL, {F16(16, 64), F16(40, 64), NONE, F16(16, 40), NONE, NONE, NONE},
        {F16(16, 40), NONE, NONE}, p, false, 2e-3);
    ADD("matmul_residual_batched", SEA_OP_MATMUL, {F32(3, 5, 16), F32(3, 8, 16), F32(8), F32(3, 5, 8), NONE, NONE, NONE},
        {F32(3, 5, 8), NONE, NONE}, p, true, 1e-5);
    memset(&p, 0, sizeof p);
    p.matmul.trans_b = true;
    p.matmul.act = SEA_ACT_SILU;
    ADD("matmul_bf16", SEA_OP_MATMUL, {BF16(16, 64), BF16(48, 64), BF16(48), NONE, NONE, NONE, NONE},
        {BF16(16, 48), BF16(16, 48), NONE}, p, false, 2e-2);
    /* Mixed precision backward: bf16 operands, the weights' gradients accumulated in f32
     * (models/model_precision.c); the CPU runs the same bf16 case through f32 shadows. */
    memset(&p, 0, sizeof p);
    p.matmul.trans_b = true;
    ADD("matmul_bf16_f32_wgrad", SEA_OP_MATMUL, {BF16(16, 64), BF16(48, 64), BF16(48), NONE, NONE, NONE, NONE},
        {BF16(16, 48), NONE, NONE}, p, true, 2e-2);
    c[n - 1].gin_f32 = 6;
    memset(&p, 0, sizeof p);
    p.norm.eps = 1e-5f;
    ADD("layernorm_bf16_f32_wgrad", SEA_OP_LAYERNORM, {BF16(7, 300), BF16(300), BF16(300), NONE, NONE, NONE, NONE},
        {BF16(7, 300), F32(7), F32(7)}, p, true, 2e-2);
    c[n - 1].gin_f32 = 6;
    memset(&p, 0, sizeof p);
    ADD("embedding_bf16_f32_wgrad", SEA_OP_EMBEDDING, {BF16(50, 40), IDS(50, 300), NONE, NONE, NONE, NONE, NONE},
        {BF16(300, 40), NONE, NONE}, p, true, 1e-2);
    c[n - 1].gin_f32 = 1;
    memset(&p, 0, sizeof p);
    p.norm.eps = 1e-5f;
    ADD("layernorm", SEA_OP_LAYERNORM, {F32(7, 300), F32(300), F32(300), NONE, NONE, NONE, NONE},
        {F32(7, 300), F32(7), F32(7)}, p, true, 1e-5);
    /* a pair: the second affine (weight2, bias2 -> out[3]) and both gradients in one pass */
    ADD("layernorm_pair", SEA_OP_LAYERNORM, {F32(7, 300), F32(300), F32(300), F32(300), F32(300), NONE, NONE},
        {F32(7, 300), F32(7), F32(7), F32(7, 300)}, p, true, 1e-5);
    ADD("layernorm_pair_no_biases", SEA_OP_LAYERNORM, {F32(40, 1030), F32(1030), NONE, F32(1030), NONE, NONE, NONE},
        {F32(40, 1030), F32(40), F32(40), F32(40, 1030)}, p, true, 1e-5);
    /* Rows of a multiple of 8 up to 2560 run the warp-per-row forward (cuda_norm.cu): Pythia-1B's
     * 2048 (a partial last block of rows), 264 (two chunks a lane, the second partial), 40
     * (lanes without a chunk) and 2560 (ten chunks a lane, the most) */
    ADD("layernorm_warp_pair_bf16_d2048", SEA_OP_LAYERNORM, {BF16(9, 2048), BF16(2048), BF16(2048), BF16(2048), BF16(2048), NONE, NONE},
        {BF16(9, 2048), F32(9), F32(9), BF16(9, 2048)}, p, true, 2e-2);
    ADD("layernorm_warp_f32_d264", SEA_OP_LAYERNORM, {F32(20, 264), F32(264), F32(264), NONE, NONE, NONE, NONE},
        {F32(20, 264), F32(20), F32(20)}, p, true, 1e-5);
    ADD("layernorm_warp_f16_d40_no_bias", SEA_OP_LAYERNORM, {F16(3, 40), F16(40), NONE, NONE, NONE, NONE, NONE},
        {F16(3, 40), F32(3), F32(3)}, p, true, 2e-3);
    ADD("layernorm_warp_pair_f32_d2560_no_biases", SEA_OP_LAYERNORM, {F32(17, 2560), F32(2560), NONE, F32(2560), NONE, NONE, NONE},
        {F32(17, 2560), F32(17), F32(17), F32(17, 2560)}, p, true, 1e-5);
    ADD("layernorm_pair_bf16_f32_wgrad", SEA_OP_LAYERNORM,
        {BF16(7, 300), BF16(300), BF16(300), BF16(300), BF16(300), NONE, NONE},
        {BF16(7, 300), F32(7), F32(7), BF16(7, 300)}, p, true, 2e-2);
    c[n - 1].gin_f32 = 30;
    /* the warp-per-row RMSNorm (rows of a multiple of 8 up to 2560): Llama-1B's 2048 in bf16,
     * 264 in f32 (a partial second chunk a lane) */
    ADD("rmsnorm_warp_bf16_d2048", SEA_OP_RMSNORM, {BF16(9, 2048), BF16(2048), NONE, NONE, NONE, NONE, NONE},
        {BF16(9, 2048), F32(9), NONE}, p, true, 2e-2);
    ADD("rmsnorm_warp_f32_d264", SEA_OP_RMSNORM, {F32(20, 264), F32(264), NONE, NONE, NONE, NONE, NONE},
        {F32(20, 264), F32(20), NONE}, p, true, 1e-5);
    ADD("rmsnorm", SEA_OP_RMSNORM, {F32(2, 5, 96), F32(96), NONE, NONE, NONE, NONE, NONE}, {F32(2, 5, 96), F32(10), NONE}, p,
        true, 1e-5);
    memset(&p, 0, sizeof p);
    p.rope.rot_dims = 16;
    p.rope.theta = 10000.0f;
    ADD("rope_neox_partial", SEA_OP_ROPE, {F32(2, 5, 3, 64), IDS(2000, 2, 5), NONE, NONE, NONE, NONE, NONE},
        {F32(2, 5, 3, 64), NONE, NONE}, p, true, 1e-5);
    p.rope.rot_dims = 64;
    p.rope.style = SEA_ROPE_GPTJ;
    p.rope.theta = 500000.0f;
    p.rope.scaling = SEA_ROPE_SCALING_LLAMA3;
    p.rope.factor = 8;
    p.rope.low_freq_factor = 1;
    p.rope.high_freq_factor = 4;
    p.rope.original_max_pos = 8192;
    ADD("rope_gptj_llama3", SEA_OP_ROPE, {F32(2, 5, 3, 64), IDS(9000, 2, 5), NONE, NONE, NONE, NONE, NONE},
        {F32(2, 5, 3, 64), NONE, NONE}, p, true, 1e-5);
    memset(&p, 0, sizeof p);
    p.attn.scale = 0.125f;
    ADD("attention_gqa_masked", SEA_OP_ATTENTION, {F32(2, 37, 4, 64), F32(2, 37, 2, 64), F32(2, 37, 2, 64), MASKI(2, 37), NONE, NONE, NONE},
        {F32(2, 37, 4, 64), F32(2, 4, 37), NONE}, p, true, 1e-4);
    p.attn.scale = 0.11f;
    ADD("attention_hd80", SEA_OP_ATTENTION, {F32(1, 70, 2, 80), F32(1, 70, 2, 80), F32(1, 70, 2, 80), NONE, NONE, NONE, NONE},
        {F32(1, 70, 2, 80), F32(1, 2, 70), NONE}, p, true, 1e-4);
    p.attn.scale = 0.0625f;
    ADD("attention_hd256", SEA_OP_ATTENTION, {F32(1, 40, 2, 256), F32(1, 40, 1, 256), F32(1, 40, 1, 256), NONE, NONE, NONE, NONE},
        {F32(1, 40, 2, 256), F32(1, 2, 40), NONE}, p, true, 1e-4);
    /* The tensor-core kernels (bf16/f16; head dim 64, 128, 256, others padded): T off the 64-query and
     * 32/64-key tiles, GQA, holes and sequence padding (queries with no key: zeros, lse -inf),
     * T = 1. Inputs are rounded to the dtype first, so the tolerances are the kernels' own
     * rounding: P and dS to 16 bits before their products, outputs and gradients stored in
     * 16 bits (bf16: 2^-8 relative, f16: 2^-11). A numpy model of that rounding on these
     * shapes gives rel err <= 2.0e-3 and max err <= 2.9e-2 (bf16), 2.5e-4 and 3.0e-3 (f16). */
#define FLASH(maxt) (c[n - 1].attn_env = "flash", c[n - 1].maxtol = (maxt))
    p.attn.scale = 0.125f;
    ADD("attention_flash_bf16_hd64", SEA_OP_ATTENTION,
        {BF16(2, 100, 4, 64), BF16(2, 100, 2, 64), BF16(2, 100, 2, 64), MASKI(2, 100), NONE, NONE, NONE},
        {BF16(2, 100, 4, 64), F32(2, 4, 100), NONE}, p, true, 1e-2);
    FLASH(0.08);
    ADD("attention_flash_bf16_hd64_t300", SEA_OP_ATTENTION,
        {BF16(1, 300, 2, 64), BF16(1, 300, 2, 64), BF16(1, 300, 2, 64), NONE, NONE, NONE, NONE},
        {BF16(1, 300, 2, 64), F32(1, 2, 300), NONE}, p, true, 1e-2);
    FLASH(0.08);
    ADD("attention_flash_f16_hd64_t1", SEA_OP_ATTENTION,
        {F16(2, 1, 2, 64), F16(2, 1, 2, 64), F16(2, 1, 2, 64), NONE, NONE, NONE, NONE},
        {F16(2, 1, 2, 64), F32(2, 2, 1), NONE}, p, true, 2e-3);
    FLASH(0.02);
    p.attn.scale = 0.08838835f;
    ADD("attention_flash_bf16_hd128_pad", SEA_OP_ATTENTION,
        {BF16(3, 129, 2, 128), BF16(3, 129, 2, 128), BF16(3, 129, 2, 128), PADI(3, 129), NONE, NONE, NONE},
        {BF16(3, 129, 2, 128), F32(3, 2, 129), NONE}, p, true, 1e-2);
    FLASH(0.08);
    ADD("attention_flash_f16_hd128_gqa", SEA_OP_ATTENTION,
        {F16(2, 150, 2, 128), F16(2, 150, 1, 128), F16(2, 150, 1, 128), MASKI(2, 150), NONE, NONE, NONE},
        {F16(2, 150, 2, 128), F32(2, 2, 150), NONE}, p, true, 2e-3);
    FLASH(0.02);
    p.attn.scale = 0.0625f;
    ADD("attention_flash_bf16_hd256_gqa", SEA_OP_ATTENTION,
        {BF16(1, 77, 4, 256), BF16(1, 77, 1, 256), BF16(1, 77, 1, 256), NONE, NONE, NONE, NONE},
        {BF16(1, 77, 4, 256), F32(1, 4, 77), NONE}, p, true, 1e-2);
    FLASH(0.08);
    ADD("attention_flash_bf16_hd256_pad", SEA_OP_ATTENTION,
        {BF16(3, 200, 2, 256), BF16(3, 200, 2, 256), BF16(3, 200, 2, 256), PADI(3, 200), NONE, NONE, NONE},
        {BF16(3, 200, 2, 256), F32(3, 2, 200), NONE}, p, true, 1e-2);
    FLASH(0.08);
    ADD("attention_flash_f16_hd256_pad", SEA_OP_ATTENTION,
        {F16(3, 65, 1, 256), F16(3, 65, 1, 256), F16(3, 65, 1, 256), PADI(3, 65), NONE, NONE, NONE},
        {F16(3, 65, 1, 256), F32(3, 1, 65), NONE}, p, true, 2e-3);
    FLASH(0.02);
    /* head dims between the kernels' run zero-padded on the next larger ones: Pythia-2.8B's
     * 80 (GQA, padding) and a 40 on the 64 kernels */
    p.attn.scale = 0.1118034f;
    ADD("attention_flash_bf16_hd80_pad_gqa", SEA_OP_ATTENTION,
        {BF16(2, 90, 4, 80), BF16(2, 90, 2, 80), BF16(2, 90, 2, 80), PADI(2, 90), NONE, NONE, NONE},
        {BF16(2, 90, 4, 80), F32(2, 4, 90), NONE}, p, true, 1e-2);
    FLASH(0.08);
    p.attn.scale = 0.1581139f;
    ADD("attention_flash_f16_hd40", SEA_OP_ATTENTION,
        {F16(1, 70, 2, 40), F16(1, 70, 2, 40), F16(1, 70, 2, 40), MASKI(1, 70), NONE, NONE, NONE},
        {F16(1, 70, 2, 40), F32(1, 2, 70), NONE}, p, true, 2e-3);
    FLASH(0.02);
    p.attn.scale = 0.0625f;
    /* a DPO-like block (8 heads of 256, T 512, padded sequences): enough blocks in flight for
     * scheduling to vary between the two runs that must give the same bits */
    ADD("attention_flash_bf16_dpo", SEA_OP_ATTENTION,
        {BF16(4, 512, 8, 256), BF16(4, 512, 8, 256), BF16(4, 512, 8, 256), PADI(4, 512), NONE, NONE, NONE},
        {BF16(4, 512, 8, 256), F32(4, 8, 512), NONE}, p, true, 1e-2);
    FLASH(0.08);
#undef FLASH
    /* bf16 through the fp32 SIMT kernels (the fallback, forced) */
    p.attn.scale = 0.125f;
    ADD("attention_bf16_basic", SEA_OP_ATTENTION,
        {BF16(2, 70, 2, 64), BF16(2, 70, 2, 64), BF16(2, 70, 2, 64), MASKI(2, 70), NONE, NONE, NONE},
        {BF16(2, 70, 2, 64), F32(2, 2, 70), NONE}, p, true, 1e-2);
    c[n - 1].attn_env = "basic";
    p.attn.scale = 0.125f;
    p.attn.n_keys = 17;
    /* Decode attention: q (B, H, hd), caches (B, S, Hkv, hd), a key mask, out like q. */
#define ADD_DECODE(name, DT, B, H, S, Hkv, hd, tol)                                                              \
    ADD(name, SEA_OP_DECODE_ATTENTION, {DT(B, H, hd), DT(B, S, Hkv, hd), DT(B, S, Hkv, hd), MASKI(B, S), NO3}, \
        {DT(B, H, hd), NONE, NONE}, p, false, tol)
    ADD_DECODE("decode_attention", F32, 3, 4, 20, 2, 64, 1e-5);
    /* bf16/f16 caches take the vectorized kernel (16-byte rows, G = hd / 8 lanes a key, 32 / G
     * keys a warp step): every head dim it has, GQA, holes in key_valid, keys beyond n_keys. */
    p.attn.n_keys = 37;
    ADD_DECODE("decode_attention_bf16_hd64", BF16, 3, 4, 40, 2, 64, 1e-2);
    ADD_DECODE("decode_attention_f16_hd128", F16, 2, 2, 40, 2, 128, 2e-3);
    p.attn.scale = 0.0625f;
    p.attn.n_keys = 70;
    ADD_DECODE("decode_attention_bf16_hd256", BF16, 2, 8, 75, 8, 256, 1e-2);
    p.attn.scale = 0.11f;
    p.attn.n_keys = 33;
    /* head dims that are not a power of two (Pythia-2.8B's 80): lane groups of 16 and 8 with
     * idle lanes */
    ADD_DECODE("decode_attention_bf16_hd80", BF16, 2, 4, 33, 4, 80, 1e-2);
    ADD_DECODE("decode_attention_f16_hd40", F16, 3, 2, 33, 1, 40, 2e-3);
    p.attn.scale = 0.35f;
    p.attn.n_keys = 300;
    ADD_DECODE("decode_attention_bf16_hd8_many_keys", BF16, 2, 3, 300, 1, 8, 1e-2);
#undef ADD_DECODE
    /* With the shared prefix in[4..6] (Bp rows of Sp keys, left/right padded by PADI, each
     * serving B / Bp sequences) walked before the own keys: both kernels, the vectorized one
     * at lane groups of 8, 16 and 32, one prefix row for the whole batch and one per sequence. */
#define ADD_DECODE_PREFIX(name, DT, B, H, S, Hkv, hd, Bp, Sp, tol)                                                \
    ADD(name, SEA_OP_DECODE_ATTENTION,                                                                          \
        {DT(B, H, hd), DT(B, S, Hkv, hd), DT(B, S, Hkv, hd), MASKI(B, S), DT(Bp, Sp, Hkv, hd), DT(Bp, Sp, Hkv, hd), \
         PADI(Bp, Sp)},                                                                                         \
        {DT(B, H, hd), NONE, NONE}, p, false, tol)
    p.attn.scale = 0.125f;
    p.attn.n_keys = 17;
    ADD_DECODE_PREFIX("decode_prefix_f32", F32, 4, 4, 20, 2, 64, 2, 23, 1e-5);
    p.attn.n_keys = 37;
    ADD_DECODE_PREFIX("decode_prefix_bf16_hd64", BF16, 4, 4, 40, 2, 64, 2, 37, 1e-2);
    ADD_DECODE_PREFIX("decode_prefix_bf16_hd64_basic", BF16, 4, 4, 40, 2, 64, 2, 37, 1e-2);
    c[n - 1].attn_env = "basic";
    ADD_DECODE_PREFIX("decode_prefix_f16_hd128_per_seq", F16, 2, 2, 40, 2, 128, 2, 29, 2e-3);
    p.attn.scale = 0.11f;
    p.attn.n_keys = 33;
    ADD_DECODE_PREFIX("decode_prefix_bf16_hd80", BF16, 6, 4, 33, 4, 80, 3, 50, 1e-2);
    p.attn.scale = 0.0625f;
    p.attn.n_keys = 70;
    ADD_DECODE_PREFIX("decode_prefix_bf16_hd256_one_row", BF16, 4, 8, 75, 8, 256, 1, 70, 1e-2);
#undef ADD_DECODE_PREFIX
    memset(&p, 0, sizeof p);
    ADD("gelu", SEA_OP_GELU, {F32(5, 77), NO3, NO3}, {F32(5, 77), NONE, NONE}, p, true, 1e-6);
    p.act.approximate = true;
    ADD("gelu_tanh", SEA_OP_GELU, {F32(5, 77), NO3, NO3}, {F32(5, 77), NONE, NONE}, p, true, 1e-6);
    memset(&p, 0, sizeof p);
    ADD("silu", SEA_OP_SILU, {F32(5, 77), NO3, NO3}, {F32(5, 77), NONE, NONE}, p, true, 1e-6);
    ADD("relu", SEA_OP_RELU, {F32(5, 77), NO3, NO3}, {F32(5, 77), NONE, NONE}, p, true, 1e-7);
    ADD("swiglu", SEA_OP_SWIGLU, {F32(5, 77), F32(5, 77), NONE, NONE, NONE, NONE, NONE}, {F32(5, 77), NONE, NONE}, p, true, 1e-6);
    ADD("add_broadcast", SEA_OP_ADD, {F32(3, 70, 33), F32(33), NONE, NONE, NONE, NONE, NONE}, {F32(3, 70, 33), NONE, NONE}, p,
        true, 1e-6);
    ADD("mul_broadcast", SEA_OP_MUL, {F32(3, 70, 33), F32(70, 33), NONE, NONE, NONE, NONE, NONE}, {F32(3, 70, 33), NONE, NONE},
        p, true, 1e-6);
    ADD("add_bf16", SEA_OP_ADD, {BF16(9, 33), BF16(9, 33), NONE, NONE, NONE, NONE, NONE}, {BF16(9, 33), NONE, NONE}, p, false,
        1e-2);
    p.scale.alpha = -0.7f;
    ADD("scale", SEA_OP_SCALE, {F32(5, 77), NO3, NO3}, {F32(5, 77), NONE, NONE}, p, true, 1e-7);
    memset(&p, 0, sizeof p);
    ADD("softmax", SEA_OP_SOFTMAX, {F32(6, 1000), NO3, NO3}, {F32(6, 1000), NONE, NONE}, p, true, 1e-5);
    ADD("logsoftmax_gather", SEA_OP_LOGSOFTMAX_GATHER, {F32(9, 5003), IDSNEG(5003, 9), NONE, NONE, NONE, NONE, NONE},
        {F32(9), F32(9), NONE}, p, true, 1e-5);
    ADD("cross_entropy", SEA_OP_CROSS_ENTROPY, {F32(9, 5003), IDSNEG(5003, 9), NONE, NONE, NONE, NONE, NONE},
        {F32(1), F32(9), NONE}, p, true, 1e-5);
    p.masked.mean = true;
    ADD("masked_mean", SEA_OP_MASKED_SUM, {F32(4, 300), MASKF(4, 300), NONE, NONE, NONE, NONE, NONE}, {F32(4), NONE, NONE}, p,
        true, 1e-5);
    memset(&p, 0, sizeof p);
    p.sample.temperature = 0;
    p.sample.top_p = 1;
    p.sample.seed = 1234;
    ADD("sample_greedy", SEA_OP_SAMPLE, {F32(5, 3001), IDS(1000, 5), NONE, NONE, NONE, NONE, NONE},
        {{SEA_I32, 1, {5}, R_FLOAT, 0}, F32(5), NONE}, p, false, 1e-5);
    p.sample.temperature = 0.8f;
    p.sample.step = 3;
    ADD("sample_plain", SEA_OP_SAMPLE, {F32(5, 3001), IDS(1000, 5), NONE, NONE, NONE, NONE, NONE},
        {{SEA_I32, 1, {5}, R_FLOAT, 0}, F32(5), NONE}, p, false, 1e-5);
    p.sample.top_k = 20;
    ADD("sample_top_k", SEA_OP_SAMPLE, {F32(5, 3001), IDS(1000, 5), NONE, NONE, NONE, NONE, NONE},
        {{SEA_I32, 1, {5}, R_FLOAT, 0}, F32(5), NONE}, p, false, 1e-5);
    p.sample.top_k = 0;
    p.sample.top_p = 0.3f;
    ADD("sample_top_p", SEA_OP_SAMPLE, {F32(5, 3001), IDS(1000, 5), NONE, NONE, NONE, NONE, NONE},
        {{SEA_I32, 1, {5}, R_FLOAT, 0}, F32(5), NONE}, p, false, 1e-5);
    memset(&p, 0, sizeof p);
    ADD("ensemble_mlp", SEA_OP_ENSEMBLE_MLP, {F32(6, 10), F32(3, 10, 8), F32(3, 8), F32(3, 8, 8), F32(3, 8), F32(3, 8), F32(3)},
        {F32(3, 6), F32(3, 6, 8), F32(3, 6, 8)}, p, true, 1e-5);
    p.adamw.lr = 1e-2f;
    p.adamw.beta1 = 0.9f;
    p.adamw.beta2 = 0.999f;
    p.adamw.eps = 1e-8f;
    p.adamw.weight_decay = 0.01f;
    p.adamw.step = 3;
    ADD("adamw", SEA_OP_ADAMW, {F32(1000), NO3, NO3}, {F32(1000), F32(1000), POSF(1000)}, p, false, 1e-6);
    memset(&p, 0, sizeof p);
    ADD("global_norm", SEA_OP_GLOBAL_NORM, {F32(100003), NO3, NO3}, {F32(1), NONE, NONE}, p, false, 1e-6);
    p.clip.max_norm = 0.5f;
    ADD("clip", SEA_OP_CLIP, {POSF(1), NO3, NO3}, {F32(1000), NONE, NONE}, p, false, 1e-7);
#undef ADD
    *count = n;
    return c;
}
