#!/bin/sh
# `sea demo` on a small budget: both methods over two seeds (3 and 4, --first-seed), a table
# and a plot; each run is an ordinary `sea train` run: its config.json, given back to
# `sea train`, reproduces its metrics bit for bit (timings aside); bad arguments exit 2.
# usage: test_demo.sh SEA_BINARY WORKDIR POLICY_DIR
set -u
SEA=$1
W=$2
P=$3
rm -rf "$W"
mkdir -p "$W"
fail=0
"$SEA" demo --policy "$P" --seeds 2 --first-seed 3 --max-queries 48 --output-dir "$W/demo" --quiet >"$W/demo.log" 2>&1 ||
  { echo "FAIL: demo exited $?: $(cat "$W/demo.log")"; exit 1; }
for d in dpo-seed3 dpo-seed4 sea-seed3 sea-seed4; do
  [ -s "$W/demo/$d/metrics.jsonl" ] && [ -s "$W/demo/$d/config.json" ] || { echo "FAIL: no run $d"; fail=1; }
done
[ -e "$W/demo/dpo-seed1" ] && { echo "FAIL: --first-seed 3 ran seed 1"; fail=1; }
grep -q "over 2 seeds (3..4)" "$W/demo/demo.md" || { echo "FAIL: demo.md does not name the seeds"; fail=1; }
grep -q "^| online DPO (passive) | " "$W/demo/demo.md" && grep -q "^| SEA (enn-baits + mixed" "$W/demo/demo.md" ||
  { echo "FAIL: demo.md lacks a method's row:"; cat "$W/demo/demo.md"; fail=1; }
grep -q "<polyline" "$W/demo/demo.svg" || { echo "FAIL: no curve in demo.svg"; fail=1; }
strip() { sed -E 's/, "(timing|memory)\/[a-z_]+": [^,}]*//g' "$1"; }
for d in dpo-seed4 sea-seed3; do
  "$SEA" train --config "$W/demo/$d/config.json" --output-dir "$W/again-$d" --quiet >"$W/again.log" 2>&1 ||
    { echo "FAIL: sea train --config $d/config.json: $(cat "$W/again.log")"; fail=1; continue; }
  strip "$W/demo/$d/metrics.jsonl" > "$W/a.txt"
  strip "$W/again-$d/metrics.jsonl" > "$W/b.txt"
  cmp -s "$W/a.txt" "$W/b.txt" || { echo "FAIL: $d differs when re-run from its config.json"; diff "$W/a.txt" "$W/b.txt" | head -5; fail=1; }
done
for bad in "--seeds 0" "--seeds 65" "--seeds abc" "--first-seed 0" "--max-queries 0" "--max-queries 1e3" "--bogus 1"; do
  "$SEA" demo --policy "$P" $bad --output-dir "$W/bad" >"$W/bad.log" 2>&1
  rc=$?
  [ $rc -eq 2 ] || { echo "FAIL: demo $bad exited $rc, expected 2"; fail=1; }
done
[ $fail -eq 0 ] && rm -rf "$W" && echo "demo: ok"
exit $fail
