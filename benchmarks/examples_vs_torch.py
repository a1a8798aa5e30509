#!/usr/bin/python3
"""Per-step time of the examples' models against PyTorch eager, at 1 and 2
threads, in alternating rounds of the same run.

  cnn  examples/cnn: the MNIST net of pytorch/examples, batch 64, Adam,
       dropout on (examples/cnn/torch_reference.py's Net on the other side)
  gpt  examples/gpt: gen_gpt.py's default GPT-2 (vocab 512, sequence 64,
       batch 4, 128 channels, 4 heads, 2 layers), AdamW
       (examples/gpt/torch_reference.py's GPT on the other side)

Both sides train the same model from the same weights on the same data
(the examples' data.py). PyTorch runs with OMP_WAIT_POLICY=passive
(spinning threads made it slower on this busy 2-core machine) and with
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, or set to
--openblas-coretype: its linear layers are OpenBLAS sgemm, and where
OpenBLAS misdetects the CPU (this VM: Prescott kernels, a third of the
speed) the baseline must be given its real kernels (SkylakeX here). The
script prints which kernels torch's OpenBLAS runs. Gradients are reset
with zero_grad(set_to_none=True), PyTorch 2's default, as train_steps.py
does. Each round runs ours (tape-run --report-stats:
the median step of the round) and then PyTorch
(torch.set_num_threads(N) under OMP_NUM_THREADS=N, the median step of
the round); the table reports the medians over rounds and the median of
the per-round ratios torch / ours (> 1: we are faster). PyTorch's
convolutions run in oneDNN (mkldnn) as Debian builds it.

GFLOP/s counts the matmul-shaped work, forward and backward (3 products
each, 2*M*N*K): for the CNN the two convolutions (im2col products) and
the two linear layers (conv1's input gradient, which neither side
computes, included, as train_steps.py counts the first dense layer); for
the GPT the projections, the MLP, the attention products and the tied
logits.

Usage: /usr/bin/python3 benchmarks/examples_vs_torch.py
         --tape-run build/bin/tape-run [--models cnn,gpt] [--steps 20]
         [--rounds 5] [--threads 1,2] [--openblas-coretype SkylakeX]
"""
import argparse
import importlib
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
EXAMPLES = os.path.join(ROOT, "examples")

# GPT default configuration (gen_gpt.py and torch_reference.py agree).
V, T, B, C, NH, L = 512, 64, 4, 128, 4, 2


def gpt_flops():
    bt = B * T
    dense = L * (bt * C * 3 * C + bt * C * C + 2 * bt * C * 4 * C) + bt * C * V
    attention = L * 2 * B * NH * T * T * (C // NH)
    return 3 * 2 * (dense + attention)


MODELS = {
    "cnn": dict(title="MNIST CNN, batch 64, Adam",
                flops=3 * 2 * (64 * 32 * 26 * 26 * 9 + 64 * 64 * 24 * 24 * 288 +
                               64 * 128 * 9216 + 64 * 10 * 128)),
    "gpt": dict(title=f"GPT-2 (V {V}, T {T}, B {B}, C {C}, {NH} heads, {L} layers), AdamW",
                flops=gpt_flops()),
}

TORCH = r"""
import json, sys, time
import numpy as np, torch, torch.nn.functional as F
model, example, work, steps, threads = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
sys.path.insert(0, example)
import torch_reference as ref, data
torch.set_num_threads(threads)
if model == "cnn":
    net = ref.Net()
    net.dropout1.p, net.dropout2.p = 0.25, 0.5
    weights = data.initial_weights()
    opt_params = net.parameters()
else:
    import model as gpt
    net = gpt.GPT(ref.V, ref.T, ref.B, ref.C, ref.NH, ref.L)
    weights = data.initial_weights(ref.V, ref.T, ref.C, ref.L)
with torch.no_grad():
    for name, value in weights.items():
        net.get_parameter(name).copy_(torch.from_numpy(value))
if model == "cnn":
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
else:
    opt = torch.optim.AdamW(
        [{"params": [p for p in net.parameters() if p.dim() == 2], "weight_decay": 0.1},
         {"params": [p for p in net.parameters() if p.dim() != 2], "weight_decay": 0.0}],
        lr=3e-4, betas=(0.9, 0.999), eps=1e-8)
a = torch.from_numpy(np.load(f"{work}/a.npy"))
b = torch.from_numpy(np.load(f"{work}/b.npy"))
rows = 64 if model == "cnn" else ref.B * ref.T
batches = a.shape[0] // rows
times = []
for k in range(steps):
    sl = slice((k % batches) * rows, (k % batches + 1) * rows)
    t0 = time.perf_counter()
    opt.zero_grad(set_to_none=True)
    if model == "cnn":
        loss = F.nll_loss(net(a[sl]), b[sl])
    else:
        loss = gpt.loss(net(a[sl].view(ref.B, ref.T)), b[sl].view(ref.B, ref.T))
    loss.backward()
    opt.step()
    times.append(time.perf_counter() - t0)
times = sorted(times[1:])
# The OpenBLAS kernels torch's matmuls run (its convolutions are oneDNN's).
import ctypes
core = "?"
for lib in sorted({l.split()[-1] for l in open("/proc/self/maps") if "libopenblas" in l}):
    try:
        f = ctypes.CDLL(lib).openblas_get_corename
        f.restype = ctypes.c_char_p
        core = f().decode()
    except (OSError, AttributeError):
        pass
print(json.dumps({"median_us": times[len(times) // 2] * 1e6, "openblas_core": core}))
"""


def prepare(model, work):
    """Writes the model, its data (a.npy, b.npy) and initial weights;
    returns the model file and the --init options."""
    example = os.path.join(EXAMPLES, model)
    sys.path.insert(0, example)
    data = importlib.import_module("data")
    if model == "cnn":
        a, b = data.dataset(64 * 10)
        weights = data.initial_weights()
        path = os.path.join(example, "mnist_cnn.mlir")
    else:
        gen = importlib.import_module("gen_gpt")
        a, b = data.tokens(B * T * 10, V)
        weights = data.initial_weights(V, T, C, L)
        path = f"{work}/gpt.mlir"
        with open(path, "w") as f:
            f.write(gen.generate(V, T, B, C, NH, L, 0.1))
    sys.path.remove(example)
    del sys.modules["data"]
    np.save(f"{work}/a.npy", a)
    np.save(f"{work}/b.npy", b)
    inits = []
    for name, value in weights.items():
        np.save(f"{work}/{name}.npy", value)
        inits.append(f"--init={name}={work}/{name}.npy")
    return path, inits


def ours(opts, path, inits, work, threads):
    out = subprocess.run(
        [opts.tape_run, path, "--steps", str(opts.steps), "--quiet",
         "--report-stats", "--num-threads", str(threads), "--input",
         f"{work}/a.npy", "--input", f"{work}/b.npy"] + inits,
        check=True, capture_output=True, text=True)
    return float(re.search(r"median ([0-9.]+) us/call", out.stderr).group(1))


def torch_step(opts, model, work, threads):
    env = dict(os.environ, OMP_NUM_THREADS=str(threads),
               OMP_WAIT_POLICY="passive")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    if opts.openblas_coretype:
        env["OPENBLAS_CORETYPE"] = opts.openblas_coretype
    out = subprocess.run(
        ["/usr/bin/python3", "-c", TORCH, model, os.path.join(EXAMPLES, model),
         work, str(opts.steps), str(threads)],
        check=True, capture_output=True, text=True, env=env)
    result = json.loads(out.stdout.splitlines()[-1])
    if result["openblas_core"] not in opts.cores_seen:
        opts.cores_seen.add(result["openblas_core"])
        print(f"torch's OpenBLAS kernels: {result['openblas_core']}",
              file=sys.stderr, flush=True)
    return result["median_us"]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tape-run", required=True)
    parser.add_argument("--models", default="cnn,gpt")
    parser.add_argument("--steps", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", default="1,2")
    parser.add_argument("--openblas-coretype", default="",
                        help="OPENBLAS_CORETYPE for PyTorch's OpenBLAS "
                        "(e.g. SkylakeX where OpenBLAS misdetects the CPU "
                        "and picks Prescott)")
    opts = parser.parse_args()
    opts.cores_seen = set()
    threads = [int(t) for t in opts.threads.split(",")]
    for model in opts.models.split(","):
        with tempfile.TemporaryDirectory() as work:
            path, inits = prepare(model, work)
            times = {(who, n): [] for who in ("ours", "torch") for n in threads}
            for r in range(opts.rounds):
                for n in threads:
                    times[("ours", n)].append(ours(opts, path, inits, work, n))
                    times[("torch", n)].append(torch_step(opts, model, work, n))
                print(f"{model} round {r + 1}/{opts.rounds}: " + ", ".join(
                    f"{who}@{n} {times[(who, n)][-1] / 1e3:.1f} ms"
                    for (who, n) in times), file=sys.stderr, flush=True)
        flops = MODELS[model]["flops"]
        print(f"\n{MODELS[model]['title']}: median of {opts.rounds} rounds of "
              f"{opts.steps} steps ({flops / 1e9:.3f} GFLOP per step)")
        print("| threads | ours (ms) | GFLOP/s | torch (ms) | GFLOP/s | torch/ours |")
        print("| --- | --- | --- | --- | --- | --- |")
        for n in threads:
            o = statistics.median(times[("ours", n)])
            t = statistics.median(times[("torch", n)])
            ratios = [tt / oo for oo, tt in zip(times[("ours", n)], times[("torch", n)])]
            print(f"| {n} | {o / 1e3:.2f} | {flops / o / 1e3:.1f} | {t / 1e3:.2f} | "
                  f"{flops / t / 1e3:.1f} | {statistics.median(ratios):.2f}x |")


if __name__ == "__main__":
    main()
