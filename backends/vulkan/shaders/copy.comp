#version 450
// out = cast(in) (or out = cast(out + in) when accumulating: the backward of copy), any
// strides, any dtype pair among f32 (0), bf16 (1), f16 (2), i32 (3). Conversions match
// runtime/dtype.c bit for bit: round to nearest even, i32 <- float by rint.
#include "common.glsl"
layout(local_size_x = 256) in;
layout(std430, binding = 0) readonly buffer In { uint xi[]; };
layout(std430, binding = 1) buffer Out { uint xo[]; };
layout(push_constant, std430) uniform P {
    uint shape[4];
    uint istride[4];
    uint ostride[4];
    uint ioff, ooff, idt, odt, acc, n;
} p;

float f16_to_f32(uint h)
{
    uint sign = (h & 0x8000u) << 16;
    uint ex = (h >> 10) & 0x1fu;
    uint mant = h & 0x3ffu;
    if (ex == 0u) {
        float v = float(mant) * 5.9604644775390625e-8;
        return sign != 0u ? -v : v;
    }
    if (ex == 31u) return uintBitsToFloat(sign | 0x7f800000u | (mant << 13));
    return uintBitsToFloat(sign | ((ex + 112u) << 23) | (mant << 13));
}

uint f32_to_f16(float f)
{
    uint x = floatBitsToUint(f);
    uint sign = (x >> 16) & 0x8000u;
    uint ax = x & 0x7fffffffu;
    if (ax >= 0x7f800000u) return sign | 0x7c00u | (ax > 0x7f800000u ? 0x200u : 0u);
    if (ax >= 0x477ff000u) return sign | 0x7c00u;
    if (ax < 0x38800000u) {
        precise float v = uintBitsToFloat(ax) + 0.5;
        return sign | (floatBitsToUint(v) - 0x3f000000u);
    }
    uint mant_odd = (ax >> 13) & 1u;
    ax += 0xc8000fffu + mant_odd;
    return sign | (ax >> 13);
}

uint f32_to_bf16(float f)
{
    uint u = floatBitsToUint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return ((u >> 16) | 0x40u) & 0xffffu;
    u += 0x7fffu + ((u >> 16) & 1u);
    return u >> 16;
}

uint half_in(uint e) { return (xi[e >> 1] >> ((e & 1u) * 16u)) & 0xffffu; }
uint half_out(uint e) { return (xo[e >> 1] >> ((e & 1u) * 16u)) & 0xffffu; }

float to_f32(uint dt, uint bits)
{
    if (dt == 0u) return uintBitsToFloat(bits);
    if (dt == 1u) return uintBitsToFloat(bits << 16);
    if (dt == 2u) return f16_to_f32(bits);
    return float(int(bits));
}

uint from_f32(uint dt, float v)
{
    if (dt == 0u) return floatBitsToUint(v);
    if (dt == 1u) return f32_to_bf16(v);
    if (dt == 2u) return f32_to_f16(v);
    return uint(int(roundEven(v)));
}

void main()
{
    uint idx = group_linear() * 256u + gl_LocalInvocationID.x;
    if (idx >= p.n) return;
    uint r = idx, ei = p.ioff, eo = p.ooff;
    for (int i = 3; i >= 0; i--) {
        uint c = r % p.shape[i];
        r /= p.shape[i];
        ei += c * p.istride[i];
        eo += c * p.ostride[i];
    }
    bool in16 = p.idt == 1u || p.idt == 2u, out16 = p.odt == 1u || p.odt == 2u;
    uint bits = in16 ? half_in(ei) : xi[ei];
    uint res;
    if (p.acc != 0u) {
        uint ob = out16 ? half_out(eo) : xo[eo];
        res = from_f32(p.odt, to_f32(p.odt, ob) + to_f32(p.idt, bits));
    } else if (p.idt == p.odt) {
        res = bits;   // same dtype: exact bit copy (i32 ids, NaN payloads)
    } else {
        res = from_f32(p.odt, to_f32(p.idt, bits));
    }
    if (out16) {
        uint sh = (eo & 1u) * 16u;
        atomicAnd(xo[eo >> 1], ~(0xffffu << sh));
        atomicOr(xo[eo >> 1], (res & 0xffffu) << sh);
    } else {
        xo[eo] = res;
    }
}
