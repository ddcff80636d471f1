/* Rotary embedding. inv_freq comes from the host (float64 math, llama3 scaling applied) as a
 * hi/lo float pair so that pos * inv_freq keeps ~double accuracy: angle = hi_part + lo_part
 * with hi_part = pos*hi exact-rounded and the rest as a first-order correction. */

float2 rope_cos_sin(float pos, float hi, float lo)
{
    float a = pos * hi;
    float err = fma(pos, hi, -a) + pos * lo; /* what a left out */
    float c = cos(a), s = sin(a);
    return (float2)(c - s * err, s + c * err);
}

/* dst (b,t,h,:) = R(sign * angle) src (b,t,h,:); dst += when accumulate. Strides in elements
 * for dims b, t, h (the last dim has stride 1). One work-item per (b, t, h, pair-or-copy). */
__kernel void rope_fwd(__global const float *src, uint so, long ssb, long sst, long ssh, __global float *dst,
                       uint dof, long dsb, long dst_, long dsh, __global const int *pos, uint po, uint B, uint T,
                       uint H, uint hd, uint rot, int gptj, __global const float2 *inv_freq, float sign,
                       int accumulate)
{
    size_t i = get_global_id(0);
    uint half_rot = rot / 2;
    uint per_head = half_rot + (hd - rot); /* rotated pairs, then copied dims */
    if (i >= (size_t)B * T * H * per_head) return;
    uint j = i % per_head;
    size_t r = i / per_head;
    uint h = r % H;
    r /= H;
    uint t = r % T;
    uint b = r / T;
    __global const float *s = src + so + b * ssb + t * sst + h * ssh;
    __global float *d = dst + dof + b * dsb + t * dst_ + h * dsh;
    if (j < half_rot) {
        uint i0 = gptj ? 2 * j : j, i1 = gptj ? 2 * j + 1 : j + half_rot;
        float2 f = inv_freq[j];
        float2 cs = rope_cos_sin((float)pos[po + (size_t)b * T + t], f.x, f.y);
        float sn = sign * cs.y;
        float x0 = s[i0], x1 = s[i1];
        float y0 = x0 * cs.x - x1 * sn, y1 = x1 * cs.x + x0 * sn;
        if (accumulate) {
            d[i0] += y0;
            d[i1] += y1;
        } else {
            d[i0] = y0;
            d[i1] = y1;
        }
    } else {
        uint k = rot + (j - half_rot);
        if (accumulate) d[k] += s[k];
        else d[k] = s[k];
    }
}

/* Backward is the same rotation by -angle; kept as its own entry point for clarity in traces. */
__kernel void rope_bwd(__global const float *src, uint so, long ssb, long sst, long ssh, __global float *dst,
                       uint dof, long dsb, long dst_, long dsh, __global const int *pos, uint po, uint B, uint T,
                       uint H, uint hd, uint rot, int gptj, __global const float2 *inv_freq)
{
    size_t i = get_global_id(0);
    uint half_rot = rot / 2;
    uint per_head = half_rot + (hd - rot);
    if (i >= (size_t)B * T * H * per_head) return;
    uint j = i % per_head;
    size_t r = i / per_head;
    uint h = r % H;
    r /= H;
    uint t = r % T;
    uint b = r / T;
    __global const float *s = src + so + b * ssb + t * sst + h * ssh;
    __global float *d = dst + dof + b * dsb + t * dst_ + h * dsh;
    if (j < half_rot) {
        uint i0 = gptj ? 2 * j : j, i1 = gptj ? 2 * j + 1 : j + half_rot;
        float2 f = inv_freq[j];
        float2 cs = rope_cos_sin((float)pos[po + (size_t)b * T + t], f.x, f.y);
        float x0 = s[i0], x1 = s[i1];
        d[i0] += x0 * cs.x + x1 * cs.y;
        d[i1] += x1 * cs.x - x0 * cs.y;
    } else {
        uint k = rot + (j - half_rot);
        d[k] += s[k];
    }
}
