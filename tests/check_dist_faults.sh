#!/usr/bin/env bash
# A rank that stops ends the whole data-parallel job, with a message,
# within a bounded time (tests/dist_fault.c): killed, mpirun sees it die
# and ends the others; failed, it calls tg_dist_abort (MPI_Abort). Each run
# is given 60 s (timeout) and must end well within them, non-zero.
# Then examples/train_ddp given no data: its ranks abort the job.
# Usage: check_dist_faults.sh MPIEXEC DIST_FAULT TRAIN_DDP
set -uo pipefail
mpiexec=$1 program=$2 train_ddp=$3
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0 failed=0
check() { # mode, the number of ranks, text the output must hold, then the command
    local mode=$1 ranks=$2 want=$3 start end rc seconds
    shift 3
    start=$(date +%s%N)
    timeout 60 "$mpiexec" -np "$ranks" --oversubscribe "$@" >"$work/log" 2>&1
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
check kill 2 "exited on signal 9" "$program" kill
check kill 3 "exited on signal 9" "$program" kill
check abort 2 "rank 1: .*/nonexistent/model.safetensors" "$program" abort
# The rank's own message: Open MPI's help text about MPI_ABORT is not
# always printed (its show_help can fail under load, "Out of resource").
check abort 3 "rank 1: .*/nonexistent/model.safetensors" "$program" abort
check "train_ddp without data" 2 "train_ddp: rank [01]: loading the data" "$train_ddp" --data /nonexistent
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
