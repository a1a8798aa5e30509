#!/usr/bin/env bash
# Quick start, part 1: install what is missing, build, run the demo.
#
# Works as root on a fresh Debian 12 machine (uses sudo otherwise). Installs
# only the Debian packages that are not there yet, so a second run is quick.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

# The toolchain (LLVM/MLIR 22 come from Debian's bookworm-security), Debian's
# python3 with numpy for lit and the numeric tests; clang-22 and its
# sanitizer and libFuzzer runtimes for scripts/sanitize.sh (CI runs it);
# OpenBLAS's runtime library for the optional BLAS path (`--blas`, tested);
# LLVM's OpenMP runtime for threaded kernels (`--num-threads`, tested;
# Debian ships LLVM 22's as libomp-22-dev, whose libomp.so.5 is libomp5-19's);
# psutil, with which lit bounds each test's time; libzip for .npz archives
# (ZIP64 and deflate, read and written by the runtime); PyTorch for
# tape-import-torch and the tests that compare with PyTorch; OpenMPI for
# data-parallel training (tape-run --data-parallel under mpirun, tested;
# the build works without it, and tape-run then says it cannot).
packages=(
  cmake ninja-build g++ lld
  llvm-22-dev llvm-22-tools libmlir-22-dev mlir-22-tools
  clang-22 libclang-rt-22-dev
  python3 python3-numpy python3-psutil python3-matplotlib python3-torch
  libopenblas0-pthread libomp-22-dev
  libzip-dev pkg-config
  libopenmpi-dev openmpi-bin
)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== Installing: ${missing[*]}"
  sudo=""; [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
else
  echo "== All packages present"
fi

"$here/scripts/build.sh"
[ -n "${TAPE_SKIP_DEMO:-}" ] || "$here/scripts/demo.sh"
