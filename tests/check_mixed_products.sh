#!/bin/sh
# tests/check_mixed_products.sh TEST_LINALG SCRATCH_DIR - test_linalg with
# the products split as the default rule splits them on a CPU that BLIS has
# fast kernels for (ops/blas_blis.c): the small ones by ops/gemm.c, the rest
# by BLIS (with AVX-512, the float64 ones: ops/gemm.c takes every float32
# product there). On this project's machines BLIS runs its generic kernel, where
# ops/gemm.c takes every product; so Debian's BLIS is relinked to run its
# AVX2 (zen3) kernels (tests/bench/blis_as.sh) and the test runs with it.
# Skipped (77) without AVX2 and FMA or without BLIS's static library.
set -eu
grep -qw avx2 /proc/cpuinfo && grep -qw fma /proc/cpuinfo ||
    { echo "no AVX2 and FMA on this CPU: skipped"; exit 77; }
ls /usr/lib/x86_64-linux-gnu/blis-*/libblis.a > /dev/null 2>&1 ||
    { echo "no static libblis.a: skipped"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
[ -f "$2/libblis.so.4" ] || "$here/bench/blis_as.sh" "$2" > /dev/null
LD_LIBRARY_PATH=$2 BLIS_AS=zen3 TG_GEMM= exec "$1"
