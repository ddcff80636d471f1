/* The tensor-core flash attention kernels (cuda_flash_attn.cuh) run on the CPU: no GPU needed.
 *
 * The kernel source is compiled for the host with SEA_FA_EMU and this file's versions of its
 * primitives. One thread block runs as NT cooperative user-level threads (ucontext) switched
 * at every barrier; warp-collective operations meet at warp barriers:
 *   ldmatrix.x4 (.trans)  each lane posts a row address, then each assembles its registers
 *                         per the PTX ISA (lane l addresses row l % 8 of matrix l / 8; lane l
 *                         gets row l / 4, elements 2 (l % 4) and 2 (l % 4) + 1, transposed for
 *                         .trans)
 *   mma.m16n8k16          each lane posts its A (4 regs), B (2) and C (4) fragments, then
 *                         computes its D from the whole warp's fragments, decoded with the PTX
 *                         layouts (groupID g = l / 4, t = l % 4: a0 (g, 2t..), a1 (g+8, 2t..),
 *                         a2 (g, 2t+8..), a3 (g+8, 2t+8..); b0 (k 2t.., n g), b1 (k 2t+8..);
 *                         c0,c1 (g, 2t..), c2,c3 (g+8, 2t..))
 *   shfl.xor              through a per-warp slot array
 *   cp.async              recorded per thread and applied at cp.async.wait_all (mode A) or at
 *                         issue (mode B)
 *   __syncthreads         between two, each warp runs as far as it can before the next warp
 *                         starts: warps in ascending order in mode A, descending in mode B, so
 *                         data passed between warps without a barrier (or read before its
 *                         cp.async wait) is stale or poisoned in at least one mode.
 * The emulator also checks: every ldmatrix and cp.async address is 16-byte aligned and inside
 * the launched dynamic shared memory; the 8 rows of each ldmatrix phase fall in 8 different
 * bank groups (conflict-free); cp.async reads stay inside the input tensors; shared memory past
 * the launched size is never written; no barrier deadlock (divergent collective).
 *
 * Cases: bf16 and f16; head dim 64, 128, 256; T off every tile boundary (1, 37, 70, 100, 129);
 * GQA; key_valid holes and left/right padding (queries with no admissible key). The results are
 * compared with a float64 reference (forward out and lse, backward dQ, dK, dV accumulated into
 * nonzero gradients) with the same tolerances as cuda_vs_cpu, in both modes, and the two
 * modes must give identical bits. Deliberate bugs this catches (checked when it was written):
 * a wrong ldmatrix lane address, an off-by-one causal mask, a missing scale, and a missing
 * __syncthreads in the forward loop or in the dK/dV kernel. */
#define SEA_FA_EMU 1

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ucontext.h>

#include <vector>

#include "cuda_common.cuh"

/* ---------------- the emulated machine ---------------- */

alignas(16) unsigned char fa_smem[256 * 1024];

namespace emu {

enum { RUN, WAIT_WARP, WAIT_BLOCK, DONE };
struct Copy {
    uint16_t *dst;
    const uint16_t *src;
    bool ok;
};
struct Thread {
    ucontext_t ctx;
    int state;
    std::vector<Copy> pending;
};
struct Warp {
    const uint16_t *addr[32];
    float f[32];
    uint32_t a[32][4], b[32][2];
    float c[32][4];
    int arrived;
};
struct Region {
    const void *p;
    size_t bytes;
};

static const size_t STACK = 256 * 1024;
static Thread threads[256];
static char *stacks[256];
static Warp warps[8];
static ucontext_t sched;
static int cur;
static int64_t bid[3], grid_x;
static size_t smem_limit;
static bool defer_copies, reverse_order;
static std::vector<Region> inputs;
static long errors;
static long conflicts;
static sea_cuda_fa_args kargs;
static void (*kfn)(sea_cuda_fa_args);

static void fail(const char *what)
{
    if (errors++ < 10) fprintf(stderr, "emu: block (%lld, %lld, %lld) thread %d: %s\n", (long long)bid[0],
                               (long long)bid[1], (long long)bid[2], cur, what);
}

static void yield() { swapcontext(&threads[cur].ctx, &sched); }

static void warp_barrier()
{
    threads[cur].state = WAIT_WARP;
    warps[cur / 32].arrived++;
    yield();
}

static void block_barrier()
{
    threads[cur].state = WAIT_BLOCK;
    yield();
}

static bool in_smem(const void *p, size_t n)
{
    const unsigned char *c = (const unsigned char *)p;
    return c >= fa_smem && c + n <= fa_smem + smem_limit;
}

static void check_input(const void *p, size_t n)
{
    for (const Region &r : inputs)
        if ((const char *)p >= (const char *)r.p && (const char *)p + n <= (const char *)r.p + r.bytes) return;
    fail("cp.async reads outside the input tensors");
}

static void apply(const Copy &c)
{
    if (c.ok) memcpy(c.dst, c.src, 16);
    else memset(c.dst, 0, 16);
}

static void entry()
{
    kfn(kargs);
    if (!threads[cur].pending.empty()) fail("cp.async still pending at kernel exit");
    threads[cur].state = DONE;
    /* uc_link returns to the scheduler */
}

/* One block: NT threads, run until every thread is done. */
static void run_block(int nt)
{
    for (int i = 0; i < nt; i++) {
        Thread &t = threads[i];
        t.state = RUN;
        t.pending.clear();
        getcontext(&t.ctx);
        t.ctx.uc_stack.ss_sp = stacks[i];
        t.ctx.uc_stack.ss_size = STACK;
        t.ctx.uc_link = &sched;
        makecontext(&t.ctx, entry, 0);
    }
    for (int w = 0; w < nt / 32; w++) warps[w].arrived = 0;
    /* Warp by warp: each warp runs as far as it can (through its warp-level collectives) before
     * the next one starts, so a warp reading what another warp writes without a barrier in
     * between sees stale data in one of the two orders. */
    const int nw = nt / 32;
    for (;;) {
        bool progress = false;
        for (int k = 0; k < nw; k++) {
            const int w = reverse_order ? nw - 1 - k : k;
            for (;;) {
                bool ran = false;
                for (int j = 0; j < 32; j++) {
                    const int i = 32 * w + (reverse_order ? 31 - j : j);
                    if (threads[i].state != RUN) continue;
                    cur = i;
                    swapcontext(&sched, &threads[i].ctx);
                    ran = true;
                }
                if (warps[w].arrived == 32) {
                    for (int l = 0; l < 32; l++) threads[32 * w + l].state = RUN;
                    warps[w].arrived = 0;
                    ran = true;
                }
                if (!ran) break;
                progress = true;
            }
        }
        int waiting = 0, done = 0;
        for (int i = 0; i < nt; i++) {
            waiting += threads[i].state == WAIT_BLOCK;
            done += threads[i].state == DONE;
        }
        if (done == nt) return;
        if (waiting + done == nt) {
            if (done) fail("__syncthreads with exited threads");
            for (int i = 0; i < nt; i++)
                if (threads[i].state == WAIT_BLOCK) threads[i].state = RUN;
            continue;
        }
        if (!progress) {
            fail("deadlock: threads wait at different barriers (divergent collective)");
            return;
        }
    }
}

template <typename K>
static void launch(K kernel, int64_t gx, int64_t gy, int64_t gz, int nt, size_t smem, const sea_cuda_fa_args &a)
{
    if (smem + 64 > sizeof fa_smem) {
        fail("shared memory larger than the emulator's");
        return;
    }
    kfn = kernel;
    kargs = a;
    smem_limit = smem;
    grid_x = gx;
    for (int64_t z = 0; z < gz; z++)
        for (int64_t y = 0; y < gy; y++)
            for (int64_t x = 0; x < gx; x++) {
                bid[0] = x;
                bid[1] = y;
                bid[2] = z;
                memset(fa_smem, 0xff, smem);               /* NaN in every 16-bit and 32-bit view */
                memset(fa_smem + smem, 0x5a, 64);          /* canary just past the launched size */
                run_block(nt);
                for (int i = 0; i < 64; i++)
                    if (fa_smem[smem + i] != 0x5a) {
                        fail("shared memory written past the launched size");
                        break;
                    }
            }
}

} /* namespace emu */

/* ---------------- the primitives, emulated ---------------- */

#define FA_KERNEL(nt) void
#define FA_FN static inline
#define FA_SMEM_DECL (void)0
#define FA_TID (emu::cur)
#define FA_BID_X (emu::bid[0])
#define FA_BID_Y (emu::bid[1])
#define FA_BID_Z (emu::bid[2])
#define FA_GRID_X (emu::grid_x)
#define FA_SYNC() emu::block_barrier()
#define FA_SYNCWARP() emu::warp_barrier()

static inline float fa_shfl_xor(float v, int m)
{
    emu::Warp &W = emu::warps[emu::cur / 32];
    int l = emu::cur & 31;
    W.f[l] = v;
    emu::warp_barrier();
    float r = W.f[l ^ m];
    emu::warp_barrier();
    return r;
}

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
    emu::Warp &W = emu::warps[emu::cur / 32];
    const int l = emu::cur & 31;
    for (int i = 0; i < 4; i++) {
        W.a[l][i] = a[i];
        W.c[l][i] = c[i];
    }
    W.b[l][0] = b0;
    W.b[l][1] = b1;
    emu::warp_barrier();
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
    emu::warp_barrier();
    for (int i = 0; i < 4; i++) c[i] = d[i];
}

static inline void ldsm_post(const uint16_t *p)
{
    emu::Warp &W = emu::warps[emu::cur / 32];
    int l = emu::cur & 31;
    if (((uintptr_t)p & 15) != 0) emu::fail("ldmatrix row address not 16-byte aligned");
    if (!emu::in_smem(p, 16)) emu::fail("ldmatrix row outside the launched shared memory");
    W.addr[l] = p;
    emu::warp_barrier();
    if (l == 0) /* one lane counts the bank-group conflicts of the 4 phases */
        for (int m = 0; m < 4; m++) {
            unsigned used = 0;
            for (int r = 0; r < 8; r++) {
                unsigned grp = (unsigned)(((uintptr_t)W.addr[8 * m + r] >> 4) & 7);
                if (used & (1u << grp)) emu::conflicts++;
                used |= 1u << grp;
            }
        }
}

static inline void ldsm_x4(uint32_t (&r)[4], const uint16_t *p)
{
    ldsm_post(p);
    emu::Warp &W = emu::warps[emu::cur / 32];
    int l = emu::cur & 31;
    for (int i = 0; i < 4; i++) {
        const uint16_t *row = W.addr[8 * i + l / 4];
        r[i] = (uint32_t)row[2 * (l % 4)] | (uint32_t)row[2 * (l % 4) + 1] << 16;
    }
    emu::warp_barrier();
}

static inline void ldsm_x4_t(uint32_t (&r)[4], const uint16_t *p)
{
    ldsm_post(p);
    emu::Warp &W = emu::warps[emu::cur / 32];
    int l = emu::cur & 31;
    for (int i = 0; i < 4; i++) {
        const uint16_t *r0 = W.addr[8 * i + 2 * (l % 4)], *r1 = W.addr[8 * i + 2 * (l % 4) + 1];
        r[i] = (uint32_t)r0[l / 4] | (uint32_t)r1[l / 4] << 16;
    }
    emu::warp_barrier();
}

static inline void cp16(uint16_t *dst, const uint16_t *src, bool ok)
{
    if (((uintptr_t)dst & 15) || (ok && ((uintptr_t)src & 15))) emu::fail("cp.async address not 16-byte aligned");
    if (!emu::in_smem(dst, 16)) emu::fail("cp.async writes outside the launched shared memory");
    if (ok) emu::check_input(src, 16);
    emu::Copy c = {dst, src, ok};
    if (emu::defer_copies) emu::threads[emu::cur].pending.push_back(c);
    else emu::apply(c);
}

static inline void cp_commit() {}

static inline void cp_wait_all()
{
    for (const emu::Copy &c : emu::threads[emu::cur].pending) emu::apply(c);
    emu::threads[emu::cur].pending.clear();
}

#include "cuda_flash_attn.cuh"

/* ---------------- the cases ---------------- */

static int failures;

static uint64_t rng = 0x243f6a8885a308d3ULL;
static double urand()
{
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return (double)(rng >> 11) / 9007199254740992.0;
}

enum { MASK_NONE, MASK_HOLES, MASK_PAD };

struct tcase {
    const char *name;
    bool bf;
    int64_t B, T, H, Hkv, hd;
    int mask;
    float scale;
};

static uint16_t to16(bool bf, float x) { return bf ? sea_cu_f32_to_bf16(x) : sea_cu_f32_to_f16(x); }
static float from16(bool bf, uint16_t h) { return bf ? sea_cu_bf16_to_f32(h) : sea_cu_f16_to_f32(h); }

/* Random values already representable in 16 bits: the reference sees what the kernels see. */
static std::vector<uint16_t> rand16(bool bf, size_t n)
{
    std::vector<uint16_t> v(n);
    for (size_t i = 0; i < n; i++) v[i] = to16(bf, (float)(2.0 * urand() - 1.0));
    return v;
}

struct outputs {
    std::vector<uint16_t> o, dq, dk, dv;
    std::vector<float> lse;
};

static sea_cuda_attn_plan plan_of(const tcase &c)
{
    sea_cuda_attn_plan p;
    sea_cuda_attn_plan_make(SEA_CUDA_ATTN_FLASH, c.bf ? SEA_BF16 : SEA_F16, c.hd, true, 232448, true, &p);
    return p;
}

template <int HD, bool BF>
static void run_kernels(const tcase &c, const std::vector<uint16_t> &q, const std::vector<uint16_t> &k,
                        const std::vector<uint16_t> &v, const std::vector<int32_t> &kv, const std::vector<uint16_t> &dout,
                        outputs &out)
{
    const sea_cuda_attn_plan p = plan_of(c);
    sea_cuda_fa_args a;
    memset(&a, 0, sizeof a);
    a.q = q.data();
    a.k = k.data();
    a.v = v.data();
    a.dt = BF ? SEA_BF16 : SEA_F16;
    a.key_valid = c.mask == MASK_NONE ? nullptr : kv.data();
    a.out = out.o.data();
    a.lse = out.lse.data();
    a.B = c.B;
    a.T = c.T;
    a.H = c.H;
    a.Hkv = c.Hkv;
    a.scale = c.scale;
    a.scale_log2 = c.scale * 1.4426950408889634f;
    emu::inputs = {{q.data(), q.size() * 2}, {k.data(), k.size() * 2}, {v.data(), v.size() * 2},
                   {dout.data(), dout.size() * 2}};
    emu::launch(k_fa_fwd<HD, BF>, (c.T + SEA_FA_BM - 1) / SEA_FA_BM, c.H, c.B, SEA_FA_THREADS, p.smem_fwd, a);

    /* delta = rowsum(dO * O) (no dlse), as k_attn_delta computes it */
    std::vector<float> delta((size_t)(c.B * c.H * c.T));
    for (int64_t b = 0; b < c.B; b++)
        for (int64_t t = 0; t < c.T; t++)
            for (int64_t h = 0; h < c.H; h++) {
                float s = 0;
                for (int64_t d = 0; d < c.hd; d++) {
                    size_t i = (size_t)(((b * c.T + t) * c.H + h) * c.hd + d);
                    s += from16(BF, dout[i]) * from16(BF, out.o[i]);
                }
                delta[(size_t)((b * c.H + h) * c.T + t)] = s;
            }
    a.dout = dout.data();
    a.lse_in = out.lse.data();
    a.delta = delta.data();
    a.dq = out.dq.data();
    a.dk = out.dk.data();
    a.dv = out.dv.data();
    a.gt = a.dt;
    emu::launch(k_fa_dq<HD, BF>, (c.T + SEA_FA_BM - 1) / SEA_FA_BM, c.H, c.B, SEA_FA_THREADS, p.smem_dq, a);
    emu::launch(k_fa_dkv<HD, BF>, (c.T + SEA_FA_KV_BN(HD) - 1) / SEA_FA_KV_BN(HD), c.Hkv, c.B, SEA_FA_KV_THREADS,
                p.smem_dkv, a);
}

static void run_any(const tcase &c, const std::vector<uint16_t> &q, const std::vector<uint16_t> &k,
                    const std::vector<uint16_t> &v, const std::vector<int32_t> &kv, const std::vector<uint16_t> &dout,
                    outputs &out)
{
    switch (c.hd * 2 + c.bf) {
    case 128: run_kernels<64, false>(c, q, k, v, kv, dout, out); break;
    case 129: run_kernels<64, true>(c, q, k, v, kv, dout, out); break;
    case 256: run_kernels<128, false>(c, q, k, v, kv, dout, out); break;
    case 257: run_kernels<128, true>(c, q, k, v, kv, dout, out); break;
    case 512: run_kernels<256, false>(c, q, k, v, kv, dout, out); break;
    case 513: run_kernels<256, true>(c, q, k, v, kv, dout, out); break;
    default: fprintf(stderr, "no kernels for hd %lld\n", (long long)c.hd); failures++;
    }
}

/* rms relative error and max |err| / rms(ref), skipping equal infinities */
static void errs(const std::vector<double> &got, const std::vector<double> &ref, double *rel, double *mx)
{
    double num = 0, den = 0, worst = 0;
    size_t n = 0;
    for (size_t i = 0; i < ref.size(); i++) {
        if (isinf(got[i]) && isinf(ref[i]) && (got[i] > 0) == (ref[i] > 0)) continue;
        double d = got[i] - ref[i];
        if (isnan(d)) {
            *rel = *mx = INFINITY;
            return;
        }
        num += d * d;
        den += ref[i] * ref[i];
        worst = fabs(d) > worst ? fabs(d) : worst;
        n++;
    }
    *rel = den > 0 ? sqrt(num / den) : sqrt(num);
    double rms = n ? sqrt(den / (double)n) : 0;
    *mx = rms > 0 ? worst / rms : worst;
}

static void run_case(const tcase &c)
{
    const bool bf = c.bf;
    const int64_t B = c.B, T = c.T, H = c.H, Hkv = c.Hkv, hd = c.hd, group = H / Hkv;
    const size_t nq = (size_t)(B * T * H * hd), nk = (size_t)(B * T * Hkv * hd);
    std::vector<uint16_t> q = rand16(bf, nq), k = rand16(bf, nk), v = rand16(bf, nk), dout = rand16(bf, nq);
    std::vector<uint16_t> gq0 = rand16(bf, nq), gk0 = rand16(bf, nk), gv0 = rand16(bf, nk);
    std::vector<int32_t> kv((size_t)(B * T), 1);
    for (int64_t b = 0; b < B; b++)
        for (int64_t t = 0; t < T; t++) {
            int32_t &f = kv[(size_t)(b * T + t)];
            if (c.mask == MASK_HOLES) f = (t % 7 == 0) ? 1 : urand() < 0.8;
            if (c.mask == MASK_PAD) {
                int64_t left = b % 3 != 1 ? T / 4 : 0, right = b % 3 != 0 ? T / 5 : 0;
                f = t >= left && t < T - right;
            }
        }

    /* float64 reference */
    std::vector<double> O(nq, 0.0), L((size_t)(B * H * T), -INFINITY), dQ(nq), dK(nk), dV(nk);
    for (size_t i = 0; i < nq; i++) dQ[i] = from16(bf, gq0[i]);
    for (size_t i = 0; i < nk; i++) {
        dK[i] = from16(bf, gk0[i]);
        dV[i] = from16(bf, gv0[i]);
    }
    auto Q = [&](int64_t b, int64_t t, int64_t h, int64_t d) { return (double)from16(bf, q[(size_t)(((b * T + t) * H + h) * hd + d)]); };
    auto Kf = [&](int64_t b, int64_t s, int64_t g, int64_t d) { return (double)from16(bf, k[(size_t)(((b * T + s) * Hkv + g) * hd + d)]); };
    auto Vf = [&](int64_t b, int64_t s, int64_t g, int64_t d) { return (double)from16(bf, v[(size_t)(((b * T + s) * Hkv + g) * hd + d)]); };
    auto dO = [&](int64_t b, int64_t t, int64_t h, int64_t d) { return (double)from16(bf, dout[(size_t)(((b * T + t) * H + h) * hd + d)]); };
    std::vector<double> P((size_t)T), dP((size_t)T);
    for (int64_t b = 0; b < B; b++)
        for (int64_t h = 0; h < H; h++) {
            const int64_t g = h / group;
            for (int64_t t = 0; t < T; t++) {
                double m = -INFINITY;
                for (int64_t s = 0; s <= t; s++) {
                    P[(size_t)s] = -INFINITY;
                    if (!kv[(size_t)(b * T + s)]) continue;
                    double x = 0;
                    for (int64_t d = 0; d < hd; d++) x += Q(b, t, h, d) * Kf(b, s, g, d);
                    P[(size_t)s] = x * c.scale;
                    m = P[(size_t)s] > m ? P[(size_t)s] : m;
                }
                if (m == -INFINITY) continue; /* zeros, lse -inf, no gradient */
                double z = 0;
                for (int64_t s = 0; s <= t; s++) z += P[(size_t)s] == -INFINITY ? 0 : exp(P[(size_t)s] - m);
                for (int64_t s = 0; s <= t; s++) P[(size_t)s] = P[(size_t)s] == -INFINITY ? 0 : exp(P[(size_t)s] - m) / z;
                L[(size_t)((b * H + h) * T + t)] = m + log(z);
                double Dt = 0;
                for (int64_t d = 0; d < hd; d++) {
                    double o = 0;
                    for (int64_t s = 0; s <= t; s++) o += P[(size_t)s] * Vf(b, s, g, d);
                    O[(size_t)(((b * T + t) * H + h) * hd + d)] = o;
                    Dt += o * dO(b, t, h, d);
                }
                for (int64_t s = 0; s <= t; s++) {
                    double x = 0;
                    for (int64_t d = 0; d < hd; d++) x += dO(b, t, h, d) * Vf(b, s, g, d);
                    dP[(size_t)s] = P[(size_t)s] * (x - Dt); /* dS */
                }
                for (int64_t s = 0; s <= t; s++)
                    for (int64_t d = 0; d < hd; d++) {
                        dQ[(size_t)(((b * T + t) * H + h) * hd + d)] += c.scale * dP[(size_t)s] * Kf(b, s, g, d);
                        dK[(size_t)(((b * T + s) * Hkv + g) * hd + d)] += c.scale * dP[(size_t)s] * Q(b, t, h, d);
                        dV[(size_t)(((b * T + s) * Hkv + g) * hd + d)] += P[(size_t)s] * dO(b, t, h, d);
                    }
            }
        }

    /* the kernels, in both emulation modes */
    outputs run[2];
    for (int mode = 0; mode < 2; mode++) {
        outputs &r = run[mode];
        r.o.assign(nq, 0xffff); /* poisoned: every element must be written */
        r.lse.assign((size_t)(B * H * T), NAN);
        r.dq = gq0;
        r.dk = gk0;
        r.dv = gv0;
        emu::defer_copies = mode == 0;
        emu::reverse_order = mode == 1;
        run_any(c, q, k, v, kv, dout, r);
    }
    const double tol = bf ? 1e-2 : 2e-3, maxtol = bf ? 0.08 : 0.02;
    struct {
        const char *name;
        const std::vector<uint16_t> *got;
        const std::vector<double> *ref;
    } t16[] = {{"out", &run[0].o, &O}, {"dq", &run[0].dq, &dQ}, {"dk", &run[0].dk, &dK}, {"dv", &run[0].dv, &dV}};
    char line[512];
    int off = snprintf(line, sizeof line, "%-34s", c.name);
    bool ok = true;
    for (auto &e : t16) {
        std::vector<double> g(e.got->size());
        for (size_t i = 0; i < g.size(); i++) g[i] = from16(bf, (*e.got)[i]);
        double rel, mx;
        errs(g, *e.ref, &rel, &mx);
        ok = ok && rel <= tol && mx <= maxtol;
        off += snprintf(line + off, sizeof line - (size_t)off, " %s %.1e/%.1e", e.name, rel, mx);
    }
    std::vector<double> lg(run[0].lse.begin(), run[0].lse.end());
    double rel, mx;
    errs(lg, L, &rel, &mx);
    ok = ok && rel <= 1e-5;
    snprintf(line + off, sizeof line - (size_t)off, " lse %.1e", rel);
    bool same = run[0].o == run[1].o && run[0].dq == run[1].dq && run[0].dk == run[1].dk && run[0].dv == run[1].dv &&
                memcmp(run[0].lse.data(), run[1].lse.data(), run[0].lse.size() * 4) == 0;
    printf("%s %s%s\n", ok && same ? "ok  " : "FAIL", line, same ? "" : "  (modes differ: a race or a missing wait)");
    failures += !(ok && same);
}

int main(int argc, char **argv)
{
    for (int i = 0; i < 256; i++) emu::stacks[i] = (char *)malloc(emu::STACK);
    const tcase cases[] = {
        {"bf16 hd64 GQA 4/2 holes T100", true, 2, 100, 4, 2, 64, MASK_HOLES, 0.125f},
        {"f16 hd64 T1", false, 2, 1, 2, 2, 64, MASK_NONE, 0.125f},
        {"f16 hd64 pad T70", false, 3, 70, 1, 1, 64, MASK_PAD, 0.125f},
        {"bf16 hd128 pad T129", true, 3, 129, 1, 1, 128, MASK_PAD, 0.08838835f},
        {"f16 hd128 GQA 2/1 T37", false, 1, 37, 2, 1, 128, MASK_NONE, 0.08838835f},
        {"bf16 hd256 GQA 2/1 pad T100", true, 2, 100, 2, 1, 256, MASK_PAD, 0.0625f},
        {"f16 hd256 holes T70", false, 1, 70, 1, 1, 256, MASK_HOLES, 0.0625f},
    };
    const char *filter = argc > 1 ? argv[1] : NULL;
    for (const tcase &c : cases) {
        if (filter && !strstr(c.name, filter)) continue;
        run_case(c);
    }
    if (emu::errors) {
        fprintf(stderr, "emulator: %ld violations\n", emu::errors);
        failures++;
    }
    if (emu::conflicts) {
        fprintf(stderr, "emulator: %ld ldmatrix bank-group conflicts (the padding should avoid them)\n", emu::conflicts);
        failures++;
    }
    for (int i = 0; i < 256; i++) free(emu::stacks[i]);
    printf("%s\n", failures ? "cuda_flash_emu_host: FAILED" : "cuda_flash_emu_host: ok");
    return failures ? 1 : 0;
}
