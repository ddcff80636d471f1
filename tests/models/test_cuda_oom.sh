#!/bin/sh
# Out of device memory is an error that names the device and the sizes, never a crash or an
# abort: `sea generate` and `sea train` on the CUDA emulator (docs/cuda-emulator.md) with its
# device memory cut by SEA_CUDA_EMU_MEM_MB. 1 MiB fails at the stream (cuBLAS's 32 MiB
# workspace), 34 MiB at the model's activations, and 40 MiB is enough for generate but not
# for train (its evaluation decoding goes down to one sequence at a time and still does not
# fit beside the training state). Then 256 samples of one prompt (below).
# usage: test_cuda_oom.sh SEA EMULATOR_DIR REPO_ROOT WORKDIR
set -u
SEA=$1; EMU=$2; ROOT=$3; W=$4
run() { # MiB, ok|oom, command...
    mb=$1; want=$2; shift 2
    out=$(SEA_BACKEND_PATH=$EMU SEA_CUDA_EMU_MEM_MB=$mb "$@" 2>&1); rc=$?
    if [ "$want" = ok ]; then
        [ $rc -eq 0 ] || { echo "$mb MiB: expected success, got exit $rc: $out"; exit 1; }
    else
        [ $rc -eq 1 ] || { echo "$mb MiB: expected exit 1, got $rc: $out"; exit 1; }
        echo "$out" | grep -q 'cuda:0 (sea CUDA emulator (CPU)): out of memory allocating [0-9]* bytes' ||
            { echo "$mb MiB: no out-of-memory message naming the device and size: $out"; exit 1; }
    fi
    last="$out"
    echo "$mb MiB, $want: $(echo "$out" | tail -n 1 | cut -c1-200)"
}
generate() { "$SEA" generate --model "$ROOT/data/arith-sft" --device cuda:0 --prompt 12+7= --max-new-tokens 8 --temperature 0; }
rm -rf "$W"; mkdir -p "$W"
run 1 oom generate
run 34 oom generate
run 40 ok generate
run 40 oom "$SEA" train --policy "$ROOT/data/arith-sft" --prompt-data builtin:arith --oracle builtin:arith \
    --exp-method enn-baits --num-samples 4 --num-ensemble 4 --rm-hidden 16 --rm-batch 8 --batch-size 4 \
    --max-new-tokens 5 --max-rounds 2 --quiet --seed 1 --device cuda:0 --output-dir "$W/train"
# 256 samples of one prompt: with one prompt pass for all of them they fit in 40 MiB at
# once. With a prompt pass each (--prefill-each) they do not: generation redoes them 128 at a
# time and says so. Every way gives the same tokens (and, in halves, the same log-probs) as
# all at once with the memory to spare.
many() { "$SEA" generate --model "$ROOT/data/arith-sft" --device cuda:0 --prompt 12+7= --max-new-tokens 8 \
    --batch 256 --seed 3 --json "$@"; }
samples() { echo "$last" | grep '^{' | sed 's/"prompt_passes".*//'; }
run 64 ok many --prefill-each
echo "$last" | grep -q 'ran out of memory' && { echo "64 MiB, 256 samples: should fit at once: $last"; exit 1; }
echo "$last" | grep -q '"prompt_passes": 256,' || { echo "64 MiB, --prefill-each: not 256 prompt passes: $last"; exit 1; }
ref=$(samples)
run 40 ok many
echo "$last" | grep -q 'ran out of memory' && { echo "40 MiB, 256 samples sharing a prompt pass: should fit: $last"; exit 1; }
echo "$last" | grep -q '"prompt_passes": 1,' || { echo "40 MiB: not 1 prompt pass: $last"; exit 1; }
# the same tokens; the log-probs within 1e-5 (the shared prefix is a separate key segment of
# decode attention's online softmax, which can move the last bits)
ids() { echo "$1" | grep -o '"ids": \[[^]]*\]'; }
logps() { echo "$1" | grep -o '"logp": \[[^]]*\]' | sed 's/"logp": //' | tr -d '[] ' | tr ',' '\n'; }
[ "$(ids "$ref")" = "$(ids "$(samples)")" ] || { echo "256 samples with one prompt pass: other tokens than a pass each"; exit 1; }
logps "$ref" > "$W/ref.logp"; logps "$(samples)" > "$W/shared.logp"
worst=$(paste -d' ' "$W/ref.logp" "$W/shared.logp" | awk '{d = $1 - $2; if (d < 0) d = -d; if (d > m) m = d} END {print m + 0}')
awk -v w="$worst" 'BEGIN {exit !(w <= 1e-5)}' || { echo "256 samples with one prompt pass: log-probs differ by $worst"; exit 1; }
run 40 ok many --prefill-each
echo "$last" | grep -q 'sea: generate: 256 sequences at once ran out of memory; 128 at a time' ||
    { echo "40 MiB, --prefill-each: generation did not say it went to smaller batches: $last"; exit 1; }
[ "$ref" = "$(samples)" ] || { echo "256 samples in batches of 128 differ from all at once"; exit 1; }
rm -rf "$W"
echo "out of device memory: clear errors, no crash"
