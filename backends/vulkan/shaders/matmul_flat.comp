#version 450
// The matmul of matmul.comp (same push constants, bindings and epilogue) without shared
// memory: each invocation computes a 4x4 block of C straight from global memory with vec4
// accumulators. Chosen on CPU-type devices (lavapipe), where workgroup barriers are
// coroutine switches and caches already do what shared memory does on a GPU.
#include "common.glsl"
layout(local_size_x = 8, local_size_y = 1) in;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer C { float c[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) writeonly buffer Pre { float pre[]; };
layout(push_constant, std430) uniform P {
    uint M, N, K, flags;
    int sa_b, sa_m, sa_k, sb_b, sb_k, sb_n, sc_b, sc_m, sc_n, sbias_b;
    uint oa, ob, oc, obias, opre;
} p;

void main()
{
    uint n0 = (gl_WorkGroupID.x * 8u + gl_LocalInvocationID.x) * 4u;
    uint m0 = gl_WorkGroupID.y * 4u;
    uint bt = gl_WorkGroupID.z;
    if (m0 >= p.M || n0 >= p.N) return;
    // Clamp row/column indices so loads stay in bounds; results of clamped lanes are dropped.
    int m1 = int(min(m0 + 1u, p.M - 1u)), m2 = int(min(m0 + 2u, p.M - 1u)), m3 = int(min(m0 + 3u, p.M - 1u));
    int n1 = int(min(n0 + 1u, p.N - 1u)), n2 = int(min(n0 + 2u, p.N - 1u)), n3 = int(min(n0 + 3u, p.N - 1u));
    int ab = int(p.oa) + int(bt) * p.sa_b, bb = int(p.ob) + int(bt) * p.sb_b;
    int a0 = ab + int(m0) * p.sa_m, a1 = ab + m1 * p.sa_m, a2 = ab + m2 * p.sa_m, a3 = ab + m3 * p.sa_m;
    int b0 = bb + int(n0) * p.sb_n, b1 = bb + n1 * p.sb_n, b2 = bb + n2 * p.sb_n, b3 = bb + n3 * p.sb_n;
    vec4 acc0 = vec4(0.0), acc1 = vec4(0.0), acc2 = vec4(0.0), acc3 = vec4(0.0);
    for (uint k = 0u; k < p.K; k++) {
        int ka = int(k) * p.sa_k, kb = int(k) * p.sb_k;
        vec4 bv = vec4(b[b0 + kb], b[b1 + kb], b[b2 + kb], b[b3 + kb]);
        acc0 = fma(vec4(a[a0 + ka]), bv, acc0);
        acc1 = fma(vec4(a[a1 + ka]), bv, acc1);
        acc2 = fma(vec4(a[a2 + ka]), bv, acc2);
        acc3 = fma(vec4(a[a3 + ka]), bv, acc3);
    }
    uint act = p.flags >> 8;
    vec4 accs[4] = vec4[4](acc0, acc1, acc2, acc3);
    for (uint i = 0u; i < 4u; i++) {
        uint m = m0 + i;
        if (m >= p.M) break;
        for (uint j = 0u; j < 4u; j++) {
            uint n = n0 + j;
            if (n >= p.N) break;
            int ci = int(p.oc) + int(bt) * p.sc_b + int(m) * p.sc_m + int(n) * p.sc_n;
            float v = accs[i][j];
            if ((p.flags & 4u) != 0u) v += c[ci];
            if ((p.flags & 1u) != 0u) v += bias[int(p.obias) + int(bt) * p.sbias_b + int(n)];
            if ((p.flags & 2u) != 0u) pre[int(p.opre) + int(bt) * p.sc_b + int(m) * p.sc_m + int(n) * p.sc_n] = v;
            c[ci] = act_apply(act, v);
        }
    }
}
