#!/usr/bin/env bash
# A rank that stops ends the whole data-parallel job, with a message,
# within a bounded time (tests/dist_fault.c): killed, mpirun sees it die
# and ends the others; failed, it calls tg_dist_abort (MPI_Abort). Each run
# is given 60 s (timeout) and must end well within them, non-zero.
# Usage: check_dist_faults.sh MPIEXEC DIST_FAULT
set -uo pipefail
mpiexec=$1 program=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { # mode, the number of ranks, then text the output must hold
    local mode=$1 ranks=$2 want=$3 start end rc seconds
    start=$(date +%s%N)
    timeout 60 "$mpiexec" -np "$ranks" --oversubscribe "$program" "$mode" >"$work/log" 2>&1
    rc=$?
    end=$(date +%s%N)
    seconds=$(awk -v ns=$((end - start)) 'BEGIN { printf "%.2f", ns / 1e9 }')
    if [ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && awk -v s="$seconds" 'BEGIN { exit !(s < 30) }' &&
        grep -q "$want" "$work/log"; then
        echo "ok   $mode, $ranks ranks: the job ended in $seconds s with status $rc"
        passed=$((passed + 1))
    else
        echo "FAIL $mode, $ranks ranks: status $rc after $seconds s (124: still running at 60 s)"
        cat "$work/log"
        failed=$((failed + 1))
    fi
}
check kill 2 "exited on signal 9"
check kill 3 "exited on signal 9"
check abort 2 "rank 1: .*/nonexistent/model.safetensors"
check abort 3 "MPI_ABORT was invoked on rank 1"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
