#!/bin/sh
# Best-of-N evaluation and the online E&E metric: present at every evaluation / round, in
# [0, 1], their oracle calls logged under their own kinds and never counted as queries, and
# the training run itself unchanged by them (every other metric identical to a run without).
# usage: test_eval_metrics.sh SEA WORKDIR
set -u
SEA=$1; W=$2
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
rm -rf "$W"; mkdir -p "$W"
RUN="--policy $ROOT/data/arith-sft --prompt-data builtin:arith --oracle builtin:arith --exp-method enn-baits \
 --num-samples 4 --num-ensemble 4 --rm-hidden 16 --rm-batch 8 --batch-size 8 --max-new-tokens 5 \
 --learning-rate 1e-3 --eval-every 2 --eval-n 32 --burn-in 1 --max-rounds 6 --quiet --seed 1"
"$SEA" train $RUN --output-dir "$W/plain" || { echo "plain run failed"; exit 1; }
"$SEA" train $RUN --bon-n 4 --online-metric --output-dir "$W/both" || { echo "run with --bon-n --online-metric failed"; exit 1; }
[ "$(grep -c '"eval/bon_win_rate"' "$W/both/metrics.jsonl")" -eq 4 ] || { echo "expected 4 best-of-N evaluations"; exit 1; }
[ "$(grep -c '"online/ee_quality"' "$W/both/metrics.jsonl")" -eq 6 ] || { echo "expected the E&E metric on 6 rounds"; exit 1; }
bad=$(grep -o '"\(eval/bon_win_rate\|online/ee_quality\)": [^,}]*' "$W/both/metrics.jsonl" |
      awk -F': ' '$2 == "null" || $2 < 0 || $2 > 1' | head -1)
[ -z "$bad" ] || { echo "out of [0, 1]: $bad"; exit 1; }
grep -q '"kind":"eval-bon"' "$W/both/oracle.jsonl" || { echo "best-of-N oracle calls not logged"; exit 1; }
grep -q '"kind":"online"' "$W/both/oracle.jsonl" || { echo "E&E oracle calls not logged"; exit 1; }
sed -E 's/, "(eval\/bon_win_rate|online\/ee_quality)": [^,}]*//g' "$W/both/metrics.jsonl" > "$W/stripped.jsonl"
"$ROOT/tests/dist/compare_metrics.sh" "$W/plain/metrics.jsonl" "$W/stripped.jsonl" 0 ||
  { echo "the extra evaluations changed the training run"; exit 1; }
rm -rf "$W"
echo "eval metrics: ok"
