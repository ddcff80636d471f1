#!/bin/sh
# Test judge: answers the first request, then prose instead of JSON.
read -r line
id=$(printf '%s\n' "$line" | sed 's/^{"id":\([0-9]*\),.*/\1/')
printf '{"id":%s,"score":2.5}\n' "$id"
while read -r line; do echo "I think the first one is better"; done
