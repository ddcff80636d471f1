#!/bin/sh
# Test judge: a score that is not a number.
while read -r line; do
  id=$(printf '%s\n' "$line" | sed 's/^{"id":\([0-9]*\),.*/\1/')
  printf '{"id":%s,"score":"high"}\n' "$id"
done
