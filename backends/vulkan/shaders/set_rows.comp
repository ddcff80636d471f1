#version 450
// set_rows: dst[rows[n], :] = x[n, :] for (N, R) x with row stride xs and contiguous (M, R) dst, as raw bits, so
// every dtype is written exactly. 16-bit elements share a 32-bit word with a neighbour: they
// are written with atomicAnd/Or on their own half (as in fill.comp), so neighbouring
// invocations never clobber each other.
// Tensors beyond one binding are processed in chunks (vk_ops_set_rows.c): the bound x and
// rows start at row n0 of x (this dispatch's N rows), the bound dst at row m0 (Mc rows), and
// only rows inside [m0, m0 + Mc) are written. Rows outside [0, M) are never inside a chunk:
// they are skipped, as a shader cannot report them.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer X { uint xw[]; };
layout(std430, binding = 1) readonly buffer Rows { int rows[]; };
layout(std430, binding = 2) buffer D { uint dw[]; };
layout(push_constant, std430) uniform P {
    uint N, R, m0, Mc;
    uint ox, orow, od, esize;
    uint xs;
} p;

void main()
{
    uint i = group_linear() * 256u + gl_LocalInvocationID.x;
    if (i >= p.N * p.R) return;
    int row = rows[p.orow + i / p.R];
    if (row < int(p.m0) || uint(row) - p.m0 >= p.Mc) return;
    uint e = p.od + (uint(row) - p.m0) * p.R + i % p.R, s = p.ox + (i / p.R) * p.xs + i % p.R;
    if (p.esize == 4u) {
        dw[e] = xw[s];
    } else {
        uint bits = (xw[s >> 1] >> ((s & 1u) * 16u)) & 0xffffu;
        uint sh = (e & 1u) * 16u;
        atomicAnd(dw[e >> 1], ~(0xffffu << sh));
        atomicOr(dw[e >> 1], bits << sh);
    }
}
