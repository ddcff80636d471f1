#!/usr/bin/env bash
# run_mpi.sh NP BINARY [ARGS...]: run under mpirun as the CI machine allows (root, 2 cores).
# With EXPECT_ABORT=CODE: pass only if the job stops with a non-zero status within
# EXPECT_WITHIN s and its output contains EXPECT_TEXT (and not EXPECT_NOT_TEXT, when set). (The status is usually CODE, from
# MPI_Abort, but Open MPI 4.1's PMIx teardown sometimes crashes while it kills the job and
# mpirun then reports that instead; the job has stopped either way.)
set -u
np=$1; shift
command -v mpirun >/dev/null 2>&1 || { echo "mpirun not found: skip"; exit 77; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 OMPI_MCA_btl_vader_single_copy_mechanism=none
export OMPI_MCA_rmaps_base_oversubscribe=1
start=$(date +%s)
out=$(timeout 120 mpirun --oversubscribe -np "$np" "$@" 2>&1)
rc=$?
elapsed=$(( $(date +%s) - start ))
echo "$out"
echo "exit status $rc after ${elapsed}s"
if [[ -n "${EXPECT_ABORT:-}" ]]; then
  [[ $rc -ne 0 ]] || { echo "FAIL: expected the job to stop with a failure (status $EXPECT_ABORT)"; exit 1; }
  [[ $elapsed -le ${EXPECT_WITHIN:-30} ]] || { echo "FAIL: took ${elapsed}s (> ${EXPECT_WITHIN:-30}s)"; exit 1; }
  grep -q -- "${EXPECT_TEXT:-}" <<<"$out" || { echo "FAIL: output lacks '${EXPECT_TEXT:-}'"; exit 1; }
  if [[ -n "${EXPECT_NOT_TEXT:-}" ]] && grep -q -- "$EXPECT_NOT_TEXT" <<<"$out"; then
    echo "FAIL: output has '$EXPECT_NOT_TEXT'"; exit 1
  fi
  exit 0
fi
exit $rc
