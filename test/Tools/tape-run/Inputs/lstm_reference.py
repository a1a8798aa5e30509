"""Trains examples/lstm/lstm_sgd.mlir (its time loop an scf.for) with
tape-run on one fixed batch and compares the first 20 losses with a
float64 numpy evaluation of the same math from the same initial weights,
backpropagated through time by hand.

Usage: lstm_reference.py TAPE_RUN MODEL WORKDIR [tape-run options]
Prints one line per check; exits non-zero on a mismatch.
"""
import subprocess
import sys

import numpy as np

STEPS = 20
T, B, I, H, O = 8, 16, 32, 64, 10
LR = 0.1
RTOL = 1e-5  # float32 against float64 over 20 steps of SGD

tape_run, model, work = sys.argv[1:4]
extra = sys.argv[4:]
rng = np.random.default_rng(7)
x = rng.standard_normal((T, B, I)).astype(np.float32)
y = rng.standard_normal((B, O)).astype(np.float32)
init = {"wx": (rng.standard_normal((I, 4 * H)) * 0.1).astype(np.float32),
        "wh": (rng.standard_normal((H, 4 * H)) * 0.1).astype(np.float32),
        "b": (rng.standard_normal(4 * H) * 0.1).astype(np.float32),
        "wy": (rng.standard_normal((H, O)) * 0.1).astype(np.float32)}
np.save(f"{work}/x.npy", x)
np.save(f"{work}/y.npy", y)
for name, arr in init.items():
    np.save(f"{work}/{name}.npy", arr)

out = subprocess.run(
    [tape_run, model, "--steps", str(STEPS), "--precision", "0",
     "--input", f"{work}/x.npy", "--input", f"{work}/y.npy"] +
    [f"--init={v}={work}/{v}.npy" for v in init] + extra,
    check=True, capture_output=True, text=True).stdout
got = [float(line.split("Loss: ")[1]) for line in out.splitlines()]
assert len(got) == STEPS, out


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


wx, wh, b, wy = (init[k].astype(np.float64) for k in ("wx", "wh", "b", "wy"))
xs, ys = x.astype(np.float64), y.astype(np.float64)
want = []
for _ in range(STEPS):
    h, c = np.zeros((B, H)), np.zeros((B, H))
    cache = []
    for t in range(T):
        z = xs[t] @ wx + h @ wh + b
        i, f, o = sigmoid(z[:, :H]), sigmoid(z[:, H:2 * H]), sigmoid(z[:, 3 * H:])
        g = np.tanh(z[:, 2 * H:3 * H])
        c_new = f * c + i * g
        h_new = o * np.tanh(c_new)
        cache.append((h, c, i, f, g, o, c_new))
        h, c = h_new, c_new
    p = h @ wy
    want.append(((p - ys) ** 2).mean())
    dp = 2 * (p - ys) / (B * O)
    dwy = h.T @ dp
    dh, dc = dp @ wy.T, np.zeros((B, H))
    dwx, dwh, db = np.zeros_like(wx), np.zeros_like(wh), np.zeros_like(b)
    for t in reversed(range(T)):
        h_prev, c_prev, i, f, g, o, c_new = cache[t]
        tc = np.tanh(c_new)
        do = dh * tc
        dc = dc + dh * o * (1 - tc ** 2)
        di, df, dg = dc * g, dc * c_prev, dc * i
        dz = np.concatenate([di * i * (1 - i), df * f * (1 - f),
                             dg * (1 - g ** 2), do * o * (1 - o)], axis=1)
        dwx += xs[t].T @ dz
        dwh += h_prev.T @ dz
        db += dz.sum(axis=0)
        dh, dc = dz @ wh.T, dc * f
    wx -= LR * dwx
    wh -= LR * dwh
    b -= LR * db
    wy -= LR * dwy

worst = max(abs(g - w) / abs(w) for g, w in zip(got, want))
print(f"first losses: tape {got[0]:.6f} {got[1]:.6f}, float64 {want[0]:.6f} {want[1]:.6f}")
print(f"max relative difference over {STEPS} steps: {worst:.2e} (tolerance {RTOL:.0e})")
if worst > RTOL:
    print("FAIL: losses differ from the float64 reference")
    sys.exit(1)
if not got[-1] < got[0]:
    print(f"FAIL: the loss did not decrease: {got[0]} -> {got[-1]}")
    sys.exit(1)
print(f"loss decreased: {got[0]:.4f} -> {got[-1]:.4f}")
print("PASS")
