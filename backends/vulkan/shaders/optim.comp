#version 450
// Optimizer-side ops over flat f32 buffers.
// mode 0: AdamW (coupled L2 + decoupled weight decay), bias corrections from the host.
//         Bindings: 0 grad, 1 param, 2 m, 3 v.
// mode 1: global norm, stage 1: partial[g] = sum of squares of a fixed 4096-element chunk g
//         (chunking independent of the device: same bits everywhere). 0 x, 1 partial.
// mode 2: global norm, stage 2: out = sqrt(sum of partials in order).  1 partial, 2 out.
// mode 3: clip: grad *= min(1, max_norm / (norm + 1e-6)).  0 grad, 1 norm.
#include "common.glsl"
#include "reduce.glsl"
layout(std430, binding = 0) buffer A { float a[]; };
layout(std430, binding = 1) buffer Bb { float bb[]; };
layout(std430, binding = 2) buffer C { float c[]; };
layout(std430, binding = 3) buffer D { float dd[]; };
layout(push_constant, std430) uniform P {
    uint n, mode, pad0, pad1;
    float lr, b1, b2, eps, wd, l2, bc1, bc2;
    uint oa, ob, oc, od;
} p;

const uint CHUNK = 4096u;

void main()
{
    uint t = gl_LocalInvocationID.x;
    if (p.mode == 0u) {
        uint i = group_linear() * WG + t;
        if (i >= p.n) return;
        float w = bb[p.ob + i];
        float g = a[p.oa + i] + p.l2 * w;
        float m = p.b1 * c[p.oc + i] + (1.0 - p.b1) * g;
        float v = p.b2 * dd[p.od + i] + (1.0 - p.b2) * g * g;
        c[p.oc + i] = m;
        dd[p.od + i] = v;
        float mh = m / p.bc1, vh = v / p.bc2;
        bb[p.ob + i] = w - p.lr * (mh / (sqrt(vh) + p.eps) + p.wd * w);
    } else if (p.mode == 1u) {
        uint g = group_linear();
        uint start = g * CHUNK;
        if (start >= p.n) return;
        uint end = min(p.n, start + CHUNK);
        float s = 0.0;
        for (uint i = start + t; i < end; i += WG) {
            float v = a[p.oa + i];
            s = fma(v, v, s);
        }
        s = wg_sum(s);
        if (t == 0u) bb[p.ob + g] = s;
    } else if (p.mode == 2u) {
        float s = 0.0;
        for (uint i = t; i < p.n; i += WG) s += bb[p.ob + i];
        s = wg_sum(s);
        if (t == 0u) c[p.oc] = sqrt(s);
    } else {
        uint i = group_linear() * WG + t;
        if (i >= p.n) return;
        float f = min(1.0, p.lr / (bb[p.ob] + 1e-6));
        a[p.oa + i] *= f;
    }
}
