#version 450
// mode 0: out[n, d] = table[ids[n], d] (a zero row for ids outside [0, V)).
// mode 1: gtable[ids[n], d] += g[n, d]: one invocation per column d walks n in order, so the
//         scatter-add is deterministic without atomics.
// A table beyond one binding is processed in chunks of rows [v0, v0 + V): the bound table
// (or gradient) starts at row v0 and only ids inside the chunk are touched; the chunk with
// v0 = 0 also writes the zero rows of invalid ids (< 0 or >= Vtot).
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer T { float t[]; };
layout(std430, binding = 1) readonly buffer I { int ids[]; };
layout(std430, binding = 2) buffer O { float o[]; };
layout(push_constant, std430) uniform P {
    uint N, D, V, mode;
    uint ot, oi, oo, v0, Vtot;
} p;

void main()
{
    uint i = group_linear() * 256u + gl_LocalInvocationID.x;
    if (p.mode == 0u) {
        if (i >= p.N * p.D) return;
        uint n = i / p.D, d = i % p.D;
        int id = ids[p.oi + n];
        if (id < 0 || uint(id) >= p.Vtot) {
            if (p.v0 == 0u) o[p.oo + i] = 0.0;
        } else if (uint(id) >= p.v0 && uint(id) - p.v0 < p.V) {
            o[p.oo + i] = t[p.ot + (uint(id) - p.v0) * p.D + d];
        }
    } else {
        if (i >= p.D) return;
        for (uint n = 0u; n < p.N; n++) {
            int id = ids[p.oi + n];
            if (id >= 0 && uint(id) >= p.v0 && uint(id) - p.v0 < p.V) t[p.ot + (uint(id) - p.v0) * p.D + i] += o[p.oo + n * p.D + i];
        }
    }
}
