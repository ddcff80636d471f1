#version 450
// Masked sums/means per sequence, one workgroup per row b. Bindings: 0 x, 1 mask, 2 out|g, 3 gx.
// mode 0: out[b] = sum_t x*m (/ sum_t m when mean; 0 if the mask is empty)
// mode 1: gx[b, t] += g[b] * m[b, t] (/ sum_t m when mean)
#include "common.glsl"
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer M { float m[]; };
layout(std430, binding = 2) buffer O { float o[]; };
layout(std430, binding = 3) buffer GX { float gx[]; };
layout(push_constant, std430) uniform P {
    uint B, T, mode, mean;
    uint ox, om, oo, ogx;
} p;

void main()
{
    uint t = gl_LocalInvocationID.x, row = group_linear();
    if (row >= p.B) return;
    uint base = row * p.T;
    float ms = 0.0;
    if (p.mean != 0u) {
        for (uint i = t; i < p.T; i += WG) ms += m[p.om + base + i];
        ms = wg_sum(ms);
    }
    if (p.mode == 0u) {
        float s = 0.0;
        for (uint i = t; i < p.T; i += WG) s += x[p.ox + base + i] * m[p.om + base + i];
        s = wg_sum(s);
        if (t == 0u) o[p.oo + row] = p.mean != 0u ? (ms != 0.0 ? s / ms : 0.0) : s;
    } else {
        float gv = o[p.oo + row];
        if (p.mean != 0u) gv = ms != 0.0 ? gv / ms : 0.0;
        for (uint i = t; i < p.T; i += WG) gx[p.ogx + base + i] += gv * m[p.om + base + i];
    }
}
