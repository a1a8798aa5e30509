"""Trains a model on 2 processes at batch B each (tape-run --data-parallel
under mpirun) and on one process at batch 2B, from the same weights on the
same shuffled rows, and compares: the losses the lead process prints (the
mean over the processes) and the variables after the last step agree
within float32 reduction-order tolerance, and the processes' variables are
bit-identical (tape-run compares them). With dropout (the CNN), the
process's block of each draw makes its masks the single process's rows.

Usage: data_parallel.py "MPIRUN" TAPE_RUN mlp|cnn WORKDIR EXAMPLES_DIR
Prints one line per check; exits non-zero on a failure.
"""
import os
import shlex
import subprocess
import sys

import numpy as np

mpirun, tape_run, which, work, examples = sys.argv[1:6]
sys.path.insert(0, os.path.join(examples, "..", "scripts"))
import batch_variant  # noqa: E402

mpirun = shlex.split(mpirun)

# The two runs add the same float32 numbers in different orders: a
# weight's gradient is one sum over 2B rows on one process, and two sums
# over B rows added by MPI on two. That moves a gradient element by a few
# units in the last place (float32: 6e-8 relative), and training carries
# such differences on. Measured (2026-12-03): MLP, 20 steps of SGD: losses
# within 3e-7 relative, variables within 1e-6 of their largest value. CNN,
# 3 steps of Adam with dropout: losses within 3e-7; Adam divides each
# update by the gradient's own scale, so where a gradient is near zero a
# rounding difference can move the weight by up to lr per step (fc1: 121
# of 1.2M weights by up to 1e-5): every element within 2 lr per step, and
# all but 1e-3 of each variable's elements within 1e-5 of its largest
# value. A missing average doubles SGD's steps; a wrong shard or dropout
# mask moves the losses by 1e-2 and most elements.
if which == "mlp":
    model = os.path.join(examples, "mlp", "mlp_sgd.mlir")
    steps, batch, loss_rtol, var_rtol = 20, 64, 1e-5, 1e-5
    adam_lr = None
    rng = np.random.default_rng(7)
    x = rng.standard_normal((batch * 8, 784)).astype(np.float32)
    proj = rng.standard_normal((784, 10))
    labels = np.eye(10, dtype=np.float32)[np.argmax(x @ proj, axis=1)]
    inputs = {"x": x, "labels": labels}
    inits = {}
    extra = ["--shuffle-seed", "3"]
else:
    model = os.path.join(examples, "cnn", "mnist_cnn.mlir")
    steps, batch, loss_rtol, var_rtol = 3, 64, 1e-5, 1e-5
    adam_lr = 1e-3
    sys.path.insert(0, os.path.join(examples, "cnn"))
    import data  # noqa: E402
    x, labels = data.dataset(batch * 4)
    inputs = {"x": x, "labels": labels}
    inits = data.initial_weights()
    extra = ["--shuffle-seed", "5"]

for name, value in {**inputs, **inits}.items():
    np.save(f"{work}/{which}_{name}.npy", value)
half = f"{work}/{which}_half.mlir"
batch_variant.write(model, batch // 2, half)
common = (["--steps", str(steps), "--precision", "0"] +
          [f"--input={work}/{which}_{n}.npy" for n in inputs] +
          [f"--init={n}={work}/{which}_{n}.npy" for n in inits] + extra)


def run(command, vars_file):
    done = subprocess.run(command + common + ["--save-vars", vars_file],
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"FAIL: {' '.join(command)}\n{done.stdout}\n{done.stderr}")
    losses = [float(line.split("Loss: ")[1]) for line in done.stdout.split("\n")
              if line.startswith("Loss: ")]
    assert len(losses) == steps, done.stdout
    return np.array(losses), dict(np.load(vars_file)), done.stderr


one, one_vars, _ = run([tape_run, model], f"{work}/{which}_one.npz")
two, two_vars, notes = run(mpirun + [tape_run, half, "--data-parallel"],
                           f"{work}/{which}_two.npz")
print(notes.strip())
assert f"each step trains on {batch} rows, {batch // 2} on each process" in notes
assert f"the variables of the 2 processes are bit-identical after step {steps}" in notes

rel = np.abs(two - one) / np.abs(one)
print("1 process: ", " ".join(f"{v:.7f}" for v in one))
print("2 processes:", " ".join(f"{v:.7f}" for v in two))
print(f"losses: max relative difference {rel.max():.1e} over {steps} steps")
assert rel.max() < loss_rtol, rel
assert set(one_vars) == set(two_vars)
worst = worst_fraction = worst_abs = 0.0
for name in one_vars:
    a, b = one_vars[name].astype(np.float64), two_vars[name].astype(np.float64)
    if one_vars[name].dtype.kind != "f":
        assert np.array_equal(a, b), name  # step counts
        continue
    d = np.abs(a - b)
    scale = max(np.abs(a).max(), 1e-30)
    worst = max(worst, d.max() / scale)
    worst_fraction = max(worst_fraction, np.mean(d > var_rtol * scale))
    worst_abs = max(worst_abs, d.max())
if adam_lr is None:
    print(f"variables: max difference {worst:.1e} of the largest value")
    assert worst < var_rtol, worst
else:
    print(f"variables: at most {worst_fraction:.1e} of a variable's elements "
          f"differ by more than {var_rtol:g} of its largest value; the "
          f"largest difference is {worst_abs:.1e}")
    assert worst_fraction < 1e-3, worst_fraction
    assert worst_abs <= 2 * adam_lr * steps, worst_abs
print(f"PASS {which}: 2 processes at batch {batch // 2} = 1 at batch {batch}")
