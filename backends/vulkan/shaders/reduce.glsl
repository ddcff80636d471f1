// Workgroup size and reductions of the row kernels. WG (a power of two) is specialization
// constant 0, chosen per device by the host: 256 on GPUs, the subgroup width on CPU-type
// devices (lavapipe), where every barrier switches all SIMD groups of the workgroup. The
// reduction is a tree over shared memory in a fixed pairing order: the same inputs give the
// same bits on every run (no atomics).
#ifndef SEA_REDUCE_GLSL
#define SEA_REDUCE_GLSL
layout(local_size_x_id = 0) in;
const uint WG = gl_WorkGroupSize.x;
shared float red_f[WG];
shared uint red_u[WG];

float wg_sum(float v)
{
    uint t = gl_LocalInvocationID.x;
    barrier();
    red_f[t] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (t < s) red_f[t] += red_f[t + s];
        barrier();
    }
    return red_f[0];
}

float wg_max(float v)
{
    uint t = gl_LocalInvocationID.x;
    barrier();
    red_f[t] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (t < s) red_f[t] = max(red_f[t], red_f[t + s]);
        barrier();
    }
    return red_f[0];
}

uint wg_sum_u(uint v)
{
    uint t = gl_LocalInvocationID.x;
    barrier();
    red_u[t] = v;
    barrier();
    for (uint s = WG / 2u; s > 0u; s >>= 1) {
        if (t < s) red_u[t] += red_u[t + s];
        barrier();
    }
    return red_u[0];
}
#endif
