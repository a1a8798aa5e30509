#!/usr/bin/env bash
# The main demo: the seed's three train steps and the MLP, parsed and
# verified by tape-opt; the first step differentiated; a few derived
# gradients compiled, run and checked against finite differences.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${TAPE_BUILD_DIR:-$here/build}/bin"

for f in "$here"/examples/seed/*.mlir "$here"/examples/mlp/*.mlir; do
  "$bin/tape-opt" "$f" -o /dev/null
  echo "verified: ${f#$here/}"
done
echo
echo "== The seed's first train step after tape-differentiate (the tape is"
echo "== gone: forward pass, then the backward code, then the updates):"
"$bin/tape-opt" --tape-differentiate "$here/examples/seed/1_assign_sub.mlir"
echo
echo "== Derived gradients executed and checked against finite differences:"
/usr/bin/python3 "$here/scripts/gradcheck.py" --tape-opt "$bin/tape-opt" seed_neuron softmax_cross_entropy matmul second_order_cube
