#!/bin/sh
# A learning rate that blows the policy up: the non-finite steps are skipped and reported in
# the metrics (skipped_step 1), three in a row stop the run with a clear error and exit 1,
# and the last checkpoint stays intact (a resume that asks for no more rounds loads it).
# usage: test_nonfinite.sh SEA WORKDIR
set -u
SEA=$1; W=$2
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
rm -rf "$W"; mkdir -p "$W"
"$SEA" train --policy "$ROOT/data/arith-sft" --prompt-data builtin:arith --oracle builtin:arith --exp-method passive \
  --batch-size 8 --max-new-tokens 5 --learning-rate 1e30 --eval-every 0 --eval-n 8 --max-rounds 12 --quiet --seed 1 \
  --output-dir "$W/run" 2>"$W/err.txt"
rc=$?
cat "$W/err.txt"
[ $rc -eq 1 ] || { echo "expected exit 1, got $rc"; exit 1; }
grep -q "non-finite" "$W/err.txt" || { echo "no clear message"; exit 1; }
grep -q '"skipped_step": 1' "$W/run/metrics.jsonl" || { echo "skipped steps not reported in the metrics"; exit 1; }
round=$(sed -n 's/.*"round":[^0-9]*\([0-9]*\).*/\1/p' "$W/run/checkpoint/state.json" | head -1)
[ -n "$round" ] && [ "$round" -lt 12 ] || { echo "no intact checkpoint"; exit 1; }
"$SEA" train --resume "$W/run" --max-rounds "$round" --quiet || { echo "the checkpoint does not load"; exit 1; }
rm -rf "$W"
echo "non-finite: skipped, reported, stopped at round $round with the checkpoint intact"
