/* CPU kernels give the same bits for any thread count (op.h: deterministic reductions).
 * The test re-runs itself with SEA_NUM_THREADS = 1, 2 and 3; each child runs ops whose
 * kernels reduce across threads' work (matmul, attention, norms, embedding scatter-add,
 * broadcast gradients, losses, global norm, ensemble, sampling) and prints a hash of all
 * outputs and gradients. The hashes must agree. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops.h"
#include "runtime/rng.h"

static uint64_t hash = 1469598103934665603ull;
static sea_device *dev;
static sea_stream *st;
static sea_rng rng;
static sea_tensor made[64];   /* freed at the end, so leak checkers stay quiet */
static int n_made;

static void absorb(const sea_tensor *t)
{
    size_t n = sea_tensor_nbytes(t);
    unsigned char *b = malloc(n + 1);
    if (!b || sea_buffer_read(st, t->buf, t->offset, b, n)) exit(3);
    for (size_t i = 0; i < n; i++) hash = (hash ^ b[i]) * 1099511628211ull;
    free(b);
}

static sea_tensor make(int nd, int64_t a, int64_t b, int64_t c, int64_t d, int kind, int range)
{
    int64_t sh[4] = {a, b, c, d};
    sea_tensor t;
    if (n_made == 64 || sea_tensor_alloc(dev, kind == 1 ? SEA_I32 : SEA_F32, nd, sh, &t)) exit(3);
    made[n_made++] = t;
    int64_t n = sea_tensor_numel(&t);
    if (kind == 1) {
        int32_t *v = malloc((size_t)n * 4 + 4);
        for (int64_t i = 0; i < n; i++) v[i] = (int32_t)sea_rng_next_below(&rng, (uint32_t)range);
        sea_tensor_write_i32(st, &t, v);
        free(v);
    } else {
        float *v = malloc((size_t)n * 4 + 4);
        for (int64_t i = 0; i < n; i++) v[i] = kind == 2 ? 0.0f : sea_rng_next_normal(&rng);
        sea_tensor_write_f32(st, &t, v);
        free(v);
    }
    return t;
}
#define F(...) make(__VA_ARGS__, 0, 0)
#define Z(...) make(__VA_ARGS__, 2, 0)

static int fail_child(void)
{
    fprintf(stderr, "test_determinism: %s\n", sea_last_error());
    return 3;
}

static int child(void)
{
    if (sea_device_open("cpu", &dev)) return fail_child();
    st = sea_device_stream(dev);
    rng = sea_rng_make(99, 1);
    /* matmul with bias + gelu, backward into all three */
    sea_tensor a = F(2, 300, 257, 1, 1), w = F(2, 190, 257, 1, 1), bias = F(1, 190, 1, 1, 1);
    sea_tensor out = Z(2, 300, 190, 1, 1), pre = Z(2, 300, 190, 1, 1), go = F(2, 300, 190, 1, 1);
    sea_tensor ga = Z(2, 300, 257, 1, 1), gw = Z(2, 190, 257, 1, 1), gb = Z(1, 190, 1, 1, 1);
    if (sea_matmul(st, &a, &w, &bias, false, true, SEA_ACT_GELU, &out, &pre)) return fail_child();
    sea_op mm = {.kind = SEA_OP_MATMUL, .in = {&a, &w, &bias}, .out = {&out, &pre}, .gin = {&ga, &gw, &gb}, .gout = {&go},
                 .p.matmul = {false, true, SEA_ACT_GELU}};
    if (sea_op_run_backward(st, &mm)) return fail_child();
    absorb(&out), absorb(&ga), absorb(&gw), absorb(&gb);
    /* attention, GQA, padding */
    sea_tensor q = F(4, 2, 150, 4, 32), k = F(4, 2, 150, 2, 32), v = F(4, 2, 150, 2, 32), kv = make(2, 2, 150, 1, 1, 1, 2);
    sea_tensor o = Z(4, 2, 150, 4, 32), lse = Z(3, 2, 4, 150, 1), gq = Z(4, 2, 150, 4, 32), gk = Z(4, 2, 150, 2, 32),
               gv = Z(4, 2, 150, 2, 32), gao = F(4, 2, 150, 4, 32);
    if (sea_attention(st, &q, &k, &v, &kv, 0.17f, &o, &lse)) return fail_child();
    sea_op at = {.kind = SEA_OP_ATTENTION, .in = {&q, &k, &v, &kv}, .out = {&o, &lse}, .gin = {&gq, &gk, &gv},
                 .gout = {&gao}, .p.attn.scale = 0.17f};
    if (sea_op_run_backward(st, &at)) return fail_child();
    absorb(&o), absorb(&lse), absorb(&gq), absorb(&gk), absorb(&gv);
    /* layernorm backward (column reductions over 4000 rows) */
    sea_tensor x = F(2, 4000, 200, 1, 1), lw = F(1, 200, 1, 1, 1), lb = F(1, 200, 1, 1, 1), y = Z(2, 4000, 200, 1, 1);
    sea_tensor mu = Z(1, 4000, 1, 1, 1), rs = Z(1, 4000, 1, 1, 1), gy = F(2, 4000, 200, 1, 1), gx = Z(2, 4000, 200, 1, 1),
               glw = Z(1, 200, 1, 1, 1), glb = Z(1, 200, 1, 1, 1);
    if (sea_layernorm(st, &x, &lw, &lb, 1e-5f, &y, &mu, &rs)) return fail_child();
    sea_op ln = {.kind = SEA_OP_LAYERNORM, .in = {&x, &lw, &lb}, .out = {&y, &mu, &rs}, .gin = {&gx, &glw, &glb},
                 .gout = {&gy}, .p.norm.eps = 1e-5f};
    if (sea_op_run_backward(st, &ln)) return fail_child();
    absorb(&y), absorb(&gx), absorb(&glw), absorb(&glb);
    /* embedding scatter-add with many repeated ids */
    sea_tensor tab = F(2, 50, 300, 1, 1), ids = make(1, 5000, 1, 1, 1, 1, 50), emb = Z(2, 5000, 300, 1, 1),
               gemb = F(2, 5000, 300, 1, 1), gtab = Z(2, 50, 300, 1, 1);
    if (sea_embedding(st, &tab, &ids, &emb)) return fail_child();
    sea_op em = {.kind = SEA_OP_EMBEDDING, .in = {&tab, &ids}, .out = {&emb}, .gin = {&gtab}, .gout = {&gemb}};
    if (sea_op_run_backward(st, &em)) return fail_child();
    absorb(&gtab);
    /* broadcast add gradient, cross-entropy, global norm */
    sea_tensor ba = F(2, 3000, 500, 1, 1), bb = F(1, 500, 1, 1, 1), bo = Z(2, 3000, 500, 1, 1), gba = Z(2, 3000, 500, 1, 1),
               gbb = Z(1, 500, 1, 1, 1);
    if (sea_add(st, &ba, &bb, &bo)) return fail_child();
    sea_op ad = {.kind = SEA_OP_ADD, .in = {&ba, &bb}, .out = {&bo}, .gin = {&gba, &gbb}, .gout = {&ba}};
    if (sea_op_run_backward(st, &ad)) return fail_child();
    absorb(&gbb);
    sea_tensor lg = F(2, 300, 5000, 1, 1), tg = make(1, 300, 1, 1, 1, 1, 5000), loss = Z(1, 1, 1, 1, 1),
               lse2 = Z(1, 300, 1, 1, 1), norm = Z(1, 1, 1, 1, 1);
    if (sea_cross_entropy(st, &lg, &tg, &loss, &lse2) || sea_global_norm(st, &ba, &norm)) return fail_child();
    absorb(&loss), absorb(&norm);
    /* sampling */
    sea_tensor sl = F(2, 16, 5000, 1, 1), sid = make(1, 16, 1, 1, 1, 1, 1000), tok = make(1, 16, 1, 1, 1, 1, 1), slp = Z(1, 16, 1, 1, 1);
    if (sea_sample(st, &sl, &sid, 0.8f, 0, 0.9f, 5, 2, &tok, &slp)) return fail_child();
    absorb(&tok), absorb(&slp);
    printf("%016llx\n", (unsigned long long)hash);
    for (int i = 0; i < n_made; i++) sea_tensor_free(&made[i]);
    sea_device_close(dev);
    return 0;
}

int main(int argc, char **argv)
{
    if (getenv("SEA_DETERMINISM_CHILD")) return child();
    (void)argc;
    char first[64] = "";
    for (int threads = 1; threads <= 3; threads++) {
        char cmd[4096], line[64] = "";
        snprintf(cmd, sizeof cmd, "SEA_DETERMINISM_CHILD=1 SEA_NUM_THREADS=%d '%s'", threads, argv[0]);
        FILE *p = popen(cmd, "r");
        if (!p || !fgets(line, sizeof line, p)) {
            fprintf(stderr, "test_determinism: child with %d threads failed\n", threads);
            if (p) pclose(p);
            return 1;
        }
        int rc = pclose(p);
        if (rc) {
            fprintf(stderr, "test_determinism: child with %d threads exited with %d\n", threads, rc);
            return 1;
        }
        printf("%d thread(s): %s", threads, line);
        if (!first[0]) snprintf(first, sizeof first, "%s", line);
        else if (strcmp(first, line)) {
            fprintf(stderr, "test_determinism: results differ between 1 and %d threads\n", threads);
            return 1;
        }
    }
    return 0;
}
