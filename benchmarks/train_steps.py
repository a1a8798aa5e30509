#!/usr/bin/python3
"""Per-step time of compiled train steps against a numpy baseline of the
same math, measured in the same run (the machine is shared and noisy:
ratios are what to track, not absolute times).

Models (same fp32 data and initial weights everywhere; the script checks
that both sides print the same first loss before timing):
  A  the seed's single neuron (scalar w, b; SGD 0.01)
  B  MLP 784-256-10, ReLU, softmax cross-entropy, batch 64, SGD 0.1
  D  logistic regression, 1000 features, batch 1024, SGD 0.1

Columns: our JIT-compiled step (tape-run), the same without tiling and
vectorization (plain loops), numpy (float32, OpenBLAS sgemm, one thread),
and the ratio numpy / ours (> 1: we are faster). numpy runs with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, so OpenBLAS picks its best
kernels for this CPU.

Usage: train_steps.py --tape-run build/bin/tape-run [--steps N]
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)

NUMPY_BASELINE = r'''
import sys, time, json
import numpy as np
model, work, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
times, first = [], None
if model == "A":
    w, b = np.float32(1), np.float32(0)
    x, y, lr = np.float32(2), np.float32(3), np.float32(0.01)
    for _ in range(steps):
        t = time.perf_counter()
        d = x * w + b - y
        loss = d * d
        g = np.float32(2) * d
        w = w - lr * g * x
        b = b - lr * g
        times.append(time.perf_counter() - t)
        first = loss if first is None else first
elif model == "B":
    x, lab = np.load(work + "/x.npy"), np.load(work + "/labels.npy")
    w1, b1 = np.load(work + "/w1.npy"), np.load(work + "/b1.npy")
    w2, b2 = np.load(work + "/w2.npy"), np.load(work + "/b2.npy")
    lr = np.float32(0.1)
    nb = x.shape[0] // 64
    for k in range(steps):
        xb, yb = x[(k % nb) * 64:(k % nb + 1) * 64], lab[(k % nb) * 64:(k % nb + 1) * 64]
        t = time.perf_counter()
        pre = xb @ w1 + b1
        h = np.maximum(pre, 0)
        logits = h @ w2 + b2
        sh = logits - logits.max(axis=1, keepdims=True)
        e = np.exp(sh)
        s = e.sum(axis=1, keepdims=True)
        loss = -(yb * (sh - np.log(s))).sum() / 64
        dlog = (e / s - yb) / np.float32(64)
        dw2, db2 = h.T @ dlog, dlog.sum(axis=0)
        dpre = (dlog @ w2.T) * (pre >= 0)
        dw1, db1 = xb.T @ dpre, dpre.sum(axis=0)
        w1 -= lr * dw1; b1 -= lr * db1; w2 -= lr * dw2; b2 -= lr * db2
        times.append(time.perf_counter() - t)
        first = loss if first is None else first
else:
    x, y = np.load(work + "/x.npy"), np.load(work + "/y.npy")
    w, b = np.load(work + "/w.npy"), np.load(work + "/b.npy")
    lr = np.float32(0.1)
    for _ in range(steps):
        t = time.perf_counter()
        z = x @ w + b
        loss = (np.maximum(z, 0) - y * z + np.log1p(np.exp(-np.abs(z)))).mean()
        dz = (1 / (1 + np.exp(-z)) - y) / np.float32(1024)
        w -= lr * (x.T @ dz); b -= lr * dz.sum(axis=0)
        times.append(time.perf_counter() - t)
        first = loss if first is None else first
times.sort()
blas = sorted({l.split()[-1] for l in open("/proc/self/maps")
               if "blas" in l.lower() and l.split()[-1].endswith(tuple("0123456789o"))})
print(json.dumps({"median_us": times[len(times) // 2] * 1e6, "first": float(first),
                  "blas": blas}))
'''


def prepare(model, work):
    rng = np.random.default_rng(5)
    if model == "A":
        return os.path.join(ROOT, "examples/seed/1_assign_sub.mlir"), [], []
    if model == "B":
        x = rng.standard_normal((640, 784)).astype(np.float32)
        lab = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 640)]
        vals = {"x": x, "labels": lab,
                "w1": (rng.standard_normal((784, 256)) * 0.05).astype(np.float32),
                "b1": np.zeros(256, np.float32),
                "w2": (rng.standard_normal((256, 10)) * 0.05).astype(np.float32),
                "b2": np.zeros(10, np.float32)}
        for k, v in vals.items():
            np.save(f"{work}/{k}.npy", v)
        return (os.path.join(ROOT, "examples/mlp/mlp_sgd.mlir"),
                [f"{work}/x.npy", f"{work}/labels.npy"],
                [f"{v}={work}/{v}.npy" for v in ("w1", "b1", "w2", "b2")])
    x = rng.standard_normal((1024, 1000)).astype(np.float32)
    y = (rng.random((1024, 1)) < 0.5).astype(np.float32)
    vals = {"x": x, "y": y,
            "w": (rng.standard_normal((1000, 1)) * 0.01).astype(np.float32),
            "b": np.zeros(1, np.float32)}
    for k, v in vals.items():
        np.save(f"{work}/{k}.npy", v)
    return (os.path.join(HERE, "models/logreg.mlir"),
            [f"{work}/x.npy", f"{work}/y.npy"],
            [f"{v}={work}/{v}.npy" for v in ("w", "b")])


def run_tape(tape_run, model_file, inputs, inits, steps, extra):
    args = [tape_run, model_file, "--steps", str(steps), "--quiet",
            "--report-stats", "--print-vars", "none"] + extra
    args += [a for i in inputs for a in ("--input", i)]
    args += [f"--init={i}" for i in inits]
    p = subprocess.run(args, capture_output=True, text=True, check=True)
    median = float(re.search(r"median ([\d.]+) us/call", p.stderr).group(1))
    first = subprocess.run(
        [tape_run, model_file, "--steps", "1", "--precision", "0",
         "--print-vars", "none"] + [a for i in inputs for a in ("--input", i)]
        + [f"--init={i}" for i in inits],
        capture_output=True, text=True, check=True).stdout
    return median, float(first.split("Loss: ")[1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tape-run", required=True)
    ap.add_argument("--steps", type=int, default=200)
    opts = ap.parse_args()
    env = dict(os.environ, OMP_NUM_THREADS="1", OPENBLAS_NUM_THREADS="1")
    env.pop("OPENBLAS_CORETYPE", None)
    env.pop("OPENBLAS_L2_SIZE", None)
    print(f"{'model':<6} {'ours us':>10} {'loops us':>10} {'numpy us':>10} "
          f"{'numpy/ours':>11} {'loops/ours':>11}  first losses")
    with tempfile.TemporaryDirectory() as work:
        for model in ("A", "B", "D"):
            model_file, inputs, inits = prepare(model, work)
            steps = opts.steps * (100 if model == "A" else 1)
            ours, first = run_tape(opts.tape_run, model_file, inputs, inits,
                                   steps, [])
            loops, _ = run_tape(opts.tape_run, model_file, inputs, inits,
                                max(steps // 10, 5), ["--no-vectorize"])
            p = subprocess.run([sys.executable, "-c", NUMPY_BASELINE, model,
                                work, str(steps)], capture_output=True,
                               text=True, check=True, env=env)
            import json
            base = json.loads(p.stdout)
            if abs(base["first"] - first) > 1e-4 * max(1, abs(first)):
                print(f"{model}: first losses differ: ours {first}, numpy "
                      f"{base['first']}")
                return 1
            if not any("openblas" in b for b in base["blas"]):
                print(f"warning: numpy is not using OpenBLAS ({base['blas']}); "
                      "install libopenblas0-pthread for a fair baseline")
            print(f"{model:<6} {ours:>10.2f} {loops:>10.2f} "
                  f"{base['median_us']:>10.2f} {base['median_us'] / ours:>11.2f} "
                  f"{loops / ours:>11.2f}  {first:.6f} = {base['first']:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
