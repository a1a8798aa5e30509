#!/usr/bin/env bash
# Installs the project into a scratch prefix, builds examples/embed against
# the installed CMake package (not the build tree) and runs both programs.
# Usage: embed_installed.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR [CMAKE_ARG...]
# (extra arguments configure the example, e.g. a sanitizer build's compiler)
set -euo pipefail
build=$1 src=$2 scratch=$3
shift 3
rm -rf "$scratch" && mkdir -p "$scratch"
cmake --install "$build" --prefix "$scratch/prefix" > "$scratch/install.log"
cmake -G Ninja -S "$src/examples/embed" -B "$scratch/build" \
  -DCMAKE_PREFIX_PATH="$scratch/prefix" "$@" > "$scratch/configure.log"
cmake --build "$scratch/build" > "$scratch/build.log"
"$scratch/build/embed-c" "$src/examples/seed/2_apply_gradients.mlir" host_iteration 3
"$scratch/build/embed-cpp" "$src/examples/seed/1_assign_sub.mlir" train_step 3
