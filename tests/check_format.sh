#!/usr/bin/env bash
# Lists the C sources and headers that clang-format (with the tree's
# .clang-format files) would change, with how many lines; exits 1 if any.
# tests/golden/ has its own .clang-format that leaves the generated tables
# alone. Fix a file with `clang-format -i FILE`.
# Usage: tests/check_format.sh [SOURCE_ROOT]   (clang-format from $CLANG_FORMAT)
# Runs as the meson test "format" (suite scripts), so CI checks it.
set -euo pipefail
cd "${1:-$(dirname "$0")/..}"
clang_format=${CLANG_FORMAT:-clang-format}
command -v "$clang_format" >/dev/null || { echo "check_format: $clang_format not found" >&2; exit 2; }

mapfile -t files < <(find core ops optim nn data tests examples web -name '*.[ch]' | sort)
[ ${#files[@]} -gt 0 ] || { echo "check_format: no C files found" >&2; exit 2; }
bad=0
for f in "${files[@]}"; do
    changed=$("$clang_format" --style=file "$f" | diff "$f" - | grep -c '^[<>]' || true)
    if [ "$changed" -ne 0 ]; then
        echo "$f: $changed lines to change"
        bad=$((bad + 1))
    fi
done
echo "$bad of ${#files[@]} files not formatted"
[ "$bad" -eq 0 ]
