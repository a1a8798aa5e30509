#!/usr/bin/python3
"""Per-step time of the MNIST CNN (examples/cnn) against PyTorch eager,
at 1 and 2 threads, in alternating rounds of the same run.

Both sides train the same network (examples/cnn/torch_reference.py's Net
and examples/cnn/mnist_cnn.mlir, dropout on) with Adam from the same
weights on the same data (examples/cnn/data.py), batch 64. Each round
runs ours (tape-run --report-stats: the median step of the round) and
then PyTorch (torch.set_num_threads(N) under OMP_NUM_THREADS=N, the
median step of the round); the table reports the medians over rounds and
the ratio torch / ours (> 1: we are faster). PyTorch's convolutions run
in oneDNN (mkldnn) as Debian builds it.

GFLOP/s counts the two convolutions and two linear layers, forward and
backward (3 products each, 2*M*N*K; conv1's input gradient, which
neither side computes, included as for the dense models of
train_steps.py): 4.55 GFLOP per step.

Usage: /usr/bin/python3 benchmarks/cnn_step.py --tape-run build/bin/tape-run
         [--steps 20] [--rounds 5] [--threads 1,2]
"""
import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLE = os.path.join(ROOT, "examples", "cnn")
sys.path.insert(0, EXAMPLE)
import data  # noqa: E402

BATCH = 64
# conv1 64x32x26x26 outputs, depth 9; conv2 64x64x24x24, depth 288;
# fc1 64x128 by 9216; fc2 64x10 by 128.
FLOPS = 3 * 2 * (64 * 32 * 26 * 26 * 9 + 64 * 64 * 24 * 24 * 288 +
                 64 * 128 * 9216 + 64 * 10 * 128)

TORCH = r"""
import json, os, sys, time
import numpy as np, torch, torch.nn.functional as F
sys.path.insert(0, sys.argv[1])
import torch_reference, data
work, steps, threads = sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
torch.set_num_threads(threads)
net = torch_reference.Net()
net.dropout1.p, net.dropout2.p = 0.25, 0.5
with torch.no_grad():
    for name, value in data.initial_weights().items():
        net.get_parameter(name).copy_(torch.from_numpy(value))
opt = torch.optim.Adam(net.parameters(), lr=1e-3)
x = torch.from_numpy(np.load(f"{work}/x.npy"))
y = torch.from_numpy(np.load(f"{work}/labels.npy"))
rows = x.shape[0] // 64
times = []
for k in range(steps):
    xb, yb = x[(k % rows) * 64:(k % rows + 1) * 64], y[(k % rows) * 64:(k % rows + 1) * 64]
    t0 = time.perf_counter()
    opt.zero_grad()
    loss = F.nll_loss(net(xb), yb)
    loss.backward()
    opt.step()
    times.append(time.perf_counter() - t0)
times = sorted(times[1:])
print(json.dumps({"median_us": times[len(times) // 2] * 1e6}))
"""


def ours(opts, work, threads):
    out = subprocess.run(
        [opts.tape_run, os.path.join(EXAMPLE, "mnist_cnn.mlir"), "--steps",
         str(opts.steps), "--quiet", "--report-stats", "--num-threads",
         str(threads), "--input", f"{work}/x.npy", "--input",
         f"{work}/labels.npy"] +
        [f"--init={n}={work}/{n}.npy" for n in data.SHAPES],
        check=True, capture_output=True, text=True)
    return float(re.search(r"median ([0-9.]+) us/call", out.stderr).group(1))


def torch_step(opts, work, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    out = subprocess.run(
        ["/usr/bin/python3", "-c", TORCH, EXAMPLE, work, str(opts.steps),
         str(threads)], check=True, capture_output=True, text=True, env=env)
    return json.loads(out.stdout.splitlines()[-1])["median_us"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tape-run", required=True)
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", default="1,2")
    opts = parser.parse_args()
    threads = [int(t) for t in opts.threads.split(",")]
    with tempfile.TemporaryDirectory() as work:
        import numpy as np
        x, labels = data.dataset(BATCH * 10)
        np.save(f"{work}/x.npy", x)
        np.save(f"{work}/labels.npy", labels)
        for name, value in data.initial_weights().items():
            np.save(f"{work}/{name}.npy", value)
        times = {(who, n): [] for who in ("ours", "torch") for n in threads}
        for r in range(opts.rounds):
            for n in threads:
                times[("ours", n)].append(ours(opts, work, n))
                times[("torch", n)].append(torch_step(opts, work, n))
            print(f"round {r + 1}/{opts.rounds}: " + ", ".join(
                f"{who}@{n} {times[(who, n)][-1] / 1e3:.1f} ms"
                for (who, n) in times), file=sys.stderr, flush=True)
    print(f"MNIST CNN, batch 64, Adam: median of {opts.rounds} rounds of "
          f"{opts.steps} steps ({FLOPS / 1e9:.2f} GFLOP per step)")
    print("| threads | ours (ms) | GFLOP/s | torch (ms) | GFLOP/s | torch/ours |")
    print("| --- | --- | --- | --- | --- | --- |")
    for n in threads:
        o = statistics.median(times[("ours", n)])
        t = statistics.median(times[("torch", n)])
        ratios = [tt / oo for oo, tt in zip(times[("ours", n)], times[("torch", n)])]
        print(f"| {n} | {o / 1e3:.1f} | {FLOPS / o / 1e3:.1f} | {t / 1e3:.1f} | "
              f"{FLOPS / t / 1e3:.1f} | {statistics.median(ratios):.2f}x |")


if __name__ == "__main__":
    main()
