#!/usr/bin/env bash
# A libFuzzer campaign of tape-fuzz (tools/tape-fuzz), bounded in time.
#
# Usage: scripts/fuzz.sh BUILD_DIR SECONDS [LIBFUZZER_ARG...]
#   BUILD_DIR  a build with tape-fuzz (scripts/sanitize.sh makes build-asan/)
#   SECONDS    -max_total_time
#
# Seeds: every .mlir under test/, examples/ and benchmarks/models, and the
# regression inputs (test/Fuzz/regressions). The corpus grows in
# BUILD_DIR/fuzz/corpus and is kept between runs; a crash, leak, timeout
# (>60 s, TAPE_FUZZ_TIMEOUT) or out-of-memory (>4 GiB) input lands in
# BUILD_DIR/fuzz/artifacts and the script fails. Why 60 s: the largest
# seed, the MNIST CNN, is JIT-compiled by the target; alone under ASan on a
# 2-core machine that took 15 s, and on a loaded one it ran past the
# earlier 10 s limit. A real hang still shows within the minute.
# Triage: `BUILD_DIR/bin/tape-fuzz ARTIFACT` reruns it; once fixed (or
# understood), copy it to test/Fuzz/regressions.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build=$(cd "$1" && pwd) seconds=$2
shift 2
fuzz="$build/fuzz"
mkdir -p "$fuzz/corpus" "$fuzz/artifacts"
rm -rf "$fuzz/seeds" && mkdir -p "$fuzz/seeds"
n=0
while IFS= read -r -d '' f; do
  cp "$f" "$fuzz/seeds/$(printf %03d $n)-$(basename "$f")"
  n=$((n + 1))
done < <(find "$here/test" "$here/examples" "$here/benchmarks/models" \
           -name '*.mlir' -print0 | sort -z)
cp "$here/test/Fuzz/regressions/"* "$fuzz/seeds/" 2>/dev/null || true

# Leaks are findings (libFuzzer checks each input), UBSan halts with a stack.
# allow_user_poisoning=0: see scripts/sanitize.sh (LLVM's allocator
# poisoning across instrumented and uninstrumented code).
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:symbolize=1:allow_user_poisoning=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1:abort_on_error=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$here/scripts/lsan.supp:print_suppressions=0}"
command -v llvm-symbolizer >/dev/null ||
  export ASAN_SYMBOLIZER_PATH=/usr/lib/llvm-22/bin/llvm-symbolizer

echo "== tape-fuzz: $n seed files, ${seconds} s"
"$build/bin/tape-fuzz" "$fuzz/corpus" "$fuzz/seeds" \
  -max_total_time="$seconds" -timeout="${TAPE_FUZZ_TIMEOUT:-60}" \
  -rss_limit_mb=4096 -max_len=32768 \
  -dict="$here/tools/tape-fuzz/mlir.dict" \
  -artifact_prefix="$fuzz/artifacts/" -print_final_stats=1 "$@"
