#version 450
// a (n) with b broadcast over leading dims (b has nb elements, nb divides n), f32, contiguous.
// mode 0: out = a + b[i % nb]       mode 1: out = a * b[i % nb]
// mode 2: out += g                  mode 3: out += g * b[i % nb]
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) readonly buffer G { float g[]; };
layout(std430, binding = 3) buffer O { float o[]; };
layout(push_constant, std430) uniform P {
    uint n, nb, mode, pad;
    uint oa, ob, og, oo;
} p;

void main()
{
    uint i = group_linear() * 256u + gl_LocalInvocationID.x;
    if (i >= p.n) return;
    uint j = i % p.nb;
    if (p.mode == 0u) o[p.oo + i] = a[p.oa + i] + b[p.ob + j];
    else if (p.mode == 1u) o[p.oo + i] = a[p.oa + i] * b[p.ob + j];
    else if (p.mode == 2u) o[p.oo + i] += g[p.og + i];
    else o[p.oo + i] += g[p.og + i] * b[p.ob + j];
}
