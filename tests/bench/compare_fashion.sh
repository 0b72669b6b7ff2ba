#!/bin/sh
# tests/bench/compare_fashion.sh - one epoch of the Fashion-MNIST demo's
# training in tapegrad (bench_fashion) and in PyTorch (torch_fashion.py), at 1
# and 2 threads, alternating, in one table: seconds per epoch, PyTorch's time
# over tapegrad's, the share of batch assembly, and peak resident memory.
#
#     tests/bench/compare_fashion.sh [BUILD_DIR [RUNS]]
#
# BUILD_DIR (default build-perf) holds a built tapegrad; each program runs
# RUNS times per thread count (default 3), alternating with the other, and
# each cell is the median of the runs. Needs Debian's dataset-fashion-mnist.
# PyTorch runs with OMP_NUM_THREADS set as well as torch.set_num_threads
# (BLIS, which Debian's PyTorch calls for products, reads the variable).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
build=${1:-build-perf}
runs=${2:-3}
bench="$build/tests/bench/bench_fashion"
if [ ! -x "$bench" ]; then
    echo "compare_fashion.sh: $bench not found; build first: meson setup $build --buildtype=release && ninja -C $build" >&2
    exit 1
fi
out="$build/bench-fashion"
rm -rf "$out"
mkdir -p "$out"
for run in $(seq "$runs"); do
    for t in 1 2; do
        "$bench" --threads "$t" --csv > "$out/tapegrad-$t-$run.csv"
        OMP_NUM_THREADS=$t /usr/bin/python3 "$here/torch_fashion.py" --threads "$t" --csv \
            > "$out/torch-$t-$run.csv"
    done
done

# Medians per thread count of each column, by name.
awk -F, '
    function median(list,    v, n, i, j, x) {
        n = split(list, v, " ")
        for (i = 2; i <= n; i++)
            for (j = i; j > 1 && v[j - 1] + 0 > v[j] + 0; j--) { x = v[j]; v[j] = v[j - 1]; v[j - 1] = x }
        return n % 2 ? v[(n + 1) / 2] : (v[n / 2] + v[n / 2 + 1]) / 2
    }
    FNR == 1 { for (i = 1; i <= NF; i++) col[FILENAME, $i] = i; next }
    {
        who = FILENAME ~ /torch-/ ? "torch" : "tg"; t = $1
        epoch[who, t] = epoch[who, t] " " $(col[FILENAME, "epoch_s"])
        peak[who, t] = peak[who, t] " " $(col[FILENAME, "peak_mib"])
        over[who, t] = over[who, t] " " $(col[FILENAME, "peak_over_data_mib"])
        if (who == "tg") share[t] = share[t] " " $(col[FILENAME, "assembly_share"])
    }
    END {
        print "| threads | tapegrad s/epoch | PyTorch s/epoch | PyTorch / tapegrad | batch assembly | peak MiB tapegrad / PyTorch | above the data, MiB |"
        print "|---|---|---|---|---|---|---|"
        for (t = 1; t <= 2; t++) {
            a = median(epoch["tg", t]); b = median(epoch["torch", t])
            printf "| %d | %.2f | %.2f | %.2fx | %.1f%% | %.0f / %.0f (%.2f) | %.0f / %.0f |\n", t, a, b, b / a,
                100 * median(share[t]), median(peak["tg", t]), median(peak["torch", t]),
                median(peak["tg", t]) / median(peak["torch", t]), median(over["tg", t]), median(over["torch", t])
        }
    }' "$out"/*.csv
