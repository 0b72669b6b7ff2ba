#!/bin/sh
# tests/bench/compare.sh - tapegrad's bench_ffn against PyTorch's torch_ffn.py,
# at 1 and 2 threads, in one table; then bench_optim against torch_optim.py,
# alternating the same way, in a second.
#
#     tests/bench/compare.sh [BUILD_DIR [BUDGET_SECONDS [RUNS]]]
#
# BUILD_DIR (default build-perf) holds a built tapegrad; BUDGET_SECONDS
# (default 2) is each workload's timing budget in each program; each program
# runs RUNS times (default 3), the two alternating so that a busy moment of
# the machine hits both, and every cell of the table is the median of the
# runs (each run's number being itself a median over its steps). The raw CSV
# of every run is kept in BUILD_DIR/bench/. PyTorch runs with
# OMP_NUM_THREADS set to the thread count as well as torch.set_num_threads:
# BLIS, which Debian's PyTorch calls for its matrix products, reads its
# thread count from that variable, not from torch.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-perf}
budget=${2:-2}
runs=${3:-3}
bench="$build/tests/bench/bench_ffn"
if [ ! -x "$bench" ]; then
    echo "compare.sh: $bench not found; build first: meson setup $build && ninja -C $build" >&2
    exit 1
fi
out="$build/bench"
rm -rf "$out"
mkdir -p "$out"

for run in $(seq "$runs"); do
    for t in 1 2; do
        "$bench" --threads "$t" --budget "$budget" --csv > "$out/tapegrad-$t-$run.csv"
        OMP_NUM_THREADS=$t /usr/bin/python3 "$here/torch_ffn.py" --threads "$t" \
            --budget "$budget" --csv > "$out/torch-$t-$run.csv"
    done
done

# The median of a space-separated list of numbers, for the awk programs.
median='
    function median(list,    v, n, i, j, x) {
        n = split(list, v, " ")
        for (i = 2; i <= n; i++) # insertion sort, numerically
            for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { x = v[j]; v[j] = v[j - 1]; v[j - 1] = x }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }'

# Gather each column of interest per (workload, threads) over the runs, by
# column name; print the medians, rows by workload, then threads.
awk -F, "$median"'
    FNR == 1 { for (i = 1; i <= NF; i++) col[FILENAME, $i] = i; next }
    FILENAME ~ /torch-/ { torch[$1, $2] = torch[$1, $2] " " $(col[FILENAME, "median_ms"]); next }
    {
        if (!($1 in seen)) { seen[$1] = 1; names[++n] = $1 }
        k = $1 SUBSEP $2
        tg[k] = tg[k] " " $(col[FILENAME, "median_ms"])
        frac[k] = frac[k] " " $(col[FILENAME, "blis_fraction"])
        mem[k] = mem[k] " " $(col[FILENAME, "peak_over_min"])
    }
    END {
        printf "| workload | threads | tapegrad ms/step | PyTorch ms/step | PyTorch / tapegrad | of BLIS gemm throughput | peak memory / minimum |\n"
        printf "|---|---|---|---|---|---|---|\n"
        for (i = 1; i <= n; i++)
            for (t = 1; t <= 2; t++) {
                k = names[i] SUBSEP t
                if (!(k in tg)) continue
                a = median(tg[k]); b = median(torch[k])
                printf "| %s | %d | %.4f | %.4f | %.2fx | %.0f%% | %.2f |\n", names[i], t, a, b,
                       b / a, 100 * median(frac[k]), median(mem[k])
            }
    }' "$out"/torch-*.csv "$out"/tapegrad-*.csv
"$bench" --steps 1 tiny | head -n 1

# The optimizer steps: each program RUNS times at each thread count; the
# medians of their median step times.
for run in $(seq "$runs"); do
    for t in 1 2; do
        "$build/tests/bench/bench_optim" --threads "$t" --csv > "$out/optim-tapegrad-$t-$run.csv"
        OMP_NUM_THREADS=$t /usr/bin/python3 "$here/torch_optim.py" --threads "$t" \
            --csv > "$out/optim-torch-$t-$run.csv"
    done
done
echo
awk -F, "$median"'
    FNR == 1 { next }
    { if (!($1 in seen)) { seen[$1] = 1; names[++n] = $1 }
      k = $1 SUBSEP $2
      if (FILENAME ~ /optim-torch-/) torch[k] = torch[k] " " $4; else tg[k] = tg[k] " " $4 }
    END {
        printf "| optimizer step (4M float32) | threads | tapegrad ms | PyTorch ms | PyTorch / tapegrad |\n"
        printf "|---|---|---|---|---|\n"
        for (i = 1; i <= n; i++)
            for (t = 1; t <= 2; t++) {
                k = names[i] SUBSEP t
                a = median(tg[k]); b = median(torch[k])
                printf "| %s | %d | %.3f | %.3f | %.2fx |\n", names[i], t, a, b, b / a
            }
    }' "$out"/optim-tapegrad-*.csv "$out"/optim-torch-*.csv
