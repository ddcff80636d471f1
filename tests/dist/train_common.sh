# Sourced by test_train_ranks.sh and test_train_roles.sh (args: SEA_BINARY WORKDIR): skips
# without mpirun, makes a fresh WORKDIR with an SFT policy, and sets SEA, W, HERE, MPI, COMMON
# (the training flags every run of both tests shares) and the helpers below.
SEA=$1
W=$2
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
command -v mpirun >/dev/null 2>&1 || { echo "mpirun not found: skip"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_rmaps_base_oversubscribe=1
MPI="mpirun --oversubscribe"
rm -rf "$W"
mkdir -p "$W"
"$SEA" sft --task arith --output-dir "$W/policy" --steps 40 --batch-size 32 --quiet >"$W/sft.log" 2>&1 || { cat "$W/sft.log"; exit 1; }
COMMON="--policy $W/policy --prompt-data builtin:arith --oracle builtin:arith --exp-method enn-baits \
 --num-samples 6 --num-ensemble 6 --rm-hidden 16 --rm-batch 16 --batch-size 12 --max-new-tokens 5 \
 --learning-rate 1e-3 --eval-every 2 --eval-n 24 --burn-in 2 --quiet --seed 5"

state_round() { # state_round DIR: the round of DIR's checkpoint (empty when there is none yet)
  sed -n 's/.*"round":[^0-9]*\([0-9]*\).*/\1/p' "$1/checkpoint/state.json" 2>/dev/null | head -1
}
rank_pid() { # rank_pid RANK DIR: the pid of the `sea` process of that MPI rank in the job writing
  # DIR (not one of another test's or another user's jobs running at the same time)
  for p in $(pgrep -x sea); do
    tr '\0' '\n' < /proc/$p/cmdline 2>/dev/null | grep -qxF -- "$2" || continue
    tr '\0' '\n' < /proc/$p/environ 2>/dev/null | grep -qx "OMPI_COMM_WORLD_RANK=$1" && { echo $p; return; }
  done
}
wait_round() { # wait_round DIR N: until DIR's checkpoint is at round >= N
  for _ in $(seq 1 1200); do
    r=$(state_round "$1")
    [ -n "$r" ] && [ "$r" -ge "$2" ] && return 0
    sleep 0.05
  done
  return 1
}
