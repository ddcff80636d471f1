#version 450
// Elementwise f32 ops over contiguous tensors.
// mode 0: out = act(x)                      (act code in p.act)
// mode 1: out = alpha * x                   (scale)
// mode 2: out = silu(x) * y                 (swiglu, x = gate, y = up)
// mode 3: out (+)= g * act'(x)              (activation backward; also matmul's dZ)
// mode 4: out (+)= alpha * g                (scale backward)
// mode 5: out (+)= g * y * silu'(x)         (swiglu backward, gate)
// mode 6: out (+)= g * silu(x)              (swiglu backward, up)
// mode 7: out (+)= g * (x > 0)              (relu mask on post-activation values)
// "(+)=" accumulates when p.acc != 0, else overwrites.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer Y { float y[]; };
layout(std430, binding = 2) readonly buffer G { float g[]; };
layout(std430, binding = 3) buffer O { float o[]; };
layout(push_constant, std430) uniform P {
    uint n, mode, act, acc;
    float alpha;
    uint ox, oy, og, oo;
} p;

void main()
{
    uint i = group_linear() * 256u + gl_LocalInvocationID.x;
    if (i >= p.n) return;
    float r;
    switch (p.mode) {
    case 0u: r = act_apply(p.act, x[p.ox + i]); break;
    case 1u: r = p.alpha * x[p.ox + i]; break;
    case 2u: r = act_apply(4u, x[p.ox + i]) * y[p.oy + i]; break;
    case 3u: r = g[p.og + i] * act_grad(p.act, x[p.ox + i]); break;
    case 4u: r = p.alpha * g[p.og + i]; break;
    case 5u: r = g[p.og + i] * y[p.oy + i] * act_grad(4u, x[p.ox + i]); break;
    case 6u: r = g[p.og + i] * act_apply(4u, x[p.ox + i]); break;
    default: r = x[p.ox + i] > 0.0 ? g[p.og + i] : 0.0; break;
    }
    if (p.mode >= 3u && p.acc != 0u) r += o[p.oo + i];
    o[p.oo + i] = r;
}
