#!/usr/bin/env bash
# The checks that need clang, run by CI after the suite:
#   fuzz  each fuzz target of tests/fuzz/ for FUZZ_SECONDS (default 60)
#         under ASan+UBSan, from the seeds the library writes (and
#         tests/fuzz/<target>.dict, libFuzzer's dictionary, if any); an input
#         that breaks a promise is kept as tests/fuzz/crashes/<target>-crash-*
#         (commit it: the suite replays every file there) and fails.
#   tsan  tests/test_threads.c built with ThreadSanitizer, with both
#         matrix-product backends.
#   web   the teaching page built with emscripten and driven in Debian's
#         Chromium (tests/web/run.sh); skipped, with a message, where
#         emscripten or chromium cannot be installed.
#   nofiles  the library built with -Dfile_formats=false (and MPI when
#         found): it links, and tests/no_file_formats.c finds its saves and
#         loads, the dist ones under mpirun -np 2, failing with the message.
# Usage: tests/extra_checks.sh [fuzz|tsan|web|nofiles]... (all by default). Each check
# prints "ok" or "FAIL" and its figures; the last line is "N passed, N failed".
# The programs' own output goes to the build folders' extra-*.log files.
set -uo pipefail
cd "$(dirname "$0")/.."

checks=("$@")
[ ${#checks[@]} -eq 0 ] && checks=(fuzz tsan web nofiles)
FUZZ_SECONDS=${FUZZ_SECONDS:-60}
passed=0
failed=0

result() { # status, what
    if [ "$1" -eq 0 ]; then
        passed=$((passed + 1)); echo "ok   $2"
    else
        failed=$((failed + 1)); echo "FAIL $2"
    fi
}

if ! command -v clang >/dev/null; then
    if [ "$(id -u)" -eq 0 ]; then
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
            clang libclang-rt-14-dev >/dev/null
    fi
    if ! command -v clang >/dev/null; then
        echo "extra_checks: clang is missing (apt-get install clang libclang-rt-14-dev)"
        echo "0 passed, 1 failed"
        exit 1
    fi
fi

# Configures (once) and compiles the given targets of a clang build folder.
build() { # dir, targets, -- meson options
    local dir=$1 targets=$2; shift 2
    if [ ! -f "$dir/build.ninja" ]; then
        rm -rf "$dir" && mkdir -p "$dir"
        CC=clang meson setup "$dir" "$@" >"$dir/extra-setup.log" 2>&1 ||
            { tail -30 "$dir/extra-setup.log"; return 1; }
    fi
    # shellcheck disable=SC2086
    meson compile -C "$dir" $targets >"$dir/extra-compile.log" 2>&1 ||
        { tail -30 "$dir/extra-compile.log"; return 1; }
}

fuzz() {
    local dir=build-fuzz targets=(safetensors module_load optim_load sched_load idx_load)
    local names="tests/fuzz/fuzz_seeds" t
    for t in "${targets[@]}"; do names+=" tests/fuzz/fuzz_$t"; done
    if ! build $dir "$names" -Db_sanitize=address,undefined -Db_lundef=false \
        -Dbuildtype=debugoptimized \
        "-Dc_args=-fno-sanitize-recover=all -fsanitize=fuzzer-no-link"; then
        result 1 "fuzz: building the fuzz targets with clang"
        return
    fi
    local seeds=$dir/fuzz-seeds
    rm -rf "$seeds" && mkdir -p "$seeds"
    if ! $dir/tests/fuzz/fuzz_seeds "$seeds"; then
        result 1 "fuzz: writing the seed corpus"
        return
    fi
    for t in "${targets[@]}"; do
        local corpus=$dir/fuzz-corpus/$t log=$dir/extra-fuzz-$t.log status=0 dict=()
        mkdir -p "$corpus"
        [ -f "tests/fuzz/$t.dict" ] && dict=("-dict=tests/fuzz/$t.dict")
        ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=1:quarantine_size_mb=64 \
            UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
            $dir/tests/fuzz/fuzz_$t -max_total_time="$FUZZ_SECONDS" -timeout=10 \
            -rss_limit_mb=2048 -print_final_stats=1 "${dict[@]}" \
            -artifact_prefix="tests/fuzz/crashes/$t-" "$corpus" "$seeds" >"$log" 2>&1 || status=$?
        local execs
        execs=$(sed -n "s/^stat::number_of_executed_units: *//p" "$log" | tail -1)
        result $status "fuzz $t: ${execs:-?} inputs in ${FUZZ_SECONDS} s, corpus $(ls "$corpus" | wc -l) files"
        [ $status -ne 0 ] && grep -E 'ERROR|broken promise|Test unit written' "$log" | head -5
    done
}

tsan() {
    local dir=build-tsan gemm
    if ! build $dir tests/test_threads -Db_sanitize=thread -Db_lundef=false \
        -Dbuildtype=debugoptimized; then
        result 1 "tsan: building tests/test_threads with clang"
        return
    fi
    # Archer tells TSan what OpenMP's barriers order; the OpenMP runtimes
    # and BLIS are not instrumented, and their own accesses are not checked.
    local archer
    archer=$(realpath -q "$(clang -print-resource-dir)/../../libarcher.so")
    if [ ! -f "$archer" ]; then
        result 1 "tsan: libarcher.so (LLVM's OpenMP tool for TSan) is missing"
        return
    fi
    for gemm in blis tapegrad; do
        local log=$dir/extra-tsan-$gemm.log status=0
        TG_GEMM=$gemm OMP_TOOL_LIBRARIES=$archer \
            TSAN_OPTIONS=halt_on_error=1:ignore_noninstrumented_modules=1 \
            $dir/tests/test_threads >"$log" 2>&1 || status=$?
        result $status "tsan, TG_GEMM=$gemm: $(tail -1 "$log")"
        [ $status -ne 0 ] && grep -E 'WARNING: ThreadSanitizer|FAIL' "$log" | head -5
    done
}

web() {
    local log=build/extra-web.log
    if [ "$(id -u)" -eq 0 ]; then
        for p in emscripten chromium nodejs npm; do
            dpkg -s $p >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
                --no-install-recommends $p >/dev/null 2>&1
        done
    fi
    if ! command -v emcc >/dev/null || ! command -v chromium >/dev/null || ! command -v npm >/dev/null; then
        echo "skip web: emscripten, chromium or npm cannot be installed here"
        return
    fi
    mkdir -p build
    local status=0
    tests/web/run.sh >"$log" 2>&1 || status=$?
    grep -E '^(FAIL|timing|size)' "$log"
    result $status "web: the page in Chromium, $(tail -1 "$log")"
}

nofiles() {
    local dir=build-nofiles status=0
    build $dir "" -Dfile_formats=false -Dtests=false -Dexamples=false -Dbenchmarks=false ||
        status=1
    local log=$dir/extra-nofiles.log
    if [ $status -eq 0 ]; then
        clang -std=c11 -Wall -Wextra -Werror -Icore -Iops -Inn -Ioptim -Idata -Idist \
            tests/no_file_formats.c -L$dir -ltapegrad -Wl,-rpath,"$PWD/$dir" \
            -o $dir/no_file_formats >"$log" 2>&1 || status=1
    fi
    if [ $status -eq 0 ]; then
        local run=()
        command -v mpirun >/dev/null && run=(mpirun -np 2)
        [ ${#run[@]} -gt 0 ] && [ "$(id -u)" -eq 0 ] && run+=(--allow-run-as-root)
        (cd $dir && "${run[@]}" ./no_file_formats) >>"$log" 2>&1 || status=1
        grep FAIL "$log"
    fi
    result $status "nofiles: -Dfile_formats=false links, saves fail naming it, $(tail -1 "$log")"
}

for c in "${checks[@]}"; do
    case $c in
    fuzz) fuzz ;;
    tsan) tsan ;;
    web) web ;;
    nofiles) nofiles ;;
    *) echo "usage: tests/extra_checks.sh [fuzz|tsan|web|nofiles]..." >&2; exit 2 ;;
    esac
done
echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
