#!/bin/bash
# SEA over MPI on the CPU (issue: multi-process runs).
#  1. equivalence: the same seed and global batch on 1, 2 and 3 ranks give the same metrics
#     within floating-point tolerance (compare_metrics.sh);
#  2. a hung rank (SIGSTOP) stops the job within a bounded time with a message naming it, the
#     checkpoint stays intact, and the run resumes on a different number of ranks;
#  3. a rank killed with kill -9 stops the job (Open MPI names it) and the run resumes.
# usage: test_train_ranks.sh SEA_BINARY WORKDIR
set -u
. "$(dirname "$0")/train_common.sh"

# 1. equivalence
"$SEA" train $COMMON --max-rounds 6 --output-dir "$W/r1" || { echo "1-process run failed"; exit 1; }
for np in 2 3; do
  timeout 300 $MPI -np $np "$SEA" train $COMMON --max-rounds 6 --output-dir "$W/r$np" || { echo "$np-rank run failed"; exit 1; }
  "$HERE/compare_metrics.sh" "$W/r1/metrics.jsonl" "$W/r$np/metrics.jsonl" || { echo "$np ranks differ from 1 process"; exit 1; }
  grep -q '"misc/ranks": '$np "$W/r$np/metrics.jsonl" || { echo "metrics do not report $np ranks"; exit 1; }
  grep -q '"timing/broadcast"' "$W/r$np/metrics.jsonl" || { echo "no timing/broadcast"; exit 1; }
done
echo "equivalence: 1, 2 and 3 ranks agree"

# 2. a hung rank
SEA_DIST_TIMEOUT=4 timeout 120 $MPI -np 2 "$SEA" train $COMMON --max-rounds 100000 --output-dir "$W/hang" >"$W/hang.log" 2>&1 &
job=$!
wait_round "$W/hang" 2 || { echo "hang run never checkpointed"; cat "$W/hang.log"; exit 1; }
pid=$(rank_pid 1 "$W/hang")
[ -n "$pid" ] || { echo "could not find rank 1"; exit 1; }
t0=$(date +%s)
kill -STOP "$pid"
wait $job
rc=$?
dt=$(( $(date +%s) - t0 ))
kill -9 "$pid" 2>/dev/null
cat "$W/hang.log"
[ $rc -ne 0 ] || { echo "job with a hung rank exited 0"; exit 1; }
[ $dt -le 30 ] || { echo "job took ${dt}s to stop after rank 1 hung"; exit 1; }
grep -q "rank 1 did not reach" "$W/hang.log" || { echo "the message does not name rank 1"; exit 1; }
done_round=$(state_round "$W/hang")
timeout 300 $MPI -np 3 "$SEA" train --resume "$W/hang" --max-rounds $((done_round + 2)) --quiet ||
  { echo "resume on 3 ranks after a hang failed"; exit 1; }
echo "hung rank: stopped after ${dt}s, resumed on 3 ranks from round $done_round"

# 3. a rank killed with kill -9
timeout 120 $MPI -np 3 "$SEA" train $COMMON --max-rounds 100000 --output-dir "$W/k9" >"$W/k9.log" 2>&1 &
job=$!
wait_round "$W/k9" 2 || { echo "kill run never checkpointed"; cat "$W/k9.log"; exit 1; }
pid=$(rank_pid 2 "$W/k9")
[ -n "$pid" ] || { echo "could not find rank 2"; exit 1; }
t0=$(date +%s)
kill -9 "$pid"
wait $job
rc=$?
dt=$(( $(date +%s) - t0 ))
tail -5 "$W/k9.log"
[ $rc -ne 0 ] || { echo "job with a killed rank exited 0"; exit 1; }
[ $dt -le 30 ] || { echo "job took ${dt}s to stop after rank 2 died"; exit 1; }
grep -qi "rank 2" "$W/k9.log" || { echo "nothing names rank 2"; exit 1; }
done_round=$(state_round "$W/k9")
"$SEA" train --resume "$W/k9" --max-rounds $((done_round + 2)) --quiet || { echo "resume on 1 process after kill -9 failed"; exit 1; }
echo "killed rank: stopped after ${dt}s, resumed on 1 process from round $done_round"
rm -rf "$W"
echo "dist train: ok"
