#!/usr/bin/env bash
# Quick start, part 2: build and run the whole test suite (ctest runs the lit
# suite and the C/C++ test programs).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPE_BUILD_DIR:-$here/build}"

"$here/scripts/build.sh"
echo "== Testing"
ctest --test-dir "$build" --output-on-failure "$@"
