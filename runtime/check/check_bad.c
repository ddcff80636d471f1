/* Bad-input checks: the dispatcher must reject malformed ops with the right status and a
 * message that names the op, the offending shapes/dtypes and the device. Nothing here may
 * crash or reach a kernel. */
#include <stdlib.h>
#include <string.h>

#include "check_internal.h"
#include "tape.h"

typedef struct bad_case {
    const char *name;
    sea_status want;
    const char *must_contain[3];   /* substrings the message must contain */
} bad_case;

static void record(sea_check_report *r, const bad_case *b, sea_status got, const char *msg)
{
    sea_check_result res;
    memset(&res, 0, sizeof res);
    snprintf(res.op, sizeof res.op, "validate");
    snprintf(res.name, sizeof res.name, "%s", b->name);
    res.dir = SEA_CHECK_BAD_INPUT;
    res.dtype = SEA_F32;
    res.passed = got == b->want;
    for (int i = 0; i < 3 && res.passed; i++)
        if (b->must_contain[i] && !strstr(msg, b->must_contain[i])) {
            res.passed = false;
            snprintf(res.message, sizeof res.message, "message lacks '%s': %s", b->must_contain[i], msg);
        }
    if (got != b->want)
        snprintf(res.message, sizeof res.message, "status %s, want %s (%s)", sea_status_name(got), sea_status_name(b->want), msg);
    res.error = res.passed ? 0 : 1;
    ct_report_add(r, &res);
}

/* Run `op` and record whether it failed as `b` says. */
static void expect(sea_check_report *r, sea_stream *s, const sea_op *op, bool backward, const bad_case *b)
{
    sea_error_clear();
    sea_status got = backward ? sea_op_run_backward(s, op) : sea_op_run(s, op);
    record(r, b, got, sea_last_error());
}

/* Decode attention's shared prefix in[4..6] (op.h): all three or none, (Bp, Sp, Hkv, hd) with
 * the caches' Hkv, hd and dtype, Bp dividing B, prefix_valid i32 (Bp, Sp), contiguous. */
static void bad_decode_prefix(sea_device *dev, sea_stream *s, sea_check_report *r)
{
    enum { NP = 12 };
    sea_tensor t[NP];
    memset(t, 0, sizeof t);
    const struct { sea_dtype dt; int nd; int64_t sh[4]; } spec[NP] = {
        {SEA_F32, 3, {4, 4, 8}},      /* 0 q (B 4, H 4, hd 8), also out */
        {SEA_F32, 4, {4, 6, 2, 8}},   /* 1 k_cache, v_cache (S 6, Hkv 2) */
        {SEA_I32, 2, {4, 6}},         /* 2 key_valid */
        {SEA_F32, 4, {2, 5, 2, 8}},   /* 3 prefix_k, prefix_v (Bp 2, Sp 5) */
        {SEA_I32, 2, {2, 5}},         /* 4 prefix_valid */
        {SEA_F32, 4, {3, 5, 2, 8}},   /* 5 3 prefix rows for B 4 */
        {SEA_F32, 4, {2, 5, 1, 8}},   /* 6 1 kv head for the caches' 2 */
        {SEA_I32, 2, {2, 4}},         /* 7 prefix_valid of the wrong length */
        {SEA_BF16, 4, {2, 5, 2, 8}},  /* 8 bf16 prefix for f32 caches */
        {SEA_F32, 2, {2, 5}},         /* 9 f32 prefix_valid */
        {SEA_F32, 4, {2, 5, 2, 8}},   /* 10 prefix_v of the right shape */
        {SEA_F32, 4, {2, 5, 2, 16}},  /* 11 storage of a non-contiguous (2, 5, 2, 8) view */
    };
    for (int i = 0; i < NP; i++)
        if (sea_tensor_alloc(dev, spec[i].dt, spec[i].nd, spec[i].sh, &t[i])) {
            bad_case b = {"allocating decode prefix test tensors", SEA_OK, {0}};
            record(r, &b, SEA_ERR_OOM, sea_last_error());
            goto out;
        }
    sea_tensor strided = t[11];   /* every other 8 of the last dim: not contiguous */
    strided.shape[3] = 8;
    const struct {
        const sea_tensor *pk, *pv, *pvalid;
        bad_case b;
    } cases[] = {
        {&t[3], NULL, NULL, {"decode prefix_k without prefix_v, prefix_valid", SEA_ERR_INVALID,
                             {"decode_attention", "missing input in[5] 'prefix_v'", "prefix_k (2, 5, 2, 8)"}}},
        {&t[3], &t[10], NULL, {"decode prefix without prefix_valid", SEA_ERR_INVALID,
                               {"decode_attention", "missing input in[6] 'prefix_valid'", "all three or none"}}},
        {&t[5], &t[5], &t[4], {"decode prefix of 3 rows for a batch of 4", SEA_ERR_SHAPE,
                               {"decode_attention", "do not divide the batch B = 4", "prefix_k (3, 5, 2, 8)"}}},
        {&t[6], &t[6], &t[4], {"decode prefix with 1 kv head for the caches' 2", SEA_ERR_SHAPE,
                               {"decode_attention", "'prefix_k' must be (Bp, Sp, Hkv, hd) = (Bp, Sp, 2, 8)", "prefix_k (2, 5, 1, 8)"}}},
        {&t[3], &t[6], &t[4], {"decode prefix_v shaped unlike prefix_k", SEA_ERR_SHAPE,
                               {"decode_attention", "'prefix_k' and 'prefix_v' differ", "prefix_v (2, 5, 1, 8)"}}},
        {&t[3], &t[10], &t[7], {"decode prefix_valid (2, 4) for Sp 5", SEA_ERR_SHAPE,
                                {"decode_attention", "'prefix_valid' must be (Bp, Sp) = (2, 5)", "prefix_valid (2, 4)"}}},
        {&t[8], &t[8], &t[4], {"decode bf16 prefix for f32 caches", SEA_ERR_DTYPE,
                               {"decode_attention", "'prefix_k' is bf16 but 'k_cache' is f32", "prefix_k (2, 5, 2, 8) bf16"}}},
        {&t[3], &t[10], &t[9], {"decode f32 prefix_valid", SEA_ERR_DTYPE,
                                {"decode_attention", "'prefix_valid' is f32, expected i32", "prefix_valid (2, 5)"}}},
        {&strided, &t[10], &t[4], {"decode non-contiguous prefix_k", SEA_ERR_SHAPE,
                                   {"decode_attention", "'prefix_k' must be contiguous", "prefix_k (2, 5, 2, 8)"}}},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sea_op op = {.kind = SEA_OP_DECODE_ATTENTION, .in = {&t[0], &t[1], &t[1], &t[2], cases[i].pk, cases[i].pv, cases[i].pvalid},
                     .out = {&t[0]}, .p.attn = {0.35f, 6}};
        expect(r, s, &op, false, &cases[i].b);
    }
out:
    for (int i = 0; i < NP; i++)
        if (t[i].buf) sea_tensor_free(&t[i]);
}

void ct_bad_inputs(sea_device *dev, sea_check_report *r)
{
    sea_stream *s = sea_device_stream(dev);
    enum { NT = 17 };
    sea_tensor t[NT];
    memset(t, 0, sizeof t);
    const struct { sea_dtype dt; int nd; int64_t sh[4]; } spec[NT] = {
        {SEA_F32, 2, {4, 8}},        /* 0 a */
        {SEA_F32, 2, {7, 3}},        /* 1 b: inner dim mismatch */
        {SEA_F32, 2, {4, 3}},        /* 2 out */
        {SEA_I32, 2, {5, 6}},        /* 3 i32 "x" */
        {SEA_F32, 1, {6}},           /* 4 weight */
        {SEA_F32, 2, {5, 6}},        /* 5 f32 x */
        {SEA_F32, 4, {1, 4, 3, 8}},  /* 6 q: 3 heads */
        {SEA_F32, 4, {1, 4, 2, 8}},  /* 7 k: 2 kv heads */
        {SEA_F32, 1, {5}},           /* 8 broadcast mismatch for (5, 6)? no: used with (4, 8) */
        {SEA_I32, 1, {3}},           /* 9 targets of wrong length */
        {SEA_F32, 3, {1, 3, 4}},     /* 10 lse */
        {SEA_BF16, 2, {5, 6}},       /* 11 bf16 x */
        {SEA_I32, 1, {5}},           /* 12 seq_ids for 5 rows */
        {SEA_I32, 1, {5}},           /* 13 tokens */
        {SEA_F32, 1, {5}},           /* 14 logp */
        {SEA_F32, 2, {8, 3}},        /* 15 b that fits a (4, 8) */
        {SEA_F32, 2, {5, 6}},        /* 16 layernorm outputs y, y2 of x (5, 6) */
    };
    for (int i = 0; i < NT; i++)
        if (sea_tensor_alloc(dev, spec[i].dt, spec[i].nd, spec[i].sh, &t[i])) {
            bad_case b = {"allocating test tensors", SEA_OK, {0}};
            record(r, &b, SEA_ERR_OOM, sea_last_error());
            goto out;
        }

    {
        sea_op op = {.kind = SEA_OP_MATMUL, .in = {&t[0], &t[1]}, .out = {&t[2]}};
        bad_case b = {"matmul inner dims (4, 8) x (7, 3)", SEA_ERR_SHAPE, {"matmul", "(4, 8)", "(7, 3)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_LAYERNORM, .in = {&t[3], &t[4]}, .out = {&t[5]}, .p.norm.eps = 1e-5f};
        bad_case b = {"layernorm with an i32 input", SEA_ERR_DTYPE, {"layernorm", "i32", "(5, 6)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_LAYERNORM, .in = {&t[5], &t[4]}, .p.norm.eps = 1e-5f};
        bad_case b = {"layernorm without its output", SEA_ERR_INVALID, {"layernorm", "missing", "(5, 6)"}};
        expect(r, s, &op, false, &b);
    }
    /* layernorm's second affine (weight2, bias2 -> out[3]) */
    {
        sea_op op = {.kind = SEA_OP_LAYERNORM, .in = {&t[5], &t[4], NULL, &t[8]}, .out = {&t[16], NULL, NULL, &t[16]},
                     .p.norm.eps = 1e-5f};
        bad_case b = {"layernorm with weight2 (5) for x (5, 6)", SEA_ERR_SHAPE, {"'weight2' must be (6)", "weight2 (5)", "(5, 6)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_LAYERNORM, .in = {&t[5], &t[4], NULL, NULL, &t[4]}, .out = {&t[16]}, .p.norm.eps = 1e-5f};
        bad_case b = {"layernorm with bias2 but no weight2", SEA_ERR_INVALID, {"layernorm", "'bias2' (in[4]) given without 'weight2'", "(5, 6)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_LAYERNORM, .in = {&t[5], &t[4], NULL, &t[4]}, .out = {&t[16]}, .p.norm.eps = 1e-5f};
        bad_case b = {"layernorm with weight2 but no out[3]", SEA_ERR_INVALID, {"layernorm", "missing output out[3] 'out2'", "weight2 (6)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_LAYERNORM, .in = {&t[5], &t[4]}, .out = {&t[16], NULL, NULL, &t[16]}, .p.norm.eps = 1e-5f};
        bad_case b = {"layernorm with out[3] but no weight2", SEA_ERR_INVALID, {"layernorm", "'out2' (out[3]) given without 'weight2'", "out2 (5, 6)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_ATTENTION, .in = {&t[6], &t[7], &t[7]}, .out = {&t[6]}, .p.attn.scale = 0.3f};
        bad_case b = {"attention with 3 query heads over 2 kv heads", SEA_ERR_SHAPE, {"attention", "(1, 4, 3, 8)", "(1, 4, 2, 8)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_ADD, .in = {&t[0], &t[8]}, .out = {&t[0]}};
        bad_case b = {"add (4, 8) + (5)", SEA_ERR_SHAPE, {"add", "(4, 8)", "(5)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_LOGSOFTMAX_GATHER, .in = {&t[5], &t[9]}, .out = {&t[8]}};
        bad_case b = {"logsoftmax_gather with 3 targets for 5 rows", SEA_ERR_SHAPE, {"logsoftmax_gather", "(3)", "(5, 6)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_ATTENTION, .in = {&t[7], &t[7], &t[7]}, .out = {&t[7]}, .gout = {&t[7]},
                     .gin = {&t[7]}, .p.attn.scale = 0.3f};
        bad_case b = {"attention backward without the saved lse", SEA_ERR_INVALID, {"attention backward", "lse", "(1, 4, 2, 8)"}};
        expect(r, s, &op, true, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_SAMPLE, .in = {&t[5], &t[12]}, .out = {&t[13], &t[14]}, .p.sample = {1.0f, 0, 0.0f, 1, 0}};
        bad_case b = {"sample with top_p 0", SEA_ERR_INVALID, {"sample", "top_p", "(5, 6)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_SAMPLE, .in = {&t[5], &t[9]}, .out = {&t[13], &t[14]}, .p.sample = {1.0f, 0, 1.0f, 1, 0}};
        bad_case b = {"sample with 3 seq_ids for 5 rows", SEA_ERR_SHAPE, {"sample", "seq_ids", "(3)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_MATMUL, .in = {&t[0], &t[15]}, .out = {&t[2]}, .gout = {&t[5]}, .gin = {&t[0]}};
        bad_case b = {"matmul backward with a (5, 6) gradient for a (4, 3) output", SEA_ERR_SHAPE,
                      {"matmul backward", "(5, 6)", "(4, 3)"}};
        expect(r, s, &op, true, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_MATMUL, .in = {&t[0], &t[15], NULL, &t[5]}, .out = {&t[2]}};
        bad_case b = {"matmul with a (5, 6) residual for a (4, 3) output", SEA_ERR_SHAPE, {"matmul", "residual", "(5, 6)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_MATMUL, .in = {&t[0], &t[15], NULL, &t[2]}, .out = {&t[2]}};
        bad_case b = {"matmul whose residual is its output", SEA_ERR_INVALID, {"matmul", "residual", "overlaps"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_FILL, .out = {NULL}};
        bad_case b = {"fill without an output", SEA_ERR_INVALID, {"fill", "missing", NULL}};
        expect(r, s, &op, false, &b);
    }
    {
        /* recording needs the saved pre-activation of a fused activation */
        sea_tape *tape = NULL;
        if (!sea_tape_create(dev, &tape)) {
            sea_tensor gw = t[15];
            if (!sea_tensor_alloc(dev, SEA_F32, 2, spec[15].sh, &gw) && !sea_tape_watch(tape, &t[15], &gw)) {
                sea_tape_begin(tape, s);
                sea_op op = {.kind = SEA_OP_MATMUL, .in = {&t[0], &t[15]}, .out = {&t[2]}, .p.matmul = {false, false, SEA_ACT_GELU}};
                bad_case b = {"recording matmul + gelu on a tape without the pre-activation", SEA_ERR_INVALID,
                              {"matmul", "preact", "tape"}};
                expect(r, s, &op, false, &b);
                sea_tape_end(s);
            }
            if (gw.buf != t[15].buf) sea_tensor_free(&gw);
            sea_tape_free(tape);
        }
    }
    {
        sea_op op = {.kind = SEA_OP_SET_ROWS, .in = {&t[5], &t[12]}, .out = {&t[0]}};
        bad_case b = {"set_rows (5, 6) into rows of (4, 8)", SEA_ERR_SHAPE, {"set_rows", "(5, 6)", "(4, 8)"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_SET_ROWS, .in = {&t[11], &t[12]}, .out = {&t[5]}};
        bad_case b = {"set_rows bf16 rows into an f32 tensor", SEA_ERR_DTYPE, {"set_rows", "bf16", "f32"}};
        expect(r, s, &op, false, &b);
    }
    {
        sea_op op = {.kind = SEA_OP_SET_ROWS, .in = {&t[5], &t[9]}, .out = {&t[5]}};
        bad_case b = {"set_rows with 3 row indices for 5 rows", SEA_ERR_SHAPE, {"set_rows", "rows", "(3)"}};
        expect(r, s, &op, false, &b);
    }
    {
        /* op.h: only a weight's gradient may be f32 for bf16 data; an activation's may not */
        sea_tensor b16, o16;
        int64_t bsh[2] = {6, 3}, osh[2] = {5, 3};
        if (!sea_tensor_alloc(dev, SEA_BF16, 2, bsh, &b16)) {
            if (!sea_tensor_alloc(dev, SEA_BF16, 2, osh, &o16)) {
                sea_op op = {.kind = SEA_OP_MATMUL, .in = {&t[11], &b16}, .out = {&o16}, .gout = {&o16}, .gin = {&t[5]}};
                bad_case b = {"matmul backward: an f32 gradient for a bf16 activation", SEA_ERR_DTYPE,
                              {"matmul backward", "gradient of a", "bf16"}};
                expect(r, s, &op, true, &b);
                sea_tensor_free(&o16);
            }
            sea_tensor_free(&b16);
        }
    }
    if (!dev->backend->supports || !dev->backend->supports(SEA_OP_LAYERNORM, SEA_BF16, SEA_BF16)) {
        sea_tensor w16;
        int64_t d = 6;
        if (!sea_tensor_alloc(dev, SEA_BF16, 1, &d, &w16)) {
            sea_tensor o16 = t[11];
            sea_op op = {.kind = SEA_OP_LAYERNORM, .in = {&t[11], &w16}, .out = {&o16}, .p.norm.eps = 1e-5f};
            bad_case b = {"layernorm in bf16 where unsupported", SEA_ERR_UNSUPPORTED, {"layernorm", "bf16", dev->backend->name}};
            expect(r, s, &op, false, &b);
            sea_tensor_free(&w16);
        }
    }
    if (!strcmp(dev->backend->name, "cpu")) {
        /* ids outside the table: the CPU reports it (op.h: backends that can report it) */
        int32_t ids[3] = {0, 11, 2};
        int64_t n = 3;
        sea_tensor idt, outt;
        int64_t osh[2] = {3, 8};
        if (!sea_tensor_alloc(dev, SEA_I32, 1, &n, &idt)) {
            if (!sea_tensor_alloc(dev, SEA_F32, 2, osh, &outt)) {
                sea_tensor_write_i32(s, &idt, ids);
                sea_op op = {.kind = SEA_OP_EMBEDDING, .in = {&t[0], &idt}, .out = {&outt}};
                bad_case b = {"embedding id 11 outside a (4, 8) table", SEA_ERR_INVALID, {"embedding", "11", "(4, 8)"}};
                expect(r, s, &op, false, &b);
                sea_tensor_free(&outt);
            }
            sea_tensor_free(&idt);
        }
        /* set_rows row outside dst: reported, and dst keeps every value (checked before any write) */
        int32_t rows[5] = {0, 1, 9, 3, 4};
        float before[30], after[30];
        for (int i = 0; i < 30; i++) before[i] = (float)i;
        sea_tensor rt;
        if (!sea_tensor_alloc(dev, SEA_I32, 1, (int64_t[]){5}, &rt)) {
            sea_tensor_write_i32(s, &rt, rows);
            sea_tensor_write_f32(s, &t[5], before);
            sea_op op = {.kind = SEA_OP_SET_ROWS, .in = {&t[5], &rt}, .out = {&t[5]}};
            bad_case b = {"set_rows row 9 outside a (5, 6) tensor", SEA_ERR_INVALID, {"set_rows", "rows[2] = 9", "(5, 6)"}};
            expect(r, s, &op, false, &b);
            sea_tensor_read_f32(s, &t[5], after);
            bad_case kept = {"set_rows with a bad row leaves dst untouched", SEA_OK, {0}};
            record(r, &kept, memcmp(before, after, sizeof before) ? SEA_ERR_INTERNAL : SEA_OK, "dst changed");
            sea_tensor_free(&rt);
        }
    }
    bad_decode_prefix(dev, s, r);
out:
    for (int i = 0; i < NT; i++)
        if (t[i].buf) sea_tensor_free(&t[i]);
}
