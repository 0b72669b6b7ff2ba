#!/usr/bin/env bash
# Quick start for tapegrad on Debian/Ubuntu.
#   ./run.sh demo   install what is missing, build the library and the examples, run them
#   ./run.sh test   install what is missing, build, run the whole test suite
#   ./run.sh exercises [solutions] [NAME...]   build and check the hand-gradient
#                   exercises (examples/exercises/), or their reference solutions
#   ./run.sh web    install emscripten, build the teaching page (web/) into build-web/site
# ./run.sh test asan builds in build-asan/ with ASan+UBSan and runs the suite
# there; ./run.sh test valgrind runs the test programs under valgrind. Both
# are meson test setups (tests/meson.build). ./run.sh test noblas builds in
# build-noblas/ without BLIS (-Dblas=none: every product through tapegrad's
# own) and runs the suite there.
set -euo pipefail
cd "$(dirname "$0")"

# Debian packages the build needs, installed only when missing (g++ for the
# test that compiles the headers as C++; dpkg-dev, which meson recommends,
# for Debian's multiarch libdir, where `meson install` puts the library: see
# README.md, Installing); the demo also trains on Fashion-MNIST, which Debian
# packages (never downloaded from elsewhere), and draws pictures with
# Graphviz and gnuplot.
PACKAGES=(gcc g++ libc6-dev dpkg-dev meson ninja-build pkg-config libblis-dev libjansson-dev
    zlib1g-dev)
DEMO_PACKAGES=(dataset-fashion-mnist graphviz gnuplot-nox)
# The page (web/) is the library compiled to WebAssembly by Debian's
# emscripten, without BLIS (ops/gemm.c runs the products) and without the
# file formats, whose Jansson and zlib emscripten does not have offline.
WEB_PACKAGES=(emscripten meson ninja-build)
WEB_OPTIONS=(--cross-file web/emscripten-cross.ini -Dblas=none -Dfile_formats=false -Dtests=false
    -Dexamples=false -Dbenchmarks=false -Dbuildtype=release -Ddefault_library=static)
# The test suite also trains data-parallel under mpirun (tests/test_dist.c):
# Open MPI, which the build finds and links when it is there.
TEST_PACKAGES=(openmpi-bin libopenmpi-dev)
# The programs the demo runs: it builds the library and these alone.
DEMO_TARGETS=(examples/fashion_mnist examples/prenorm_ffn examples/worked_gradient examples/activations
    examples/optimizers examples/train_ffn)

install_missing() {
    local missing=()
    for p in "$@"; do
        dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "run.sh: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
        exit 1
    fi
    echo "run.sh: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Configures a build folder (once; -Werror under CI) and compiles the
# targets in the array `targets` (all when empty). A folder set up before
# with one of the options tests, examples or benchmarks other than asked
# (README.md's install build turns all three off), or before they existed,
# is reconfigured with the asked values.
targets=()
build() {
    local dir=$1; shift
    local opts=("$@") changed=() o name
    [ "${CI:-}" = "true" ] && opts+=(-Dwerror=true)
    if [ ! -f "$dir/build.ninja" ]; then
        meson setup "$dir" "${opts[@]}" >/dev/null
    else
        for o in "${opts[@]}"; do
            case $o in -Dtests=* | -Dexamples=* | -Dbenchmarks=*) ;; *) continue ;; esac
            name=${o#-D} && name=${name%%=*}
            if [ "$(meson configure "$dir" | awk -v n="$name" '$1 == n { print $2 }')" != "${o#*=}" ]; then
                changed+=("$o")
            fi
        done
        if [ ${#changed[@]} -gt 0 ]; then
            meson setup --reconfigure "$dir" "${changed[@]}" >/dev/null
        fi
    fi
    # Quiet unless it fails: ninja prints the compiler's errors on stdout.
    if ! meson compile -C "$dir" "${targets[@]}" >"$dir/compile.log" 2>&1; then
        cat "$dir/compile.log" >&2
        return 1
    fi
}

# Sums the "N passed, N failed" lines the test programs print; a program
# that failed without printing its line (a crash) counts as one failure.
count_cases() {
    awk -v status="$2" '/^[0-9]+ passed, [0-9]+ failed$/ { p += $1; f += $3 }
         END { if (status != 0 && f == 0) f = 1; printf "%d passed, %d failed\n", p, f }' \
        "$1/meson-logs/$3.txt"
}

cmd=${1:-}
case "$cmd" in
demo)
    install_missing "${PACKAGES[@]}" "${DEMO_PACKAGES[@]}"
    targets=("${DEMO_TARGETS[@]}")
    build build -Dexamples=true
    mkdir -p out
    data=$(dpkg -L dataset-fashion-mnist | grep -m1 '/train-images-idx3-ubyte.gz$')
    echo "== Training a classifier on Fashion-MNIST (examples/fashion_mnist.c)"
    ./build/examples/fashion_mnist --data "$(dirname "$data")" --out out
    echo; echo "== Pre-norm residual FeedForward blocks, modules of one's own (examples/prenorm_ffn.c)"
    ./build/examples/prenorm_ffn --data "$(dirname "$data")"
    echo; echo "== The worked example of autograd (examples/worked_gradient.c)"
    ./build/examples/worked_gradient out
    echo; echo "== Activations and their derivatives (examples/activations.c)"
    ./build/examples/activations out
    echo; echo "== The six optimizers next to their textbook formulas (examples/optimizers.c)"
    ./build/examples/optimizers
    echo; echo "== Training FeedForward blocks on two spirals (examples/train_ffn.c)"
    ./build/examples/train_ffn --all --csv out/ffn_loss.csv
    echo; echo "== Pictures written:"
    find out -name '*.png' | sort
    ;;
exercises)
    # The student's answers, or with "solutions" the reference ones; names
    # (worked, linear, swiglu, softmax, rmsnorm) pick exercises.
    shift
    program=exercises
    if [ "${1:-}" = solutions ]; then program=exercises_solutions; shift; fi
    install_missing "${PACKAGES[@]}"
    targets=("examples/$program")
    build build -Dexamples=true
    exec "./build/examples/$program" "$@"
    ;;
test)
    setup=${2:-}
    install_missing "${PACKAGES[@]}" "${TEST_PACKAGES[@]}"
    opts=(-Dtests=true -Dexamples=true -Dbenchmarks=true)
    case $setup in
    "" | valgrind) dir=build ;;
    asan)
        dir=build-asan
        opts+=(-Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debug
            -Dc_args=-fno-sanitize-recover=all)
        ;;
    noblas) dir=build-noblas && opts+=(-Dblas=none) ;;
    *) echo "usage: ./run.sh test [asan | valgrind | noblas]" >&2; exit 2 ;;
    esac
    if [ "$setup" = valgrind ]; then install_missing valgrind; fi
    build "$dir" "${opts[@]}"
    status=0
    [ "$setup" != noblas ] || setup= # a build of its own, not a meson test setup
    meson test -C "$dir" --print-errorlogs --num-processes 2 ${setup:+--setup "$setup"} ||
        status=$?
    count_cases "$dir" "$status" "testlog${setup:+-$setup}" # meson names the log after the setup
    exit $status
    ;;
web)
    install_missing "${WEB_PACKAGES[@]}"
    export NODE_PATH=${NODE_PATH:-/usr/share/nodejs} # Debian's emcc finds node-acorn there
    targets=(web/tapegrad)
    build build-web "${WEB_OPTIONS[@]}"
    rm -rf build-web/site && mkdir -p build-web/site
    cp web/index.html web/page.js web/style.css build-web/web/tapegrad.js build-web/web/tapegrad.wasm \
        build-web/site/
    echo "The page is in build-web/site: serve it with any static server, for example"
    echo "  python3 -m http.server -d build-web/site 8000    and open http://localhost:8000"
    ;;
*)
    echo "usage: ./run.sh demo | test [asan | valgrind | noblas] | exercises [solutions] [NAME...] | web" >&2
    exit 2
    ;;
esac
