"""Data-parallel training on this machine: steps per second of the MLP and
the CNN on 1 and 2 processes, the time each step spends in the gradient
all-reduce, and the bytes it all-reduces.

For each model (examples/mlp at batch 64, examples/cnn at batch 64):

  1 process          the model as it is, not data-parallel
  1 process, dp      --data-parallel on one process: the packing, the
                     all-reduce with itself and the division
  2 processes x 64   weak scaling: global batch 128
  2 processes x 32   strong scaling: global batch 64, as the 1-process run

Step times are tape-run --report-stats medians (the lead process's),
median over --repeat rounds that alternate the configurations. The
all-reduce time comes from allreduce_timer.c, preloaded into tape-run
through MPI's profiling interface: the time inside MPI_Allreduce of float
buffers, waiting for the other process included. The bytes per step are
read from the compiled IR (the shard.all_reduce of each step).

Usage: /usr/bin/python3 benchmarks/data_parallel.py --tape-run build/bin/tape-run
           --tape-opt build/bin/tape-opt [--models mlp,cnn] [--repeat 3]
Needs mpiexec and mpicc (apt-get install libopenmpi-dev openmpi-bin).
"""
import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

import numpy as np

here = os.path.dirname(os.path.abspath(__file__))
root = os.path.dirname(here)
sys.path.insert(0, os.path.join(root, "scripts"))
import batch_variant  # noqa: E402

parser = argparse.ArgumentParser()
parser.add_argument("--tape-run", required=True)
parser.add_argument("--tape-opt", required=True)
parser.add_argument("--models", default="mlp,cnn")
parser.add_argument("--repeat", type=int, default=3)
parser.add_argument("--mpiexec", default="mpiexec")
args = parser.parse_args()

work = tempfile.mkdtemp(prefix="tape-dp-")
timer = os.path.join(work, "liballreduce_timer.so")
subprocess.run(["mpicc", "-shared", "-fPIC", "-O2",
                os.path.join(here, "mpi", "allreduce_timer.c"), "-o", timer],
               check=True)
launch = [args.mpiexec, "--allow-run-as-root", "--oversubscribe", "--mca",
          "btl_vader_single_copy_mechanism", "none", "-x",
          f"LD_PRELOAD={timer}"]

MODELS = {
    "mlp": ("mlp/mlp_sgd.mlir", 600),
    "cnn": ("cnn/mnist_cnn.mlir", 30),
}


def data(model):
    if model == "mlp":
        rng = np.random.default_rng(0)
        x = rng.standard_normal((64 * 40, 784)).astype(np.float32)
        labels = np.eye(10, dtype=np.float32)[rng.integers(0, 10, 64 * 40)]
        return [x, labels]
    sys.path.insert(0, os.path.join(root, "examples", "cnn"))
    import data as cnn_data
    x, labels = cnn_data.dataset(64 * 40)
    return [x, labels]


def bucket_bytes(path):
    """Bytes all-reduced per step: every shard.all_reduce's buffer."""
    ir = subprocess.run([args.tape_opt, path, "--tape-to-tensor=data-parallel=1"],
                        check=True, capture_output=True, text=True).stdout
    total = 0
    for count, kind in re.findall(
            r"shard\.all_reduce .*: tensor<(\d+)x(f32|f64)>", ir):
        total += int(count) * (4 if kind == "f32" else 8)
    return total


def run(command, steps, inputs):
    out = subprocess.run(command + ["--steps", str(steps), "--quiet",
                                    "--report-stats"] +
                         [f"--input={i}" for i in inputs],
                         check=True, capture_output=True, text=True).stderr
    median = float(re.search(r"median ([0-9.]+) us/call", out).group(1)) / 1e6
    reduce = re.search(r"allreduce-timer: (\d+) calls, ([0-9.]+) s", out)
    per_step = float(reduce.group(2)) / int(reduce.group(1)) if reduce else None
    return median, per_step


rows = []
for model in args.models.split(","):
    source, steps = MODELS[model]
    full = os.path.join(root, "examples", source)
    half = os.path.join(work, f"{model}_32.mlir")
    batch_variant.write(full, 32, half)
    inputs = []
    for i, array in enumerate(data(model)):
        inputs.append(os.path.join(work, f"{model}_in{i}.npy"))
        np.save(inputs[-1], array)
    sizes = {full: bucket_bytes(full), half: bucket_bytes(half)}
    # (name, global batch, command, the model's all-reduced bytes or None)
    configs = [
        ("1 process", 64, [args.tape_run, full], None),
        ("1 process, data-parallel", 64,
         launch + ["-n", "1", args.tape_run, full, "--data-parallel"],
         sizes[full]),
        ("2 processes x 64", 128,
         launch + ["-n", "2", args.tape_run, full, "--data-parallel"],
         sizes[full]),
        ("2 processes x 32", 64,
         launch + ["-n", "2", args.tape_run, half, "--data-parallel"],
         sizes[half]),
    ]
    times = {c[0]: [] for c in configs}
    reduces = {c[0]: [] for c in configs}
    for _ in range(args.repeat):
        for name, _, command, _ in configs:
            step, reduce = run(command, steps, inputs)
            times[name].append(step)
            if reduce is not None:
                reduces[name].append(reduce)
    for name, global_batch, _, size in configs:
        step = statistics.median(times[name])
        reduce = statistics.median(reduces[name]) if reduces[name] else None
        rows.append((model, name, global_batch, step, reduce, size))

print(f"{'model':5} {'configuration':26} {'global batch':>12} {'step ms':>8} "
      f"{'steps/s':>8} {'rows/s':>8} {'all-reduce ms':>13} {'bytes/step':>11}")
for model, name, batch, step, reduce, size in rows:
    print(f"{model:5} {name:26} {batch:12d} {step * 1e3:8.2f} {1 / step:8.1f} "
          f"{batch / step:8.0f} "
          f"{(f'{reduce * 1e3:.2f}' if reduce is not None else '-'):>13} "
          f"{(f'{size:,}' if size else '-'):>11}")
