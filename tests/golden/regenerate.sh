#!/bin/sh
# Regenerates every golden file from PyTorch: runs each make_golden*.py of
# this folder with Debian's python3 and python3-torch, writing into OUT
# (default: this folder, where the committed files live).
#   tests/golden/regenerate.sh            or   meson compile -C build golden
#   tests/golden/regenerate.sh /tmp/fresh      (tests/check_golden.sh compares)
set -eu
here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here}
mkdir -p "$out/ffn"
for script in "$here"/make_golden*.py; do
    TG_GOLDEN_OUT=$out /usr/bin/python3 "$script" >/dev/null
done
