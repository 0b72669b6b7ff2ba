#!/bin/sh
# tests/bench/blis_as.sh - Debian's BLIS made to run the kernels of a CPU
# configuration it has but does not pick on this CPU, for benchmarks.
#
#     tests/bench/blis_as.sh DIR
#     LD_LIBRARY_PATH=DIR BLIS_AS=skx|haswell|zen3 PROGRAM...
#
# BLIS 0.9.0 knows a CPU by its cpuid model list; on a newer CPU (Zen 5) it
# answers `generic` and runs its portable C kernel, although its AVX2 (zen3,
# haswell) and AVX-512 (skx) kernels would run there. Its own override,
# BLIS_ARCH_TYPE, aborts in 0.9.0 for every value: the request is checked
# before any configuration is registered. So this script relinks Debian's
# static libblis.a into DIR/libblis.so.4 and DIR/libblas.so.3 (the names
# tapegrad and PyTorch load) with one function replaced, the CPU query,
# which returns the configuration named by BLIS_AS (generic when unset).
# Everything else is Debian's BLIS as packaged, so a benchmark run this way
# shows what tapegrad and PyTorch do on a CPU that BLIS has fast kernels for.
set -eu

dir=${1:?usage: tests/bench/blis_as.sh DIR}
archive=
for flavour in openmp pthread serial; do
    [ -f "/usr/lib/x86_64-linux-gnu/blis-$flavour/libblis.a" ] &&
        archive=/usr/lib/x86_64-linux-gnu/blis-$flavour/libblis.a && break
done
[ -n "$archive" ] || { echo "blis_as.sh: no static libblis.a (apt-get install libblis-dev)" >&2; exit 1; }
mkdir -p "$dir/objects"
dir=$(cd "$dir" && pwd)
(cd "$dir/objects" && ar x "$archive")
objcopy --weaken-symbol=bli_cpuid_query_id "$dir/objects/bli_cpuid.o"
cat > "$dir/cpu_query.c" <<'EOF'
#include <stdlib.h>
#include <string.h>

/* BLIS 0.9.0's arch_t values (bli_type_defs.h): skx 0, haswell 3, zen3 6,
 * generic 25. */
int bli_cpuid_query_id(void) {
    static const struct { const char *name; int id; } known[] = {
        {"skx", 0}, {"haswell", 3}, {"zen3", 6}};
    const char *asked = getenv("BLIS_AS");
    for (size_t i = 0; asked && i < sizeof known / sizeof known[0]; i++)
        if (strcmp(asked, known[i].name) == 0) return known[i].id;
    return 25;
}
EOF
cc -O2 -fPIC -c "$dir/cpu_query.c" -o "$dir/cpu_query.o"
for soname in libblis.so.4 libblas.so.3; do
    cc -shared -o "$dir/$soname" -Wl,-soname,$soname "$dir"/objects/*.o "$dir/cpu_query.o" \
        -lm -lpthread -fopenmp
done
rm -rf "$dir/objects"
echo "blis_as.sh: run with LD_LIBRARY_PATH=$dir BLIS_AS=skx (or haswell, zen3)"
