#!/bin/sh
# "No cudaMalloc in the steady state" (docs/cuda.md), checked on the CUDA emulator
# (docs/cuda-emulator.md), which counts cudaMalloc calls: one DPO step and 8 decode steps,
# then two DPO steps and 24 decode steps, must make no more cudaMalloc calls than the short
# run: the extra steps run on blocks the caching allocator already holds. (It may make fewer:
# the decode steps' temporaries differ with the number of keys, and a block a longer run frees
# can serve a later request of the same size class that the short run had to allocate.)
# f32 and bf16 compute.
# usage: test_cuda_steady_alloc.sh BENCH_MODELS EMULATOR_DIR
set -u
BM=$1; EMU=$2
for dt in f32 bf16; do
  counts=""
  for run in "--steps 1 --new 8" "--steps 2 --new 24"; do
    # shellcheck disable=SC2086
    line=$(SEA_BACKEND_PATH=$EMU SEA_CUDA_EMU_STATS=1 "$BM" --model tiny-8m --device cuda:0 --dtype $dt \
           --pairs 2 --seq 32 --batch 2 --prompt 8 $run 2>&1 >/dev/null | grep '^sea CUDA emulator: .* cudaMalloc,')
    [ -n "$line" ] || { echo "$dt $run: no emulator statistics (did bench_models fail?)"; exit 1; }
    echo "$dt $run: $line"
    counts="$counts $(echo "$line" | sed 's/.*: \([0-9]*\) cudaMalloc.*/\1/')"
  done
  set -- $counts
  [ "$2" -le "$1" ] || { echo "$dt: $1 cudaMalloc calls for the short run, $2 for the long one"; exit 1; }
done
echo "no cudaMalloc in the steady state (f32, bf16)"
