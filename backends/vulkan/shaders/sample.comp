#version 450
// Token sampling, one workgroup per row, exactly the rule of runtime/op.h and the CPU
// reference (backends/cpu/cpu_sample.c) without sorting:
//  - greedy: argmax, lowest index on ties;
//  - top-k: the kept set is a prefix of the order (logit desc, index asc). Its boundary is
//    found by a bitwise search over an order-preserving uint key of the logit (32 counting
//    passes), then over the index among tied logits;
//  - top-p: the same search on the softmax(x/T) mass of the top-k survivors;
//  - Gumbel-max over the kept set with Philox4x32-10 (common.glsl), lowest index on ties.
// Every pass is a fixed-order workgroup reduction, so the result is deterministic.
// Bindings: 0 logits (B, V), 1 seq_ids (B), 2 tokens (B), 3 logp (B).
#include "common.glsl"
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer S { int seq[]; };
layout(std430, binding = 2) writeonly buffer Tok { int tok[]; };
layout(std430, binding = 3) writeonly buffer Lp { float logp[]; };
layout(push_constant, std430) uniform P {
    uint B, V, top_k, flags;   // flags: 1 write logp
    float temperature, top_p;
    uint seed_lo, seed_hi, step;
    uint ox, os, ot, ol;
} p;

shared float best_s[WG];
shared uint best_i[WG];

uint okey(float v)
{
    uint u = floatBitsToUint(v);
    return (u & 0x80000000u) != 0u ? ~u : (u | 0x80000000u);
}

// -log(u) to full relative precision. Near u = 1 the driver's log only promises 2^-21
// absolute error (Vulkan's precision table), which ruins -log(-log(u)) exactly where the Gumbel
// draws are largest; there we use log(u) = 2 atanh(t / (2 + t)), t = u - 1 (exact), as a series.
float neg_log_u(float u)
{
    if (u < 0.5) return -log(u);
    float t = u - 1.0;
    float s = t / (2.0 + t);   // |s| <= 1/3
    float s2 = s * s;
    float r = 1.0 / 17.0;
    r = r * s2 + 1.0 / 15.0;
    r = r * s2 + 1.0 / 13.0;
    r = r * s2 + 1.0 / 11.0;
    r = r * s2 + 1.0 / 9.0;
    r = r * s2 + 1.0 / 7.0;
    r = r * s2 + 1.0 / 5.0;
    r = r * s2 + 1.0 / 3.0;
    r = r * s2 + 1.0;
    return -2.0 * s * r;
}

uint base;
bool use_k;
uint ku, ki;       // top-k boundary: key and last kept index among ties
bool use_p;
uint pu, pi;       // top-p boundary
float mT, invT;

bool kept_k(uint i, uint key) { return !use_k || key > ku || (key == ku && i <= ki); }
bool kept(uint i, uint key) { return kept_k(i, key) && (!use_p || key > pu || (key == pu && i <= pi)); }

uint count_ge(uint U)
{
    uint c = 0u;
    for (uint i = gl_LocalInvocationID.x; i < p.V; i += WG) c += okey(x[base + i]) >= U ? 1u : 0u;
    return wg_sum_u(c);
}

uint count_tie_below(uint U, uint lim)
{
    uint c = 0u;
    for (uint i = gl_LocalInvocationID.x; i < lim; i += WG) c += okey(x[base + i]) == U ? 1u : 0u;
    return wg_sum_u(c);
}

float w(uint i) { return exp(x[base + i] * invT - mT); }

float mass_ge(uint U)
{
    float s = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < p.V; i += WG) {
        uint k = okey(x[base + i]);
        if (kept_k(i, k) && k >= U) s += w(i);
    }
    return wg_sum(s);
}

float mass_tie_below(uint U, uint lim)
{
    float s = 0.0;
    for (uint i = gl_LocalInvocationID.x; i < lim; i += WG) {
        uint k = okey(x[base + i]);
        if (k == U && kept_k(i, k)) s += w(i);
    }
    return wg_sum(s);
}

void main()
{
    uint t = gl_LocalInvocationID.x, row = group_linear();
    if (row >= p.B) return;
    base = p.ox + row * p.V;
    uint nbits = 1u;
    while ((1u << nbits) <= p.V) nbits++;

    float mx = -1.0 / 0.0;
    for (uint i = t; i < p.V; i += WG) mx = max(mx, x[base + i]);
    mx = wg_max(mx);
    float se = 0.0;
    for (uint i = t; i < p.V; i += WG) se += exp(x[base + i] - mx);
    float lse = mx + log(wg_sum(se));

    float bs = -1.0 / 0.0;
    uint bi = 0xffffffffu;
    if (p.temperature == 0.0) {
        for (uint i = t; i < p.V; i += WG) {
            float v = x[base + i];
            if (bi == 0xffffffffu || v > bs) { bs = v; bi = i; }
        }
    } else {
        invT = 1.0 / p.temperature;
        use_k = p.top_k > 0u && p.top_k < p.V;
        use_p = false;
        if (use_k) {
            uint U = 0u;
            for (int bit = 31; bit >= 0; bit--) {
                uint cand = U | (1u << uint(bit));
                if (count_ge(cand) >= p.top_k) U = cand;
            }
            uint ng = U == 0xffffffffu ? 0u : count_ge(U + 1u);
            uint need = p.top_k - ng;
            uint I = 0u;
            for (int bit = int(nbits); bit >= 0; bit--) {
                uint cand = I | (1u << uint(bit));
                if (cand <= p.V && count_tie_below(U, cand) < need) I = cand;
            }
            ku = U;
            ki = I;
        }
        if (p.top_p < 1.0) {
            mT = mx * invT;
            float target = p.top_p * mass_ge(0u);
            uint U = 0u;
            for (int bit = 31; bit >= 0; bit--) {
                uint cand = U | (1u << uint(bit));
                if (mass_ge(cand) >= target) U = cand;
            }
            float mg = U == 0xffffffffu ? 0.0 : mass_ge(U + 1u);
            uint I = 0u;
            for (int bit = int(nbits); bit >= 0; bit--) {
                uint cand = I | (1u << uint(bit));
                if (cand <= p.V && mg + mass_tie_below(U, cand) < target) I = cand;
            }
            pu = U;
            pi = I;
            use_p = true;
        }
        uint stream = uint(seq[p.os + row]);
        uint chi, clo;
        umulExtended(p.step, p.V, chi, clo);
        for (uint i = t; i < p.V; i += WG) {
            float v = x[base + i];
            if (!kept(i, okey(v))) continue;
            uint carry;
            uint lo = uaddCarry(clo, i, carry);
            float u = philox_uniform(p.seed_lo, p.seed_hi, stream, lo, chi + carry);
            float sc = v * invT - log(neg_log_u(u));
            if (bi == 0xffffffffu || sc > bs) { bs = sc; bi = i; }
        }
    }
    // Reduce (score desc, index asc); invocations scan increasing indices, so within one
    // invocation the first maximum already has the lowest index.
    best_s[t] = bs;
    best_i[t] = bi;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (t < s) {
            float s2 = best_s[t + s];
            uint i2 = best_i[t + s];
            if (i2 != 0xffffffffu &&
                (best_i[t] == 0xffffffffu || s2 > best_s[t] || (s2 == best_s[t] && i2 < best_i[t]))) {
                best_s[t] = s2;
                best_i[t] = i2;
            }
        }
        barrier();
    }
    if (t == 0u) {
        uint b = best_i[0];
        tok[p.ot + row] = int(b);
        if ((p.flags & 1u) != 0u) logp[p.ol + row] = b < p.V ? x[base + b] - lse : 0.0;
    }
}
