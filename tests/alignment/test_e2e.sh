#!/bin/sh
# End to end on the built-in task: a tiny SFT policy, then a few rounds of every exploration
# method and every preference loss; each run must finish, write one metrics line per round
# (plus round 0), a summary and a plot, and stay on budget. Also: a judge program as the
# oracle, and a judge that dies mid-run must stop the run with a clear error and a usable
# checkpoint. usage: test_e2e.sh SEA_BINARY WORKDIR JUDGE_DIR
set -u
SEA=$1
W=$2
J=$3
rm -rf "$W"
mkdir -p "$W"
"$SEA" sft --task arith --output-dir "$W/policy" --steps 40 --batch-size 32 --quiet >"$W/sft.log" 2>&1 || { cat "$W/sft.log"; exit 1; }
[ -f "$W/policy/config.json" ] && [ -f "$W/policy/model.safetensors" ] && [ -f "$W/policy/tokenizer.json" ] || { echo "sft wrote no model"; exit 1; }
# activation recomputation changes memory, not results: the same weights bit for bit
"$SEA" sft --task arith --output-dir "$W/policy-rc" --steps 40 --batch-size 32 --quiet --recompute >"$W/sft-rc.log" 2>&1 || { cat "$W/sft-rc.log"; exit 1; }
cmp -s "$W/policy/model.safetensors" "$W/policy-rc/model.safetensors" || { echo "FAIL sft --recompute: weights differ from sft without it"; exit 1; }
BASE="--policy $W/policy --prompt-data builtin:arith --oracle builtin:arith --num-samples 4 --num-ensemble 4 \
 --rm-hidden 8 --rm-batch 8 --batch-size 6 --max-new-tokens 5 --learning-rate 1e-3 --eval-every 2 --eval-n 12 \
 --burn-in 1 --max-queries 30 --quiet"
fail=0
run() {
  name=$1; shift
  if ! "$SEA" train $BASE --output-dir "$W/$name" "$@" > "$W/$name.log" 2>&1; then
    echo "FAIL $name: $(cat "$W/$name.log")"; fail=1; return
  fi
  q=$(sed -n 's/.*"queries": \([0-9]*\).*/\1/p' "$W/$name/summary.json")
  r=$(sed -n 's/.*"rounds": \([0-9]*\).*/\1/p' "$W/$name/summary.json")
  lines=$(wc -l < "$W/$name/metrics.jsonl")
  [ -n "$q" ] && [ "$q" -le 30 ] || { echo "FAIL $name: queries '$q' over budget"; fail=1; }
  [ "$lines" -eq $((r + 1)) ] || { echo "FAIL $name: $lines metric lines for $r rounds"; fail=1; }
  [ -s "$W/$name/win_rate.svg" ] || { echo "FAIL $name: no plot"; fail=1; }
  echo "ok $name: $r rounds, $q queries"
}
run passive --exp-method passive
# the final policy as an HF directory: complete, loadable, and trained (not the SFT weights)
for f in config.json model.safetensors tokenizer.json; do
  [ -s "$W/passive/policy/$f" ] || { echo "FAIL passive: no policy/$f"; fail=1; }
done
[ -e "$W/passive/policy.tmp" ] && { echo "FAIL passive: policy.tmp left behind"; fail=1; }
cmp -s "$W/passive/policy/model.safetensors" "$W/policy/model.safetensors" && { echo "FAIL passive: the saved policy is the SFT policy"; fail=1; }
"$SEA" generate --model "$W/passive/policy" --prompt "1+2=" --greedy --max-new-tokens 4 > "$W/gen.log" 2>&1 ||
  { echo "FAIL passive: the saved policy does not generate: $(cat "$W/gen.log")"; fail=1; }
# --eval-only on the saved policy (references: the SFT policy's greedy answers, as in training)
# gives the win rate the training run measured at its end: the saved weights are the trained ones
if "$SEA" train $BASE --exp-method passive --eval-only --policy "$W/passive/policy" --ref "$W/policy" \
     --output-dir "$W/evalonly" > "$W/evalonly.log" 2>&1; then
  want=$(tail -n 1 "$W/passive/metrics.jsonl" | sed -n 's/.*"eval\/rm_win_rate": \([^,}]*\).*/\1/p')
  got=$(sed -n 's/.*"eval\/rm_win_rate": \([^,}]*\).*/\1/p' "$W/evalonly/metrics.jsonl")
  [ -n "$want" ] && [ "$got" = "$want" ] || { echo "FAIL eval-only: win rate '$got', the run ended at '$want'"; fail=1; }
  [ "$(wc -l < "$W/evalonly/metrics.jsonl")" -eq 1 ] || { echo "FAIL eval-only: it trained"; fail=1; }
  [ -e "$W/evalonly/policy" ] || [ -e "$W/evalonly/checkpoint" ] && { echo "FAIL eval-only: wrote a policy or checkpoint"; fail=1; }
else
  echo "FAIL eval-only: $(cat "$W/evalonly.log")"; fail=1
fi
run saves --exp-method passive --save-policy-every 2 --save-dtype bf16
grep -q '"torch_dtype": *"bfloat16"' "$W/saves/policy/config.json" || { echo "FAIL saves: --save-dtype bf16 not in config.json"; fail=1; }
a16=$(wc -c < "$W/saves/policy/model.safetensors"); a32=$(wc -c < "$W/passive/policy/model.safetensors")
[ $((a16 * 2)) -lt $((a32 + 4096)) ] || { echo "FAIL saves: bf16 weights $a16 bytes vs f32 $a32"; fail=1; }
[ -s "$W/saves/policy-round2/model.safetensors" ] && [ -s "$W/saves/policy-round2/tokenizer.json" ] ||
  { echo "FAIL saves: no policy-round2"; fail=1; }
run baits --exp-method enn-baits --gamma 0.7
run baits-oracle-label --exp-method enn-baits --gamma 0.5 --mixed-oracle-label
run baits-sigmoid --exp-method enn-baits --baits-sigmoid --gamma 1
run eets --exp-method enn-eets --explore-random-second --gamma 1
run uncertainty --exp-method enn-uncertainty --gamma 1
run enn-passive --exp-method enn-passive --gamma 1
run offline --exp-method offline
run apl --exp-method apl
run xpo --exp-method xpo
run ipo --exp-method passive --algo ipo
run slic --exp-method passive --algo slic
run simpo --exp-method passive --algo simpo
run concat --exp-method enn-baits --feature-concat
run sync3 --exp-method enn-baits --sync-params-every 3 --bt-sample --label-flip 0.1
# --count-identical: every pair shown costs a query, identical or not, so
# each round's queries equal its pairs; without it some rounds cost less than their pairs
run count-identical --exp-method passive --count-identical
awk -F'"misc/queries_this_round": ' 'NR > 1 { split($2, a, ","); q = a[1] + 0
  match($0, /"misc\/pairs": [0-9]+/); p = substr($0, RSTART + 14, RLENGTH - 14) + 0
  if (q != p) { print "round " NR - 1 ": " q " queries for " p " pairs"; bad = 1 } } END { exit bad }' \
  "$W/count-identical/metrics.jsonl" || { echo "FAIL count-identical: a round's queries differ from its pairs"; fail=1; }
awk -F'"misc/queries_this_round": ' 'NR > 1 { split($2, a, ","); q += a[1]
  match($0, /"misc\/pairs": [0-9]+/); p += substr($0, RSTART + 14, RLENGTH - 14) } END { exit !(q < p) }' \
  "$W/passive/metrics.jsonl" || { echo "FAIL passive: no identical pair went free (the test needs one)"; fail=1; }
printf '{"exp_method": "passive", "algo": "dpo", "max_queries": 12}\n' > "$W/cfg.json"
run config --config "$W/cfg.json"
q=$(sed -n 's/.*"queries": \([0-9]*\).*/\1/p' "$W/config/summary.json")
[ "$q" -le 12 ] || { echo "FAIL config: --config max_queries ignored ($q)"; fail=1; }

# the oracle as an external program: the built-in rule re-implemented by a shell judge
run judge --exp-method passive --oracle "judge:sh $J/judge_arith.sh"
cmp -s "$W/passive/metrics.jsonl" /dev/null && fail=1
a=$(sed -E 's/, "(timing|memory)\/[a-z_]+": [^,}]*//g' "$W/passive/metrics.jsonl" | md5sum)
b=$(sed -E 's/, "(timing|memory)\/[a-z_]+": [^,}]*//g' "$W/judge/metrics.jsonl" | md5sum)
[ "$a" = "$b" ] || { echo "FAIL judge: the judge run differs from the built-in oracle run"; fail=1; }
# ... and in a SEA run the same metrics as without it
run recompute --exp-method passive --recompute
c=$(sed -E 's/, "(timing|memory)\/[a-z_]+": [^,}]*//g' "$W/recompute/metrics.jsonl" | md5sum)
[ "$a" = "$c" ] || { echo "FAIL recompute: the run differs from the one without --recompute"; fail=1; }

# bf16 compute over f32 master weights: sft and a SEA run finish with finite metrics and no
# skipped (non-finite) steps, and a second run gives the same metrics bit for bit
"$SEA" sft --task arith --output-dir "$W/policy-bf16" --steps 20 --batch-size 32 --quiet --compute-dtype bf16 \
  >"$W/sft-bf16.log" 2>&1 || { echo "FAIL sft --compute-dtype bf16: $(cat "$W/sft-bf16.log")"; fail=1; }
[ -f "$W/policy-bf16/model.safetensors" ] || { echo "FAIL sft --compute-dtype bf16 wrote no model"; fail=1; }
run bf16 --exp-method enn-baits --compute-dtype bf16
run bf16-again --exp-method enn-baits --compute-dtype bf16
grep -qiE 'nan|inf|"skipped_step": [1-9]' "$W/bf16/metrics.jsonl" && { echo "FAIL bf16: non-finite metrics"; fail=1; }
d=$(sed -E 's/, "(timing|memory)\/[a-z_]+": [^,}]*//g' "$W/bf16/metrics.jsonl" | md5sum)
e=$(sed -E 's/, "(timing|memory)\/[a-z_]+": [^,}]*//g' "$W/bf16-again/metrics.jsonl" | md5sum)
[ "$d" = "$e" ] || { echo "FAIL bf16: two runs with the same seed differ"; fail=1; }
"$SEA" train $BASE --output-dir "$W/bad3" --compute-dtype f16 > "$W/bad3.log" 2>&1 && { echo "FAIL: --compute-dtype f16 accepted"; fail=1; }

# a judge that dies after a few answers: clear error, exit 1, checkpoint left usable
if "$SEA" train $BASE --output-dir "$W/dies" --exp-method passive --oracle "judge:sh $J/judge_dies.sh 40" > "$W/dies.log" 2>&1; then
  echo "FAIL dies: a dying judge did not stop the run"; fail=1
fi
grep -q "judge_dies.sh" "$W/dies.log" && grep -q "exited with status 3" "$W/dies.log" || { echo "FAIL dies: message: $(cat "$W/dies.log")"; fail=1; }
[ -f "$W/dies/checkpoint/state.json" ] || { echo "FAIL dies: no checkpoint"; fail=1; }
[ "$(wc -l < "$W/dies/oracle.jsonl")" -ge 2 ] || { echo "FAIL dies: answers given before dying were not logged"; fail=1; }

# bad input is reported, not crashed on
"$SEA" train $BASE --output-dir "$W/bad" --exp-method bogus > "$W/bad.log" 2>&1 && { echo "FAIL: bogus method accepted"; fail=1; }
grep -q "bogus" "$W/bad.log" || { echo "FAIL: message does not name the bad method"; fail=1; }
"$SEA" train $BASE --output-dir "$W/bad2" --policy "$W/nope" > "$W/bad2.log" 2>&1 && { echo "FAIL: missing policy accepted"; fail=1; }
# prompt + response must fit the policy's 32 positions: too many new tokens is refused; prompts
# longer than the room left keep their last tokens, and the summary counts them
"$SEA" train $BASE --output-dir "$W/bad4" --max-new-tokens 40 > "$W/bad4.log" 2>&1 && { echo "FAIL: 40 new tokens in 32 positions accepted"; fail=1; }
grep -q "max_position_embeddings" "$W/bad4.log" || { echo "FAIL: message does not name the positions: $(cat "$W/bad4.log")"; fail=1; }
printf '{"prompt": "1+2="}\n{"prompt": "9+9=9+9=9+9=9+9=9+9=9+9=9+9=12+3="}\n{"prompt": "4+4="}\n' > "$W/long.jsonl"
if "$SEA" train $BASE --prompt-data "$W/long.jsonl" --oracle "judge:sh $J/judge_len.sh" --exp-method passive \
     --output-dir "$W/long" > "$W/long.log" 2>&1; then
  grep -q '"truncated_prompts": 1,' "$W/long/summary.json" || { echo "FAIL long: $(grep truncated "$W/long/summary.json")"; fail=1; }
else
  echo "FAIL long: $(cat "$W/long.log")"; fail=1
fi
# sft on a JSONL corpus from an existing policy: writes a model that generates; examples longer
# than the 32 positions are cut to fit (the prompt keeps its end) and counted
{ printf '{"prompt": "1+2=", "response": "3"}\n{"prompt": "4+5=", "response": "9"}\n'
  printf '{"prompt": "9+9=9+9=9+9=9+9=9+9=9+9=9+9=9+9=9+9=1+2=", "response": "3"}\n'
  printf '{"prompt": "1+2=", "response": "3333333333333333333333333333333333333333"}\n'; } > "$W/sft.jsonl"
if "$SEA" sft --policy "$W/policy" --data "$W/sft.jsonl" --output-dir "$W/sft-jsonl" --steps 5 --batch-size 4 > "$W/sft-jsonl.log" 2>&1; then
  grep -q "2 of 4 examples are longer than the policy's 32 positions" "$W/sft-jsonl.log" || { echo "FAIL sft jsonl: $(cat "$W/sft-jsonl.log")"; fail=1; }
  "$SEA" generate --model "$W/sft-jsonl" --prompt "1+2=" --greedy --max-new-tokens 4 > "$W/sft-gen.log" 2>&1 ||
    { echo "FAIL sft jsonl: its model does not generate: $(cat "$W/sft-gen.log")"; fail=1; }
else
  echo "FAIL sft jsonl: $(cat "$W/sft-jsonl.log")"; fail=1
fi
[ $fail -eq 0 ] && rm -rf "$W"
exit $fail
