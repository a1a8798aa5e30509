#!/usr/bin/env bash
# The training workflow end to end (docs/TrainingWorkflow.md walks it):
# MNIST-shaped data in .npy files (raw uint8 pixels, one-hot labels)
# -> training with a validation split, a log and a checkpoint -> the loss
# curves as a picture -> evaluation on held-out test data -> the trained
# weights baked into an object file + C header -> a C program that
# classifies with it and agrees with tape-run.
#
#   scripts/workflow.sh [WORKDIR]     (default: a temporary folder)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${TAPE_BUILD_DIR:-$here/build}/bin"
work="${1:-$(mktemp -d)}"
mkdir -p "$work"
model="$here/examples/mlp/mlp_sgd.mlir"
py=/usr/bin/python3

echo "== 1. Data: 7040 training and 640 test rows of 28x28 uint8 pixels"
"$py" - "$work" <<'PY'
import sys, numpy as np
work = sys.argv[1]
rng = np.random.default_rng(2026)
# Ten class prototypes (random strokes of bright pixels); a row is its
# class's prototype with noise, as digits are their shape with variation.
prototypes = (rng.random((10, 784)) < 0.1) * 60.0
def make(n):
    classes = rng.integers(0, 10, n)
    pixels = prototypes[classes] + rng.normal(64, 90, (n, 784))
    x = np.clip(pixels, 0, 255).astype(np.uint8)
    return x, np.eye(10, dtype=np.float32)[classes]
for name, n in (("train", 7040), ("test", 640)):
    x, labels = make(n)
    np.save(f"{work}/{name}_x.npy", x)
    np.save(f"{work}/{name}_labels.npy", labels)
    # The deployed program reads raw float32 rows.
    (x / np.float32(255)).astype(np.float32).tofile(f"{work}/{name}_x.bin")
    labels.tofile(f"{work}/{name}_labels.bin")
PY

echo "== 2. Train 300 steps: 10% of the rows held out and evaluated every 50"
rm -f "$work/run.jsonl"
"$bin/tape-run" "$model" --steps 300 --uint8-scale 0.00392156862745098 \
  --input "$work/train_x.npy" --input "$work/train_labels.npy" \
  --shuffle-seed 1 --eval evaluate --val-split 0.1 --eval-every 50 \
  --log "$work/run.jsonl" --checkpoint "$work/run.npz" \
  --save-vars "$work/weights.npz" --quiet

echo "== 3. The loss curves from the log"
if "$py" -c "import matplotlib" 2>/dev/null; then
  "$py" "$here/scripts/plot_log.py" "$work/run.jsonl" -o "$work/loss.svg" \
    --title "MLP on MNIST-shaped data"
else
  echo "(python3-matplotlib is not installed: no picture)"
fi

echo "== 4. Evaluate the trained model on the test set (state unchanged)"
"$bin/tape-run" "$model" --resume "$work/run.npz" --eval evaluate \
  --uint8-scale 0.00392156862745098 \
  --input "$work/test_x.npy" --input "$work/test_labels.npy" \
  --eval-output "$work/test_logits.npy" 2>/dev/null

echo "== 5. Deploy: the trained weights baked into an object + C header"
"$bin/tape-compile" "$model" --weights "$work/run.npz" -o "$work/mlp.o" \
  --header "$work/mlp.h" --prefix mlp
grep "Link with" "$work/mlp.h"
cc -std=c11 -O2 -I"$work" "$here/examples/mlp/predict.c" "$work/mlp.o" -lm \
  -o "$work/predict"
"$work/predict" "$work/test_x.bin" "$work/test_labels.bin"
echo "(files in $work)"
