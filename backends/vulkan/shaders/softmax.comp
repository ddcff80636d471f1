#version 450
// Softmax over the last dim, one workgroup per row.
// mode 0: y = softmax(x)      mode 1: gx += y * (g - sum(g * y))   (bindings 0 x|y, 1 g, 2 out)
#include "common.glsl"
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer G { float g[]; };
layout(std430, binding = 2) buffer O { float o[]; };
layout(push_constant, std430) uniform P {
    uint N, D, mode, pad;
    uint ox, og, oo;
} p;

void main()
{
    uint t = gl_LocalInvocationID.x, row = group_linear();
    if (row >= p.N) return;
    uint base = row * p.D;
    if (p.mode == 0u) {
        float m = -1.0 / 0.0;
        for (uint d = t; d < p.D; d += WG) m = max(m, x[p.ox + base + d]);
        m = wg_max(m);
        float s = 0.0;
        for (uint d = t; d < p.D; d += WG) s += exp(x[p.ox + base + d] - m);
        float inv = 1.0 / wg_sum(s);
        for (uint d = t; d < p.D; d += WG) o[p.oo + base + d] = exp(x[p.ox + base + d] - m) * inv;
    } else {
        float s = 0.0;
        for (uint d = t; d < p.D; d += WG) s += g[p.og + base + d] * x[p.ox + base + d];
        s = wg_sum(s);
        for (uint d = t; d < p.D; d += WG) o[p.oo + base + d] += x[p.ox + base + d] * (g[p.og + base + d] - s);
    }
}
