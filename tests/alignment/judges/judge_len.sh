#!/bin/sh
# Test judge: score = length in bytes of the response as written in the JSON line
# (escapes count as written).
while IFS= read -r line; do
  id=$(printf '%s\n' "$line" | sed 's/^{"id":\([0-9]*\),.*/\1/')
  r=$(printf '%s\n' "$line" | sed 's/.*,"response":"\(.*\)"}$/\1/')
  printf '{"id":%s,"score":%d}\n' "$id" "${#r}"
done
