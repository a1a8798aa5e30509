"""PyTorch eager train steps of the benchmark models, for train_steps.py.

  torch_steps.py MODEL WORKDIR STEPS THREADS

Hand-written forward, autograd backward, torch.optim update (SGD, or Adam
with the per-step epsilon that makes torch's formula equal to #tape.adam's,
see below). Loads WORKDIR/<name>.npy as written by train_steps.py and
prints one JSON line: median step time, first three losses, the BLAS
libraries mapped into the process.
"""
import json
import math
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F


def main():
    model, work, steps, threads = (sys.argv[1], sys.argv[2], int(sys.argv[3]),
                                   int(sys.argv[4]))
    torch.set_num_threads(threads)

    def load(name):
        return torch.from_numpy(np.load(f"{work}/{name}.npy"))

    def param(name):
        return load(name).requires_grad_(True)

    adam_eps = None
    if model == "A":
        w = torch.tensor(1.0, requires_grad=True)
        b = torch.tensor(0.0, requires_grad=True)
        x, y = torch.tensor(2.0), torch.tensor(3.0)
        opt = torch.optim.SGD([w, b], lr=0.01)

        def forward(k):
            return (x * w + b - y) ** 2
    elif model in ("B", "C"):
        x, labels = load("x"), load("labels")
        if model == "B":
            batch, names = 64, ("w1", "b1", "w2", "b2")
        else:
            batch, names = 256, ("w1", "b1", "w2", "b2", "w3", "b3")
        params = [param(n) for n in names]
        nb = x.shape[0] // batch
        if model == "B":
            opt = torch.optim.SGD(params, lr=0.1)
        else:
            # #tape.adam (Keras) computes
            #   w -= lr sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + eps)
            # and torch.optim.Adam
            #   w -= lr/(1-b1^t) * m / (sqrt(v)/sqrt(1-b2^t) + eps'),
            # the same update when eps' = eps / sqrt(1-b2^t): set per step.
            adam_eps = 1e-7
            opt = torch.optim.Adam(params, lr=1e-3, betas=(0.9, 0.999),
                                   eps=adam_eps)

        def forward(k):
            lo, hi = (k % nb) * batch, (k % nb + 1) * batch
            h = x[lo:hi]
            for i in range(0, len(params) - 2, 2):
                h = torch.relu(torch.addmm(params[i + 1], h, params[i]))
            logits = torch.addmm(params[-1], h, params[-2])
            return F.cross_entropy(logits, labels[lo:hi])  # soft labels, mean
    elif model == "D":
        x, y = load("x"), load("y")
        w, b = param("w"), param("b")
        opt = torch.optim.SGD([w, b], lr=0.1)

        def forward(k):
            return F.binary_cross_entropy_with_logits(torch.addmm(b, x, w), y)
    else:
        sys.exit(f"unknown model {model}")

    times, losses = [], []
    for k in range(steps):
        t = time.perf_counter()
        if adam_eps is not None:
            for group in opt.param_groups:
                group["eps"] = adam_eps / math.sqrt(1 - 0.999 ** (k + 1))
        opt.zero_grad(set_to_none=True)
        loss = forward(k)
        loss.backward()
        opt.step()
        times.append(time.perf_counter() - t)
        if len(losses) < 3:
            losses.append(float(loss))
    times.sort()
    blas = sorted({l.split()[-1] for l in open("/proc/self/maps")
                   if "blas" in l.lower()
                   and l.split()[-1].endswith(tuple("0123456789o"))})
    print(json.dumps({"median_us": times[len(times) // 2] * 1e6,
                      "min_us": times[0] * 1e6, "losses": losses,
                      "blas": blas, "torch": torch.__version__,
                      "threads": torch.get_num_threads()}))


if __name__ == "__main__":
    main()
