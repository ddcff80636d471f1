#version 450
// Batched, strided matmul with bias + activation epilogue:
//   C[b,m,n] = act((acc ? C[b,m,n] : 0) + sum_k A[b,m,k] B[b,k,n] + bias[b,n])
// Transposes are strides (host side), batch stride 0 shares an operand across the batch.
// Tiling: a workgroup of WX x WY invocations computes a (WY*TM) x (WX*TN) tile of C; each
// invocation keeps TM x TN accumulators, rows/cols interleaved by WY/WX so that stores of
// neighbouring invocations are adjacent. A and B tiles of depth BK are staged in shared
// memory. WX, WY, TM, TN are specialization constants (host picks per device).
// The sum over k runs in a fixed order: results are deterministic.
#include "common.glsl"
layout(local_size_x_id = 0, local_size_y_id = 1) in;
layout(constant_id = 2) const uint TM = 4;
layout(constant_id = 3) const uint TN = 4;
const uint BK = 16;
const uint WX = gl_WorkGroupSize.x;
const uint WY = gl_WorkGroupSize.y;
const uint BM = WY * TM;
const uint BN = WX * TN;
const uint NT = WX * WY;

layout(std430, binding = 0) readonly buffer A { float a[]; };
layout(std430, binding = 1) readonly buffer B { float b[]; };
layout(std430, binding = 2) buffer C { float c[]; };
layout(std430, binding = 3) readonly buffer Bias { float bias[]; };
layout(std430, binding = 4) writeonly buffer Pre { float pre[]; };
layout(push_constant, std430) uniform P {
    uint M, N, K, flags;   // flags: 1 bias, 2 store pre-activation, 4 accumulate; act << 8
    int sa_b, sa_m, sa_k, sb_b, sb_k, sb_n, sc_b, sc_m, sc_n, sbias_b;
    uint oa, ob, oc, obias, opre;
} p;

shared float As[BK * BM];   // [k][m]
shared float Bs[BK * BN];   // [k][n]

void main()
{
    uint tx = gl_LocalInvocationID.x, ty = gl_LocalInvocationID.y;
    uint tid = ty * WX + tx;
    uint n0 = gl_WorkGroupID.x * BN, m0 = gl_WorkGroupID.y * BM, bt = gl_WorkGroupID.z;
    int abase = int(p.oa) + int(bt) * p.sa_b;
    int bbase = int(p.ob) + int(bt) * p.sb_b;
    float acc[TM][TN];
    for (uint i = 0u; i < TM; i++)
        for (uint j = 0u; j < TN; j++) acc[i][j] = 0.0;

    for (uint k0 = 0u; k0 < p.K; k0 += BK) {
        for (uint e = tid; e < BK * BM; e += NT) {
            uint kk = e % BK, mm = e / BK;
            uint m = m0 + mm, k = k0 + kk;
            As[kk * BM + mm] = (m < p.M && k < p.K) ? a[abase + int(m) * p.sa_m + int(k) * p.sa_k] : 0.0;
        }
        for (uint e = tid; e < BK * BN; e += NT) {
            uint nn = e % BN, kk = e / BN;
            uint n = n0 + nn, k = k0 + kk;
            Bs[kk * BN + nn] = (n < p.N && k < p.K) ? b[bbase + int(k) * p.sb_k + int(n) * p.sb_n] : 0.0;
        }
        barrier();
        for (uint kk = 0u; kk < BK; kk++) {
            float ar[TM], br[TN];
            for (uint i = 0u; i < TM; i++) ar[i] = As[kk * BM + ty + i * WY];
            for (uint j = 0u; j < TN; j++) br[j] = Bs[kk * BN + tx + j * WX];
            for (uint i = 0u; i < TM; i++)
                for (uint j = 0u; j < TN; j++) acc[i][j] = fma(ar[i], br[j], acc[i][j]);
        }
        barrier();
    }

    uint act = p.flags >> 8;
    for (uint i = 0u; i < TM; i++) {
        uint m = m0 + ty + i * WY;
        if (m >= p.M) continue;
        for (uint j = 0u; j < TN; j++) {
            uint n = n0 + tx + j * WX;
            if (n >= p.N) continue;
            int ci = int(p.oc) + int(bt) * p.sc_b + int(m) * p.sc_m + int(n) * p.sc_n;
            float v = acc[i][j];
            if ((p.flags & 4u) != 0u) v += c[ci];
            if ((p.flags & 1u) != 0u) v += bias[int(p.obias) + int(bt) * p.sbias_b + int(n)];
            if ((p.flags & 2u) != 0u) pre[int(p.opre) + int(bt) * p.sc_b + int(m) * p.sc_m + int(n) * p.sc_n] = v;
            c[ci] = act_apply(act, v);
        }
    }
}
