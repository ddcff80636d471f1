/* Embedding gather and its deterministic scatter-add. */

/* ids outside [0, V) give a zero row (the host checks ids first where it can). */
__kernel void embedding_fwd(__global const float *table, uint to, __global const int *ids, uint io,
                            __global float *out, uint oo, uint N, uint D, uint V)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)N * D) return;
    size_t n = i / D, d = i % D;
    int id = ids[io + n];
    out[oo + i] = (id >= 0 && id < (int)V) ? table[to + (size_t)id * D + d] : 0.0f;
}

/* The host groups positions by id (CSR: for unique id u, rows pos[start[u] .. start[u+1]) in
 * ascending order). One work-item per (u, d) sums those rows in order: no atomics, and the
 * same order as a sequential loop over positions. */
__kernel void embedding_bwd(__global const float *gout, uint go, __global const int *uid,
                            __global const int *start, __global const int *pos, __global float *gtable, uint gto,
                            uint n_unique, uint D)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)n_unique * D) return;
    size_t u = i / D, d = i % D;
    float acc = 0.0f;
    for (int k = start[u]; k < start[u + 1]; k++) acc += gout[go + (size_t)pos[k] * D + d];
    gtable[gto + (size_t)uid[u] * D + d] += acc;
}
