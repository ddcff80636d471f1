/* The tensor-core flash attention kernels (cuda_flash_attn.cuh) on the CUDA emulator
 * (backends/cuda/emu: a block as cooperative threads, the PTX fragment layouts of ldmatrix
 * and mma in software, see emu/emu_fa.h), one kernel at a time against a float64 reference.
 *
 * Each case runs in two scheduling modes: cp.async landing at the wait with warps in
 * ascending order, and landing at issue with warps in descending order, so data passed
 * between warps without a barrier (or read before its cp.async wait) is stale or poisoned
 * in at least one mode; the two must give identical bits. The emulator also checks every
 * ldmatrix and cp.async address (16-byte aligned, inside the launched dynamic shared
 * memory, conflict-free bank groups), that cp.async reads stay inside the input tensors,
 * that shared memory past the launched size is never written, and that no barrier
 * deadlocks (a divergent collective).
 *
 * Cases: bf16 and f16; head dim 64, 128, 256; T off every tile boundary (1, 37, 70, 100, 129);
 * GQA; key_valid holes and left/right padding (queries with no admissible key). Compared:
 * forward out and lse, backward dQ, dK, dV accumulated into nonzero gradients, and the dS^T
 * that the dK/dV kernel writes for dQ by GEMM (zeros where no key is admissible), with the
 * same tolerances as cuda_vs_cpu. Deliberate bugs this catches (checked when it was written): a
 * wrong ldmatrix lane address, an off-by-one causal mask, a missing scale, and a missing
 * __syncthreads in the forward loop or in the dK/dV kernel. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <string>
#include <vector>

#include "cuda_flash_attn.cuh"

namespace {

struct region {
    const void *p;
    size_t bytes;
};
std::vector<region> inputs;
long faults;

bool inside_inputs(const void *p, size_t n)
{
    for (const region &r : inputs)
        if ((const char *)p >= (const char *)r.p && (const char *)p + n <= (const char *)r.p + r.bytes) return true;
    return false;
}

void launch(void (*kernel)(sea_cuda_fa_args), int64_t gx, int64_t gy, int64_t gz, int nt, size_t smem,
            const sea_cuda_fa_args &a)
{
    std::string fault;
    sea_emu::global_range_ok = inside_inputs;
    if (!sea_emu::run_grid({(unsigned)gx, (unsigned)gy, (unsigned)gz}, {(unsigned)nt, 1, 1}, smem, [&]() { kernel(a); },
                           &fault)) {
        fprintf(stderr, "emulator: %s\n", fault.c_str());
        faults++;
    }
}

} /* namespace */

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
    std::vector<uint16_t> ds_t; /* (B, H, T, T): dS^T as k_fa_dkv writes it for dQ by GEMM */
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
    a.hd = c.hd;
    a.scale = c.scale;
    a.scale_log2 = c.scale * 1.4426950408889634f;
    inputs = {{q.data(), q.size() * 2}, {k.data(), k.size() * 2}, {v.data(), v.size() * 2},
                   {dout.data(), dout.size() * 2}};
    launch(k_fa_fwd<HD, BF>, (c.T + SEA_FA_BM - 1) / SEA_FA_BM, c.H, c.B, SEA_FA_THREADS, p.smem_fwd, a);

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
    a.ds_t = out.ds_t.data();
    launch(k_fa_dq<HD, BF>, (c.T + SEA_FA_BM - 1) / SEA_FA_BM, c.H, c.B, SEA_FA_THREADS, p.smem_dq, a);
    launch(k_fa_dkv<HD, BF>, (c.T + SEA_FA_KV_BN(HD) - 1) / SEA_FA_KV_BN(HD), c.Hkv, c.B, SEA_FA_KV_THREADS,
                p.smem_dkv, a);
}

static void run_any(const tcase &c, const std::vector<uint16_t> &q, const std::vector<uint16_t> &k,
                    const std::vector<uint16_t> &v, const std::vector<int32_t> &kv, const std::vector<uint16_t> &dout,
                    outputs &out)
{
    switch (plan_of(c).hd * 2 + c.bf) { /* the kernels the plan picks (hd 80 runs on 128's) */
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
    std::vector<double> dST((size_t)(B * H * T * T), 0.0); /* dS^T: zero where never admissible */
    /* per dS^T entry, P (sum |dO V| + sum |dO O|): the scale of its error (delta comes from the
     * 16-bit O the forward wrote, dP from f32 sums), 0 where the key is not admissible (the
     * entry must be exactly 0 there) */
    std::vector<double> dSmag((size_t)(B * H * T * T), 0.0);
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
                double Dt = 0, Da = 0;
                for (int64_t d = 0; d < hd; d++) {
                    double o = 0;
                    for (int64_t s = 0; s <= t; s++) o += P[(size_t)s] * Vf(b, s, g, d);
                    O[(size_t)(((b * T + t) * H + h) * hd + d)] = o;
                    Dt += o * dO(b, t, h, d);
                    Da += fabs(o * dO(b, t, h, d));
                }
                for (int64_t s = 0; s <= t; s++) {
                    double x = 0, xa = 0;
                    for (int64_t d = 0; d < hd; d++) {
                        x += dO(b, t, h, d) * Vf(b, s, g, d);
                        xa += fabs(dO(b, t, h, d) * Vf(b, s, g, d));
                    }
                    dP[(size_t)s] = P[(size_t)s] * (x - Dt); /* dS */
                    dST[(size_t)(((b * H + h) * T + s) * T + t)] = dP[(size_t)s];
                    dSmag[(size_t)(((b * H + h) * T + s) * T + t)] = P[(size_t)s] * (xa + Da);
                }
                for (int64_t s = 0; s <= t; s++)
                    for (int64_t d = 0; d < hd; d++) {
                        dQ[(size_t)(((b * T + t) * H + h) * hd + d)] += c.scale * dP[(size_t)s] * Kf(b, s, g, d);
                        dK[(size_t)(((b * T + s) * Hkv + g) * hd + d)] += c.scale * dP[(size_t)s] * Q(b, t, h, d);
                        dV[(size_t)(((b * T + s) * Hkv + g) * hd + d)] += P[(size_t)s] * dO(b, t, h, d);
                    }
            }
        }

    /* the kernels, in both emulation modes; each output is followed by a guard that must
     * stay untouched (a zero-padded head dim's extra dims must never be written) */
    const size_t GUARD = 256;
    const uint16_t SENTINEL = 0x7e7e;
    bool guards_ok = true;
    outputs run[2];
    for (int mode = 0; mode < 2; mode++) {
        outputs &r = run[mode];
        r.o.assign(nq, 0xffff); /* poisoned: every element must be written */
        r.lse.assign((size_t)(B * H * T), NAN);
        r.dq = gq0;
        r.dk = gk0;
        r.dv = gv0;
        r.ds_t.assign((size_t)(B * H * T * T), 0); /* the launcher zeroes it first */
        for (auto *g : {&r.o, &r.dq, &r.dk, &r.dv, &r.ds_t}) g->resize(g->size() + GUARD, SENTINEL);
        sea_emu::defer_async_copies = mode == 0;
        sea_emu::reverse_order = mode == 1;
        run_any(c, q, k, v, kv, dout, r);
        for (auto *g : {&r.o, &r.dq, &r.dk, &r.dv, &r.ds_t}) {
            for (size_t i = g->size() - GUARD; i < g->size(); i++) guards_ok = guards_ok && (*g)[i] == SENTINEL;
            g->resize(g->size() - GUARD);
        }
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
    /* dS^T element by element: mostly zeros (above the diagonal, masked keys), so an rms-based
     * bound says little. Where the key is not admissible the entry must be exactly 0; elsewhere
     * the reference rounded to 16 bits (half an ulp: 2^-9 relative in bf16, 2^-12 in f16,
     * doubled for the arithmetic before it) plus the error of its inputs, one 16-bit ulp of
     * the terms P (dP - delta) is made of (delta reads the rounded O; the difference cancels
     * to ~0 when one key has all the weight). */
    {
        const double rel = bf ? 1.0 / 256 : 1.0 / 2048;
        size_t bad = 0;
        for (size_t i = 0; i < dST.size(); i++) {
            double g = from16(bf, run[0].ds_t[i]);
            bool fine = dSmag[i] == 0 ? g == 0 : fabs(g - dST[i]) <= rel * (fabs(dST[i]) + dSmag[i]);
            bad += !fine;
        }
        ok = ok && bad == 0;
        off += snprintf(line + off, sizeof line - (size_t)off, " dS^T %zu off", bad);
    }
    std::vector<double> lg(run[0].lse.begin(), run[0].lse.end());
    double rel, mx;
    errs(lg, L, &rel, &mx);
    ok = ok && rel <= 1e-5;
    snprintf(line + off, sizeof line - (size_t)off, " lse %.1e", rel);
    bool same = run[0].o == run[1].o && run[0].dq == run[1].dq && run[0].dk == run[1].dk && run[0].dv == run[1].dv &&
                run[0].ds_t == run[1].ds_t &&
                memcmp(run[0].lse.data(), run[1].lse.data(), run[0].lse.size() * 4) == 0;
    printf("%s %s%s%s\n", ok && same && guards_ok ? "ok  " : "FAIL", line,
           same ? "" : "  (modes differ: a race or a missing wait)", guards_ok ? "" : "  (wrote past an output)");
    failures += !(ok && same && guards_ok);
}

int main(int argc, char **argv)
{
    const tcase cases[] = {
        {"bf16 hd64 GQA 4/2 holes T100", true, 2, 100, 4, 2, 64, MASK_HOLES, 0.125f},
        {"f16 hd64 T1", false, 2, 1, 2, 2, 64, MASK_NONE, 0.125f},
        {"f16 hd64 pad T70", false, 3, 70, 1, 1, 64, MASK_PAD, 0.125f},
        {"bf16 hd128 pad T129", true, 3, 129, 1, 1, 128, MASK_PAD, 0.08838835f},
        {"f16 hd128 GQA 2/1 T37", false, 1, 37, 2, 1, 128, MASK_NONE, 0.08838835f},
        {"bf16 hd256 GQA 2/1 pad T100", true, 2, 100, 2, 1, 256, MASK_PAD, 0.0625f},
        {"f16 hd256 holes T70", false, 1, 70, 1, 1, 256, MASK_HOLES, 0.0625f},
        /* head dims between the kernels' (zero-padded onto the next larger): Pythia-2.8B's 80 */
        {"bf16 hd80 GQA 2/1 pad T100", true, 2, 100, 2, 1, 80, MASK_PAD, 0.1118034f},
        {"f16 hd40 holes T70", false, 1, 70, 2, 2, 40, MASK_HOLES, 0.1581139f},
        {"bf16 hd200 T37", true, 1, 37, 1, 1, 200, MASK_NONE, 0.0707107f},
        /* T a multiple of 8: dS^T leaves the dK/dV kernel in 16-byte chunks */
        {"bf16 hd128 GQA 2/1 holes T96", true, 2, 96, 2, 1, 128, MASK_HOLES, 0.08838835f},
    };
    const char *filter = argc > 1 ? argv[1] : NULL;
    for (const tcase &c : cases) {
        if (filter && !strstr(c.name, filter)) continue;
        run_case(c);
    }
    if (faults) {
        fprintf(stderr, "emulator: %ld faulting launches\n", faults);
        failures++;
    }
    if (sea_emu::bank_conflicts) {
        fprintf(stderr, "emulator: %ld ldmatrix bank-group conflicts (the padding should avoid them)\n",
                sea_emu::bank_conflicts);
        failures++;
    }
    printf("%s\n", failures ? "cuda_flash_emu_host: FAILED" : "cuda_flash_emu_host: ok");
    return failures ? 1 : 0;
}
