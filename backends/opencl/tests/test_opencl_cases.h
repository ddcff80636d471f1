/* The case table of test_opencl_ops.c: small shapes (PoCL compiles each kernel on first use),
 * odd sizes so partial work-groups and tails are exercised. */
/* Table rows leave trailing fields (in_place) at their zero default. */
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#define I32(gen, range, ...) TS(SEA_I32, gen, range, __VA_ARGS__)
#define MASK(...) TS(SEA_F32, G_MASK, 0, __VA_ARGS__)

static const ocase cases[] = {
    /* fill: every dtype */
    {"f32 (5, 7)", SEA_OP_FILL, {.fill = {1.25}}, 0, 1, {{0}}, {F32(5, 7)}, false, 0},
    {"bf16 (5, 7)", SEA_OP_FILL, {.fill = {-3.3}}, 0, 1, {{0}}, {TS(SEA_BF16, G_NORMAL, 0, 5, 7)}, false, 0},
    {"f16 (5, 7)", SEA_OP_FILL, {.fill = {0.1}}, 0, 1, {{0}}, {TS(SEA_F16, G_NORMAL, 0, 5, 7)}, false, 0},
    {"i32 (5, 7)", SEA_OP_FILL, {.fill = {42}}, 0, 1, {{0}}, {I32(G_INDEX, 1, 5, 7)}, false, 0},
    /* copy/cast, contiguous, forward + backward */
    {"f32->bf16 (9, 13)", SEA_OP_COPY, {{0}}, 1, 1, {F32(9, 13)}, {TS(SEA_BF16, G_NORMAL, 0, 9, 13)}, false, 0},
    {"f32->f32 (9, 13)", SEA_OP_COPY, {{0}}, 1, 1, {F32(9, 13)}, {F32(9, 13)}, true, 0},
    {"f16->f32 (9, 13)", SEA_OP_COPY, {{0}}, 1, 1, {TS(SEA_F16, G_NORMAL, 0, 9, 13)}, {F32(9, 13)}, false, 0},
    /* set_rows (in place: the rows not written keep their random values); exact in every dtype */
    {"f32 (6, 10) into (20, 10)", SEA_OP_SET_ROWS, {{0}}, 2, 1, {F32(6, 10), I32(G_ROWS, 20, 6)}, {F32(20, 10)}, false, 0,
     true},
    {"bf16 (5, 33) into (40, 33)", SEA_OP_SET_ROWS, {{0}}, 2, 1, {TS(SEA_BF16, G_NORMAL, 0, 5, 33), I32(G_ROWS, 40, 5)},
     {TS(SEA_BF16, G_NORMAL, 0, 40, 33)}, false, 0, true},
    {"f16 (3, 7) into (11, 7)", SEA_OP_SET_ROWS, {{0}}, 2, 1, {TS(SEA_F16, G_NORMAL, 0, 3, 7), I32(G_ROWS, 11, 3)},
     {TS(SEA_F16, G_NORMAL, 0, 11, 7)}, false, 0, true},
    {"i32 (4, 3) into (9, 3)", SEA_OP_SET_ROWS, {{0}}, 2, 1, {I32(G_INDEX, 1000, 4, 3), I32(G_ROWS, 9, 4)},
     {I32(G_INDEX, 1, 9, 3)}, false, 0, true},
    /* elementwise */
    {"erf (4, 33)", SEA_OP_GELU, {.act = {false}}, 1, 1, {F32(4, 33)}, {F32(4, 33)}, true, 2e-6},
    {"tanh (4, 33)", SEA_OP_GELU, {.act = {true}}, 1, 1, {F32(4, 33)}, {F32(4, 33)}, true, 2e-6},
    {"(4, 33)", SEA_OP_SILU, {{0}}, 1, 1, {F32(4, 33)}, {F32(4, 33)}, true, 2e-6},
    {"(4, 33)", SEA_OP_RELU, {{0}}, 1, 1, {F32(4, 33)}, {F32(4, 33)}, true, 0},
    {"(4, 33)", SEA_OP_SWIGLU, {{0}}, 2, 1, {F32(4, 33), F32(4, 33)}, {F32(4, 33)}, true, 2e-6},
    {"same (6, 17)", SEA_OP_ADD, {{0}}, 2, 1, {F32(6, 17), F32(6, 17)}, {F32(6, 17)}, true, 1e-6},
    {"bcast (2, 6, 17)+(17)", SEA_OP_ADD, {{0}}, 2, 1, {F32(2, 6, 17), F32(17)}, {F32(2, 6, 17)}, true, 1e-6},
    {"bcast (2, 6, 17)*(6, 17)", SEA_OP_MUL, {{0}}, 2, 1, {F32(2, 6, 17), F32(6, 17)}, {F32(2, 6, 17)}, true, 1e-6},
    {"(5, 9)", SEA_OP_SCALE, {.scale = {-0.37f}}, 1, 1, {F32(5, 9)}, {F32(5, 9)}, true, 1e-7},
    /* rows */
    {"(7, 300)", SEA_OP_SOFTMAX, {{0}}, 1, 1, {F32(7, 300)}, {F32(7, 300)}, true, 2e-6},
    {"bias (6, 70)", SEA_OP_LAYERNORM, {.norm = {1e-5f}}, 3, 3, {F32(6, 70), F32(70), F32(70)}, {F32(6, 70), F32(6), F32(6)}, true, 2e-6},
    {"no bias (6, 70)", SEA_OP_LAYERNORM, {.norm = {1e-5f}}, 3, 3, {F32(6, 70), F32(70), ABSENT}, {F32(6, 70), F32(6), F32(6)}, true, 2e-6},
    /* a pair: second affine weight2, bias2 -> out[3], both gradients seeded */
    {"pair, biases (6, 70)", SEA_OP_LAYERNORM, {.norm = {1e-5f}}, 5, 4, {F32(6, 70), F32(70), F32(70), F32(70), F32(70)},
     {F32(6, 70), F32(6), F32(6), F32(6, 70)}, true, 2e-6},
    {"pair, no biases (100, 40)", SEA_OP_LAYERNORM, {.norm = {1e-5f}}, 5, 4, {F32(100, 40), F32(40), ABSENT, F32(40), ABSENT},
     {F32(100, 40), F32(100), F32(100), F32(100, 40)}, true, 2e-6},
    {"bias (100, 40): several row chunks", SEA_OP_LAYERNORM, {.norm = {1e-5f}}, 3, 3, {F32(100, 40), F32(40), F32(40)},
     {F32(100, 40), F32(100), F32(100)}, true, 2e-6},
    {"(77, 24): several row chunks", SEA_OP_RMSNORM, {.norm = {1e-6f}}, 2, 2, {F32(77, 24), F32(24)}, {F32(77, 24), F32(77)},
     true, 2e-6},
    {"(6, 70)", SEA_OP_RMSNORM, {.norm = {1e-6f}}, 2, 2, {F32(6, 70), F32(70)}, {F32(6, 70), F32(6)}, true, 2e-6},
    {"(9, 1000)", SEA_OP_LOGSOFTMAX_GATHER, {{0}}, 2, 2, {F32(9, 1000), I32(G_INDEX_IGN, 1000, 9)}, {F32(9), F32(9)}, true, 2e-6},
    {"(9, 1000)", SEA_OP_CROSS_ENTROPY, {{0}}, 2, 2, {F32(9, 1000), I32(G_INDEX_IGN, 1000, 9)}, {F32(1), F32(9)}, true, 2e-6},
    {"sum (3, 40)", SEA_OP_MASKED_SUM, {.masked = {false}}, 2, 1, {F32(3, 40), MASK(3, 40)}, {F32(3)}, true, 2e-6},
    {"mean (3, 40)", SEA_OP_MASKED_SUM, {.masked = {true}}, 2, 1, {F32(3, 40), MASK(3, 40)}, {F32(3)}, true, 2e-6},
    /* embedding (repeated ids: the scatter-add must sum them) */
    {"(50, 24) x 37 ids", SEA_OP_EMBEDDING, {{0}}, 2, 1, {F32(50, 24), I32(G_INDEX, 10, 37)}, {F32(37, 24)}, true, 1e-6},
    /* rope */
    {"neox partial (2, 5, 3, 16) rot 8", SEA_OP_ROPE,
     {.rope = {.rot_dims = 8, .theta = 10000.0f, .style = SEA_ROPE_NEOX}}, 2, 1,
     {F32(2, 5, 3, 16), I32(G_POS, 0, 2, 5)}, {F32(2, 5, 3, 16)}, true, 2e-6},
    {"gptj (2, 5, 3, 16)", SEA_OP_ROPE, {.rope = {.rot_dims = 16, .theta = 10000.0f, .style = SEA_ROPE_GPTJ}}, 2, 1,
     {F32(2, 5, 3, 16), I32(G_POS, 0, 2, 5)}, {F32(2, 5, 3, 16)}, true, 2e-6},
    {"llama3 (1, 6, 2, 32)", SEA_OP_ROPE,
     {.rope = {.rot_dims = 32, .theta = 500000.0f, .style = SEA_ROPE_NEOX, .scaling = SEA_ROPE_SCALING_LLAMA3,
               .factor = 8.0f, .low_freq_factor = 1.0f, .high_freq_factor = 4.0f, .original_max_pos = 64}}, 2, 1,
     {F32(1, 6, 2, 32), I32(G_POS, 0, 1, 6)}, {F32(1, 6, 2, 32)}, true, 2e-6},
    /* attention: GQA (4 query heads over 2 kv heads), left padding */
    {"gqa pad (2, 9, 4/2, 16)", SEA_OP_ATTENTION, {.attn = {0.25f, 0}}, 4, 2,
     {F32(2, 9, 4, 16), F32(2, 9, 2, 16), F32(2, 9, 2, 16), I32(G_KEYVALID, 0, 2, 9)}, {F32(2, 9, 4, 16), F32(2, 4, 9)},
     true, 5e-6},
    {"no mask (1, 140, 2, 8)", SEA_OP_ATTENTION, {.attn = {0.35f, 0}}, 4, 2,
     {F32(1, 140, 2, 8), F32(1, 140, 2, 8), F32(1, 140, 2, 8), ABSENT}, {F32(1, 140, 2, 8), F32(1, 2, 140)}, true, 5e-6},
    {"(3, 4/2, 16) S 11 n_keys 7", SEA_OP_DECODE_ATTENTION, {.attn = {0.25f, 7}}, 4, 1,
     {F32(3, 4, 16), F32(3, 11, 2, 16), F32(3, 11, 2, 16), I32(G_KEYVALID, 0, 3, 11)}, {F32(3, 4, 16)}, false, 5e-6},
    /* decode with a shared prefix (in[4..6], left-padded rows): 2 rows for 4 sequences, then one
     * row of 140 keys for both sequences (more than a work-group: several chunks) */
    {"prefix Bp 2 Sp 9, (4, 4/2, 16) S 11 n_keys 7", SEA_OP_DECODE_ATTENTION, {.attn = {0.25f, 7}}, 7, 1,
     {F32(4, 4, 16), F32(4, 11, 2, 16), F32(4, 11, 2, 16), I32(G_KEYVALID, 0, 4, 11), F32(2, 9, 2, 16), F32(2, 9, 2, 16),
      I32(G_KEYVALID, 0, 2, 9)},
     {F32(4, 4, 16)}, false, 5e-6},
    {"prefix Bp 1 Sp 140, (2, 2/1, 8) S 5 n_keys 5", SEA_OP_DECODE_ATTENTION, {.attn = {0.35f, 5}}, 7, 1,
     {F32(2, 2, 8), F32(2, 5, 1, 8), F32(2, 5, 1, 8), I32(G_KEYVALID, 0, 2, 5), F32(1, 140, 1, 8), F32(1, 140, 1, 8),
      I32(G_KEYVALID, 0, 1, 140)},
     {F32(2, 2, 8)}, false, 5e-6},
    /* matmul */
    {"(7, 13) x (13, 5)", SEA_OP_MATMUL, {.matmul = {false, false, SEA_ACT_NONE}}, 3, 2,
     {F32(7, 13), F32(13, 5), ABSENT}, {F32(7, 5), ABSENT}, true, 2e-6},
    {"(7, 13) x (5, 13)^T bias gelu", SEA_OP_MATMUL, {.matmul = {false, true, SEA_ACT_GELU}}, 3, 2,
     {F32(7, 13), F32(5, 13), F32(5)}, {F32(7, 5), F32(7, 5)}, true, 2e-6},
    {"(2, 3, 7, 13) x shared (13, 5) silu", SEA_OP_MATMUL, {.matmul = {false, false, SEA_ACT_SILU}}, 3, 2,
     {F32(2, 3, 7, 13), F32(13, 5), F32(5)}, {F32(2, 3, 7, 5), F32(2, 3, 7, 5)}, true, 2e-6},
    {"(3, 13, 7)^T x (3, 5, 13)^T batched", SEA_OP_MATMUL, {.matmul = {true, true, SEA_ACT_NONE}}, 3, 2,
     {F32(3, 13, 7), F32(3, 5, 13), ABSENT}, {F32(3, 7, 5), ABSENT}, true, 2e-6},
    {"(3, 13, 7)^T x shared (13, 5) relu", SEA_OP_MATMUL, {.matmul = {true, false, SEA_ACT_RELU}}, 3, 2,
     {F32(3, 13, 7), F32(13, 5), F32(5)}, {F32(3, 7, 5), F32(3, 7, 5)}, true, 2e-6},
    {"(40, 64) x (64, 48)^T", SEA_OP_MATMUL, {.matmul = {false, true, SEA_ACT_NONE}}, 3, 2,
     {F32(40, 64), F32(48, 64), ABSENT}, {F32(40, 48), ABSENT}, true, 2e-6},
    {"(2, 45, 16) x (24, 16)^T bias: several row chunks", SEA_OP_MATMUL, {.matmul = {false, true, SEA_ACT_NONE}}, 3, 2,
     {F32(2, 45, 16), F32(24, 16), F32(24)}, {F32(2, 45, 24), ABSENT}, true, 2e-6},
    {"K2 N70 d5 h6: several row chunks", SEA_OP_ENSEMBLE_MLP, {{0}}, 7, 3,
     {F32(70, 5), F32(2, 5, 6), F32(2, 6), F32(2, 6, 6), F32(2, 6), F32(2, 6), F32(2)},
     {F32(2, 70), F32(2, 70, 6), F32(2, 70, 6)}, true, 5e-6},
    /* ensemble MLP: K=3 heads, N=6, d=10, h=8 */
    {"K3 N6 d10 h8", SEA_OP_ENSEMBLE_MLP, {{0}}, 7, 3,
     {F32(6, 10), F32(3, 10, 8), F32(3, 8), F32(3, 8, 8), F32(3, 8), F32(3, 8), F32(3)},
     {F32(3, 6), F32(3, 6, 8), F32(3, 6, 8)}, true, 5e-6},
    /* optimizer */
    {"(1000)", SEA_OP_ADAMW, {.adamw = {1e-3f, 0.9f, 0.999f, 1e-8f, 0.01f, 0.001f, 3}}, 1, 3, {F32(1000)},
     {F32(1000), F32(1000), TS(SEA_F32, G_POSITIVE, 0, 1000)}, false, 1e-6, true},
    {"(5000)", SEA_OP_GLOBAL_NORM, {{0}}, 1, 1, {F32(5000)}, {F32(1)}, false, 1e-6},
    {"(300)", SEA_OP_CLIP, {.clip = {0.5f}}, 1, 1, {TS(SEA_F32, G_POSITIVE, 0, 1)}, {F32(300)}, false, 1e-7, true},
    /* sampling: tokens must match exactly, logp closely */
    {"greedy (4, 500)", SEA_OP_SAMPLE, {.sample = {0.0f, 0, 1.0f, 99, 0}}, 2, 2, {F32(4, 500), I32(G_INDEX, 1000, 4)},
     {I32(G_INDEX, 1, 4), F32(4)}, false, 2e-6},
    {"T0.7 (6, 500)", SEA_OP_SAMPLE, {.sample = {0.7f, 0, 1.0f, 12345, 3}}, 2, 2, {F32(6, 500), I32(G_INDEX, 1000, 6)},
     {I32(G_INDEX, 1, 6), F32(6)}, false, 2e-6},
    {"T1 top_k 5 (6, 500)", SEA_OP_SAMPLE, {.sample = {1.0f, 5, 1.0f, 777, 11}}, 2, 2, {F32(6, 500), I32(G_INDEX, 1000, 6)},
     {I32(G_INDEX, 1, 6), F32(6)}, false, 2e-6},
    {"T0.9 top_p 0.8 (6, 500)", SEA_OP_SAMPLE, {.sample = {0.9f, 0, 0.8f, 4242, 2}}, 2, 2,
     {F32(6, 500), I32(G_INDEX, 1000, 6)}, {I32(G_INDEX, 1, 6), F32(6)}, false, 2e-6},
    {"T1.2 top_k 40 top_p 0.5 (6, 500)", SEA_OP_SAMPLE, {.sample = {1.2f, 40, 0.5f, 9, 5}}, 2, 2,
     {F32(6, 500), I32(G_INDEX, 1000, 6)}, {I32(G_INDEX, 1, 6), F32(6)}, false, 2e-6},
};

/* Determinism: each case runs twice on the OpenCL device; results must be bit-identical
 * (fixed-order reductions, no float atomics). */
static const ocase det_cases[] = {
    {"det (2, 70, 4/2, 32) pad", SEA_OP_ATTENTION, {.attn = {0.18f, 0}}, 4, 2,
     {F32(2, 70, 4, 32), F32(2, 70, 2, 32), F32(2, 70, 2, 32), I32(G_KEYVALID, 0, 2, 70)},
     {F32(2, 70, 4, 32), F32(2, 4, 70)}, true, 0},
    {"det (100000)", SEA_OP_GLOBAL_NORM, {{0}}, 1, 1, {F32(100000)}, {F32(1)}, false, 0},
    {"det (300, 16) x 500 ids", SEA_OP_EMBEDDING, {{0}}, 2, 1, {F32(300, 16), I32(G_INDEX, 20, 500)}, {F32(500, 16)}, true, 0},
    {"det (3, 9, 40) x shared (40, 24) gelu", SEA_OP_MATMUL, {.matmul = {false, false, SEA_ACT_GELU}}, 3, 2,
     {F32(3, 9, 40), F32(40, 24), F32(24)}, {F32(3, 9, 24), F32(3, 9, 24)}, true, 0},
    {"det (17, 3000)", SEA_OP_CROSS_ENTROPY, {{0}}, 2, 2, {F32(17, 3000), I32(G_INDEX_IGN, 3000, 17)}, {F32(1), F32(17)},
     true, 0},
};
