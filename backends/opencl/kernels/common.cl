/* Helpers shared by every kernel file (this file is concatenated first).
 * OpenCL C 1.2, f32 arithmetic; f16/bf16 are storage formats handled with vload_half /
 * integer ops, so no cl_khr_fp16 is needed. */

#define DT_F32 0
#define DT_BF16 1
#define DT_F16 2
#define DT_I32 3

/* Fixed-order tree reductions over one work-group (size a power of two). Every work-item
 * must call them; they return the result to all. */
float wg_sum(__local float *buf, float v)
{
    uint lid = get_local_id(0), n = get_local_size(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = n / 2; s > 0; s >>= 1) {
        if (lid < s) buf[lid] += buf[lid + s];
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

float wg_max(__local float *buf, float v)
{
    uint lid = get_local_id(0), n = get_local_size(0);
    buf[lid] = v;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = n / 2; s > 0; s >>= 1) {
        if (lid < s) buf[lid] = fmax(buf[lid], buf[lid + s]);
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    float r = buf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* Argmax with the lowest index winning ties (i = -1: this work-item has no candidate).
 * Returns the winning index, or -1 when no work-item had one. */
int wg_argmax(__local float *vbuf, __local int *ibuf, float v, int i)
{
    uint lid = get_local_id(0), n = get_local_size(0);
    vbuf[lid] = v;
    ibuf[lid] = i;
    barrier(CLK_LOCAL_MEM_FENCE);
    for (uint s = n / 2; s > 0; s >>= 1) {
        if (lid < s) {
            float a = vbuf[lid], b = vbuf[lid + s];
            int ia = ibuf[lid], ib = ibuf[lid + s];
            /* index -1 = "no candidate": never beats a real one, whatever the values */
            bool take = ib >= 0 && (ia < 0 || b > a || (b == a && ib < ia));
            if (take) {
                vbuf[lid] = b;
                ibuf[lid] = ib;
            }
        }
        barrier(CLK_LOCAL_MEM_FENCE);
    }
    int r = ibuf[0];
    barrier(CLK_LOCAL_MEM_FENCE);
    return r;
}

/* bf16 <-> f32 by integer ops, round to nearest even, as runtime/dtype.c. */
float bf16_to_f32(ushort h) { return as_float((uint)h << 16); }

ushort f32_to_bf16(float f)
{
    uint u = as_uint(f);
    if ((u & 0x7fffffffu) > 0x7f800000u) return (ushort)((u >> 16) | 0x40u);
    u += 0x7fffu + ((u >> 16) & 1u);
    return (ushort)(u >> 16);
}

float load_as_f32(__global const uchar *base, int dt, size_t i)
{
    switch (dt) {
    case DT_F32: return ((__global const float *)base)[i];
    case DT_BF16: return bf16_to_f32(((__global const ushort *)base)[i]);
    case DT_F16: return vload_half(i, (__global const half *)base);
    default: return (float)((__global const int *)base)[i];
    }
}

void store_from_f32(__global uchar *base, int dt, size_t i, float v)
{
    switch (dt) {
    case DT_F32: ((__global float *)base)[i] = v; break;
    case DT_BF16: ((__global ushort *)base)[i] = f32_to_bf16(v); break;
    case DT_F16: vstore_half_rte(v, i, (__global half *)base); break;
    default: ((__global int *)base)[i] = convert_int_rte(v); break;
    }
}

/* Philox4x32-10, bit-identical to runtime/rng.c: key = (seed lo, seed hi ^ stream),
 * counter = (ctr lo, ctr hi, stream, 0). */
uint4 philox4x32(ulong seed, uint stream, ulong counter)
{
    uint c0 = (uint)counter, c1 = (uint)(counter >> 32), c2 = stream, c3 = 0;
    uint k0 = (uint)seed, k1 = (uint)(seed >> 32) ^ stream;
    for (int round = 0; round < 10; round++) {
        uint hi0 = mul_hi(0xD2511F53u, c0), lo0 = 0xD2511F53u * c0;
        uint hi1 = mul_hi(0xCD9E8D57u, c2), lo1 = 0xCD9E8D57u * c2;
        uint n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0;
        c1 = n1;
        c2 = n2;
        c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return (uint4)(c0, c1, c2, c3);
}

/* Uniform in (0, 1), as sea_rng_uniform. */
float rng_uniform(ulong seed, uint stream, ulong counter)
{
    uint x = philox4x32(seed, stream, counter).x;
    return ((float)(x >> 9) + 0.5f) * (1.0f / 8388608.0f);
}

/* Activations and their derivatives (act codes as sea_act). */
#define ACT_NONE 0
#define ACT_GELU 1
#define ACT_GELU_TANH 2
#define ACT_RELU 3
#define ACT_SILU 4

#define SQRT_2_OVER_PI 0.7978845608028654f
#define INV_SQRT2 0.7071067811865476f
#define INV_SQRT_2PI 0.3989422804014327f

float act_apply(int act, float x)
{
    switch (act) {
    case ACT_GELU: return 0.5f * x * (1.0f + erf(x * INV_SQRT2));
    case ACT_GELU_TANH: return 0.5f * x * (1.0f + tanh(SQRT_2_OVER_PI * (x + 0.044715f * x * x * x)));
    case ACT_RELU: return x > 0.0f ? x : 0.0f;
    case ACT_SILU: return x / (1.0f + exp(-x));
    default: return x;
    }
}

float act_grad(int act, float x)
{
    switch (act) {
    case ACT_GELU: return 0.5f * (1.0f + erf(x * INV_SQRT2)) + x * INV_SQRT_2PI * exp(-0.5f * x * x);
    case ACT_GELU_TANH: {
        float u = SQRT_2_OVER_PI * (x + 0.044715f * x * x * x);
        float t = tanh(u);
        return 0.5f * (1.0f + t) + 0.5f * x * (1.0f - t * t) * SQRT_2_OVER_PI * (1.0f + 3.0f * 0.044715f * x * x);
    }
    case ACT_RELU: return x > 0.0f ? 1.0f : 0.0f;
    case ACT_SILU: {
        float sg = 1.0f / (1.0f + exp(-x));
        return sg * (1.0f + x * (1.0f - sg));
    }
    default: return 1.0f;
    }
}
