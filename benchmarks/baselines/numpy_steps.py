"""numpy float32 train steps of the benchmark models, for train_steps.py.

  numpy_steps.py MODEL WORKDIR STEPS

The same math as the other implementations, backward written by hand;
OpenBLAS's thread count comes from OPENBLAS_NUM_THREADS. Prints one JSON
line: median step time, first three losses, the BLAS libraries mapped into
the process.
"""
import json
import sys
import time

import numpy as np


def main():
    model, work, steps = sys.argv[1], sys.argv[2], int(sys.argv[3])
    times, losses = [], []

    def load(name):
        return np.load(f"{work}/{name}.npy")

    if model == "A":
        w, b = np.float32(1), np.float32(0)
        x, y, lr = np.float32(2), np.float32(3), np.float32(0.01)

        def step(k):
            nonlocal w, b
            d = x * w + b - y
            loss = d * d
            g = np.float32(2) * d
            w = w - lr * g * x
            b = b - lr * g
            return loss
    elif model in ("B", "C"):
        x, lab = load("x"), load("labels")
        if model == "B":
            batch, names = 64, ("w1", "b1", "w2", "b2")
        else:
            batch, names = 256, ("w1", "b1", "w2", "b2", "w3", "b3")
        params = [load(n) for n in names]
        nb = x.shape[0] // batch
        lr = np.float32(0.1 if model == "B" else 1e-3)
        slots = [(np.zeros_like(p), np.zeros_like(p)) for p in params]
        t = 0

        def step(k):
            nonlocal t
            lo, hi = (k % nb) * batch, (k % nb + 1) * batch
            xb, yb = x[lo:hi], lab[lo:hi]
            hs = [xb]  # layer inputs
            for i in range(0, len(params) - 2, 2):
                hs.append(np.maximum(hs[-1] @ params[i] + params[i + 1], 0))
            logits = hs[-1] @ params[-2] + params[-1]
            sh = logits - logits.max(axis=1, keepdims=True)
            e = np.exp(sh)
            s = e.sum(axis=1, keepdims=True)
            loss = -(yb * (sh - np.log(s))).sum() / np.float32(batch)
            d = (e / s - yb) / np.float32(batch)
            grads = [None] * len(params)
            for i in range(len(params) - 2, -1, -2):
                h = hs[i // 2]
                grads[i], grads[i + 1] = h.T @ d, d.sum(axis=0)
                if i:
                    d = (d @ params[i].T) * (h > 0)
            if model == "B":
                for p, g in zip(params, grads):
                    p -= lr * g
            else:  # Adam as #tape.adam lowers it (Keras' formula)
                t += 1
                tf = np.float32(t)
                alpha = (lr * np.sqrt(np.float32(1) - np.float32(0.999) ** tf)
                         / (np.float32(1) - np.float32(0.9) ** tf))
                for p, g, (m, v) in zip(params, grads, slots):
                    m += (g - m) * np.float32(0.1)
                    v += (g * g - v) * np.float32(0.001)
                    p -= m * alpha / (np.sqrt(v) + np.float32(1e-7))
            return loss
    elif model == "D":
        x, y, w, b = load("x"), load("y"), load("w"), load("b")
        lr = np.float32(0.1)

        def step(k):
            nonlocal w, b
            z = x @ w + b
            loss = (np.maximum(z, 0) - y * z
                    + np.log1p(np.exp(-np.abs(z)))).mean()
            dz = (1 / (1 + np.exp(-z)) - y) / np.float32(x.shape[0])
            w -= lr * (x.T @ dz)
            b -= lr * dz.sum(axis=0)
            return loss
    else:
        sys.exit(f"unknown model {model}")

    for k in range(steps):
        t0 = time.perf_counter()
        loss = step(k)
        times.append(time.perf_counter() - t0)
        if len(losses) < 3:
            losses.append(float(loss))
    times.sort()
    blas = sorted({l.split()[-1] for l in open("/proc/self/maps")
                   if "blas" in l.lower()
                   and l.split()[-1].endswith(tuple("0123456789o"))})
    print(json.dumps({"median_us": times[len(times) // 2] * 1e6,
                      "min_us": times[0] * 1e6, "losses": losses,
                      "blas": blas}))


if __name__ == "__main__":
    main()
