#version 450
// out (any dtype, any strides, up to 4-D) = a bit pattern prepared on the host.
// 16-bit elements share a 32-bit word with a neighbour: they are written with atomicAnd/Or on
// their own half, so neighbouring invocations never clobber each other (integer atomics on
// disjoint bits: the result is exact and order-independent).
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) buffer Out { uint o[]; };
layout(push_constant, std430) uniform P {
    uint shape[4];
    uint stride[4];
    uint off;
    uint esize;
    uint bits;
    uint n;
} p;

void main()
{
    uint idx = group_linear() * 256u + gl_LocalInvocationID.x;
    if (idx >= p.n) return;
    uint r = idx, e = p.off;
    for (int i = 3; i >= 0; i--) {
        uint c = r % p.shape[i];
        r /= p.shape[i];
        e += c * p.stride[i];
    }
    if (p.esize == 4u) {
        o[e] = p.bits;
    } else {
        uint sh = (e & 1u) * 16u;
        atomicAnd(o[e >> 1], ~(0xffffu << sh));
        atomicOr(o[e >> 1], (p.bits & 0xffffu) << sh);
    }
}
