#!/usr/bin/env bash
# Installs the build into a scratch root and builds the worked example the
# way a user would, with `pkg-config --cflags --libs tapegrad`.
set -euo pipefail
build=$1 source=$2
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT
meson install -C "$build" --destdir "$root" --quiet >/dev/null
pc=$(dirname "$(find "$root" -name tapegrad.pc | head -n 1)")
export PKG_CONFIG_PATH=$pc PKG_CONFIG_SYSROOT_DIR=$root
# shellcheck disable=SC2046
cc -std=c11 -o "$root/worked" "$source/examples/worked_gradient.c" \
    $(pkg-config --cflags --libs tapegrad)
if LD_LIBRARY_PATH=$(pkg-config --variable=libdir tapegrad) "$root/worked" | grep -q "0.5500"; then
    echo "ok   build_against_installed_package"
    echo "1 passed, 0 failed"
else
    echo "FAIL build_against_installed_package"
    echo "0 passed, 1 failed"
    exit 1
fi
