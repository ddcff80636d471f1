#version 450
// LayerNorm and RMSNorm, one workgroup per row (modes 0-3) or one invocation per column
// (modes 4-5). Bindings: 0 x, 1 w, 2 b, 3 y or g (upstream grad), 4 mean, 5 rstd, 6 gx or gw,
// 7 gb, or a layernorm pair's y2 (mode 0) or g2 (mode 2), 8 w2, 9 b2. A pair (op.h: a second
// affine w2, b2 -> y2 of the same normalized x) is one dispatch forward and one for gx; its
// w2/b2 gradients are a second mode-4 dispatch with g2 bound as g.
// mode 0: layernorm forward     mode 1: rmsnorm forward
// mode 2: layernorm gx +=       mode 3: rmsnorm gx +=
// mode 4: layernorm gw += sum g*xhat, gb += sum g      mode 5: rmsnorm gw += sum g*xhat
#include "common.glsl"
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer W { float w[]; };
layout(std430, binding = 2) readonly buffer Bb { float bb[]; };
layout(std430, binding = 3) buffer Y { float y[]; };
layout(std430, binding = 4) buffer Mean { float mean[]; };
layout(std430, binding = 5) buffer Rstd { float rstd[]; };
layout(std430, binding = 6) buffer GX { float gx[]; };
layout(std430, binding = 7) buffer GB { float gb[]; };   // or y2 / g2
layout(std430, binding = 8) readonly buffer W2 { float w2[]; };
layout(std430, binding = 9) readonly buffer B2 { float b2[]; };
layout(push_constant, std430) uniform P {
    uint N, D, mode, flags;   // flags: 1 has bias / gb, 2 has gw, 4 write mean, 8 write rstd,
                              // 16 pair (w2 and y2 or g2), 32 has b2, 64 no g (mode 2: g2 only)
    float eps;
    uint ox, ow, ob, oy, om, orr, ogx, ogb, ow2, ob2;
} p;

// g * w + g2 * w2 of a pair at element base + d (the gx backward is linear in it); exactly
// g * w without a pair.
float dyw(uint base, uint d)
{
    float v = (p.flags & 64u) != 0u ? 0.0 : y[p.oy + base + d] * w[p.ow + d];
    if ((p.flags & 16u) != 0u) v += gb[p.ogb + base + d] * w2[p.ow2 + d];
    return v;
}

void main()
{
    uint t = gl_LocalInvocationID.x;
    if (p.mode >= 4u) {
        uint d = group_linear() * WG + t;
        if (d >= p.D) return;
        float sw = 0.0, sb = 0.0;
        for (uint n = 0u; n < p.N; n++) {
            float mu = p.mode == 4u ? mean[p.om + n] : 0.0;
            float xh = (x[p.ox + n * p.D + d] - mu) * rstd[p.orr + n];
            float gv = y[p.oy + n * p.D + d];
            sw += gv * xh;
            sb += gv;
        }
        if ((p.flags & 2u) != 0u) gx[p.ogx + d] += sw;
        if (p.mode == 4u && (p.flags & 1u) != 0u) gb[p.ogb + d] += sb;
        return;
    }
    uint row = group_linear();
    if (row >= p.N) return;
    uint base = row * p.D;
    bool ln = p.mode == 0u || p.mode == 2u;
    if (p.mode <= 1u) {
        float mu = 0.0;
        if (ln) {
            float s = 0.0;
            for (uint d = t; d < p.D; d += WG) s += x[p.ox + base + d];
            mu = wg_sum(s) / float(p.D);
        }
        float s2 = 0.0;
        for (uint d = t; d < p.D; d += WG) {
            float v = x[p.ox + base + d] - mu;
            s2 += v * v;
        }
        float r = inversesqrt(wg_sum(s2) / float(p.D) + p.eps);
        for (uint d = t; d < p.D; d += WG) {
            float v = (x[p.ox + base + d] - mu) * r * w[p.ow + d];
            if (ln && (p.flags & 1u) != 0u) v += bb[p.ob + d];
            y[p.oy + base + d] = v;
        }
        if ((p.flags & 16u) != 0u)
            for (uint d = t; d < p.D; d += WG) {
                float v = (x[p.ox + base + d] - mu) * r * w2[p.ow2 + d];
                if ((p.flags & 32u) != 0u) v += b2[p.ob2 + d];
                gb[p.ogb + base + d] = v;
            }
        if (t == 0u) {
            if (ln && (p.flags & 4u) != 0u) mean[p.om + row] = mu;
            if ((p.flags & 8u) != 0u) rstd[p.orr + row] = r;
        }
        return;
    }
    // Backward for x: gx += r * (gxh - mean(gxh) - xh * mean(gxh * xh)), gxh = g * w (+ g2 * w2
    // for a pair: dyw) (the mean(gxh) term only for layernorm).
    float mu = ln ? mean[p.om + row] : 0.0;
    float r = rstd[p.orr + row];
    float s1 = 0.0, s2 = 0.0;
    for (uint d = t; d < p.D; d += WG) {
        float gh = dyw(base, d);
        float xh = (x[p.ox + base + d] - mu) * r;
        s1 += gh;
        s2 += gh * xh;
    }
    float m1 = ln ? wg_sum(s1) / float(p.D) : 0.0;
    float m2 = wg_sum(s2) / float(p.D);
    for (uint d = t; d < p.D; d += WG) {
        float gh = dyw(base, d);
        float xh = (x[p.ox + base + d] - mu) * r;
        gx[p.ogx + base + d] += r * (gh - m1 - xh * m2);
    }
}
