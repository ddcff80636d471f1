/* Causal attention with key padding (training/prefill) and decode attention over a KV cache.
 *
 * Layouts (contiguous): q/out (B, Tq, H, hd); k/v (B, Sk, Hkv, hd); lse (B, H, Tq);
 * key_valid (B, Sk). Query t sees keys s <= min(t + coff, Sk - 1) with key_valid != 0:
 * coff = 0 for training, n_keys - 1 for decode (Tq = 1).
 * One work-group per (b, h, t); keys are processed in chunks of the group size with an online
 * softmax; every sum runs in a fixed order (tree over the chunk, then chunk by chunk). */

#define ATTN_MAX_DPT 8 /* head dims per work-item: hd <= 8 * group size */

/* Decode's optional shared prefix (op.h, in[4..6]): has_pre != 0 walks the Sp keys of prefix
 * row b / pgroup (pk, pv (Bp, Sp, Hkv, hd), pkv (Bp, Sp)) before the own keys, in the same
 * online softmax, as if the row were copied in front of the cache. */
__kernel void attn_fwd(__global const float *q, uint qo, __global const float *k, uint ko, __global const float *v,
                       uint vo, __global const int *kv, uint kvo, int has_kv, __global float *out, uint oo,
                       __global float *lse, uint lo, int has_lse, uint Tq, uint Sk, uint H, uint Hkv, uint hd,
                       int coff, float scale, uint qsb, uint qsh, __global const float *pk, uint pko,
                       __global const float *pv, uint pvo, __global const int *pkv, uint pkvo, int has_pre, uint Sp,
                       uint pgroup, __local float *qs, __local float *ps, __local float *buf)
{
    uint g = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    uint t = g % Tq, bh = g / Tq, h = bh % H, b = bh / H;
    uint hk = h / (H / Hkv);
    /* q's batch and head strides: decode's q may be a head slice of a fused rope output */
    size_t qrow = (((size_t)b * Tq + t) * H + h) * hd, qin = (size_t)b * qsb + (size_t)t * H * qsh + (size_t)h * qsh;
    for (uint d = lid; d < hd; d += wg) qs[d] = q[qo + qin + d];
    barrier(CLK_LOCAL_MEM_FENCE);
    float m = -INFINITY, l = 0.0f;
    float acc[ATTN_MAX_DPT];
    for (int j = 0; j < ATTN_MAX_DPT; j++) acc[j] = 0.0f;
    /* segment 0: the prefix row (decode with a prefix only), 1: the own keys */
    for (int seg = has_pre ? 0 : 1; seg < 2; seg++) {
        __global const float *K = seg ? k + ko : pk + pko, *V = seg ? v + vo : pv + pvo;
        __global const int *valid = seg ? kv + kvo : pkv + pkvo;
        int checked = seg ? has_kv : 1;
        size_t row0 = seg ? (size_t)b * Sk : (size_t)(b / pgroup) * Sp; /* first key's row in (rows, Hkv, hd) */
        int kmax = seg ? min((int)t + coff, (int)Sk - 1) : (int)Sp - 1;
        for (int c0 = 0; c0 <= kmax; c0 += (int)wg) {
            int s = c0 + (int)lid;
            float sc = -INFINITY;
            if (s <= kmax && (!checked || valid[row0 + s] != 0)) {
                __global const float *kr = K + ((row0 + s) * Hkv + hk) * hd;
                float dot = 0.0f;
                for (uint d = 0; d < hd; d++) dot += qs[d] * kr[d];
                sc = dot * scale;
            }
            float cm = wg_max(buf, sc);
            float mn = fmax(m, cm);
            if (mn == -INFINITY) continue; /* whole chunk masked so far: uniform across the group */
            float p = sc == -INFINITY ? 0.0f : exp(sc - mn);
            ps[lid] = p;
            float corr = m == -INFINITY ? 0.0f : exp(m - mn);
            l = l * corr + wg_sum(buf, p); /* wg_sum's barriers also publish ps */
            int cn = min((int)wg, kmax + 1 - c0);
            for (int j = 0; j < ATTN_MAX_DPT; j++) {
                uint d = lid + j * wg;
                if (d >= hd) break;
                float a = acc[j] * corr;
                for (int jj = 0; jj < cn; jj++) {
                    float pj = ps[jj];
                    if (pj != 0.0f) a += pj * V[((row0 + c0 + jj) * Hkv + hk) * hd + d];
                }
                acc[j] = a;
            }
            m = mn;
            barrier(CLK_LOCAL_MEM_FENCE); /* ps is rewritten by the next chunk */
        }
    }
    for (int j = 0; j < ATTN_MAX_DPT; j++) {
        uint d = lid + j * wg;
        if (d >= hd) break;
        out[oo + qrow + d] = l > 0.0f ? acc[j] / l : 0.0f;
    }
    if (has_lse && lid == 0) lse[lo + ((size_t)b * H + h) * Tq + t] = l > 0.0f ? m + log(l) : -INFINITY;
}

/* delta[b, h, t] = sum_d gout * out (one work-item per query row). */
__kernel void attn_bwd_delta(__global const float *out, uint oo, __global const float *gout, uint go,
                             __global float *delta, uint B, uint T, uint H, uint hd)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)B * T * H) return;
    uint h = i % H, t = (i / H) % T, b = i / ((size_t)H * T);
    size_t row = i * hd;
    float acc = 0.0f;
    for (uint d = 0; d < hd; d++) acc += gout[go + row + d] * out[oo + row + d];
    delta[((size_t)b * H + h) * T + t] = acc;
}

/* gq[b,t,h] += scale * sum_s P_ts (dP_ts - delta_t) k_s, one work-group per (b, h, t). */
__kernel void attn_bwd_dq(__global const float *q, uint qo, __global const float *k, uint ko,
                          __global const float *v, uint vo, __global const int *kv, uint kvo, int has_kv,
                          __global const float *lse, uint lo, __global const float *delta,
                          __global const float *gout, uint go, __global float *gq, uint gqo, uint T, uint H,
                          uint Hkv, uint hd, float scale, __local float *qs, __local float *gs, __local float *ps)
{
    uint g = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    uint t = g % T, bh = g / T, h = bh % H, b = bh / H;
    uint hk = h / (H / Hkv);
    size_t qrow = (((size_t)b * T + t) * H + h) * hd;
    for (uint d = lid; d < hd; d += wg) {
        qs[d] = q[qo + qrow + d];
        gs[d] = gout[go + qrow + d];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    float L = lse[lo + ((size_t)b * H + h) * T + t];
    float D = delta[((size_t)b * H + h) * T + t];
    float acc[ATTN_MAX_DPT];
    for (int j = 0; j < ATTN_MAX_DPT; j++) acc[j] = 0.0f;
    int kmax = (int)t;
    if (L == -INFINITY) kmax = -1; /* no admissible key: no gradient */
    for (int c0 = 0; c0 <= kmax; c0 += (int)wg) {
        int s = c0 + (int)lid;
        float ds = 0.0f;
        if (s <= kmax && (!has_kv || kv[kvo + (size_t)b * T + s] != 0)) {
            size_t kr = (((size_t)b * T + s) * Hkv + hk) * hd;
            float dot = 0.0f, dp = 0.0f;
            for (uint d = 0; d < hd; d++) {
                dot += qs[d] * k[ko + kr + d];
                dp += gs[d] * v[vo + kr + d];
            }
            float p = exp(dot * scale - L);
            ds = p * (dp - D) * scale;
        }
        ps[lid] = ds;
        barrier(CLK_LOCAL_MEM_FENCE);
        int cn = min((int)wg, kmax + 1 - c0);
        for (int j = 0; j < ATTN_MAX_DPT; j++) {
            uint d = lid + j * wg;
            if (d >= hd) break;
            float a = acc[j];
            for (int jj = 0; jj < cn; jj++) {
                float w = ps[jj];
                if (w != 0.0f) a += w * k[ko + (((size_t)b * T + c0 + jj) * Hkv + hk) * hd + d];
            }
            acc[j] = a;
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    for (int j = 0; j < ATTN_MAX_DPT; j++) {
        uint d = lid + j * wg;
        if (d >= hd) break;
        gq[gqo + qrow + d] += acc[j];
    }
}

/* gk[b,s,hk] += scale * sum_{h in group, t >= s} P_ts (dP_ts - delta_t) q_t and
 * gv[b,s,hk] += sum P_ts gout_t; one work-group per (b, s, hk), queries in fixed chunks. */
__kernel void attn_bwd_dkv(__global const float *q, uint qo, __global const float *k, uint ko,
                           __global const float *v, uint vo, __global const int *kv, uint kvo, int has_kv,
                           __global const float *lse, uint lo, __global const float *delta,
                           __global const float *gout, uint go, __global float *gk, uint gko, int has_gk,
                           __global float *gv, uint gvo, int has_gv, uint T, uint H, uint Hkv, uint hd,
                           float scale, __local float *ks, __local float *vs, __local float *ps,
                           __local float *dss)
{
    uint g = get_group_id(0), lid = get_local_id(0), wg = get_local_size(0);
    uint hk = g % Hkv, bs = g / Hkv, s = bs % T, b = bs / T;
    size_t krow = (((size_t)b * T + s) * Hkv + hk) * hd;
    if (has_kv && kv[kvo + (size_t)b * T + s] == 0) return; /* masked key: no gradient (uniform) */
    for (uint d = lid; d < hd; d += wg) {
        ks[d] = k[ko + krow + d];
        vs[d] = v[vo + krow + d];
    }
    barrier(CLK_LOCAL_MEM_FENCE);
    uint G = H / Hkv;
    float ak[ATTN_MAX_DPT], av[ATTN_MAX_DPT];
    for (int j = 0; j < ATTN_MAX_DPT; j++) ak[j] = av[j] = 0.0f;
    for (uint h = hk * G; h < (hk + 1) * G; h++) {
        for (uint c0 = s; c0 < T; c0 += wg) {
            uint t = c0 + lid;
            float p = 0.0f, ds = 0.0f;
            if (t < T) {
                size_t qrow = (((size_t)b * T + t) * H + h) * hd;
                float L = lse[lo + ((size_t)b * H + h) * T + t];
                float dot = 0.0f, dp = 0.0f;
                for (uint d = 0; d < hd; d++) {
                    dot += q[qo + qrow + d] * ks[d];
                    dp += gout[go + qrow + d] * vs[d];
                }
                p = exp(dot * scale - L);
                ds = p * (dp - delta[((size_t)b * H + h) * T + t]) * scale;
            }
            ps[lid] = p;
            dss[lid] = ds;
            barrier(CLK_LOCAL_MEM_FENCE);
            uint cn = min(wg, T - c0);
            for (int j = 0; j < ATTN_MAX_DPT; j++) {
                uint d = lid + j * wg;
                if (d >= hd) break;
                float a = ak[j], bv = av[j];
                for (uint jj = 0; jj < cn; jj++) {
                    size_t qrow = (((size_t)b * T + c0 + jj) * H + h) * hd;
                    a += dss[jj] * q[qo + qrow + d];
                    bv += ps[jj] * gout[go + qrow + d];
                }
                ak[j] = a;
                av[j] = bv;
            }
            barrier(CLK_LOCAL_MEM_FENCE);
        }
    }
    for (int j = 0; j < ATTN_MAX_DPT; j++) {
        uint d = lid + j * wg;
        if (d >= hd) break;
        if (has_gk) gk[gko + krow + d] += ak[j];
        if (has_gv) gv[gvo + krow + d] += av[j];
    }
}
