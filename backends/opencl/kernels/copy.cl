/* fill and copy/cast over strided 4-D views (shapes right-aligned to 4 dims by the host). */

/* Element i of the 4-D index space -> element offset under `stride`. */
size_t nd_offset(size_t i, int4 shape, int4 stride)
{
    size_t i3 = i % shape.w;
    i /= shape.w;
    size_t i2 = i % shape.z;
    i /= shape.z;
    size_t i1 = i % shape.y;
    size_t i0 = i / shape.y;
    return i0 * (long)stride.x + i1 * (long)stride.y + i2 * (long)stride.z + i3 * (long)stride.w;
}

/* Writes raw bits (2 or 4 bytes) so every dtype is filled exactly as the host converted it. */
__kernel void fill_nd(__global uchar *dst, uint off, int esz, uint bits, int4 shape, int4 stride, uint n)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    size_t o = off + nd_offset(i, shape, stride);
    if (esz == 4) ((__global uint *)dst)[o] = bits;
    else ((__global ushort *)dst)[o] = (ushort)bits;
}

/* dst = cast(src), or dst += cast(src) when accumulate (backward of copy, float dtypes). */
__kernel void copy_nd(__global const uchar *src, uint soff, int sdt, __global uchar *dst, uint doff, int ddt,
                      int accumulate, int4 shape, int4 sstride, int4 dstride, uint n)
{
    size_t i = get_global_id(0);
    if (i >= n) return;
    size_t so = soff + nd_offset(i, shape, sstride);
    size_t dof = doff + nd_offset(i, shape, dstride);
    if (!accumulate && sdt == ddt) {
        /* Same type: move bits (keeps NaN payloads and i32 values beyond 2^24 exact). */
        if (sdt == DT_BF16 || sdt == DT_F16) ((__global ushort *)dst)[dof] = ((__global const ushort *)src)[so];
        else ((__global uint *)dst)[dof] = ((__global const uint *)src)[so];
        return;
    }
    float v = load_as_f32(src, sdt, so);
    if (accumulate) v += load_as_f32((__global const uchar *)dst, ddt, dof);
    store_from_f32(dst, ddt, dof, v);
}

/* set_rows: dst[rows[n], :] = x[n, :] for (N, R) x with row stride xs and contiguous (M, R) dst, moving raw 2- or
 * 4-byte words so every dtype (bf16/f16 KV caches included) is written exactly. Rows outside
 * [0, M) are skipped: a kernel cannot report them (the CPU backend does). */
__kernel void set_rows(__global const uchar *x, uint xo, __global const int *rows, uint ro, __global uchar *dst,
                       uint dof, int esz, uint N, uint R, uint M, uint xs)
{
    size_t i = get_global_id(0);
    if (i >= (size_t)N * R) return;
    int row = rows[ro + i / R];
    if (row < 0 || (uint)row >= M) return;
    size_t d = dof + (size_t)row * R + i % R, src = xo + (i / R) * xs + i % R;
    if (esz == 2) ((__global ushort *)dst)[d] = ((__global const ushort *)x)[src];
    else ((__global uint *)dst)[d] = ((__global const uint *)x)[src];
}
