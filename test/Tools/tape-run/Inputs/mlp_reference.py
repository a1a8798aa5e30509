"""Trains examples/mlp/mlp_sgd.mlir with tape-run on a deterministic
synthetic dataset and compares the first 20 losses with a float64 numpy
evaluation of the same math from the same initial weights.

Usage: mlp_reference.py TAPE_RUN MODEL WORKDIR
Prints one line per check; exits non-zero on a mismatch.
"""
import subprocess
import sys

import numpy as np

STEPS = 20
BATCH = 64
LR = 0.1
# float32 forward/backward against float64 over 20 steps of SGD.
RTOL = 1e-5

# Further arguments go to tape-run (--blas, --num-threads 2, ...).
tape_run, model, work = sys.argv[1:4]
extra = sys.argv[4:]
rng = np.random.default_rng(1234)
n = BATCH * 5
x = rng.standard_normal((n, 784)).astype(np.float32)
# Learnable labels: the argmax of a fixed random projection.
proj = rng.standard_normal((784, 10))
labels = np.eye(10, dtype=np.float32)[np.argmax(x @ proj, axis=1)]
w1 = (rng.standard_normal((784, 256)) * 0.05).astype(np.float32)
b1 = np.zeros(256, np.float32)
w2 = (rng.standard_normal((256, 10)) * 0.05).astype(np.float32)
b2 = np.zeros(10, np.float32)
for name, arr in [("x", x), ("labels", labels), ("w1", w1), ("b1", b1),
                  ("w2", w2), ("b2", b2)]:
    np.save(f"{work}/{name}.npy", arr)

out = subprocess.run(
    [tape_run, model, "--steps", str(STEPS), "--precision", "0",
     "--input", f"{work}/x.npy", "--input", f"{work}/labels.npy"] +
    [f"--init={v}={work}/{v}.npy" for v in ("w1", "b1", "w2", "b2")] + extra,
    check=True, capture_output=True, text=True).stdout
got = [float(line.split("Loss: ")[1]) for line in out.splitlines()]
assert len(got) == STEPS, out

W1, B1, W2, B2 = (a.astype(np.float64) for a in (w1, b1, w2, b2))
want = []
for k in range(STEPS):
    rows = slice((k % (n // BATCH)) * BATCH, (k % (n // BATCH) + 1) * BATCH)
    xb, yb = x[rows].astype(np.float64), labels[rows].astype(np.float64)
    pre = xb @ W1 + B1
    h = np.maximum(pre, 0)
    logits = h @ W2 + B2
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    want.append(-(yb * logp).sum() / BATCH)
    dlogits = (np.exp(logp) - yb) / BATCH
    dW2, dB2 = h.T @ dlogits, dlogits.sum(axis=0)
    dpre = (dlogits @ W2.T) * (pre >= 0)
    dW1, dB1 = xb.T @ dpre, dpre.sum(axis=0)
    W1 -= LR * dW1
    B1 -= LR * dB1
    W2 -= LR * dW2
    B2 -= LR * dB2

worst = max(abs(g - w) / abs(w) for g, w in zip(got, want))
print(f"first losses: tape {got[0]:.6f} {got[1]:.6f}, float64 {want[0]:.6f} {want[1]:.6f}")
print(f"max relative difference over {STEPS} steps: {worst:.2e} (tolerance {RTOL:.0e})")
if worst > RTOL:
    print("FAIL: losses differ from the float64 reference")
    sys.exit(1)
if not got[-1] < got[0] * 0.8:
    print(f"FAIL: the loss did not decrease enough: {got[0]} -> {got[-1]}")
    sys.exit(1)
print(f"loss decreased: {got[0]:.4f} -> {got[-1]:.4f}")
print("PASS")
