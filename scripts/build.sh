#!/usr/bin/env bash
# Configures (once) and builds the project into build/ (or $TAPE_BUILD_DIR).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build="${TAPE_BUILD_DIR:-$here/build}"

if [ ! -f "$build/build.ninja" ]; then
  echo "== Configuring $build"
  cmake -G Ninja -S "$here" -B "$build" \
    -DCMAKE_BUILD_TYPE="${TAPE_BUILD_TYPE:-Release}" \
    -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
    -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
    -DLLVM_USE_LINKER=lld \
    ${TAPE_CMAKE_ARGS:-}
fi
echo "== Building"
ninja -C "$build"
