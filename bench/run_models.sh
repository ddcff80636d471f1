#!/bin/sh
# The models issue's CPU benchmark: sea's DPO step and sampling next to the PyTorch peer,
# in one command so they share the machine's state (these VMs are noisy: ratios from one
# run hold, absolute numbers drift between runs).
#
#   bench/run_models.sh [BUILD_DIR] [ROUNDS] [MODELS...]     default: build 2 tiny-8m pythia-70m
#
# For every model and round: build/tools/bench_models, then ../shared/peers/cpu_peer.py under
# each PyTorch found -- Debian's python3-torch (/usr/bin/python3, the peer README's baseline)
# and a pip torch (python3 on PATH) when it is a different one -- each under /usr/bin/time for
# peak resident memory. Prints one JSON line per run and a table of medians and ratios last.
set -eu
BUILD=${1:-build}
ROUNDS=${2:-2}
shift 2 2>/dev/null || shift $#
MODELS=${*:-tiny-8m pythia-70m}
THREADS=${SEA_NUM_THREADS:-$(nproc)}
PEER=$(cd "$(dirname "$0")/.." && pwd)/../shared/peers/cpu_peer.py
BM="$BUILD/tools/bench_models"
[ -x "$BM" ] || { echo "run_models: $BM not built (ninja -C $BUILD)" >&2; exit 1; }
[ -f "$PEER" ] || { echo "run_models: $PEER not found" >&2; exit 1; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

# Which interpreters have a torch, and which torch.
PYS=""
for py in /usr/bin/python3 python3; do
    v=$("$py" -c "import torch; print(torch.__version__)" 2>/dev/null) || continue
    case " $PYS " in *"=$v "*) continue ;; esac
    PYS="$PYS $py=$v"
done
[ -n "$PYS" ] || echo "run_models: no python3 with torch found; sea alone" >&2

run() {  # label command...: JSON lines of the command, tagged, plus its peak RSS
    label=$1; shift
    /usr/bin/time -f '{"peak_rss_mb": %M}' -o "$TMP/rss" "$@" > "$TMP/out" 2> "$TMP/err" || {
        echo "run_models: $label failed:" >&2; tail -5 "$TMP/err" >&2; return 0; }
    rss=$(sed 's/[^0-9]//g' "$TMP/rss" | head -1)
    grep '"bench"' "$TMP/out" | sed "s/^{/{\"who\": \"$label\", \"peak_rss_mb\": $((rss / 1024)), /"
}

echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(nproc) CPUs, $THREADS threads, load $(cut -d' ' -f1-3 /proc/loadavg)" >&2
for r in $(seq "$ROUNDS"); do
    for m in $MODELS; do
        run sea "$BM" --model "$m" | tee -a "$TMP/all"
        for pv in $PYS; do
            py=${pv%%=*}; v=${pv#*=}
            run "torch-$v" "$py" "$PEER" "$m" "$THREADS" | tee -a "$TMP/all"
        done
    done
done

"$(command -v python3 || echo /usr/bin/python3)" - "$TMP/all" <<'PY'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
def med(who, model, bench, key):
    v = [r[key] for r in rows if r["who"] == who and r["model"] == model and r["bench"] == bench]
    return statistics.median(v) if v else None
whos = sorted({r["who"] for r in rows}, key=lambda w: (w != "sea", w))
print("\n%-11s %-16s %14s %14s %12s" % ("model", "who", "DPO tok/s", "sample tok/s", "peak RSS MB"))
for m in sorted({r["model"] for r in rows}):
    for w in whos:
        d, s = med(w, m, "dpo_step", "tokens_per_s"), med(w, m, "sample", "new_tokens_per_s")
        rss = max([r["peak_rss_mb"] for r in rows if r["who"] == w and r["model"] == m] or [0])
        if d is None and s is None: continue
        print("%-11s %-16s %14.1f %14.1f %12d" % (m, w, d or 0, s or 0, rss))
    for w in whos[1:]:
        d0, s0 = med("sea", m, "dpo_step", "tokens_per_s"), med("sea", m, "sample", "new_tokens_per_s")
        d1, s1 = med(w, m, "dpo_step", "tokens_per_s"), med(w, m, "sample", "new_tokens_per_s")
        if d0 and d1 and s0 and s1:
            print("%-11s sea / %-10s %13.2fx %13.2fx" % (m, w, d0 / d1, s0 / s1))
PY
