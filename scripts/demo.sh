#!/usr/bin/env bash
# The main demo: the seed's three train steps compiled to native code and
# run for three steps each (the third one's host-side update is diagnosed
# but learns like the others), the training workflow from data to a
# deployed object (scripts/workflow.sh), then derived gradients checked
# against finite differences.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${TAPE_BUILD_DIR:-$here/build}/bin"

for f in "$here"/examples/seed/*.mlir; do
  echo "== tape-run ${f#$here/} --steps 3"
  "$bin/tape-run" "$f" --steps 3
done
echo
echo "== The training workflow (docs/TrainingWorkflow.md): MNIST-shaped .npy"
echo "== data -> training with validation -> evaluation -> a deployed C program:"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
"$here/scripts/workflow.sh" "$data" 2>&1 | grep -v "^(files in"
echo
echo "== The first step after tape-differentiate (the tape is gone: forward"
echo "== pass, then the derived backward code, then the assign_sub updates):"
"$bin/tape-opt" --tape-differentiate "$here/examples/seed/1_assign_sub.mlir"
echo
echo "== Derived gradients compiled, run and checked against finite differences:"
/usr/bin/python3 "$here/scripts/gradcheck.py" --tape-run "$bin/tape-run" seed_neuron softmax_cross_entropy matmul scf_for second_order_cube
