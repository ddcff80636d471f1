#!/bin/sh
# A short SEA run (enn-baits, mixed preference learning, DPO) on DEVICE must give the same
# metrics as on the CPU backend within tolerance: the whole stack — generation, features,
# ensemble, learner, ERM — on that backend. usage: test_device_run.sh SEA DEVICE WORKDIR RTOL [VAR=VALUE]
# VAR=VALUE goes into the environment of the DEVICE run only (SEA_GRAPHS=1 on the cpu: the same
# run with captured decode steps; SEA_BACKEND_PATH=... the CUDA emulator's module).
set -u
SEA=$1; DEV=$2; W=$3; RTOL=$4; ENVSET=${5:-SEA_TEST_UNUSED=1}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
rm -rf "$W"; mkdir -p "$W"
env "$ENVSET" "$SEA" devices --json 2>/dev/null | grep -q "\"spec\":[[:space:]]*\"$DEV\"" || { echo "$DEV absent: skip"; exit 77; }
RUN="--policy $ROOT/data/arith-sft --prompt-data builtin:arith --oracle builtin:arith --exp-method enn-baits \
 --num-samples 4 --num-ensemble 4 --rm-hidden 16 --rm-batch 8 --batch-size 4 --max-new-tokens 5 \
 --learning-rate 1e-3 --eval-every 2 --eval-n 8 --burn-in 1 --max-rounds 3 --quiet --seed 1"
"$SEA" train $RUN --device cpu --output-dir "$W/cpu" || { echo "cpu run failed"; exit 1; }
env "$ENVSET" "$SEA" train $RUN --device "$DEV" --output-dir "$W/dev" || { echo "$DEV run failed"; exit 1; }
# Memory metrics on every line: the host's peak RSS everywhere, the device allocator's peak
# where the backend counts it (CUDA) and null where it does not (the CPU).
grep -v -q '"memory/host_peak_rss_gib": [0-9]' "$W/cpu/metrics.jsonl" && { echo "a cpu line without the host's peak RSS"; exit 1; }
grep -v -q '"memory/device_peak_gib": null' "$W/cpu/metrics.jsonl" && { echo "a cpu line with a device peak"; exit 1; }
case "$DEV" in cuda*)
  grep -v -q '"memory/device_peak_gib": [0-9]' "$W/dev/metrics.jsonl" &&
    { echo "a $DEV line without the device allocator's peak"; grep -o '"memory/[a-z_]*": [^,}]*' "$W/dev/metrics.jsonl" | head -4; exit 1; } ;;
esac
"$ROOT/tests/dist/compare_metrics.sh" "$W/cpu/metrics.jsonl" "$W/dev/metrics.jsonl" "$RTOL" ||
  { echo "$DEV metrics differ from cpu"; exit 1; }
rm -rf "$W"
echo "SEA run on $DEV ($ENVSET) matches cpu (rtol $RTOL)"
