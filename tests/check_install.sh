#!/usr/bin/env bash
# Installs tapegrad as README.md's "Installing" does, into a scratch prefix
# instead of /usr/local: the library alone (-Dtests=false -Dexamples=false
# -Dbenchmarks=false, release), then `meson install`. Then builds the
# README's hello.c and examples/worked_gradient.c the way a user would, with
# nothing but `pkg-config` (PKG_CONFIG_PATH at the prefix's multiarch
# pkgconfig folder), and runs them with no LD_LIBRARY_PATH: linked with an
# rpath to the installed library, and statically (`pkg-config --static`).
# The README's default, ldconfig, registers system folders, not a scratch one.
# The second argument, blis (the default) or none, is the -Dblas to build
# with; the static link then needs BLIS, or must not name it.
set -uo pipefail
source=$1
blas=${2:-blis}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
passed=0 failed=0
check() { # name, command...
    local name=$1; shift
    if "$@" >"$tmp/log" 2>&1; then
        echo "ok   $name"; passed=$((passed + 1))
    else
        echo "FAIL $name"; tail -40 "$tmp/log" | sed 's/^/    /'; failed=$((failed + 1))
    fi
}

# The README's commands, with the scratch prefix; two jobs at most, as the
# suite runs two tests at once (`meson install` then finds it all built).
install_library() {
    meson setup "$tmp/build" "$source" --prefix="$prefix" \
        -Dtests=false -Dexamples=false -Dbenchmarks=false -Dblas="$blas" --buildtype=release &&
        meson compile -C "$tmp/build" -j 2 && meson install -C "$tmp/build"
}
check install_the_library_alone install_library
[ $failed -eq 0 ] || { echo "0 passed, 1 failed"; exit 1; }

# Meson puts libraries in Debian's multiarch folder, which it asks
# dpkg-architecture (dpkg-dev) for; without it, it picks lib64, which neither
# ld.so nor pkg-config searches on Debian. Elsewhere, meson's own choice.
if [ -f /etc/debian_version ]; then
    multiarch=$(dpkg-architecture -qDEB_HOST_MULTIARCH 2>/dev/null) || {
        echo "FAIL dpkg-architecture is missing (apt-get install dpkg-dev): README's libdir is wrong"
        echo "1 passed, 1 failed"; exit 1
    }
    libdir=$prefix/lib/$multiarch
else
    libdir=$prefix/$(meson introspect "$tmp/build" --buildoptions |
        sed -n 's/.*"name": "libdir", "value": "\([^"]*\)".*/\1/p')
fi

# Only the library was built, and only it, its headers and its pkg-config
# file were installed.
library_only() {
    local types
    types=$(meson introspect "$tmp/build" --targets | grep -o '"type": "[a-z ]*"' | sort -u |
        tr '\n' ' ')
    echo "target types: $types"
    [ "$types" = '"type": "shared library" "type": "static library" ' ] || return 1
    (cd "$prefix" && find . -type f -o -type l | sort) | tee "$tmp/files" >&2
    local others
    others=$(grep -v -e '^\./include/tapegrad/[a-z_]*\.h$' \
        -e "^\./${libdir#"$prefix"/}/libtapegrad\.\(so\|so\.0\|so\.0\.2\.0\|a\)$" \
        -e "^\./${libdir#"$prefix"/}/pkgconfig/tapegrad\.pc$" "$tmp/files")
    [ -z "$others" ] || { echo "installed besides the library: $others"; return 1; }
    [ -f "$libdir/pkgconfig/tapegrad.pc" ] && [ -f "$libdir/libtapegrad.a" ] &&
        [ -f "$prefix/include/tapegrad/tapegrad.h" ]
}
check only_the_library_is_built_and_installed library_only

# Everything below sees the installed copy alone, found through pkg-config.
export PKG_CONFIG_PATH=$libdir/pkgconfig
unset LD_LIBRARY_PATH
cd "$tmp" || exit 1

# hello.c is the README's own: the C block that starts with "/* hello.c".
awk '/^```c$/ { getline first; if (first ~ /^\/\* hello\.c/) { grab = 1; print first }; next }
     grab && /^```$/ { exit }
     grab { print }' "$source/README.md" >hello.c
hello_expected='tensor(3., grad_fn=<MeanBackward0>)
tensor([[1.5000, 1.5000],
        [1.5000, 1.5000]])'

# shellcheck disable=SC2046 # pkg-config's words are separate arguments
hello_rpath() {
    [ -s hello.c ] || { echo "no C block starting with /* hello.c in README.md"; return 1; }
    cc -std=c11 -Wall -Wextra -pedantic -Werror -o hello hello.c \
        $(pkg-config --cflags --libs tapegrad) -Wl,-rpath,"$(pkg-config --variable=libdir tapegrad)" &&
        ldd hello >ldd.txt && cat ldd.txt && grep -q "libtapegrad\.so\.0 => $libdir/libtapegrad\.so\.0 " ldd.txt &&
        ./hello >out && [ "$(cat out)" = "$hello_expected" ]
}
check hello_with_rpath_runs_without_ld_library_path hello_rpath

# shellcheck disable=SC2046
worked_rpath() { # plot.h runs dot through popen, which is POSIX
    cc -std=c11 -D_POSIX_C_SOURCE=200809L -o worked "$source/examples/worked_gradient.c" \
        $(pkg-config --cflags --libs tapegrad) -Wl,-rpath,"$(pkg-config --variable=libdir tapegrad)" &&
        ./worked "$tmp/worked-out" >out && grep -q "0.5500" out
}
check worked_gradient_with_rpath worked_rpath

# Libs.private names BLIS exactly when the library was built with it.
libs_private() {
    local libs
    libs=" $(pkg-config --static --libs tapegrad) " && echo "$libs" || return 1
    if [ "$blas" = blis ]; then [[ $libs == *" -lblis "* ]]; else [[ $libs != *blis* ]]; fi
}
check libs_private_name_blis_only_with_it libs_private

# libtapegrad.a and Libs.private: BLIS (unless -Dblas=none), Jansson, zlib,
# libm, pthreads, OpenMP.
# The linker warns that libgomp's offloading code calls dlopen; tapegrad
# never offloads.
# shellcheck disable=SC2046
hello_static() {
    [ -s hello.c ] || { echo "no C block starting with /* hello.c in README.md"; return 1; }
    cc -std=c11 -static -o hello-static hello.c $(pkg-config --static --cflags --libs tapegrad) &&
        readelf -d hello-static >dynamic.txt && ! grep NEEDED dynamic.txt && ./hello-static >out &&
        [ "$(cat out)" = "$hello_expected" ]
}
check hello_linked_statically hello_static

echo "$passed passed, $failed failed"
[ $failed -eq 0 ]
