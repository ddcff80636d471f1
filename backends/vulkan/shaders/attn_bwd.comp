#version 450
// Attention backward over contiguous q (B,T,H,hd), k/v (B,T,Hkv,hd), out/gout (B,T,H,hd),
// lse/D (B,H,T). P = exp(scale q.k - lse), dS = P (dO.v - D), D = sum_d dO*O.
// mode 0: D[b,h,t] = dot(dO, O)                       one invocation per (b, h, t)
// mode 1: gq[t] += scale sum_s dS[t,s] k[s]           one workgroup per query (t, h, b)
// mode 2: gk[s] += scale sum_{h,t} dS q[t], gv[s] += sum_{h,t} P dO[t]
//                                                     one workgroup per key (s, hkv, b),
//                                                     summing the heads of its group in order.
// Every sum runs in a fixed order (no atomics): deterministic.
// Bindings: 0 q, 1 k, 2 v, 3 out, 4 gout, 5 lse, 6 D, 7 key_valid, 8 gq|gk, 9 gv.
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer Q { float q[]; };
layout(std430, binding = 1) readonly buffer K { float k[]; };
layout(std430, binding = 2) readonly buffer V { float v[]; };
layout(std430, binding = 3) readonly buffer O { float o[]; };
layout(std430, binding = 4) readonly buffer DO { float dO[]; };
layout(std430, binding = 5) readonly buffer L { float lse[]; };
layout(std430, binding = 6) buffer Dv { float Dvec[]; };
layout(std430, binding = 7) readonly buffer KV { int kvalid[]; };
layout(std430, binding = 8) buffer GA { float ga[]; };
layout(std430, binding = 9) buffer GB { float gb[]; };
layout(push_constant, std430) uniform P {
    uint B, T, H, Hkv;
    uint hd, mode, flags;   // flags: 1 has key_valid, 2 has ga, 4 has gb
    float scale;
    uint oq, ok, ov, oo, odo, ol, oD, okv, oga, ogb;
} p;

shared float xs[256];
shared float ys[256];
shared float ps[64];
shared float ds[64];

bool key_ok(uint b, uint s) { return (p.flags & 1u) == 0u || kvalid[p.okv + b * p.T + s] != 0; }
uint qrow(uint b, uint t, uint h) { return ((b * p.T + t) * p.H + h) * p.hd; }
uint krow(uint b, uint s, uint hk) { return ((b * p.T + s) * p.Hkv + hk) * p.hd; }

void main()
{
    uint tid = gl_LocalInvocationID.x;
    if (p.mode == 0u) {
        uint i = group_linear() * 64u + tid;
        if (i >= p.B * p.H * p.T) return;
        uint t = i % p.T, h = (i / p.T) % p.H, b = i / (p.T * p.H);
        uint r = qrow(b, t, h);
        float s = 0.0;
        for (uint d = 0u; d < p.hd; d++) s = fma(dO[p.odo + r + d], o[p.oo + r + d], s);
        Dvec[p.oD + i] = s;
        return;
    }
    uint G = p.H / p.Hkv;
    float acc_a[4] = float[4](0.0, 0.0, 0.0, 0.0);
    float acc_b[4] = float[4](0.0, 0.0, 0.0, 0.0);
    if (p.mode == 1u) {
        uint t = gl_WorkGroupID.x, h = gl_WorkGroupID.y, b = gl_WorkGroupID.z, hk = h / G;
        uint li = (b * p.H + h) * p.T + t;
        float L = lse[p.ol + li];
        if (L == -1.0 / 0.0 || (p.flags & 2u) == 0u) return;
        float Dt = Dvec[p.oD + li];
        uint r = qrow(b, t, h);
        for (uint d = tid; d < p.hd; d += 64u) {
            xs[d] = q[p.oq + r + d];
            ys[d] = dO[p.odo + r + d];
        }
        barrier();
        for (uint s0 = 0u; s0 <= t; s0 += 64u) {
            uint s = s0 + tid;
            float dS = 0.0;
            if (s <= t && key_ok(b, s)) {
                uint kr = krow(b, s, hk);
                float sq = 0.0, dp = 0.0;
                for (uint d = 0u; d < p.hd; d++) {
                    sq = fma(xs[d], k[p.ok + kr + d], sq);
                    dp = fma(ys[d], v[p.ov + kr + d], dp);
                }
                float P_ = exp(sq * p.scale - L);
                dS = P_ * (dp - Dt);
            }
            ds[tid] = dS;
            barrier();
            uint cn = min(64u, t + 1u - s0);
            for (uint j = 0u; j < 4u; j++) {
                uint d = tid + 64u * j;
                if (d >= p.hd) break;
                float a = acc_a[j];
                for (uint c = 0u; c < cn; c++) a = fma(ds[c], k[p.ok + krow(b, s0 + c, hk) + d], a);
                acc_a[j] = a;
            }
            barrier();
        }
        for (uint j = 0u; j < 4u; j++) {
            uint d = tid + 64u * j;
            if (d >= p.hd) break;
            ga[p.oga + r + d] += p.scale * acc_a[j];
        }
        return;
    }
    // mode 2
    uint s = gl_WorkGroupID.x, hk = gl_WorkGroupID.y, b = gl_WorkGroupID.z;
    if (!key_ok(b, s)) return;
    uint kr = krow(b, s, hk);
    for (uint d = tid; d < p.hd; d += 64u) {
        xs[d] = k[p.ok + kr + d];
        ys[d] = v[p.ov + kr + d];
    }
    barrier();
    for (uint g = 0u; g < G; g++) {
        uint h = hk * G + g;
        for (uint t0 = s; t0 < p.T; t0 += 64u) {
            uint t = t0 + tid;
            float P_ = 0.0, dS = 0.0;
            if (t < p.T) {
                uint li = (b * p.H + h) * p.T + t;
                float L = lse[p.ol + li];
                if (L != -1.0 / 0.0) {
                    uint r = qrow(b, t, h);
                    float sq = 0.0, dp = 0.0;
                    for (uint d = 0u; d < p.hd; d++) {
                        sq = fma(q[p.oq + r + d], xs[d], sq);
                        dp = fma(dO[p.odo + r + d], ys[d], dp);
                    }
                    P_ = exp(sq * p.scale - L);
                    dS = P_ * (dp - Dvec[p.oD + li]);
                }
            }
            ps[tid] = P_;
            ds[tid] = dS;
            barrier();
            uint cn = min(64u, p.T - t0);
            for (uint j = 0u; j < 4u; j++) {
                uint d = tid + 64u * j;
                if (d >= p.hd) break;
                float a = acc_a[j], bb = acc_b[j];
                for (uint c = 0u; c < cn; c++) {
                    uint r = qrow(b, t0 + c, h);
                    a = fma(ds[c], q[p.oq + r + d], a);
                    bb = fma(ps[c], dO[p.odo + r + d], bb);
                }
                acc_a[j] = a;
                acc_b[j] = bb;
            }
            barrier();
        }
    }
    for (uint j = 0u; j < 4u; j++) {
        uint d = tid + 64u * j;
        if (d >= p.hd) break;
        if ((p.flags & 2u) != 0u) ga[p.oga + kr + d] += p.scale * acc_a[j];
        if ((p.flags & 4u) != 0u) gb[p.ogb + kr + d] += acc_b[j];
    }
}
