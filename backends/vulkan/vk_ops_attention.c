/* Causal attention (prefill/training, forward + backward) and decode attention over a KV
 * cache, on shaders/attn_fwd.comp and shaders/attn_bwd.comp. Head dims up to 256. */
#include "vk_internal.h"

#define DEV(s) ((vk_dev *)(s)->dev->ctx)

typedef struct attn_fwd_pc {
    uint32_t T, S, H, Hkv, hd, flags;
    float scale;
    uint32_t sqb, sqt, sqh, skb, sks, skh, svb, svs, svh, sob, sot, soh, skvb;
    uint32_t oq, ok, ov, okv, oo, ol;
    uint32_t Sp, pgroup, opk, opv, opkv;   /* decode's shared prefix (flag 8) */
} attn_fwd_pc;   /* 124 bytes: within VK_PUSH_BYTES */

typedef struct attn_bwd_pc {
    uint32_t B, T, H, Hkv, hd, mode, flags;
    float scale;
    uint32_t oq, ok, ov, oo, odo, ol, oD, okv, oga, ogb;
} attn_bwd_pc;

static sea_status attn_fwd(sea_stream *s, const sea_op *op)
{
    vk_dev *d = DEV(s);
    bool decode = op->kind == SEA_OP_DECODE_ATTENTION;
    const char *name = sea_op_name(op->kind);
    const sea_tensor *q = op->in[0], *k = op->in[1];
    uint32_t B = (uint32_t)q->shape[0];
    uint32_t T = decode ? 1u : (uint32_t)q->shape[1];
    uint32_t H = (uint32_t)(decode ? q->shape[1] : q->shape[2]);
    uint32_t hd = (uint32_t)(decode ? q->shape[2] : q->shape[3]);
    uint32_t Sfull = (uint32_t)k->shape[1], Hkv = (uint32_t)k->shape[2];
    if (hd > 256) return sea_error(SEA_ERR_UNSUPPORTED, "%s on %s: head dim %u > 256", name, d->label, hd);
    if (B == 0 || T == 0 || H == 0) return SEA_OK;
    vk_binding b[9] = {{0}};
    SEA_TRY(vk_bind_tensor(d, q, name, "q", &b[0]));
    SEA_TRY(vk_bind_tensor(d, k, name, decode ? "k_cache" : "k", &b[1]));
    SEA_TRY(vk_bind_tensor(d, op->in[2], name, decode ? "v_cache" : "v", &b[2]));
    uint32_t flags = decode ? 0u : 1u;
    if (op->in[3]) {
        SEA_TRY(vk_bind_tensor(d, op->in[3], name, "key_valid", &b[3]));
        flags |= 2;
    }
    SEA_TRY(vk_bind_tensor(d, op->out[0], name, "out", &b[4]));
    if (!decode && op->out[1]) {
        SEA_TRY(vk_bind_tensor(d, op->out[1], name, "lse", &b[5]));
        flags |= 4;
    }
    /* decode's shared prefix in[4..6]: contiguous (Bp, Sp, Hkv, hd), the caches' row layout */
    const sea_tensor *pk = decode ? op->in[4] : NULL;
    uint32_t Sp = 0, pgroup = 1;
    if (pk) {
        SEA_TRY(vk_bind_tensor(d, pk, name, "prefix_k", &b[6]));
        SEA_TRY(vk_bind_tensor(d, op->in[5], name, "prefix_v", &b[7]));
        SEA_TRY(vk_bind_tensor(d, op->in[6], name, "prefix_valid", &b[8]));
        Sp = (uint32_t)pk->shape[1];
        pgroup = B / (uint32_t)pk->shape[0];
        flags |= 8;
    }
    uint32_t qt = decode ? 0u : H * hd, kvrow = Hkv * hd;
    /* decode's q may be a head slice of a fused rope output: its own batch and head strides */
    uint32_t qb = decode ? (uint32_t)q->stride[0] : T * H * hd, qh = decode ? (uint32_t)q->stride[1] : hd;
    attn_fwd_pc pc = {T, decode ? (uint32_t)op->p.attn.n_keys : T, H, Hkv, hd, flags, op->p.attn.scale,
                      qb, qt, qh,
                      Sfull * kvrow, kvrow, hd,
                      Sfull * kvrow, kvrow, hd,
                      T * H * hd, qt, hd,
                      Sfull,
                      b[0].elem, b[1].elem, b[2].elem, b[3].elem, b[4].elem, b[5].elem,
                      Sp, pgroup, b[6].elem, b[7].elem, b[8].elem};
    _Static_assert(sizeof(attn_fwd_pc) <= VK_PUSH_BYTES, "attn_fwd push constants exceed the guaranteed 128 bytes");
    return vk_dispatch(s, VK_SH_ATTN_FWD, NULL, b, 9, &pc, sizeof pc, T, H, B);
}

static sea_status attn_bwd(sea_stream *s, const sea_op *op)
{
    vk_dev *d = DEV(s);
    const sea_tensor *q = op->in[0], *k = op->in[1];
    if (!op->gout[0] || (!op->gin[0] && !op->gin[1] && !op->gin[2])) return SEA_OK;
    uint32_t B = (uint32_t)q->shape[0], T = (uint32_t)q->shape[1], H = (uint32_t)q->shape[2], hd = (uint32_t)q->shape[3];
    uint32_t Hkv = (uint32_t)k->shape[2];
    if (hd > 256) return sea_error(SEA_ERR_UNSUPPORTED, "attention backward on %s: head dim %u > 256", d->label, hd);
    if (B == 0 || T == 0 || H == 0) return SEA_OK;
    const char *name = "attention backward";
    vk_binding b[10] = {{0}};
    SEA_TRY(vk_bind_tensor(d, q, name, "q", &b[0]));
    SEA_TRY(vk_bind_tensor(d, k, name, "k", &b[1]));
    SEA_TRY(vk_bind_tensor(d, op->in[2], name, "v", &b[2]));
    SEA_TRY(vk_bind_tensor(d, op->out[0], name, "out", &b[3]));
    SEA_TRY(vk_bind_tensor(d, op->gout[0], name, "grad of out", &b[4]));
    SEA_TRY(vk_bind_tensor(d, op->out[1], name, "lse", &b[5]));
    vk_alloc Dt;
    SEA_TRY(vk_temp(s, (VkDeviceSize)B * H * T * 4, &Dt));
    b[6] = vk_bind_alloc(&Dt);
    uint32_t flags = 0;
    if (op->in[3]) {
        SEA_TRY(vk_bind_tensor(d, op->in[3], name, "key_valid", &b[7]));
        flags |= 1;
    }
    attn_bwd_pc pc = {B, T, H, Hkv, hd, 0, flags, op->p.attn.scale,
                      b[0].elem, b[1].elem, b[2].elem, b[3].elem, b[4].elem, b[5].elem, 0, b[7].elem, 0, 0};
    uint32_t gx, gy;
    vk_grid_1d(d, (uint64_t)B * H * T, 64, &gx, &gy);
    SEA_TRY(vk_dispatch(s, VK_SH_ATTN_BWD, NULL, b, 10, &pc, sizeof pc, gx, gy, 1));
    if (op->gin[0]) {
        SEA_TRY(vk_bind_tensor(d, op->gin[0], name, "grad of q", &b[8]));
        pc.mode = 1;
        pc.flags = flags | 2;
        pc.oga = b[8].elem;
        SEA_TRY(vk_dispatch(s, VK_SH_ATTN_BWD, NULL, b, 10, &pc, sizeof pc, T, H, B));
    }
    if (op->gin[1] || op->gin[2]) {
        b[8] = b[9] = (vk_binding){0};
        pc.mode = 2;
        pc.flags = flags;
        if (op->gin[1]) {
            SEA_TRY(vk_bind_tensor(d, op->gin[1], name, "grad of k", &b[8]));
            pc.flags |= 2;
        }
        if (op->gin[2]) {
            SEA_TRY(vk_bind_tensor(d, op->gin[2], name, "grad of v", &b[9]));
            pc.flags |= 4;
        }
        pc.oga = b[8].elem;
        pc.ogb = b[9].elem;
        SEA_TRY(vk_dispatch(s, VK_SH_ATTN_BWD, NULL, b, 10, &pc, sizeof pc, T, Hkv, B));
    }
    return SEA_OK;
}

sea_status vk_attention(sea_stream *s, const sea_op *op, bool backward)
{
    return backward ? attn_bwd(s, op) : attn_fwd(s, op);
}
