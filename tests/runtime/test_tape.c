/* The autograd tape through views: a small graph that reshapes, slices a tensor into strided
 * halves and copies them, on the CPU device; every watched parameter's gradient is compared
 * with central finite differences of the same forward. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/ops.h"
#include "runtime/rng.h"
#include "runtime/tape.h"
#include "tests/test_check.h"


enum { N = 4, D = 6, H = 8, NP = 5 };
static const char *const names[NP] = {"x", "W", "b", "ln weight", "ln bias"};
static const int64_t shapes[NP][2] = {{N, D}, {D, H}, {H, 1}, {H, 1}, {H, 1}};
static const int ndims[NP] = {2, 2, 1, 1, 1};

typedef struct graph {
    sea_device *dev;
    sea_stream *s;
    sea_tensor p[NP], g[NP];
    sea_tensor h, pre, c1, c2, m, ln, mean, rstd, logp, lse, targets, mask, out;
} graph;

static void alloc(graph *G, sea_tensor *t, sea_dtype dt, int nd, const int64_t *sh)
{
    REQUIRE_OK(sea_tensor_alloc(G->dev, dt, nd, sh, t));
}

/* loss = sum_rows logsoftmax(layernorm(reshape(gelu(xW+b)[:, :4] * gelu(xW+b)[:, 4:])))[target] */
static float forward(graph *G, sea_tape *tape)
{
    sea_stream *s = G->s;
    if (tape) {
        sea_tape_reset(tape);
        sea_tape_begin(tape, s);
    }
    REQUIRE_OK(sea_matmul(s, &G->p[0], &G->p[1], &G->p[2], false, false, SEA_ACT_GELU, &G->h, &G->pre));
    sea_tensor h1, h2, r, lp2;
    REQUIRE_OK(sea_tensor_slice(&G->h, 1, 0, H / 2, &h1)); /* strided: (N, 4) with row stride 8 */
    REQUIRE_OK(sea_tensor_slice(&G->h, 1, H / 2, H / 2, &h2));
    REQUIRE_OK(sea_copy(s, &h1, &G->c1));
    REQUIRE_OK(sea_copy(s, &h2, &G->c2));
    REQUIRE_OK(sea_mul(s, &G->c1, &G->c2, &G->m));
    REQUIRE_OK(sea_tensor_reshape(&G->m, 2, (int64_t[]){2, H}, &r)); /* (4, 4) -> (2, 8) */
    REQUIRE_OK(sea_layernorm(s, &r, &G->p[3], &G->p[4], 1e-5f, &G->ln, &G->mean, &G->rstd));
    REQUIRE_OK(sea_logsoftmax_gather(s, &G->ln, &G->targets, &G->logp, &G->lse));
    REQUIRE_OK(sea_tensor_reshape(&G->logp, 2, (int64_t[]){1, 2}, &lp2));
    REQUIRE_OK(sea_masked_sum(s, &lp2, &G->mask, false, &G->out));
    if (tape) sea_tape_end(s);
    float v;
    REQUIRE_OK(sea_tensor_read_f32(s, &G->out, &v));
    return v;
}

int main(void)
{
    graph G;
    memset(&G, 0, sizeof G);
    REQUIRE_OK(sea_device_open("cpu", &G.dev));
    G.s = sea_device_stream(G.dev);
    sea_rng rng = sea_rng_make(3, 0);
    for (int i = 0; i < NP; i++) {
        alloc(&G, &G.p[i], SEA_F32, ndims[i], shapes[i]);
        alloc(&G, &G.g[i], SEA_F32, ndims[i], shapes[i]);
        int64_t n = sea_tensor_numel(&G.p[i]);
        float *v = malloc(sizeof(float) * (size_t)n);
        for (int64_t k = 0; k < n; k++) v[k] = sea_rng_next_normal(&rng) * (i >= 3 ? 0.3f : 0.7f) + (i == 3 ? 1.0f : 0.0f);
        REQUIRE_OK(sea_tensor_write_f32(G.s, &G.p[i], v));
        REQUIRE_OK(sea_fill(G.s, &G.g[i], 0.0));
        free(v);
    }
    alloc(&G, &G.h, SEA_F32, 2, (int64_t[]){N, H});
    alloc(&G, &G.pre, SEA_F32, 2, (int64_t[]){N, H});
    alloc(&G, &G.c1, SEA_F32, 2, (int64_t[]){N, H / 2});
    alloc(&G, &G.c2, SEA_F32, 2, (int64_t[]){N, H / 2});
    alloc(&G, &G.m, SEA_F32, 2, (int64_t[]){N, H / 2});
    alloc(&G, &G.ln, SEA_F32, 2, (int64_t[]){2, H});
    alloc(&G, &G.mean, SEA_F32, 1, (int64_t[]){2});
    alloc(&G, &G.rstd, SEA_F32, 1, (int64_t[]){2});
    alloc(&G, &G.logp, SEA_F32, 1, (int64_t[]){2});
    alloc(&G, &G.lse, SEA_F32, 1, (int64_t[]){2});
    alloc(&G, &G.targets, SEA_I32, 1, (int64_t[]){2});
    alloc(&G, &G.mask, SEA_F32, 2, (int64_t[]){1, 2});
    alloc(&G, &G.out, SEA_F32, 1, (int64_t[]){1});
    REQUIRE_OK(sea_tensor_write_i32(G.s, &G.targets, (int32_t[]){3, 6}));
    REQUIRE_OK(sea_tensor_write_f32(G.s, &G.mask, (float[]){1.0f, 1.0f}));

    sea_tape *tape;
    REQUIRE_OK(sea_tape_create(G.dev, &tape));
    for (int i = 0; i < NP; i++) REQUIRE_OK(sea_tape_watch(tape, &G.p[i], &G.g[i]));
    forward(&G, tape);
    sea_tensor one;
    alloc(&G, &one, SEA_F32, 1, (int64_t[]){1});
    REQUIRE_OK(sea_fill(G.s, &one, 1.0));
    REQUIRE_OK(sea_tape_backward(tape, G.s, &G.out, &one));

    int failures = 0;
    for (int i = 0; i < NP; i++) {
        int64_t n = sea_tensor_numel(&G.p[i]);
        float *v = malloc(sizeof(float) * (size_t)n), *g = malloc(sizeof(float) * (size_t)n);
        REQUIRE_OK(sea_tensor_read_f32(G.s, &G.p[i], v));
        REQUIRE_OK(sea_tensor_read_f32(G.s, &G.g[i], g));
        double num = 0, den = 0;
        for (int64_t k = 0; k < n; k++) {
            const float eps = 4e-3f;
            float keep = v[k];
            v[k] = keep + eps;
            REQUIRE_OK(sea_tensor_write_f32(G.s, &G.p[i], v));
            double up = forward(&G, NULL);
            v[k] = keep - eps;
            REQUIRE_OK(sea_tensor_write_f32(G.s, &G.p[i], v));
            double down = forward(&G, NULL);
            v[k] = keep;
            REQUIRE_OK(sea_tensor_write_f32(G.s, &G.p[i], v));
            double fd = (up - down) / (2.0 * eps);
            num += (g[k] - fd) * (g[k] - fd);
            den += fd * fd;
        }
        double rel = sqrt(num / (den > 0 ? den : 1e-30));
        printf("%-10s |grad - finite differences| / |fd| = %.2e%s\n", names[i], rel, rel < 2e-2 ? "" : "  FAIL");
        failures += !(rel < 2e-2) || den == 0;
        free(v);
        free(g);
    }
    sea_tape_free(tape);
    for (int i = 0; i < NP; i++) {
        sea_tensor_free(&G.p[i]);
        sea_tensor_free(&G.g[i]);
    }
    sea_tensor *rest[] = {&G.h, &G.pre, &G.c1, &G.c2, &G.m, &G.ln, &G.mean, &G.rstd, &G.logp, &G.lse,
                          &G.targets, &G.mask, &G.out, &one};
    for (size_t i = 0; i < sizeof rest / sizeof rest[0]; i++) sea_tensor_free(rest[i]);
    sea_device_close(G.dev);
    return failures ? 1 : 0;
}
