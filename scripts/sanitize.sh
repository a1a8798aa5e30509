#!/usr/bin/env bash
# Sanitizer builds of the project, each in its own build folder, and their
# test runs (docs/Reliability.md):
#
#   asan  build-asan/: ASan + UBSan (+ LeakSanitizer) on all of tape's own
#         code, clang-22; runs the whole ctest suite there (lit, C API,
#         threads, embedding, fuzz regressions) and, since clang has
#         libFuzzer, a bounded fuzz campaign (ctest `fuzz-campaign`).
#   tsan  build-tsan/: ThreadSanitizer; builds only the threads test (and
#         what it links) and runs it.
#
# Usage: scripts/sanitize.sh [asan|tsan|all] [CTEST_ARG...]   (default: all)
# Environment: TAPE_ASAN_BUILD_DIR, TAPE_TSAN_BUILD_DIR (folders),
# TAPE_FUZZ_SECONDS (the campaign's length; 0 skips it).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
mode=${1:-all}
[ $# -eq 0 ] || shift

configure() {  # BUILD_DIR CMAKE_ARG...
  local build=$1
  shift
  if [ ! -f "$build/build.ninja" ]; then
    echo "== Configuring $build"
    cmake -G Ninja -S "$here" -B "$build" \
      -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_C_COMPILER=clang-22 -DCMAKE_CXX_COMPILER=clang++-22 \
      -DCMAKE_C_FLAGS_RELEASE="-O1 -DNDEBUG" \
      -DCMAKE_CXX_FLAGS_RELEASE="-O1 -DNDEBUG" \
      -DMLIR_DIR=/usr/lib/llvm-22/lib/cmake/mlir \
      -DLLVM_EXTERNAL_LIT=/usr/lib/llvm-22/bin/lit \
      -DLLVM_USE_LINKER=lld \
      "$@"
  fi
}

export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-22/bin/llvm-symbolizer
export TSAN_SYMBOLIZER_PATH=/usr/lib/llvm-22/bin/llvm-symbolizer
# Every finding is fatal and a signal (abort), so lit's `not`, the
# garbler and ctest all see a crash, never an ordinary exit status.
# allow_user_poisoning=0: LLVM's BumpPtrAllocator poisons a new slab when
# the code that starts it is instrumented (ours, inlined from the headers)
# and unpoisons each allocation only in instrumented code, while
# libMLIR.so is not instrumented: when our code started the slab of an
# MLIRContext's attribute uniquer, libMLIR's own allocations from it were
# reported as use-after-poison (a false positive seen in the fuzz campaign
# and the GPT test once #tape.sgd's storage grew). Real heap errors are
# still caught by ASan's own redzones.
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:check_initialization_order=1:allow_user_poisoning=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:abort_on_error=1
export LSAN_OPTIONS=suppressions=$here/scripts/lsan.supp:print_suppressions=0
export TSAN_OPTIONS=halt_on_error=1:abort_on_error=1:second_deadlock_stack=1:suppressions=$here/scripts/tsan.supp

if [ "$mode" = asan ] || [ "$mode" = all ]; then
  build=${TAPE_ASAN_BUILD_DIR:-$here/build-asan}
  configure "$build" -DTAPE_SANITIZE=address,undefined \
    -DTAPE_FUZZ_SECONDS="${TAPE_FUZZ_SECONDS:-90}"
  cmake "$build" -DTAPE_FUZZ_SECONDS="${TAPE_FUZZ_SECONDS:-90}" >/dev/null
  echo "== Building $build"
  ninja -C "$build"
  echo "== Testing $build (ASan, UBSan, LSan)"
  exclude=()
  [ "${TAPE_FUZZ_SECONDS:-90}" != 0 ] || exclude=(-E '^fuzz-campaign$')
  ctest --test-dir "$build" --output-on-failure "${exclude[@]}" "$@"
fi

if [ "$mode" = tsan ] || [ "$mode" = all ]; then
  build=${TAPE_TSAN_BUILD_DIR:-$here/build-tsan}
  configure "$build" -DTAPE_SANITIZE=thread -DTAPE_BUILD_FUZZER=OFF
  echo "== Building $build (the threads test only)"
  ninja -C "$build" tape-threads-test
  echo "== Testing $build (TSan)"
  ctest --test-dir "$build" --output-on-failure -R '^capi-threads$' "$@"
fi
