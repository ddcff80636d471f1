#!/bin/bash
# SEA over MPI with dedicated actor and learner ranks (--actors K) on the CPU:
#  1. equivalence: the same seed and global batch on 1 process, -np 2 --actors 1 and
#     -np 3 --actors 1 (two learners: --micro-pairs 4 gives each some of the 12 pairs) give the
#     same metrics within floating-point tolerance (compare_metrics.sh), with the role timings;
#  2. checkpoints hold no per-rank state: a role run stopped after round 3 (--kill-after-rounds)
#     and resumed with another layout ends with the 1-process run's metrics;
#  3. a hung learner (SIGSTOP) is named within a bounded time, and not the learner leader that
#     waits on it; the run resumes with another layout;
#  4. a hung actor is named, and not the ranks waiting on it; the run resumes on one process.
# usage: test_train_roles.sh SEA_BINARY WORKDIR
set -u
. "$(dirname "$0")/train_common.sh"
COMMON="$COMMON --micro-pairs 4"

# 1. equivalence
"$SEA" train $COMMON --max-rounds 6 --output-dir "$W/r1" || { echo "1-process run failed"; exit 1; }
for layout in "2 1" "3 1"; do
  set -- $layout
  d="$W/np$1a$2"
  timeout 300 $MPI -np $1 "$SEA" train $COMMON --max-rounds 6 --actors $2 --output-dir "$d" ||
    { echo "-np $1 --actors $2 failed"; exit 1; }
  "$HERE/compare_metrics.sh" "$W/r1/metrics.jsonl" "$d/metrics.jsonl" || { echo "-np $1 --actors $2 differs from 1 process"; exit 1; }
  grep -q '"misc/actors": '$2 "$d/metrics.jsonl" || { echo "metrics do not report $2 actors"; exit 1; }
  for k in timing/rollout_send timing/learner_wait timing/broadcast timing/learn; do
    grep -q '"'$k'": [0-9]' "$d/metrics.jsonl" || { echo "no $k in -np $1 --actors $2"; exit 1; }
  done
done
# two learners share the step: the all-reduce among them ran
grep -q '"timing/allreduce": [1-9]' "$W/np3a1/metrics.jsonl" || grep -q '"timing/allreduce": 0\.0*[1-9]' "$W/np3a1/metrics.jsonl" ||
  { echo "-np 3 --actors 1: no all-reduce among the two learners"; exit 1; }
echo "equivalence: 1 process, -np 2 --actors 1 and -np 3 --actors 1 agree"

# one process cannot have actors: a resumed role run says so
"$SEA" train --resume "$W/np2a1" --max-rounds 7 --quiet 2>"$W/one.log"
[ $? -eq 2 ] && grep -q -- "--actors 1 needs at least 2 ranks" "$W/one.log" || { echo "no clear error for --actors on one process"; cat "$W/one.log"; exit 1; }

# 2. stopped after round 3 with roles, resumed with another layout: the 1-process metrics
timeout 300 $MPI -np 3 "$SEA" train $COMMON --max-rounds 6 --actors 1 --kill-after-rounds 3 --output-dir "$W/stop" >"$W/stop.log" 2>&1
[ "$(state_round "$W/stop")" = 2 ] || { echo "stopped run: checkpoint at round $(state_round "$W/stop"), want 2"; cat "$W/stop.log"; exit 1; }
timeout 300 $MPI -np 3 "$SEA" train --resume "$W/stop" --actors 2 ||
  { echo "resume with -np 3 --actors 2 failed"; exit 1; }
"$HERE/compare_metrics.sh" "$W/r1/metrics.jsonl" "$W/stop/metrics.jsonl" || { echo "resumed role run differs from 1 process"; exit 1; }
echo "checkpoint: -np 3 --actors 1 stopped after round 3, resumed as -np 3 --actors 2: same metrics"

# hang NP ACTORS RANK NAME: SIGSTOP world rank RANK of a role run; the job must stop within
# 30 s naming it and no other rank
hang() {
  local d="$W/$4"
  SEA_DIST_TIMEOUT=4 timeout 120 $MPI -np $1 "$SEA" train $COMMON --max-rounds 100000 --actors $2 --output-dir "$d" >"$d.log" 2>&1 &
  local job=$!
  wait_round "$d" 2 || { echo "$4: never checkpointed"; cat "$d.log"; return 1; }
  local pid
  pid=$(rank_pid $3 "$d")
  [ -n "$pid" ] || { echo "$4: could not find rank $3"; return 1; }
  local t0
  t0=$(date +%s)
  kill -STOP "$pid"
  wait $job
  local rc=$? dt=$(( $(date +%s) - t0 ))
  kill -9 "$pid" 2>/dev/null
  grep "did not" "$d.log"
  [ $rc -ne 0 ] || { echo "$4: job with a hung rank exited 0"; return 1; }
  [ $dt -le 30 ] || { echo "$4: took ${dt}s to stop after rank $3 hung"; return 1; }
  grep -q "rank $3 did not reach" "$d.log" || { echo "$4: the message does not name rank $3"; cat "$d.log"; return 1; }
  for ((o = 0; o < $1; o++)); do
    [ $o -eq $3 ] && continue
    ! grep -q "rank $o did not reach" "$d.log" || { echo "$4: rank $o, which waited on rank $3, was blamed"; return 1; }
  done
  echo "$4: rank $3 hung, named, job stopped after ${dt}s"
}

# 3. a hung learner (rank 2 of 1 actor + 2 learners): the leader (rank 1) waits on it
hang 3 1 2 hung-learner || exit 1
done_round=$(state_round "$W/hung-learner")
timeout 300 $MPI -np 2 "$SEA" train --resume "$W/hung-learner" --max-rounds $((done_round + 2)) ||
  { echo "resume of the hung-learner run on -np 2 --actors 1 failed"; exit 1; }

# 4. a hung actor (rank 1 of 2 actors + 1 learner): rank 0 and the learner wait on it
hang 3 2 1 hung-actor || exit 1
done_round=$(state_round "$W/hung-actor")
"$SEA" train --resume "$W/hung-actor" --actors 0 --max-rounds $((done_round + 2)) --quiet ||
  { echo "resume of the hung-actor run on one process failed"; exit 1; }
echo "hung ranks: named; runs resumed on other layouts"
rm -rf "$W"
echo "dist train roles: ok"
