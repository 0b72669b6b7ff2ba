#!/usr/bin/env bash
# The modules listed below are written as a user of tapegrad writes one:
# each compiles, warnings as errors, with nothing but the public headers in
# reach (a copy of every */tapegrad/*.h in a scratch folder, the source
# file copied apart so that no neighbour of it can be included).
# Usage: check_public_only.sh SOURCE_ROOT   (compiler from $CC)
set -euo pipefail
source=$1
read -r -a cc <<<"${CC:-cc}"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir "$work/tapegrad" "$work/src"
cp "$source"/*/tapegrad/*.h "$work/tapegrad/"
passed=0 failed=0
for file in nn/feedforward.c; do
    cp "$source/$file" "$work/src/"
    if "${cc[@]}" -std=c11 -Wall -Wextra -Wpedantic -Werror -I "$work" \
        -c "$work/src/$(basename "$file")" -o "$work/out.o" >"$work/log" 2>&1; then
        echo "ok   $file uses the public headers only"; passed=$((passed + 1))
    else
        echo "FAIL $file"; cat "$work/log"; failed=$((failed + 1))
    fi
done
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
