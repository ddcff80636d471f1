#!/bin/sh
# Test judge: answers $1 (default 2) requests, then exits with status 3.
n=0
while read -r line; do
  id=$(printf '%s\n' "$line" | sed 's/^{"id":\([0-9]*\),.*/\1/')
  printf '{"id":%s,"score":1}\n' "$id"
  n=$((n + 1))
  [ $n -ge "${1:-2}" ] && exit 3
done
