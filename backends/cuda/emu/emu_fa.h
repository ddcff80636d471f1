/* The flash attention kernels' warp-level primitives (cuda_flash_attn.cuh) on the emulated
 * machine, included there in place of the PTX versions when SEA_FA_EMU is defined:
 *   ldmatrix.x4 (.trans)  each lane posts a row address, then each assembles its registers
 *                         per the PTX ISA (lane l addresses row l % 8 of matrix l / 8; lane l
 *                         gets row l / 4, elements 2 (l % 4) and 2 (l % 4) + 1, transposed for
 *                         .trans)
 *   mma.m16n8k16          each lane posts its A (4 regs), B (2) and C (4) fragments, then
 *                         computes its D from the whole warp's fragments, decoded with the PTX
 *                         layouts (groupID g = l / 4, t = l % 4: a0 (g, 2t..), a1 (g+8, 2t..),
 *                         a2 (g, 2t+8..), a3 (g+8, 2t+8..); b0 (k 2t.., n g), b1 (k 2t+8..);
 *                         c0,c1 (g, 2t..), c2,c3 (g+8, 2t..))
 *   shfl.xor              __shfl_xor_sync's emulation (emu_device.h)
 *   cp.async              sea_emu::async_copy16 / async_wait_all
 * Checked as they run: ldmatrix and cp.async addresses 16-byte aligned and inside the
 * launched dynamic shared memory, the 8 rows of each ldmatrix phase in 8 different bank
 * groups (sea_emu::bank_conflicts). */
#ifndef SEA_CUDA_EMU_FA_H
#define SEA_CUDA_EMU_FA_H

#include "emu_machine.h"

#define FA_KERNEL(nt) void
#define FA_FN static inline
#define FA_SMEM_DECL unsigned char *fa_smem = sea_emu::dynamic_smem()
#define FA_TID (sea_emu::thread_rank())
#define FA_BID_X ((int64_t)sea_emu::block_idx().x)
#define FA_BID_Y ((int64_t)sea_emu::block_idx().y)
#define FA_BID_Z ((int64_t)sea_emu::block_idx().z)
#define FA_GRID_X ((int64_t)sea_emu::grid_dim().x)
#define FA_SYNC() sea_emu::block_barrier()
#define FA_SYNCWARP() sea_emu::warp_barrier()

static inline float fa_shfl_xor(float v, int m) { return sea_emu_shfl_from(v, sea_emu::lane() ^ m); }

template <bool BF>
static inline uint32_t pack2(float lo, float hi)
{
    uint16_t a = BF ? sea_cu_f32_to_bf16(lo) : sea_cu_f32_to_f16(lo);
    uint16_t b = BF ? sea_cu_f32_to_bf16(hi) : sea_cu_f32_to_f16(hi);
    return (uint32_t)a | (uint32_t)b << 16;
}

template <bool BF>
static inline float half_of(uint32_t r, int hi)
{
    uint16_t h = (uint16_t)(hi ? r >> 16 : r & 0xffffu);
    return BF ? sea_cu_bf16_to_f32(h) : sea_cu_f16_to_f32(h);
}

template <bool BF>
static inline void mma(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1)
{
    sea_emu::warp_slots &W = sea_emu::my_warp();
    const int l = sea_emu::lane();
    for (int i = 0; i < 4; i++) {
        W.a[l][i] = a[i];
        W.c[l][i] = c[i];
    }
    W.b[l][0] = b0;
    W.b[l][1] = b1;
    sea_emu::warp_barrier();
    float d[4];
    const int g = l >> 2, t = l & 3;
    for (int i = 0; i < 4; i++) {
        const int row = g + 8 * (i >> 1), col = 2 * t + (i & 1);
        double acc = W.c[l][i];
        for (int k = 0; k < 16; k++) {
            /* A (row, k): lane (row % 8) * 4 + (k % 8) / 2, register (row >= 8) + 2 (k >= 8) */
            float av = half_of<BF>(W.a[(row & 7) * 4 + ((k & 7) >> 1)][(row >> 3) + 2 * (k >> 3)], k & 1);
            /* B (k, col): lane col * 4 + (k % 8) / 2, register k >= 8 */
            float bv = half_of<BF>(W.b[col * 4 + ((k & 7) >> 1)][k >> 3], k & 1);
            acc += (double)av * bv;
        }
        d[i] = (float)acc;
    }
    sea_emu::warp_barrier();
    for (int i = 0; i < 4; i++) c[i] = d[i];
}

static inline void ldsm_post(const uint16_t *p)
{
    sea_emu::warp_slots &W = sea_emu::my_warp();
    const int l = sea_emu::lane();
    if (((uintptr_t)p & 15) != 0) sea_emu::fail("ldmatrix row address not 16-byte aligned");
    if (!sea_emu::in_dynamic_smem(p, 16)) sea_emu::fail("ldmatrix row outside the launched shared memory");
    W.addr[l] = p;
    sea_emu::warp_barrier();
    if (l == 0) /* one lane counts the bank-group conflicts of the 4 phases */
        for (int m = 0; m < 4; m++) {
            unsigned used = 0;
            for (int r = 0; r < 8; r++) {
                unsigned grp = (unsigned)(((uintptr_t)W.addr[8 * m + r] >> 4) & 7);
                if (used & (1u << grp)) sea_emu::bank_conflicts++;
                used |= 1u << grp;
            }
        }
}

static inline void ldsm_x4(uint32_t (&r)[4], const uint16_t *p)
{
    ldsm_post(p);
    sea_emu::warp_slots &W = sea_emu::my_warp();
    const int l = sea_emu::lane();
    for (int i = 0; i < 4; i++) {
        const uint16_t *row = (const uint16_t *)W.addr[8 * i + l / 4];
        r[i] = (uint32_t)row[2 * (l % 4)] | (uint32_t)row[2 * (l % 4) + 1] << 16;
    }
    sea_emu::warp_barrier();
}

static inline void ldsm_x4_t(uint32_t (&r)[4], const uint16_t *p)
{
    ldsm_post(p);
    sea_emu::warp_slots &W = sea_emu::my_warp();
    const int l = sea_emu::lane();
    for (int i = 0; i < 4; i++) {
        const uint16_t *r0 = (const uint16_t *)W.addr[8 * i + 2 * (l % 4)];
        const uint16_t *r1 = (const uint16_t *)W.addr[8 * i + 2 * (l % 4) + 1];
        r[i] = (uint32_t)r0[l / 4] | (uint32_t)r1[l / 4] << 16;
    }
    sea_emu::warp_barrier();
}

static inline void cp16(uint16_t *dst, const uint16_t *src, bool ok) { sea_emu::async_copy16(dst, src, !ok); }
static inline void cp_commit() {}
static inline void cp_wait_all() { sea_emu::async_wait_all(); }

#endif
