#version 450
// Rotary embedding, one invocation per output element (b, t, h, d).
// Angles are exact-ish without float64 or fma: the host gives each frequency as a 64-bit
// fixed-point fraction of a turn, G = frac(inv_freq / 2pi) * 2^64; pos * G mod 2^64 is
// computed in integers (umulExtended), so the angle modulo 2pi keeps ~1e-9 rad of precision
// for any position. Its top bits pick the quadrant; the remainder in [-pi/4, pi/4] goes
// through minimax sin/cos polynomials (cephes). The driver's sin/cos (2^-11 absolute
// guaranteed) and a plain f32 angle (pos * inv_freq: 1e-4 rad off at pos 40000) are avoided.
// sign = -1 rotates by -angle (the backward); acc adds into the destination.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer S { float src[]; };
layout(std430, binding = 1) readonly buffer Pos { int pos[]; };
layout(std430, binding = 2) readonly buffer F { uvec2 freq[]; };
layout(std430, binding = 3) buffer D { float dst[]; };
layout(push_constant, std430) uniform P {
    uint B, T, H, hd;
    uint rot, style, acc;
    float sign;
    uint ssb, sst, ssh, sdb, sdt, sdh;
    uint os, op, of, od;
} p;

void sincos_turns(int pos, uvec2 G, out float s, out float c)
{
    uint P = uint(abs(pos)), hi, lo;
    umulExtended(P, G.x, hi, lo);
    hi += P * G.y;                       // (P * G) mod 2^64 = hi:lo, in 2^-64 turns
    if (pos < 0) {
        lo = ~lo + 1u;
        hi = ~hi + (lo == 0u ? 1u : 0u);
    }
    uint q = (hi + 0x20000000u) >> 30;   // nearest quarter turn
    int rem = int(hi - (q << 30));       // [-2^29, 2^29) in 2^-32 turns
    float r = (float(rem) + float(lo) * 2.3283064365386963e-10) * 1.4629180792671596e-09;
    float z = r * r;
    float sr = ((-1.9515295891e-4 * z + 8.3321608736e-3) * z - 1.6666654611e-1) * z * r + r;
    float cr = ((2.443315711809948e-5 * z - 1.388731625493765e-3) * z + 4.166664568298827e-2) * z * z - 0.5 * z + 1.0;
    uint qq = q & 3u;
    if (qq == 0u) { s = sr; c = cr; }
    else if (qq == 1u) { s = cr; c = -sr; }
    else if (qq == 2u) { s = -sr; c = -cr; }
    else { s = -cr; c = sr; }
}

void main()
{
    uint i = group_linear() * 256u + gl_LocalInvocationID.x;
    uint total = p.B * p.T * p.H * p.hd;
    if (i >= total) return;
    uint d = i % p.hd, r = i / p.hd;
    uint h = r % p.H;
    r /= p.H;
    uint t = r % p.T, b = r / p.T;
    uint sb = p.os + b * p.ssb + t * p.sst + h * p.ssh;
    uint db = p.od + b * p.sdb + t * p.sdt + h * p.sdh;
    float v;
    if (d >= p.rot) {
        v = src[sb + d];
    } else {
        uint half_ = p.rot / 2u, j, partner;
        bool first;
        if (p.style == 0u) {   // NEOX: pairs (i, i + rot/2)
            first = d < half_;
            j = first ? d : d - half_;
            partner = first ? d + half_ : d - half_;
        } else {               // GPTJ: pairs (2i, 2i + 1)
            first = (d & 1u) == 0u;
            j = d >> 1;
            partner = first ? d + 1u : d - 1u;
        }
        float s, c;
        sincos_turns(pos[p.op + b * p.T + t], freq[p.of + j], s, c);
        s *= p.sign;
        float xa = src[sb + d], xb = src[sb + partner];
        v = first ? xa * c - xb * s : xa * c + xb * s;
    }
    if (p.acc != 0u) dst[db + d] += v;
    else dst[db + d] = v;
}
