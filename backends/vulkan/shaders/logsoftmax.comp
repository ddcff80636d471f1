#version 450
// Fused log-softmax + gather and cross-entropy, one workgroup per row (the (N, V) log-softmax
// is never stored). Bindings: 0 logits, 1 targets, 2 lse, 3 out (logp | loss | gx), 4 gout.
// mode 0: lse[n] = logsumexp(x[n]); logp[n] = x[n, t] - lse[n] (0 when t < 0)   (logp optional)
// mode 1: loss = mean over rows with t >= 0 of lse[n] - x[n, t] (one workgroup)
// mode 2: gx[n, v] += gout[n] * ((v == t) - exp(x - lse))          (logsoftmax_gather backward)
// mode 3: gx[n, v] += gout[0] / count * (exp(x - lse) - (v == t))  (cross-entropy backward)
#include "common.glsl"
#include "reduce.glsl"
layout(std430, binding = 0) readonly buffer X { float x[]; };
layout(std430, binding = 1) readonly buffer T { int tg[]; };
layout(std430, binding = 2) buffer L { float lse[]; };
layout(std430, binding = 3) buffer O { float o[]; };
layout(std430, binding = 4) readonly buffer G { float g[]; };
layout(push_constant, std430) uniform P {
    uint N, V, mode, flags;   // flags: 1 write logp (mode 0)
    uint ox, ot, ol, oo, og;
} p;

void main()
{
    uint t = gl_LocalInvocationID.x;
    if (p.mode == 1u) {
        float s = 0.0;
        uint cnt = 0u;
        for (uint n = t; n < p.N; n += WG) {
            int tt = tg[p.ot + n];
            if (tt >= 0) {
                s += lse[p.ol + n] - x[p.ox + n * p.V + uint(tt)];
                cnt++;
            }
        }
        s = wg_sum(s);
        cnt = wg_sum_u(cnt);
        if (t == 0u) o[p.oo] = cnt > 0u ? s / float(cnt) : 0.0;
        return;
    }
    uint row = group_linear();
    if (row >= p.N) return;
    uint base = p.ox + row * p.V;
    int tt = tg[p.ot + row];
    if (p.mode == 0u) {
        float m = -1.0 / 0.0;
        for (uint v = t; v < p.V; v += WG) m = max(m, x[base + v]);
        m = wg_max(m);
        float s = 0.0;
        for (uint v = t; v < p.V; v += WG) s += exp(x[base + v] - m);
        s = wg_sum(s);
        if (t == 0u) {
            float l = m + log(s);
            lse[p.ol + row] = l;
            if ((p.flags & 1u) != 0u) o[p.oo + row] = tt >= 0 ? x[base + uint(tt)] - l : 0.0;
        }
        return;
    }
    float scale;
    if (p.mode == 2u) {
        if (tt < 0) return;
        scale = -g[p.og + row];
    } else {
        uint cnt = 0u;
        for (uint n = t; n < p.N; n += WG) cnt += tg[p.ot + n] >= 0 ? 1u : 0u;
        cnt = wg_sum_u(cnt);
        if (tt < 0 || cnt == 0u) return;
        scale = g[p.og] / float(cnt);
    }
    // Both modes: gx += scale * (softmax - onehot), with scale = -gout[n] for the gather.
    float l = lse[p.ol + row];
    for (uint v = t; v < p.V; v += WG) {
        float sm = exp(x[base + v] - l) - (int(v) == tt ? 1.0 : 0.0);
        o[p.oo + row * p.V + v] += scale * sm;
    }
}
