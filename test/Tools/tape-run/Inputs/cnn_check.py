"""Trains examples/cnn/mnist_cnn.mlir with tape-run and compares its first
losses with PyTorch's, stored by examples/cnn/torch_reference.py, from the
same weights on the same data (examples/cnn/data.py), dropout off (p = 0,
since the generators differ); then runs it with dropout on, twice.

Usage: cnn_check.py TAPE_RUN MODEL WORKDIR [tape-run options...]
Prints one line per check; exits non-zero on a failure.
"""
import json
import os
import subprocess
import sys

import numpy as np

# Both sides compute in float32 with different summation orders (direct
# loops here, oneDNN there). Adam divides each update by the gradient's
# own scale, so a rounding difference in a gradient near zero could move
# its update by up to lr; over 10 steps the losses agree to 4e-7 relative
# (2026-12-02), so 1e-5 leaves room for other orders and still catches a
# wrong gradient, which moves them by 1e-2 (two miscompiles did).
RTOL = 1e-5

tape_run, model, work = sys.argv[1:4]
extra = sys.argv[4:]
example = os.path.dirname(os.path.abspath(model))
sys.path.insert(0, example)
import data  # noqa: E402

reference = json.load(open(os.path.join(example, "torch_reference.json")))
steps, batch = reference["steps"], reference["batch"]
x, labels = data.dataset(batch * steps)
np.save(f"{work}/x.npy", x)
np.save(f"{work}/labels.npy", labels)
inits = []
for name, value in data.initial_weights().items():
    np.save(f"{work}/{name}.npy", value)
    inits.append(f"--init={name}={work}/{name}.npy")

# The same step with dropout off: keep everything, scale by 1.
source = open(model).read()
for old, new in [("dense<0.25> : tensor<64x64x12x12xf32>", "dense<0.0> : tensor<64x64x12x12xf32>"),
                 ("dense<1.33333337> : tensor<64x64x12x12xf32>", "dense<1.0> : tensor<64x64x12x12xf32>"),
                 ("dense<0.5> : tensor<64x128xf32>", "dense<0.0> : tensor<64x128xf32>"),
                 ("dense<2.0> : tensor<64x128xf32>", "dense<1.0> : tensor<64x128xf32>")]:
    assert source.count(old) == 1, old
    source = source.replace(old, new)
open(f"{work}/no_dropout.mlir", "w").write(source)


def losses(path, count):
    out = subprocess.run(
        [tape_run, path, "--steps", str(count), "--precision", "0",
         "--input", f"{work}/x.npy", "--input", f"{work}/labels.npy"]
        + inits + extra, check=True, capture_output=True, text=True).stdout
    got = [float(line.split("Loss: ")[1]) for line in out.splitlines()
           if line.startswith("Loss: ")]
    assert len(got) == count, out
    return np.array(got)


got = losses(f"{work}/no_dropout.mlir", steps)
want = np.array(reference["losses"])
rel = np.abs(got - want) / np.abs(want)
print("tape-run:", " ".join(f"{v:.6f}" for v in got))
print("PyTorch: ", " ".join(f"{v:.6f}" for v in want))
print(f"max relative difference over {steps} steps: {rel.max():.2e}")
assert rel.max() < RTOL, rel
assert got[-1] < got[0] - 0.1, got
print("PASS matches PyTorch, dropout off; loss decreased")

first = losses(model, 4)
again = losses(model, 4)
assert np.array_equal(first, again), (first, again)
assert not np.array_equal(first, got[:4]), first
print("PASS dropout on: reproducible, and not the dropout-off losses")
