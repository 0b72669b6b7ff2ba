#!/usr/bin/env bash
# The page in a real browser: builds the WebAssembly page (./run.sh web),
# the native program that gives the values it must show
# (tests/web/first_step.c, in build/), installs playwright-core as pinned in
# package-lock.json (no browser is downloaded: Debian's chromium drives it),
# and runs test_page.js. Screenshots land in build-web/screenshots/.
# Ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/../.."

CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
./run.sh web >/dev/null
if [ ! -f build/build.ninja ]; then meson setup build >/dev/null; fi
meson compile -C build tests/web_first_step >/dev/null
(cd tests/web && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
node tests/web/test_page.js build-web/site build/tests/web_first_step "$CHROMIUM" build-web/screenshots
