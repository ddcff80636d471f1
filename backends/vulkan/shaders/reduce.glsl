// Workgroup reductions for 256-invocation row kernels. A tree over shared memory in a fixed
// pairing order: the same inputs give the same bits on every run (no atomics).
#ifndef SEA_REDUCE_GLSL
#define SEA_REDUCE_GLSL
shared float red_f[256];
shared uint red_u[256];

float wg_sum(float v)
{
    uint t = gl_LocalInvocationID.x;
    barrier();
    red_f[t] = v;
    barrier();
    for (uint s = 128u; s > 0u; s >>= 1) {
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
    for (uint s = 128u; s > 0u; s >>= 1) {
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
    for (uint s = 128u; s > 0u; s >>= 1) {
        if (t < s) red_u[t] += red_u[t + s];
        barrier();
    }
    return red_u[0];
}
#endif
