#!/bin/sh
# Run `sea bench` and its peers in one go, so their numbers share the machine's state
# (these VMs are noisy: compare ratios from one run, not absolute numbers across runs).
#
#   bench/run_peers.sh [BUILD_DIR] [OUT_DIR] [--quick]
#
# Writes OUT_DIR/sea_bench.json (sea bench --ops --json), OUT_DIR/sea_bench_native_blas.json
# (the same gemm table with OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset, i.e. OpenBLAS's own
# kernel choice), OUT_DIR/torch_matmul.jsonl (PyTorch on the same shapes) and, when the
# shared peers are present, OUT_DIR/cpu_peer.jsonl (PyTorch DPO step + sampling).
set -eu
BUILD=${1:-build}
OUT=${2:-bench/out}
QUICK=${3:-}
SEA="$BUILD/sea"
THREADS=${SEA_NUM_THREADS:-$(nproc)}
mkdir -p "$OUT"
[ -x "$SEA" ] || { echo "run_peers: $SEA not built (ninja -C $BUILD)" >&2; exit 1; }

echo "== sea bench --ops ($THREADS threads)" >&2
"$SEA" bench --ops $QUICK --json > "$OUT/sea_bench.json"
"$SEA" bench --ops $QUICK

echo "== sea bench gemm, OpenBLAS with its own kernel choice" >&2
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$SEA" bench $QUICK --json > "$OUT/sea_bench_native_blas.json"

if python3 -c "import torch" 2>/dev/null; then
    echo "== PyTorch matmul peer" >&2
    python3 "$(dirname "$0")/peer_torch_matmul.py" "$THREADS" $QUICK > "$OUT/torch_matmul.jsonl"
    python3 - "$OUT" <<'PY'
import json, sys
out = sys.argv[1]
sea = {r["name"]: r for r in json.load(open(out + "/sea_bench.json"))["results"] if r["group"] == "gemm"}
print("%-22s %10s %10s %10s %8s" % ("gemm GFLOP/s", "sea own", "openblas", "torch", "own/torch"))
for line in open(out + "/torch_matmul.jsonl"):
    t = json.loads(line)
    s = sea.get(t["name"])
    if s and "own_gflops" in s:
        print("%-22s %10.1f %10.1f %10.1f %8.2f" % (t["name"], s["own_gflops"], s.get("openblas_gflops", 0),
                                                   t["gflops"], s["own_gflops"] / t["gflops"]))
PY
fi

PEER=$(dirname "$0")/../../shared/peers/cpu_peer.py
if [ -f "$PEER" ] && python3 -c "import torch" 2>/dev/null; then
    echo "== PyTorch CPU peer (tiny-8m DPO step + sampling)" >&2
    python3 "$PEER" tiny-8m "$THREADS" > "$OUT/cpu_peer.jsonl" || echo "cpu_peer.py failed" >&2
fi
echo "results in $OUT" >&2
