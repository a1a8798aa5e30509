#!/usr/bin/env bash
# The package as a user gets it (ctest `installed-package`): installs the
# project into a scratch prefix and checks it from there, never from the
# build tree:
#   1. nothing test-only is installed; libtape.so's SONAME is versioned; the
#      installed tools say their version;
#   2. every function the installed headers declare is defined by the
#      installed library behind them (check_exports.py);
#   3. find_package(tape VERSION) refuses versions the package is not
#      compatible with (99.0, and 0.1: another minor release of 0.x);
#   4. examples/embed (C and C++ through libtape.so) builds and runs the
#      seed;
#   5. examples/my-opt builds with find_package(tape 0.2 REQUIRED) (its
#      MLIR found by the package, not named here) and transforms the seed
#      exactly as the installed tape-opt does.
# Usage: installed_package.sh BUILD_DIR SOURCE_DIR SCRATCH_DIR VERSION
#          ABI_VERSION CLANG MLIR_INCLUDE_DIR [CMAKE_ARG...]
# (extra arguments configure the examples, e.g. a sanitizer build's compiler)
set -euo pipefail
build=$1 src=$2 scratch=$3 version=$4 abi=$5 clang=$6 mlir_include=$7
shift 7
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
prefix=$scratch/prefix
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$scratch" && mkdir -p "$scratch"
cmake --install "$build" --prefix "$prefix" > "$scratch/install.log"

# 1. What is installed.
test_only=$(cd "$prefix" && find . -iname '*test*')
[ -z "$test_only" ] || fail "test-only files installed: $test_only"
libtape=$(find "$prefix" -name libtape.so)
soname=$(objdump -p "$libtape" | awk '$1 == "SONAME" { print $2 }')
[ "$soname" = "libtape.so.$abi" ] ||
  fail "libtape.so's SONAME is '$soname', not libtape.so.$abi"
for tool in tape-opt tape-run tape-compile tape-lsp-server tape-import-torch; do
  "$prefix/bin/$tool" --version > "$scratch/$tool-version.txt"
  grep -qx "$tool (tape) $version" "$scratch/$tool-version.txt" ||
    fail "$tool --version does not say $version"
done
echo "installed: $(find "$prefix" -type f | wc -l) files, nothing test-only;" \
     "SONAME $soname; tools at version $version"

# 2. Declarations against definitions.
/usr/bin/python3 "$here/check_exports.py" --prefix "$prefix" \
  --clang "$clang" --mlir-include "$mlir_include"

# 3. Versions the package must refuse, saying which version it has.
for request in 99.0 0.1; do
  if cmake -DPREFIX="$prefix" -DREQUEST=$request -P "$here/find_tape.cmake" \
       > "$scratch/find-$request.log" 2>&1; then
    fail "find_package(tape $request) accepted version $version"
  fi
  grep -q "version: $version" "$scratch/find-$request.log" ||
    fail "find_package(tape $request) failed without naming version $version"
done
echo "find_package(tape 99.0) and (tape 0.1) refused: version $version"

# 4. examples/embed: the C and C++ APIs through libtape.so.
cmake -G Ninja -S "$src/examples/embed" -B "$scratch/embed" \
  -DCMAKE_PREFIX_PATH="$prefix" "$@" > "$scratch/embed-configure.log"
cmake --build "$scratch/embed" > "$scratch/embed-build.log"
expected="Loss: 0.6561, weight: 1.1084, bias: 0.0542"
"$scratch/embed/embed-c" "$src/examples/seed/2_apply_gradients.mlir" \
  host_iteration 3 | tee "$scratch/embed-c.out"
"$scratch/embed/embed-cpp" "$src/examples/seed/1_assign_sub.mlir" \
  train_step 3 | tee "$scratch/embed-cpp.out"
for out in embed-c embed-cpp; do
  [ "$(tail -n 1 "$scratch/$out.out")" = "$expected" ] ||
    fail "$out's third step is not '$expected'"
done

# 5. examples/my-opt: a tool of one's own on the compiler's libraries.
cmake -G Ninja -S "$src/examples/my-opt" -B "$scratch/my-opt" \
  -DCMAKE_PREFIX_PATH="$prefix" "$@" > "$scratch/my-opt-configure.log"
cmake --build "$scratch/my-opt" > "$scratch/my-opt-build.log"
"$scratch/my-opt/my-opt" --help > "$scratch/my-opt-help.txt"
grep -q "my-opt (tape $version)" "$scratch/my-opt-help.txt" ||
  fail "my-opt --help does not name tape $version"
seed=$src/examples/seed/1_assign_sub.mlir
"$scratch/my-opt/my-opt" "$seed" --tape-differentiate --canonicalize \
  > "$scratch/my-opt.mlir"
"$prefix/bin/tape-opt" "$seed" --tape-differentiate --canonicalize \
  > "$scratch/tape-opt.mlir"
grep -q "tape.assign_sub" "$scratch/my-opt.mlir" ||
  fail "my-opt printed no tape.assign_sub"
! grep -q "tape.gradient" "$scratch/my-opt.mlir" ||
  fail "my-opt left a tape.gradient"
diff "$scratch/my-opt.mlir" "$scratch/tape-opt.mlir" ||
  fail "my-opt and tape-opt differ"
echo "my-opt: --tape-differentiate --canonicalize as tape-opt" \
     "($(wc -l < "$scratch/my-opt.mlir") lines)"
echo "installed package: all checks passed"
