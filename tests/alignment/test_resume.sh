#!/bin/sh
# Resume == uninterrupted: a run stopped after round 3 (right after its metrics line, before
# that round's checkpoint, as a kill would) and resumed must write the same metrics.jsonl as
# a run that was never stopped, timings aside. Then the same with a real kill -9 at a random
# moment. usage: test_resume.sh SEA_BINARY WORKDIR
set -u
SEA=$1
W=$2
rm -rf "$W"
mkdir -p "$W"
"$SEA" sft --task arith --output-dir "$W/policy" --steps 40 --batch-size 32 --quiet >"$W/sft.log" 2>&1 || { cat "$W/sft.log"; exit 1; }
COMMON="--policy $W/policy --prompt-data builtin:arith --oracle builtin:arith --exp-method enn-baits \
 --num-samples 6 --num-ensemble 6 --rm-hidden 16 --rm-batch 16 --batch-size 8 --max-new-tokens 5 \
 --learning-rate 1e-3 --eval-every 2 --eval-n 24 --burn-in 2 --max-rounds 7 --max-queries 1000 --quiet --seed 5"
strip() { sed -E 's/, "(timing|memory)\/[a-z_]+": [^,}]*//g' "$1"; }

"$SEA" train $COMMON --output-dir "$W/full" || { echo "uninterrupted run failed"; exit 1; }
"$SEA" train $COMMON --output-dir "$W/cut" --kill-after-rounds 3
rc=$?
[ $rc -eq 3 ] || { echo "stopped run: exit $rc, expected 3"; exit 1; }
[ "$(wc -l < "$W/cut/metrics.jsonl")" -eq 4 ] || { echo "stopped run: expected 4 metric lines"; exit 1; }
"$SEA" train --resume "$W/cut" --quiet || { echo "resume failed"; exit 1; }
strip "$W/full/metrics.jsonl" > "$W/a.txt"
strip "$W/cut/metrics.jsonl" > "$W/b.txt"
if ! cmp -s "$W/a.txt" "$W/b.txt"; then
  echo "resumed metrics differ from the uninterrupted run:"; diff "$W/a.txt" "$W/b.txt" | head -20; exit 1
fi
[ "$(wc -l < "$W/a.txt")" -eq 8 ] || { echo "expected 8 metric lines"; exit 1; }

# kill -9 at some moment after the first checkpoint, then resume
"$SEA" train $COMMON --output-dir "$W/k9" &
pid=$!
i=0
while [ ! -f "$W/k9/checkpoint/state.json" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.$(( $$ % 9 + 1 ))
kill -9 $pid 2>/dev/null
wait $pid 2>/dev/null
"$SEA" train --resume "$W/k9" --quiet || { echo "resume after kill -9 failed"; exit 1; }
strip "$W/k9/metrics.jsonl" > "$W/c.txt"
if ! cmp -s "$W/a.txt" "$W/c.txt"; then
  echo "metrics after kill -9 + resume differ:"; diff "$W/a.txt" "$W/c.txt" | head -20; exit 1
fi
# SIGTERM (a scheduler's time limit): the round in progress finishes and is checkpointed, the
# process exits 143 with no final policy, and --resume gives the uninterrupted run's metrics
LONG="$COMMON --max-rounds 40 --eval-every 5"
LONG=$(echo "$LONG" | sed 's/--max-rounds 7 //')
"$SEA" train $LONG --output-dir "$W/long" || { echo "uninterrupted 40-round run failed"; exit 1; }
"$SEA" train $LONG --output-dir "$W/term" 2>"$W/term.log" &
pid=$!
i=0
while [ ! -f "$W/term/checkpoint/state.json" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 143 ] || { echo "SIGTERM: exit $rc, expected 143 (stopped and checkpointed): $(cat "$W/term.log")"; exit 1; }
grep -q "continue with sea train --resume" "$W/term.log" || { echo "SIGTERM: no resume hint: $(cat "$W/term.log")"; exit 1; }
done_rounds=$(($(wc -l < "$W/term/metrics.jsonl") - 1))
[ $done_rounds -lt 40 ] || { echo "SIGTERM: the run was not stopped early"; exit 1; }
grep -q "\"round\":[^0-9]*$done_rounds," "$W/term/checkpoint/state.json" ||
  { echo "SIGTERM: checkpoint is not at the last finished round $done_rounds"; exit 1; }
[ -f "$W/term/summary.json" ] && [ ! -e "$W/term/policy" ] || { echo "SIGTERM: want summary.json and no final policy"; exit 1; }
"$SEA" train --resume "$W/term" --quiet || { echo "resume after SIGTERM failed"; exit 1; }
strip "$W/long/metrics.jsonl" > "$W/a40.txt"
strip "$W/term/metrics.jsonl" > "$W/b40.txt"
cmp -s "$W/a40.txt" "$W/b40.txt" || { echo "metrics after SIGTERM + resume differ:"; diff "$W/a40.txt" "$W/b40.txt" | head -10; exit 1; }

# A damaged checkpoint or metrics file: a clear error naming what is wrong, exit 1 (no crash),
# and the checkpoint left as it was.
bad() {   # bad NAME EXPECTED-TEXT: resume "$W/full" as it is now, expecting an error
  cp -r "$W/full/checkpoint" "$W/before"
  "$SEA" train --resume "$W/full" --quiet >"$W/bad.log" 2>&1
  rc=$?
  [ $rc -eq 1 ] || { echo "$1: resume exit $rc, expected 1:"; cat "$W/bad.log"; exit 1; }
  grep -q -- "$2" "$W/bad.log" || { echo "$1: error does not say '$2':"; cat "$W/bad.log"; exit 1; }
  diff -r "$W/before" "$W/full/checkpoint" >/dev/null || { echo "$1: the failed resume changed the checkpoint"; exit 1; }
  rm -rf "$W/before"
}
S=$W/full/checkpoint/state.json
cp "$S" "$W/state.good"
sed -i 's/"pos":[^,]*,/"pos": -5,/' "$S"
bad "negative data position" "field 'pos' must be an integer"
sed 's/"evals":.*/"evals": [1]}/' "$W/state.good" > "$S"
bad "malformed evaluation history" "evals\[0\] must be a \[queries, win rate\] pair"
head -c 100 "$W/state.good" > "$S"
bad "truncated state.json" "not a JSON object"
cp "$W/state.good" "$S"
cp "$W/full/metrics.jsonl" "$W/metrics.good"
head -c 50 "$W/metrics.good" > "$W/full/metrics.jsonl"
bad "metrics.jsonl cut short" "but the checkpoint covers"
[ "$(wc -c < "$W/full/metrics.jsonl")" -eq 50 ] || { echo "the refused resume changed metrics.jsonl"; exit 1; }

rm -rf "$W"
echo "resume: ok"
