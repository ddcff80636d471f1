#!/usr/bin/env bash
# The one-shot GPU check of the CUDA backend. Run ON THE GPU MACHINE from the repo root, with
# build-gpu-pack/ (made here by bench/cuda/prepare.sh) carried along:
#     bash bench/cuda/check.sh
# Bounded to ~8 minutes (SEA_CHECK_BUDGET seconds, default 470): each step has its own
# timeout and steps that no longer fit are skipped. Correctness first, then benchmarks, then
# the PyTorch peer. Writes to $OUT (at most 8 files, no folders):
#   summary.txt   the table printed at the end        check.log     every step's output
#   vs_cpu.log    ops vs the CPU backend, per case     selftest.json sea selftest --json
#   bench.json    sea-cuda-bench (JSON lines)          sea_bench.json `sea bench --ops --json`
#   gpu_peer.json written by shared/peers/gpu_peer.py
#   bench_models.json  tools/bench_models, Pythia-1B DPO step + sampling, bf16 and f32 compute,
#                 sampling with and without CUDA graphs, batch 64 and 256
set -u
ROOT=$(pwd)
P=${SEA_GPU_PACK:-build-gpu-pack}
OUT=${OUT:-$ROOT/gpu-out}
mkdir -p "$OUT"
LOG=$OUT/check.log
SUM=$OUT/summary.txt
BUDGET=${SEA_CHECK_BUDGET:-470}
START=$(date +%s)
: > "$LOG"

if [ ! -x "$P/sea" ] && [ ! -f "$P/libsea.so" ]; then
    echo "check: $P not found: run bench/cuda/prepare.sh on the build machine and carry $P" | tee "$SUM"
    exit 1
fi

# Libraries: the pack's own, then CUDA's (toolkit, or the pip wheels PyTorch uses).
cuda_libs=""
for d in /usr/local/cuda/lib64 /usr/local/cuda/targets/x86_64-linux/lib /usr/lib/x86_64-linux-gnu; do
    [ -e "$d/libcublas.so.13" ] && cuda_libs="$cuda_libs:$d"
done
pyl=$(python3 -c 'import os, nvidia; b = os.path.dirname(nvidia.__file__); print(":".join(os.path.join(b, s, "lib") for s in ("cublas", "cu13") if os.path.isdir(os.path.join(b, s, "lib"))))' 2>/dev/null || true)
[ -n "$pyl" ] && cuda_libs="$cuda_libs:$pyl"
export LD_LIBRARY_PATH="$ROOT/$P/lib:$ROOT/$P${cuda_libs}:${LD_LIBRARY_PATH:-}"
export HWLOC_COMPONENTS=-opencl,-gl
export PATH=$PATH:/usr/local/cuda/bin

names=(); states=(); secs=(); notes=()
record() { names+=("$1"); states+=("$2"); secs+=("$3"); notes+=("$4"); }
left() { echo $((BUDGET - ($(date +%s) - START))); }

# step NAME TIMEOUT OUTFILE CMD...: output appended to OUTFILE (and check.log gets a header).
LAST_RC=0
step() {
    local name=$1 t=$2 outf=$3
    shift 3
    if [ "$(left)" -lt $((t / 3 + 5)) ]; then
        record "$name" "skip" 0 "no time left"
        LAST_RC=124
        LAST_STATE=skip
        return 124
    fi
    local tl=$(( t < $(left) ? t : $(left) ))
    echo "=== $name ($*) [timeout ${tl}s] $(date -u +%T)" >> "$LOG"
    local s0=$(date +%s)
    timeout -k 5 "$tl" "$@" >> "$outf" 2>&1
    LAST_RC=$?
    local dt=$(( $(date +%s) - s0 ))
    [ "$outf" != "$LOG" ] && echo "    (output in $(basename "$outf"), rc $LAST_RC)" >> "$LOG"
    local st=ok
    if [ $LAST_RC -eq 124 ] || [ $LAST_RC -eq 137 ]; then st=TIMEOUT; elif [ $LAST_RC -eq 77 ]; then st=skip; elif [ $LAST_RC -ne 0 ]; then st=FAIL; fi
    # A failure's note carries the step's last line of output (usually the error message).
    local why="rc $LAST_RC"
    [ "$st" = FAIL ] && why="rc $LAST_RC: $(tail -n 1 "$outf" | cut -c1-160)"
    record "$name" "$st" "$dt" "$why"
    LAST_STATE=$st
    return $LAST_RC
}
# note TEXT: replaces the last step's note, unless that step was skipped.
note() { [ "$LAST_STATE" != skip ] && notes[${#notes[@]}-1]="$1"; return 0; }
LAST_STATE=skip

# 1. The machine.
step env 20 "$LOG" bash -c 'nvidia-smi; nvcc --version | tail -2; echo "LD_LIBRARY_PATH=$LD_LIBRARY_PATH"; cat '"$P"'/COMMIT '"$P"'/PREPARED; ldd '"$P"'/backends/cuda/sea-cuda.so | grep -E "not found|cublas|sea"'
note "$(nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader 2>/dev/null | head -1)"

# 2. Module loads and sees the GPU; else rebuild it with this machine's nvcc and retry.
step module 30 "$LOG" "$P/backends/cuda/tests/cuda_module_load" "$P/backends/cuda/sea-cuda.so"
if { [ $LAST_RC -ne 0 ] || grep -q "cuda: 0 devices" "$LOG"; } && nvidia-smi -L 2>/dev/null | grep -q GPU; then
    step rebuild_module 240 "$LOG" bash bench/cuda/build_module.sh "$P" 90
    step module_again 30 "$LOG" "$P/backends/cuda/tests/cuda_module_load" "$P/backends/cuda/sea-cuda.so"
fi
step philox_host 20 "$LOG" "$P/backends/cuda/tests/cuda_philox_host"
step devices 30 "$LOG" "$P/sea" devices

# 3. Every op vs the CPU backend (one process; if it fails, one process per case so a device
#    fault in one op does not hide the others, plus compute-sanitizer on the first failures).
VS=$OUT/vs_cpu.log
: > "$VS"
SEA_CUDA_SYNC=1 step vs_cpu 150 "$VS" "$P/backends/cuda/tests/cuda_vs_cpu"
# names LINES: ": name1 name2 ..." of the given result lines, or nothing when there are none.
names_of() { local n; n=$(awk '{print $1}' | head -8 | tr '\n' ' '); [ -n "$n" ] && printf ': %s' "$n"; return 0; }
note "$(grep -c ' ok ' "$VS") ok, $(grep -c 'FAIL' "$VS") failed$(grep FAIL "$VS" | names_of)"
if [ "$LAST_STATE" = FAIL ] || [ "$LAST_STATE" = TIMEOUT ]; then
    echo "=== per-case reruns" >> "$VS"
    nfail=0; san=0
    for c in $("$P/backends/cuda/tests/cuda_vs_cpu" --list); do
        [ "$(left)" -lt 60 ] && break
        SEA_CUDA_SYNC=1 timeout -k 5 40 "$P/backends/cuda/tests/cuda_vs_cpu" "$c" >> "$VS" 2>&1
        rc=$?
        if [ $rc -ne 0 ]; then
            nfail=$((nfail + 1))
            if [ $san -lt 2 ] && command -v compute-sanitizer >/dev/null && [ "$(left)" -gt 150 ]; then
                san=$((san + 1))
                echo "=== compute-sanitizer $c" >> "$VS"
                SEA_CUDA_NO_CACHE=1 timeout -k 5 60 compute-sanitizer --tool memcheck --print-limit 10 \
                    "$P/backends/cuda/tests/cuda_vs_cpu" "$c" >> "$VS" 2>&1
            fi
        fi
    done
    record vs_cpu_per_case "$([ $nfail -eq 0 ] && echo ok || echo FAIL)" 0 "$nfail cases failed alone"
fi
# The tensor-core attention kernels on a line of their own (first pass only; a per-case rerun
# repeats the lines): forward + backward vs the CPU within bf16/f16 tolerance, and two runs
# bitwise identical.
if [ -s "$VS" ]; then
    fa=$(awk '/^=== per-case reruns/{exit} /^attention_flash_/' "$VS")
    fa_n=$(printf '%s\n' "$fa" | grep -c '^attention_flash_')
    fa_ok=$(printf '%s\n' "$fa" | grep -c -E '^attention_flash_[^ ]+ +ok ')
    fa_nd=$(printf '%s\n' "$fa" | grep -c 'NOT DETERMINISTIC')
    fa_worst=$(printf '%s\n' "$fa" | sed -n 's/.*rel err \([0-9.e+-]*\).*max \([0-9.e+-]*\).*/\1 \2/p' |
        sort -g -k1,1 | tail -1)
    record flash_vs_cpu "$([ "$fa_n" -gt 0 ] && [ "$fa_ok" -eq "$fa_n" ] && echo ok || echo FAIL)" 0 \
        "$fa_ok/$fa_n flash cases ok, $fa_nd not bitwise repeatable; worst rel/max err ${fa_worst:-none}$(printf '%s\n' "$fa" | grep -E '^attention_flash_' | grep -v -E ' ok ' | names_of)"
fi

# 4. The op suite against float64 references (runtime/check), JSON report.
SEA_CUDA_SYNC=1 step selftest 150 "$OUT/selftest.json" bash -c "'$P/sea' selftest --device cuda:0 --json 2>>'$LOG'"
note "$(python3 -c '
import json, sys
try:
    d = json.load(open(sys.argv[1]))
except Exception as e:
    print("unparsable:", str(e)[:60]); sys.exit()
bad = ["%s/%s/%s" % (r.get("op"), r.get("dir"), r.get("dtype")) for r in d.get("results", []) if r.get("result") not in ("pass", "skip")]
print("passed %s failed %s skipped %s%s" % (d.get("passed"), d.get("failed"), d.get("skipped"), (": " + " ".join(sorted(set(bad))[:10])) if bad else ""))
' "$OUT/selftest.json" 2>&1 | tail -1)"
if [ "$LAST_STATE" = FAIL ]; then
    # A device fault poisons the context for every later op: rerun each failed op alone.
    failed_ops=$(python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
print(" ".join(sorted({r["op"] for r in d.get("results", []) if r.get("result") not in ("pass", "skip")})))
' "$OUT/selftest.json" 2>/dev/null)
    alone=""
    for o in $failed_ops; do
        [ "$(left)" -lt 150 ] && break
        echo "=== selftest --filter $o (alone)" >> "$LOG"
        SEA_CUDA_SYNC=1 timeout -k 5 40 "$P/sea" selftest --device cuda:0 --filter "$o" >> "$LOG" 2>&1 || alone="$alone $o"
    done
    record selftest_alone "$([ -z "$alone" ] && echo ok || echo FAIL)" 0 "still failing alone:${alone:- none}"
fi

# 5. Model golden tests on the GPU (HF fixtures), when built.
if [ -x "$P/tests/models/test_model" ]; then
    step model_golden 120 "$LOG" "$P/tests/models/test_model" cuda:0 tests/models/fixtures/models
fi
if [ -x "$P/tests/models/test_model_bf16" ]; then
    step model_bf16 60 "$LOG" "$P/tests/models/test_model_bf16" cuda:0 tests/models/fixtures/models
fi
# Training memory: recompute and the chunked LM head give the same gradients, the shared
# activation arena the same results (docs/memory.md).
if [ -x "$P/tests/models/test_model_memory" ]; then
    step model_memory 45 "$LOG" "$P/tests/models/test_model_memory" cuda:0 tests/models/fixtures/models
fi

# CUDA graphs: capture/replay on the device, and captured decoding == eager decoding (bits).
if [ -x "$P/tests/runtime/test_graph" ]; then
    step graph_capture 30 "$LOG" "$P/tests/runtime/test_graph" cuda:0
fi
if [ -x "$P/tests/models/test_generate_graphs" ]; then
    step generate_graphs 60 "$LOG" "$P/tests/models/test_generate_graphs" cuda:0 tests/models/fixtures/models
fi

# Benchmarks measure what works: a kernel family that failed its check above is turned off
# for them (and the summary says so), so one broken piece still leaves numbers for the rest.
state_of() { local i; for i in "${!names[@]}"; do [ "${names[$i]}" = "$1" ] && echo "${states[$i]}"; done; }
fallback=""
# fall_back NAME VALUE: the benchmarks run with NAME=VALUE, and the summary says so.
fall_back() { export "$1=$2"; fallback="$fallback $1=$2"; }
# vs_failed REGEX: a vs_cpu case whose name matches ^REGEX failed in the first pass.
vs_failed() { awk -v re="^($1)" '/^=== per-case reruns/{exit} $0 ~ re' "$VS" | grep -q FAIL; }
# The flash cases failing may be the dQ-by-cuBLAS path alone (cuda_attn_plan.h): rerun them with
# the dQ kernel, and keep the flash kernels if that passes.
if [ "$(state_of flash_vs_cpu)" = FAIL ]; then
    if [ "$(left)" -gt 120 ] && SEA_CUDA_FA_DQ=kernel SEA_CUDA_SYNC=1 timeout -k 5 60 \
        "$P/backends/cuda/tests/cuda_vs_cpu" attention_flash >> "$VS.dq_kernel" 2>&1; then
        record flash_vs_cpu_dq_kernel ok 0 "the flash cases pass with SEA_CUDA_FA_DQ=kernel (vs_cpu.log.dq_kernel)"
        fall_back SEA_CUDA_FA_DQ kernel
    else
        fall_back SEA_CUDA_ATTN basic
    fi
fi
case "$(state_of generate_graphs)" in FAIL|TIMEOUT) fall_back SEA_GRAPHS 0 ;; esac
# The cuBLASLt bias/residual epilogues (cuda_gemm_lt.c) and the vectorized decode attention
# (cuda_decode.cu) have their own vs_cpu cases.
vs_failed 'matmul_(bias_lt|residual)_' && fall_back SEA_CUDA_LT 0
vs_failed 'decode_attention_(bf16|f16)_' && fall_back SEA_CUDA_DECODE basic
[ -n "$fallback" ] && record bench_fallback info 0 "benchmarks below run with$fallback (a check above failed)"

# 6. Benchmarks: our kernels at Pythia-1B shapes, the generic op table, model steps.
step bench 120 "$OUT/bench.json" bash -c "'$P/backends/cuda/tests/sea-cuda-bench' cuda:0 2>>'$LOG'"
note "$(python3 -c '
import json, sys
out = []
for l in open(sys.argv[1]):
    try: r = json.loads(l)
    except Exception: continue
    if "tflops" in r: out.append("%s %.0f TF" % (r["bench"].replace("matmul_", "mm_"), r["tflops"]))
    if "fwd_tflops" in r: out.append("%s %.1f/%.1f TF" % (r["bench"], r["fwd_tflops"], r["bwd_tflops"]))
print("; ".join(out)[:300])
' "$OUT/bench.json" 2>&1 | tail -1)"
# Attention TFLOP/s at the DPO shape (B16 T512 H8 hd256; FLOPs of the causal half, backward
# counted as 2.5x the forward): the flash kernels next to the fp32 SIMT kernels.
if [ -s "$OUT/bench.json" ]; then
    att=$(python3 -c '
import json, sys
rows = {}
for l in open(sys.argv[1]):
    try: r = json.loads(l)
    except Exception: continue
    if r.get("bench", "").startswith("attention_"): rows[r["bench"]] = r
def f(name, label):
    r = rows.get(name)
    if not r: return "%s n/a" % label
    if "error" in r: return "%s error: %s" % (label, r["error"][:80])
    return "%s %.1f/%.1f" % (label, r["fwd_tflops"], r["bwd_tflops"])
print("fwd/bwd TF/s: " + "; ".join([f("attention_bf16_pythia1b_flash", "bf16 flash"), f("attention_f16_pythia1b_flash", "f16 flash"),
      f("attention_bf16_pythia1b_basic", "bf16 basic"), f("attention_f32_pythia1b", "f32 basic"),
      f("attention_bf16_hd128_flash", "hd128 flash"), f("attention_bf16_hd64_flash", "hd64 flash"),
      f("attention_bf16_hd80_flash", "hd80 flash (padded)"), f("attention_bf16_hd80_basic", "hd80 basic"),
      f("attention_bf16_pythia1b_flash_dq_gemm", "bf16 flash, dQ by cuBLAS"),
      f("attention_bf16_pythia1b_flash_dq_kernel", "bf16 flash, dQ kernel")]))
' "$OUT/bench.json" 2>&1 | tail -1)
    grep -q '"attention_bf16_pythia1b_flash".*"fwd_tflops"' "$OUT/bench.json" && st=ok || st=FAIL
    record attn_B16T512H8hd256 "$st" 0 "$(echo "$att" | cut -c1-480)"
    # The flash backward's dQ (cuda_attn_plan.h, SEA_CUDA_FA_DQ): the model benchmarks below run
    # with whichever of the two was faster at the DPO shape just now (the default is gemm).
    dqk=$(python3 -c '
import json, sys
b = {}
for l in open(sys.argv[1]):
    try: r = json.loads(l)
    except Exception: continue
    if r.get("bench", "").startswith("attention_bf16_pythia1b_flash_dq_") and "bwd_ms" in r: b[r["dq"]] = r["bwd_ms"]
print("kernel" if "kernel" in b and "gemm" in b and b["kernel"] < b["gemm"] else "")
' "$OUT/bench.json" 2>/dev/null)
    [ "$dqk" = kernel ] && { export SEA_CUDA_FA_DQ=kernel; record attn_dq_choice info 0 "SEA_CUDA_FA_DQ=kernel: the dQ kernel beat dQ by cuBLAS at the DPO shape"; }
    # Decode attention at the sampling shape (B64, 320 keys, H8, hd256): GB/s of K and V read,
    # the bf16 vectorized kernel next to the basic one (cuda_decode.cu).
    dec=$(python3 -c '
import json, sys
rows = {}
for l in open(sys.argv[1]):
    try: r = json.loads(l)
    except Exception: continue
    if r.get("bench", "").startswith("decode_attention"): rows[r["bench"]] = r
def f(name, label):
    r = rows.get(name)
    return "%s %.0f" % (label, r["gb_s"]) if r and "gb_s" in r else "%s n/a" % label
print("GB/s: " + "; ".join([f("decode_attention_bf16_b64_s320_h8_hd256", "bf16 vec"),
      f("decode_attention_bf16_basic_b64_s320_h8_hd256", "bf16 basic"), f("decode_attention_b64_s320_h8_hd256", "f32 basic"),
      f("decode_attention_bf16_prefix_b64_p4x256_s64_h8_hd256", "bf16 vec, 256 keys in a prefix shared by 16 (per-sequence-equivalent)")]))
' "$OUT/bench.json" 2>&1 | tail -1)
    grep -q '"decode_attention_bf16_b64_s320_h8_hd256".*"gb_s"' "$OUT/bench.json" && st=info || st=FAIL
    record decode_B64S320H8hd256 "$st" 0 "$(echo "$dec" | cut -c1-300)"
fi
# 7. The PyTorch + transformers peer on the same card (writes $OUT/gpu_peer.json).
PEER=$P/peers/gpu_peer.py
[ -f "$PEER" ] || PEER=../shared/peers/gpu_peer.py
if [ -f "$PEER" ]; then
    OUT=$OUT step gpu_peer 200 "$LOG" python3 "$PEER"
    note "$(python3 -c '
import json, sys
try: d = json.load(open(sys.argv[1]))
except Exception as e: print("no json"); sys.exit()
print("; ".join("%s %s %s" % (r.get("bench"), r.get("model", ""), round(r.get("tokens_per_s", r.get("new_tokens_per_s", r.get("bf16_matmul_tflops", 0))), 1)) for r in d)[:300])
' "$OUT/gpu_peer.json" 2>&1 | tail -1)"
fi

# Pythia-1B at the issue's shapes (the peer's): DPO step 8 pairs x 512 tokens, sampling batch
# 64, prompt 256, 64 new tokens at T 0.7; bf16 compute (f32 masters: the tensor-core path,
# docs/architecture.md "Mixed precision") first, then f32; sampling also without CUDA graphs
# and at batch 256. One JSON line per phase in bench_models.json.
BM="$P/tools/bench_models --model pythia-1b --device cuda:0 --pairs 8 --seq 512 --prompt 256 --new 64"
bm_note() { note "$(tail -n "$1" "$OUT/bench_models.json" | grep -E 'tokens' | sed -E 's/.*"bench": "([a-z_]+)".*"(tokens_per_s|new_tokens_per_s)": ([0-9.]+).*"peak_rss_mib": ([0-9]+).*/\1 \3 tok\/s (rss \4 MiB)/' | tr '\n' ' ' | cut -c1-200)"; }
if [ -x "$P/tools/bench_models" ]; then
    step bench_1b_bf16 120 "$OUT/bench_models.json" $BM --steps 3 --dtype bf16 --batch 64 && bm_note 2
    step bench_1b_bf16_nograph 60 "$OUT/bench_models.json" $BM --only sample --dtype bf16 --batch 64 --graphs off && bm_note 1
    step bench_1b_bf16_b256 60 "$OUT/bench_models.json" $BM --only sample --dtype bf16 --batch 256 && bm_note 1
    # The DPO step again without the cuBLASLt bias epilogue (cuda_gemm_lt.c): the A/B of that path.
    SEA_CUDA_LT=0 step bench_1b_bf16_nolt 60 "$OUT/bench_models.json" $BM --only dpo --steps 2 --dtype bf16 && bm_note 1
    # The DPO step with activation recomputation (blocks rerun in backward): the memory it
    # saves and the time it costs, for the peak-memory target.
    step bench_1b_bf16_recompute 60 "$OUT/bench_models.json" $BM --only dpo --steps 2 --dtype bf16 --recompute && bm_note 1
    # The memory A/B of the head chunks and the shared activation arena (docs/memory.md): the
    # same step with the whole LM head and the reference in an arena of its own.
    step bench_1b_bf16_mem_ab 60 "$OUT/bench_models.json" $BM --only dpo --steps 1 --dtype bf16 --head-chunk-mib 0 --separate-activations && bm_note 1
fi

# 8. A short SEA run on the GPU (override with SEA_CHECK_SEA_RUN="command"): before the
#    profiles and the f32 numbers, which only explain or compare.
SEA_RUN=${SEA_CHECK_SEA_RUN:-"$P/sea demo --device cuda:0 --seeds 1 --max-queries 64 --output-dir /tmp/sea-demo-gpu --quiet"}
step sea_run 75 "$LOG" bash -c "$SEA_RUN"

if [ -x "$P/tools/bench_models" ]; then
    # Where the time goes, op by op and shape by shape with each GEMM's TFLOP/s
    # (SEA_PROFILE=shapes; it syncs after every op, so the totals are a little above the
    # unprofiled run's): one bf16 DPO step and one uncaptured sampling call.
    # The tables go to check.log; the summary names the three largest shares.
    prof_top() { sed -n '/^SEA_PROFILE: time in ops/,$p' "$1" | awk 'NR > 2 && NF >= 5 {printf "%s %s %s; ", $1, $2, $NF}' | cut -c1-150; }
    for what in dpo sample; do
        pf=$(mktemp)
        SEA_PROFILE=shapes step "profile_1b_$what" 60 "$pf" $BM --only $what --steps 1 --dtype bf16 --batch 64 --graphs off
        cat "$pf" >> "$LOG"
        [ "$LAST_STATE" = ok ] && note "$(grep -m1 '^SEA_PROFILE' "$pf" | sed 's/.*, \([0-9.]* ms\) in all.*/\1 in ops:/') $(prof_top "$pf" | cut -d';' -f1-3)"
        rm -f "$pf"
    done
    # SEA's own sampling layout: 16 prompts x 16 samples (batch 256), the prompts' keys and
    # values stored once per prompt (decode attention's shared prefix) against a cache per
    # sample (--prefill-each).
    step bench_1b_bf16_shared 60 "$OUT/bench_models.json" $BM --only sample --dtype bf16 --batch 256 --per-prompt 16 && bm_note 1
    step bench_1b_bf16_shared_each 60 "$OUT/bench_models.json" $BM --only sample --dtype bf16 --batch 256 --per-prompt 16 --prefill-each && bm_note 1
    # Decode run-ahead (models/generate.c: tokens read every 8 steps) against reading them
    # after every step, graphs on both: the A/B of the host round trip per step.
    step bench_1b_bf16_read1 60 "$OUT/bench_models.json" $BM --only sample --dtype bf16 --batch 64 --read-every 1 && bm_note 1
    # f32 compute last: not the tensor-core path the targets are about, only for comparison.
    step bench_1b_f32 120 "$OUT/bench_models.json" $BM --steps 2 --dtype f32 --batch 64 && bm_note 2
fi


# 9. The generic op table (least important: last).
step sea_bench_ops 60 "$OUT/sea_bench.json" bash -c "'$P/sea' bench --device cuda:0 --only-ops --json 2>>'$LOG'"

# The issue's targets from bench_models.json and gpu_peer.json (same card, same call).
# Sampling bound: per decode step the bf16 weights (all but the input embedding) and the KV
# cache (2 x L x B x S x C bf16, S averaged over the steps) are read once, at the copy
# bandwidth the peer measured (d2d_tb_s). The bound leaves out the prompt pass (at batch 64
# x 256 tokens ~30 TFLOP, ~40 ms on an H200, about as long as the 63 decode steps at the
# bound), so the fraction is also given for the decode steps alone.
if [ -s "$OUT/bench_models.json" ]; then
    tgt=$(python3 -c '
import json, sys
sea = []
for l in open(sys.argv[1]):
    try: sea.append(json.loads(l))
    except Exception: pass
try: peer = json.load(open(sys.argv[2]))
except Exception: peer = []
def pick(rows, **kw):
    for r in rows:
        if all(r.get(k) == v for k, v in kw.items()): return r
    return None
out = []
pl = pick(peer, bench="limits") or {}
bw = pl.get("d2d_tb_s", 0) * 1e12
pd = pick(peer, bench="dpo_step", model="pythia-1b")
sd = pick(sea, bench="dpo_step", dtype="bf16")
if sd:
    t = "DPO bf16 %.0f tok/s" % sd["tokens_per_s"]
    if pl.get("bf16_matmul_tflops"): t += " (MFU %.0f%% of %.0f TF measured)" % (100 * sd["gflops"] / 1e3 / pl["bf16_matmul_tflops"], pl["bf16_matmul_tflops"])
    if pd and "tokens_per_s" in pd: t += " = %.2fx peer (target 1.3x)" % (sd["tokens_per_s"] / pd["tokens_per_s"])
    # Memory: the allocator peak of what was asked for, as PyTorch max_memory_allocated
    # counts it; then the blocks held (size classes) and the driver used (context, cache).
    if sd.get("device_peak_alloc_mib", -1) > 0:
        t += ", device peak allocated %.1f GiB vs peer %.1f GiB (held %.1f, driver used %.1f)" % (sd["device_peak_alloc_mib"] / 1024, (pd or {}).get("peak_mem_gib", float("nan")), sd.get("device_peak_held_mib", -1) / 1024, sd.get("device_used_mib", -1) / 1024)
    elif sd.get("device_used_mib", -1) > 0: t += ", device %.1f GiB used vs peer peak alloc %.1f GiB" % (sd["device_used_mib"] / 1024, (pd or {}).get("peak_mem_gib", float("nan")))
    out.append(t)
rc = [x for x in sea if x.get("bench") == "dpo_step" and x.get("dtype") == "bf16" and x.get("recompute")]
if sd and rc and rc[-1].get("device_peak_alloc_mib", -1) > 0:
    r = rc[-1]
    out.append("DPO with --recompute %.0f tok/s (%.2fx peer), device peak allocated %.1f GiB" % (r["tokens_per_s"], r["tokens_per_s"] / pd["tokens_per_s"] if pd and "tokens_per_s" in pd else float("nan"), r["device_peak_alloc_mib"] / 1024))
ab = [x for x in sea if x.get("bench") == "dpo_step" and x.get("dtype") == "bf16" and x.get("head_chunk_mib") == 0 and x.get("shared_activations") is False]
if sd and ab and ab[-1].get("device_peak_alloc_mib", -1) > 0:
    out.append("DPO with the whole LM head and a separate reference arena %.0f tok/s, device peak allocated %.1f GiB" % (ab[-1]["tokens_per_s"], ab[-1]["device_peak_alloc_mib"] / 1024))
L, C, V = 16, 2048, 50304
ps = pick(peer, bench="sample", model="pythia-1b")
for B, graphs, read in ((64, None, 0), (64, 0, 0), (256, None, 0), (64, None, 1)):
    r = None
    for x in sea:
        if x.get("bench") == "sample" and x.get("dtype") == "bf16" and x.get("batch") == B and (graphs is None) == (x.get("graph_launches", 0) > 0) and x.get("read_every", 0) == read and x.get("per_prompt", 1) == 1:
            r = x
    if not r: continue
    n = sd["params"] if sd else 1011781632
    P, N = r["prompt"], r["new"]
    step_bytes = 2 * (n - V * C) + 2 * L * B * (P + (N + 1) / 2) * C * 2
    t = "sample b%d%s%s %.0f tok/s" % (B, "" if graphs is None else " no graphs", " read every step" if read else "", r["new_tokens_per_s"])
    if bw: t += " = %.0f%% of bound %.0f" % (100 * r["new_tokens_per_s"] / (B * bw / step_bytes), B * bw / step_bytes)
    if bw and "decode_new_tokens_per_s" in r:
        t += " (decode alone %.0f = %.0f%%, prefill %.0f ms)" % (r["decode_new_tokens_per_s"], 100 * r["decode_new_tokens_per_s"] / (B * bw / step_bytes), 1e3 * r["prefill_s"])
    if ps and B == 64 and "new_tokens_per_s" in ps: t += " = %.1fx peer" % (r["new_tokens_per_s"] / ps["new_tokens_per_s"])
    out.append(t)
sh = [x for x in sea if x.get("bench") == "sample" and x.get("per_prompt", 1) > 1]
sh_on = [x for x in sh if x.get("prompt_passes", 0) < x.get("batch", 0)]
sh_off = [x for x in sh if x.get("prompt_passes", 0) == x.get("batch", 0)]
if sh_on and sh_off:
    a, b = sh_on[-1], sh_off[-1]
    out.append("sample b%d as %d prompts x %d: shared prefix %.0f tok/s (prefill %.0f ms) vs a cache per sample %.0f (prefill %.0f ms) = %.2fx" % (a["batch"], a["batch"] // a["per_prompt"], a["per_prompt"], a["new_tokens_per_s"], 1e3 * a["prefill_s"], b["new_tokens_per_s"], 1e3 * b["prefill_s"], a["new_tokens_per_s"] / b["new_tokens_per_s"]))
print("; ".join(out))
' "$OUT/bench_models.json" "$OUT/gpu_peer.json" 2>&1 | tail -1)
    record targets info 0 "$(echo "$tgt" | cut -c1-1000)"
fi

{
    printf "%-18s %-8s %6s  %s\n" step status secs note
    for i in "${!names[@]}"; do printf "%-18s %-8s %6s  %s\n" "${names[$i]}" "${states[$i]}" "${secs[$i]}" "${notes[$i]}"; done
    echo "total $(( $(date +%s) - START )) s; logs in $OUT"
} | tee "$SUM"
