#!/bin/sh
# The built-in arithmetic rule as an external judge: -min(|y - (a+b)|, 9), malformed -12.
while IFS= read -r line; do
  id=$(printf '%s\n' "$line" | sed 's/^{"id":\([0-9]*\),.*/\1/')
  a=$(printf '%s\n' "$line" | sed 's/.*"prompt":"\([0-9]*\)+.*/\1/')
  b=$(printf '%s\n' "$line" | sed 's/.*"prompt":"[0-9]*+\([0-9]*\)=".*/\1/')
  r=$(printf '%s\n' "$line" | sed 's/.*,"response":"\(.*\)"}$/\1/')
  case "$r" in
    ''|*[!0-9]*) s=-12 ;;
    *) if [ ${#r} -gt 4 ]; then s=-12; else
         e=$(( $(printf '%s' "$r" | sed 's/^0*\(.\)/\1/') - a - b )); [ $e -lt 0 ] && e=$(( -e )); [ $e -gt 9 ] && e=9; s=$(( -e ))
       fi ;;
  esac
  printf '{"id":%s,"score":%d}\n' "$id" "$s"
done
