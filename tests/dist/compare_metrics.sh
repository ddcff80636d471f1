#!/bin/sh
# compare_metrics.sh A.jsonl B.jsonl [RTOL]: the same keys in the same order on every line, and
# every number equal within floating-point tolerance (|a-b| <= 1e-6 + RTOL |a|, RTOL 1e-4);
# timing/*, memory/* and misc/ranks, misc/actors are ignored (wall times and memory describe the
# machine; the last two the process layout itself).
awk -v rtol="${3:-1e-4}" '
function fail(msg) { print "line " FNR ": " msg; bad = 1; exit 1 }
NR == FNR { a[FNR] = $0; n = FNR; next }
{
  if (!(FNR in a)) fail("extra line in the second file")
  la = a[FNR]; lb = $0
  gsub(/[{}]/, "", la); gsub(/[{}]/, "", lb)
  na = split(la, pa, ", "); nb = split(lb, pb, ", ")
  if (na != nb) fail("different number of fields: " na " vs " nb)
  for (i = 1; i <= na; i++) {
    split(pa[i], ka, ": "); split(pb[i], kb, ": ")
    if (ka[1] != kb[1]) fail("key " ka[1] " vs " kb[1])
    if (ka[1] ~ /(timing|memory)\// || ka[1] ~ /misc\/(ranks|actors)/) continue
    if (ka[2] == kb[2]) continue
    if (ka[2] == "null" || kb[2] == "null") fail(ka[1] ": " ka[2] " vs " kb[2])
    d = ka[2] - kb[2]; if (d < 0) d = -d
    m = ka[2]; if (m < 0) m = -m
    if (d > 1e-6 + rtol * m) fail(ka[1] ": " ka[2] " vs " kb[2])
  }
  seen = FNR
}
END { if (!bad && seen != n) { print "the second file has " seen " lines, the first " n; exit 1 } }
' "$1" "$2"
