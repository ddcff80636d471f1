/* The attention kernel selection (cuda_attn_plan.c) and the flash kernels' causal loop
 * bounds (cuda_attn_plan.h), on the host: no GPU needed.
 *   - SEA_CUDA_ATTN parsing; which dtype / head dim / alignment / shared-memory limit picks
 *     the flash kernels, and that the reason is said when it does not;
 *   - the shared-memory sizes fit the devices the module is built for (A100: 163 KiB opt-in,
 *     H100/H200: 227 KiB) and match the layouts written out here by hand;
 *   - every (query, key) pair with key <= query < T is visited by exactly one forward/dQ
 *     block and one dK/dV block, for T around every tile boundary. */
#include <stdlib.h>
#include <string.h>

#include "tests/test_check.h"
#include "cuda_attn_plan.h"

#define A100_OPTIN ((size_t)166912) /* cudaDevAttrMaxSharedMemoryPerBlockOptin, sm_80 */
#define H100_OPTIN ((size_t)232448) /* sm_90 */
#define SM86_OPTIN ((size_t)101376) /* sm_86/sm_89: runs the sm_80 code */

static int failures;

static void test_parse(void)
{
    sea_cuda_attn_mode m;
    CHECK(sea_cuda_attn_mode_parse(NULL, &m) == SEA_OK && m == SEA_CUDA_ATTN_AUTO, "unset -> auto");
    CHECK(sea_cuda_attn_mode_parse("", &m) == SEA_OK && m == SEA_CUDA_ATTN_AUTO, "'' -> auto");
    CHECK(sea_cuda_attn_mode_parse("auto", &m) == SEA_OK && m == SEA_CUDA_ATTN_AUTO, "auto");
    CHECK(sea_cuda_attn_mode_parse("basic", &m) == SEA_OK && m == SEA_CUDA_ATTN_BASIC, "basic");
    CHECK(sea_cuda_attn_mode_parse("flash", &m) == SEA_OK && m == SEA_CUDA_ATTN_FLASH, "flash");
    sea_status st = sea_cuda_attn_mode_parse("fast", &m);
    CHECK(st == SEA_ERR_INVALID, "unknown value is an error (got %d)", (int)st);
    CHECK(strstr(sea_last_error(), "SEA_CUDA_ATTN=fast") != NULL, "message names the variable: %s", sea_last_error());

    /* SEA_CUDA_FA_DQ and the size rule of dQ by GEMM */
    sea_cuda_fa_dq_mode d;
    CHECK(sea_cuda_fa_dq_mode_parse(NULL, &d) == SEA_OK && d == SEA_CUDA_FA_DQ_AUTO, "dq: unset -> auto");
    CHECK(sea_cuda_fa_dq_mode_parse("auto", &d) == SEA_OK && d == SEA_CUDA_FA_DQ_AUTO, "dq: auto");
    CHECK(sea_cuda_fa_dq_mode_parse("gemm", &d) == SEA_OK && d == SEA_CUDA_FA_DQ_GEMM, "dq: gemm");
    CHECK(sea_cuda_fa_dq_mode_parse("kernel", &d) == SEA_OK && d == SEA_CUDA_FA_DQ_KERNEL, "dq: kernel");
    st = sea_cuda_fa_dq_mode_parse("atomics", &d);
    CHECK(st == SEA_ERR_INVALID && strstr(sea_last_error(), "SEA_CUDA_FA_DQ=atomics"), "dq: unknown value: %s",
          sea_last_error());
    CHECK(sea_cuda_fa_dq_by_gemm(SEA_CUDA_FA_DQ_AUTO, 16, 8, 512), "dq: Pythia-1B's DPO shape (64 MiB) by GEMM");
    CHECK(sea_cuda_fa_dq_by_gemm(SEA_CUDA_FA_DQ_GEMM, 16, 8, 512), "dq: gemm asked");
    CHECK(!sea_cuda_fa_dq_by_gemm(SEA_CUDA_FA_DQ_KERNEL, 16, 8, 512), "dq: kernel asked");
    CHECK(sea_cuda_fa_dq_by_gemm(SEA_CUDA_FA_DQ_AUTO, 1, 32, 4096), "dq: 1 x 32 x 4096^2 x 2 = 1 GiB, at the limit");
    CHECK(!sea_cuda_fa_dq_by_gemm(SEA_CUDA_FA_DQ_AUTO, 2, 32, 4096), "dq: 2 GiB of dS^T falls back to the kernel");
    CHECK(!sea_cuda_fa_dq_by_gemm(SEA_CUDA_FA_DQ_GEMM, 1, 1, 1LL << 31), "dq: T beyond cuBLAS's int dims");
}

static void test_dispatch(void)
{
    sea_cuda_attn_plan p;
    const int hds[] = {64, 128, 256};
    for (int i = 0; i < 3; i++)
        for (int bw = 0; bw < 2; bw++) {
            for (int dt = SEA_BF16; dt <= SEA_F16; dt++) {
                sea_cuda_attn_plan_make(SEA_CUDA_ATTN_AUTO, (sea_dtype)dt, hds[i], true, A100_OPTIN, bw, &p);
                CHECK(p.flash && p.hd == hds[i] && p.why[0] == 0, "%s hd %d bw %d on A100: flash (%s)",
                      sea_dtype_name((sea_dtype)dt), hds[i], bw, p.why);
                sea_cuda_attn_plan_make(SEA_CUDA_ATTN_FLASH, (sea_dtype)dt, hds[i], true, H100_OPTIN, bw, &p);
                CHECK(p.flash, "flash mode, hd %d on H100", hds[i]);
                sea_cuda_attn_plan_make(SEA_CUDA_ATTN_BASIC, (sea_dtype)dt, hds[i], true, H100_OPTIN, bw, &p);
                CHECK(!p.flash && strstr(p.why, "SEA_CUDA_ATTN=basic"), "basic mode forces basic: %s", p.why);
            }
            sea_cuda_attn_plan_make(SEA_CUDA_ATTN_AUTO, SEA_F32, hds[i], true, H100_OPTIN, bw, &p);
            CHECK(!p.flash && strstr(p.why, "f32"), "f32 stays on the fp32 kernels: %s", p.why);
            sea_cuda_attn_plan_make(SEA_CUDA_ATTN_AUTO, SEA_BF16, hds[i], false, H100_OPTIN, bw, &p);
            CHECK(!p.flash && strstr(p.why, "16 bytes"), "unaligned data: %s", p.why);
        }
    /* Head dims between the instantiated ones run on the next larger kernels, zero-padded. */
    const int64_t padded[][2] = {{8, 64}, {16, 64}, {32, 64}, {48, 64}, {72, 128}, {80, 128}, {96, 128},
                                 {112, 128}, {136, 256}, {160, 256}, {192, 256}, {248, 256}};
    for (size_t i = 0; i < sizeof padded / sizeof padded[0]; i++)
        for (int bw = 0; bw < 2; bw++) {
            sea_cuda_attn_plan_make(SEA_CUDA_ATTN_AUTO, SEA_BF16, padded[i][0], true, H100_OPTIN, bw, &p);
            CHECK(p.flash && p.hd == padded[i][1] && p.bn == SEA_FA_BN(padded[i][1]) &&
                      p.smem_dkv == SEA_FA_KV_SMEM(padded[i][1]),
                  "hd %lld bw %d -> the hd %lld kernels (got flash %d, hd %d: %s)", (long long)padded[i][0], bw,
                  (long long)padded[i][1], p.flash, p.hd, p.why);
        }
    const int64_t odd[] = {1, 4, 5, 12, 60, 100, 255, 257, 264, 512};
    for (size_t i = 0; i < sizeof odd / sizeof odd[0]; i++) {
        sea_cuda_attn_plan_make(SEA_CUDA_ATTN_AUTO, SEA_BF16, odd[i], true, H100_OPTIN, false, &p);
        CHECK(!p.flash && strstr(p.why, "head dim"), "hd %lld -> basic, saying so: %s", (long long)odd[i], p.why);
    }
    /* A card with 99 KiB per block (sm_86/89, running the sm_80 code): hd 256's backward does
     * not fit, its forward does; the reason names the sizes. */
    sea_cuda_attn_plan_make(SEA_CUDA_ATTN_AUTO, SEA_BF16, 256, true, SM86_OPTIN, false, &p);
    CHECK(p.flash, "hd 256 forward fits 99 KiB (%zu bytes)", p.smem_fwd);
    sea_cuda_attn_plan_make(SEA_CUDA_ATTN_AUTO, SEA_BF16, 256, true, SM86_OPTIN, true, &p);
    CHECK(!p.flash && strstr(p.why, "shared memory"), "hd 256 backward on 99 KiB -> basic: %s", p.why);
    sea_cuda_attn_plan_make(SEA_CUDA_ATTN_AUTO, SEA_BF16, 128, true, SM86_OPTIN, true, &p);
    CHECK(p.flash, "hd 128 backward fits 99 KiB (dq %zu, dkv %zu)", p.smem_dq, p.smem_dkv);
    /* no device information (0): never flash */
    sea_cuda_attn_plan_make(SEA_CUDA_ATTN_AUTO, SEA_BF16, 64, true, 0, false, &p);
    CHECK(!p.flash, "a device reporting 0 bytes of opt-in shared memory gets the basic kernels");
}

/* The layouts, written out: a change of tiles must be a change here too. */
static void test_smem(void)
{
    for (int hd = 64; hd <= 256; hd *= 2) {
        size_t pitch = (size_t)(hd + 8) * 2, bn = hd > 128 ? 32 : 64, kbn = hd > 128 ? 32 : 64;
        size_t fwd = (64 + 2 * bn) * pitch + bn * 4;
        size_t dq = (2 * 64 + 2 * bn) * pitch + bn * 4;
        size_t dkv = (2 * kbn + 2 * 64) * pitch + 2 * kbn * 72 * 2 + (kbn + 128) * 4;
        CHECK(SEA_FA_FWD_SMEM(hd) == fwd, "hd %d forward smem %zu, want %zu", hd, (size_t)SEA_FA_FWD_SMEM(hd), fwd);
        CHECK(SEA_FA_DQ_SMEM(hd) == dq, "hd %d dq smem %zu, want %zu", hd, (size_t)SEA_FA_DQ_SMEM(hd), dq);
        CHECK(SEA_FA_KV_SMEM(hd) == dkv, "hd %d dkv smem %zu, want %zu", hd, (size_t)SEA_FA_KV_SMEM(hd), dkv);
        CHECK(fwd <= A100_OPTIN && dq <= A100_OPTIN && dkv <= A100_OPTIN, "hd %d fits an A100", hd);
        /* 16-byte alignment of every region that ldmatrix or cp.async touches */
        CHECK(pitch % 16 == 0 && ((size_t)(64 + 8) * 2) % 16 == 0, "hd %d: row pitches are 16-byte multiples", hd);
        /* ldmatrix: 8 consecutive rows must start in 8 different 16-byte bank groups */
        CHECK((pitch / 16) % 2 == 1 && (((size_t)(SEA_FA_KV_BM + SEA_FA_PAD) * 2) / 16) % 2 == 1,
              "hd %d: pitch %zu bytes is an odd number of 16-byte units (conflict-free ldmatrix)", hd, pitch);
        /* warp tiling of the dK/dV kernel */
        CHECK((SEA_FA_KV_BN(hd) / 16) * SEA_FA_KV_WD(hd) * 32 == SEA_FA_KV_THREADS, "hd %d: dkv warps", hd);
        CHECK((hd / SEA_FA_KV_WD(hd)) % 16 == 0 && (SEA_FA_KV_BM / SEA_FA_KV_WD(hd)) % 16 == 0, "hd %d: dkv slices", hd);
    }
}

/* Every admissible pair (key <= query < T) is visited once by the forward/dQ walk and once
 * by the dK/dV walk; the walks visit no tile that holds no admissible pair except at the
 * tile edges. */
static void test_coverage(void)
{
    const int64_t Ts[] = {1, 2, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 127, 128, 129, 191, 200, 257, 513};
    for (int hd = 64; hd <= 256; hd *= 2) {
        const int64_t bn = SEA_FA_BN(hd), kbn = SEA_FA_KV_BN(hd);
        for (size_t i = 0; i < sizeof Ts / sizeof Ts[0]; i++) {
            const int64_t T = Ts[i];
            unsigned char *fw = calloc((size_t)(T * T), 1), *kv = calloc((size_t)(T * T), 1);
            for (int64_t q0 = 0; q0 < T; q0 += SEA_FA_BM) {
                int64_t nkt = SEA_FA_KEY_TILES(q0, T, bn);
                CHECK((nkt - 1) * bn <= q0 + SEA_FA_BM - 1, "hd %d T %lld q0 %lld: a key tile past the block's rows", hd,
                      (long long)T, (long long)q0);
                for (int64_t j = 0; j < nkt; j++)
                    for (int64_t s = j * bn; s < (j + 1) * bn && s < T; s++)
                        for (int64_t t = q0; t < q0 + SEA_FA_BM && t < T; t++)
                            if (s <= t) fw[t * T + s]++;
            }
            for (int64_t s0 = 0; s0 < T; s0 += kbn) {
                int64_t f = SEA_FA_KV_FIRST_Q(s0);
                CHECK(f <= s0 && s0 < f + SEA_FA_KV_BM, "hd %d s0 %lld: first query tile %lld", hd, (long long)s0, (long long)f);
                for (int64_t t0 = f; t0 < T; t0 += SEA_FA_KV_BM)
                    for (int64_t s = s0; s < s0 + kbn && s < T; s++)
                        for (int64_t t = t0; t < t0 + SEA_FA_KV_BM && t < T; t++)
                            if (s <= t) kv[t * T + s]++;
            }
            int bad_fw = 0, bad_kv = 0;
            for (int64_t t = 0; t < T; t++)
                for (int64_t s = 0; s <= t; s++) {
                    bad_fw += fw[t * T + s] != 1;
                    bad_kv += kv[t * T + s] != 1;
                }
            CHECK(bad_fw == 0, "hd %d T %lld: %d pairs not visited exactly once by the forward/dQ walk", hd, (long long)T, bad_fw);
            CHECK(bad_kv == 0, "hd %d T %lld: %d pairs not visited exactly once by the dK/dV walk", hd, (long long)T, bad_kv);
            free(fw);
            free(kv);
        }
    }
}

int main(void)
{
    test_parse();
    test_dispatch();
    test_smem();
    test_coverage();
    if (failures) {
        fprintf(stderr, "cuda_attn_plan_host: %d failures\n", failures);
        return 1;
    }
    printf("cuda_attn_plan_host: ok\n");
    return 0;
}
