#!/usr/bin/env bash
# The main demo: the seed's three train steps compiled to native code and
# run for three steps each (the third one's host-side update is diagnosed
# but learns like the others), then derived gradients checked against
# finite differences.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${TAPE_BUILD_DIR:-$here/build}/bin"

for f in "$here"/examples/seed/*.mlir; do
  echo "== tape-run ${f#$here/} --steps 3"
  "$bin/tape-run" "$f" --steps 3
done
echo
echo "== The MLP (784-256-10, softmax cross-entropy, SGD 0.1) on a synthetic"
echo "== dataset of 640 rows cut into batches of 64; every 5th step:"
data="$(mktemp -d)"
trap 'rm -rf "$data"' EXIT
/usr/bin/python3 - "$data" <<'PY'
import sys, numpy as np
rng = np.random.default_rng(0)
x = rng.standard_normal((640, 784)).astype(np.float32)
labels = np.eye(10, dtype=np.float32)[np.argmax(x @ rng.standard_normal((784, 10)), 1)]
np.save(sys.argv[1] + "/x.npy", x)
np.save(sys.argv[1] + "/labels.npy", labels)
PY
"$bin/tape-run" "$here/examples/mlp/mlp_sgd.mlir" --steps 30 --shuffle-seed 1 \
  --input "$data/x.npy" --input "$data/labels.npy" | awk 'NR % 5 == 1'
echo
echo "== The first step after tape-differentiate (the tape is gone: forward"
echo "== pass, then the derived backward code, then the assign_sub updates):"
"$bin/tape-opt" --tape-differentiate "$here/examples/seed/1_assign_sub.mlir"
echo
echo "== Derived gradients compiled, run and checked against finite differences:"
/usr/bin/python3 "$here/scripts/gradcheck.py" --tape-run "$bin/tape-run" seed_neuron softmax_cross_entropy matmul scf_for second_order_cube
