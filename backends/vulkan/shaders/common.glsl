// Shared helpers for every compute shader: linear group ids over folded grids, 16-bit
// storage through 32-bit words, activations and their derivatives, erf, Philox4x32-10.
#ifndef SEA_COMMON_GLSL
#define SEA_COMMON_GLSL

// Grids wider than maxComputeWorkGroupCount.x are folded into (x, y) by the host.
uint group_linear() { return gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x; }

const float SQRT1_2 = 0.70710678118654752;
const float SQRT_2_OVER_PI = 0.79788456080286536;
const float INV_SQRT_2PI = 0.39894228040143268;

// erf by Abramowitz & Stegun 7.1.26 (|error| <= 1.5e-7), odd-extended. GLSL has no erf.
float erf_approx(float x)
{
    float ax = abs(x);
    float t = 1.0 / (1.0 + 0.3275911 * ax);
    float y = ((((1.061405429 * t - 1.453152027) * t + 1.421413741) * t - 0.284496736) * t + 0.254829592) * t;
    float r = 1.0 - y * exp(-ax * ax);
    return x < 0.0 ? -r : r;
}

// tanh without exp overflow for large |x| (some drivers return NaN from tanh(+-large)).
float tanh_safe(float x)
{
    float e = exp(-2.0 * abs(x));
    float r = (1.0 - e) / (1.0 + e);
    return x < 0.0 ? -r : r;
}

float sigmoid(float x) { return 1.0 / (1.0 + exp(-x)); }

// Activation codes as in runtime/op.h: 0 none, 1 gelu (erf), 2 gelu (tanh), 3 relu, 4 silu.
float act_apply(uint act, float x)
{
    if (act == 1u) return 0.5 * x * (1.0 + erf_approx(x * SQRT1_2));
    if (act == 2u) return 0.5 * x * (1.0 + tanh_safe(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
    if (act == 3u) return max(x, 0.0);
    if (act == 4u) return x * sigmoid(x);
    return x;
}

float act_grad(uint act, float x)
{
    if (act == 1u) return 0.5 * (1.0 + erf_approx(x * SQRT1_2)) + x * INV_SQRT_2PI * exp(-0.5 * x * x);
    if (act == 2u) {
        float u = SQRT_2_OVER_PI * (x + 0.044715 * x * x * x);
        float t = tanh_safe(u);
        return 0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * SQRT_2_OVER_PI * (1.0 + 3.0 * 0.044715 * x * x);
    }
    if (act == 3u) return x > 0.0 ? 1.0 : 0.0;
    if (act == 4u) {
        float s = sigmoid(x);
        return s * (1.0 + x * (1.0 - s));
    }
    return 1.0;
}

// Philox4x32-10 exactly as runtime/rng.c: key = (seed lo, seed hi ^ stream),
// counter = (ctr lo, ctr hi, stream, 0).
uvec4 philox4x32(uint seed_lo, uint seed_hi, uint stream, uint ctr_lo, uint ctr_hi)
{
    uint c0 = ctr_lo, c1 = ctr_hi, c2 = stream, c3 = 0u;
    uint k0 = seed_lo, k1 = seed_hi ^ stream;
    for (int r = 0; r < 10; r++) {
        uint hi0, lo0, hi1, lo1;
        umulExtended(0xD2511F53u, c0, hi0, lo0);
        umulExtended(0xCD9E8D57u, c2, hi1, lo1);
        uint n0 = hi1 ^ c1 ^ k0, n1 = lo1, n2 = hi0 ^ c3 ^ k1, n3 = lo0;
        c0 = n0; c1 = n1; c2 = n2; c3 = n3;
        k0 += 0x9E3779B9u;
        k1 += 0xBB67AE85u;
    }
    return uvec4(c0, c1, c2, c3);
}

// sea_rng_uniform: 24 high bits of the first word, centred: (0, 1) exclusive.
float philox_uniform(uint seed_lo, uint seed_hi, uint stream, uint ctr_lo, uint ctr_hi)
{
    uint w = philox4x32(seed_lo, seed_hi, stream, ctr_lo, ctr_hi).x;
    return (float(w >> 9) + 0.5) * (1.0 / 8388608.0);
}

#endif
