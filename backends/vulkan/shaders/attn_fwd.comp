#version 450
// Attention forward, one workgroup of 64 invocations per query (t, h, b): flash-style online
// softmax over chunks of 64 keys. Each invocation scores one key of the chunk; then each
// invocation owns output dims d = tid + 64 j and accumulates the chunk's keys in order, so
// the result is deterministic. Serves both causal prefill (keys s <= t, S = T) and decode
// (keys s < S = n_keys, no causal limit). Key padding through key_valid (b, s).
// Decode's optional shared prefix (flag 8; op.h in[4..6]): the Sp keys of prefix row
// b / pgroup are walked first, in the same online softmax, as if copied in front of the cache;
// contiguous (Bp, Sp, Hkv, hd), so the caches' key and head strides address it too.
// Bindings: 0 q, 1 k, 2 v, 3 key_valid, 4 out, 5 lse (b, h, t), 6 prefix_k, 7 prefix_v,
// 8 prefix_valid (Bp, Sp).
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer KV { int kvalid[]; };
layout(std430, binding = 4) writeonly buffer O { float o[]; };
layout(std430, binding = 5) writeonly buffer L { float lse[]; };
layout(std430, binding = 6) readonly buffer PK { float pk[]; };
layout(std430, binding = 7) readonly buffer PV { float pv[]; };
layout(std430, binding = 8) readonly buffer PKV { int pkvalid[]; };
layout(push_constant, std430) uniform P {
    uint T, S, H, Hkv;
    uint hd, flags;   // flags: 1 causal, 2 has key_valid, 4 write lse, 8 decode prefix
    float scale;
    uint sqb, sqt, sqh, skb, sks, skh, svb, svs, svh, sob, sot, soh, skvb;
    uint oq, ok, ov, okv, oo, ol;
    uint Sp, pgroup, opk, opv, opkv;   // the prefix: length, sequences per row, offsets
} p;

// Segment 0 reads the prefix, 1 the own keys (uniform branches, outside the inner loops).
bool admissible(uint seg, uint b, uint s)
{
    if (seg == 0u) return pkvalid[p.opkv + (b / p.pgroup) * p.Sp + s] != 0;
    return (p.flags & 2u) == 0u || kvalid[p.okv + b * p.skvb + s] != 0;
}

shared float qs[256];
shared float sc[64];
shared float red[64];

void main()
{
    uint tid = gl_LocalInvocationID.x;
    uint t = gl_WorkGroupID.x, h = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
    uint hk = h / (p.H / p.Hkv);
    uint qb = p.oq + b * p.sqb + t * p.sqt + h * p.sqh;
    for (uint d = tid; d < p.hd; d += 64u) qs[d] = q[qb + d];
    barrier();
    float m = -1.0 / 0.0, l = 0.0;
    float acc[4] = float[4](0.0, 0.0, 0.0, 0.0);
    for (uint seg = (p.flags & 8u) != 0u ? 0u : 1u; seg < 2u; seg++) {
        uint pb = b / p.pgroup;
        uint nk = seg == 0u ? p.Sp : (p.flags & 1u) != 0u ? min(p.S, t + 1u) : p.S;
        uint kb = seg == 0u ? p.opk + pb * p.Sp * p.sks + hk * p.skh : p.ok + b * p.skb + hk * p.skh;
        uint vb = seg == 0u ? p.opv + pb * p.Sp * p.svs + hk * p.svh : p.ov + b * p.svb + hk * p.svh;
        for (uint s0 = 0u; s0 < nk; s0 += 64u) {
            uint s = s0 + tid;
            float score = -1.0 / 0.0;
            bool ok = s < nk && admissible(seg, b, s);
            if (ok) {
                float dot = 0.0;
                uint kr = kb + s * p.sks;
                if (seg == 0u) for (uint d = 0u; d < p.hd; d++) dot = fma(qs[d], pk[kr + d], dot);
                else for (uint d = 0u; d < p.hd; d++) dot = fma(qs[d], k[kr + d], dot);
                score = dot * p.scale;
            }
            red[tid] = score;
            barrier();
            for (uint w = 32u; w > 0u; w >>= 1) {
                if (tid < w) red[tid] = max(red[tid], red[tid + w]);
                barrier();
            }
            float cm = red[0];
            barrier();
            if (cm == -1.0 / 0.0) continue;   // the whole chunk is masked (uniform branch)
            float nm = max(m, cm);
            float corr = exp(m - nm);          // m = -inf -> 0
            float pr = ok ? exp(score - nm) : 0.0;
            sc[tid] = pr;
            red[tid] = pr;
            barrier();
            for (uint w = 32u; w > 0u; w >>= 1) {
                if (tid < w) red[tid] += red[tid + w];
                barrier();
            }
            l = l * corr + red[0];
            uint cn = min(64u, nk - s0);
            for (uint j = 0u; j < 4u; j++) {
                uint d = tid + 64u * j;
                if (d >= p.hd) break;
                float a = acc[j] * corr;
                if (seg == 0u) for (uint c = 0u; c < cn; c++) a = fma(sc[c], pv[vb + (s0 + c) * p.svs + d], a);
                else for (uint c = 0u; c < cn; c++) a = fma(sc[c], v[vb + (s0 + c) * p.svs + d], a);
                acc[j] = a;
            }
            m = nm;
            barrier();
        }
    }
    uint ob = p.oo + b * p.sob + t * p.sot + h * p.soh;
    float inv = l > 0.0 ? 1.0 / l : 0.0;
    for (uint j = 0u; j < 4u; j++) {
        uint d = tid + 64u * j;
        if (d >= p.hd) break;
        o[ob + d] = acc[j] * inv;
    }
    if ((p.flags & 4u) != 0u && tid == 0u) lse[p.ol + (b * p.H + h) * p.T + t] = l > 0.0 ? m + log(l) : -1.0 / 0.0;
}
