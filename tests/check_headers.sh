#!/usr/bin/env bash
# Compiles each public header (every */tapegrad/*.h of the source tree, so a
# new header is covered without being listed) on its own, included twice to
# test its guard: as C11 and as C++11, warnings as errors. In C++ every
# function the header declares must also keep its C name (extern "C"): the
# test takes the address of each and looks for mangled names in the object.
# Usage: check_headers.sh SOURCE_ROOT   (compilers from $CC and $CXX)
set -euo pipefail
source=$1
read -r -a cc <<<"${CC:-cc}"
read -r -a cxx <<<"${CXX:-c++}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
includes=()
for dir in "$source"/*/tapegrad; do includes+=(-I "$(dirname "$dir")"); done
c_flags=(-std=c11 -Wall -Wextra -Wpedantic -Werror -Wshadow -Wstrict-prototypes
    -Wmissing-prototypes -Wvla)
cxx_flags=(-std=c++11 -Wall -Wextra -Wpedantic -Werror -Wshadow)

passed=0 failed=0
check() { # name, then the command that must succeed
    local name=$1; shift
    if "$@" >"$work/log" 2>&1; then
        echo "ok   $name"; passed=$((passed + 1))
    else
        echo "FAIL $name"; cat "$work/log"; failed=$((failed + 1))
    fi
}
# The C++ object compiles, and refers to no mangled (C++-linkage) name.
cxx_with_c_names() {
    "${cxx[@]}" "${cxx_flags[@]}" "${includes[@]}" -c "$1" -o "$1.o" || return 1
    if nm -u "$1.o" | grep -E ' _Z'; then echo "declared without extern \"C\""; return 1; fi
}
headers=("$source"/*/tapegrad/*.h)
[ ${#headers[@]} -gt 1 ] || { echo "no headers under $source/*/tapegrad/"; exit 1; }
for path in "${headers[@]}"; do
    h=$(basename "$path" .h)
    printf '#include <tapegrad/%s.h>\n#include <tapegrad/%s.h>\n' "$h" "$h" >"$work/$h.c"
    check "$h.h as C11" "${cc[@]}" "${c_flags[@]}" "${includes[@]}" -c "$work/$h.c" -o "$work/$h.o"
    # The functions the header declares: TG_API, then the type, then the name
    # on one line; a declaration written otherwise fails the count.
    mapfile -t fns < <(sed -nE 's/^TG_API [^(]*[ *](tg_[a-z0-9_]+)\(.*/\1/p' "$path")
    check "$h.h: each TG_API line declares one function" \
        test "$(grep -c '^TG_API' "$path")" -eq ${#fns[@]}
    {
        cat "$work/$h.c"
        echo 'typedef void (*tg_any_fn)(void);'
        echo 'extern const tg_any_fn tg_declared[];'
        echo 'const tg_any_fn tg_declared[] = {'
        for f in "${fns[@]}"; do echo "    reinterpret_cast<tg_any_fn>(&$f),"; done
        echo '    0};'
    } >"$work/$h.cpp"
    check "$h.h as C++11, its ${#fns[@]} functions with C linkage" cxx_with_c_names "$work/$h.cpp"
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
