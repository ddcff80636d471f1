#version 450
// Deterministic reduction over rows, one invocation per (batch, column), rows summed in order:
// out[bt*sob + j] (+)= sum_r g[bt*sgb + r*sr + j*sj] * (has_a ? a[same index] : 1).
// Used for bias gradients, broadcast gradients and per-row sums (sr/sj swapped).
#include "common.glsl"
layout(local_size_x = 64) in;
layout(std430, binding = 0) readonly buffer G { float g[]; };
layout(std430, binding = 1) readonly buffer A { float a[]; };
layout(std430, binding = 2) buffer O { float o[]; };
layout(push_constant, std430) uniform P {
    uint rows, cols, sr, sj, sgb, sob, has_a, acc;
    uint og, oa, oo;
} p;

void main()
{
    uint j = gl_WorkGroupID.x * 64u + gl_LocalInvocationID.x;
    uint bt = gl_WorkGroupID.y;
    if (j >= p.cols) return;
    uint base = bt * p.sgb + j * p.sj;
    float s = 0.0;
    for (uint r = 0u; r < p.rows; r++) {
        uint e = base + r * p.sr;
        s += p.has_a != 0u ? g[p.og + e] * a[p.oa + e] : g[p.og + e];
    }
    uint oi = p.oo + bt * p.sob + j;
    o[oi] = p.acc != 0u ? o[oi] + s : s;
}
