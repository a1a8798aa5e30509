"""Imports small PyTorch modules with tape-import-torch, trains each with
tape-run and with PyTorch from the same weights on the same data, and
compares: the first losses of training, the variables after them, then
the evaluation entry's mean loss and outputs (tape-run --eval evaluate
--eval-output) against the trained module in eval mode.

Usage: check_import.py TAPE_RUN WORKDIR CASE...   (cases of cases.py)
Prints one PASS line per case; exits non-zero on the first failure.
"""
import copy
import os
import subprocess
import sys

import numpy as np
import torch

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, here)
sys.path.insert(0, os.path.join(here, "..", "..", "..", "..", "python"))
import cases  # noqa: E402
from tape_import_torch import import_model  # noqa: E402

# Both sides compute in float32 with different summation orders; 5 steps
# of SGD/Adam on small models agree to about 1e-6 relative. A wrong
# gradient or a wrong op moves the losses by 1e-3 or more within 5 steps.
LOSS_RTOL = 1e-5
LOSS_ATOL = 1e-6
# The state after those steps (weights, running statistics): Adam's
# updates divide by the gradients' scale, so a weight whose gradient is
# rounding noise can move by up to lr in both; 1e-4 relative with 1e-5
# absolute holds for these models and lr.
STATE_RTOL = 1e-4
STATE_ATOL = 1e-5
# The outputs of the trained models in evaluation, within OUT_TOL of
# 1 + |output|: the forward pass's rounding plus the state's differences
# above (at most 5.3e-6 in these cases, 2026-12-03).
OUT_TOL = 1e-5


def tensors(structure):
    """The tensors of a forward() result in order, as @evaluate returns
    them (after the loss)."""
    if isinstance(structure, torch.Tensor):
        return [structure]
    if isinstance(structure, dict):
        structure = list(structure.values())
    return [t for x in structure for t in tensors(x)]


def tape_run(tape, *args):
    result = subprocess.run([tape, *args], capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"FAIL tape-run {' '.join(args)}:\n{result.stderr}")
    return result.stdout


def data(case, steps, rng):
    """`steps` batches of every input and target, as NumPy datasets."""
    arrays = []
    for spec in case.inputs + case.targets:
        shape = (spec.shape[0] * steps,) + spec.shape[1:]
        arrays.append(case.make(spec, shape, rng))
    return arrays


def check(tape, work, name):
    case = cases.CASES[name]
    torch.manual_seed(0)
    model = case.factory()
    reference = copy.deepcopy(model)
    imported = import_model(model, case.inputs, case.targets, case.loss,
                            case.optimizer(model))
    path = os.path.join(work, name)
    with open(path + ".mlir", "w") as f:
        f.write(imported.mlir)
    np.savez(path + ".npz", **imported.weights)
    rng = np.random.default_rng(1)
    steps = case.steps
    arrays = data(case, steps, rng)
    files = []
    for k, a in enumerate(arrays):
        files.append(f"{path}.in{k}.npy")
        np.save(files[-1], a)

    # One run (one compilation): train, then evaluate the trained state.
    out = tape_run(tape, path + ".mlir", "--init", path + ".npz", "--steps", str(steps),
                   "--precision", "0", "--save-vars", path + ".after.npz",
                   "--eval", "evaluate", "--eval-every", str(steps),
                   "--eval-output", path + ".out.npz",
                   *sum((["--input", f] for f in files), []))
    got = np.array([float(l.split("Loss: ")[1].split(",")[0]) for l in out.splitlines()
                    if l.startswith("Loss: ")])
    optimizer = case.optimizer(reference)
    want = []
    reference.train()
    masks = case.masks(imported.dropout_seeds) if case.masks else None
    for k in range(steps):
        batch = [torch.from_numpy(a[k * s.shape[0]:(k + 1) * s.shape[0]])
                 for a, s in zip(arrays, case.inputs + case.targets)]
        n = len(case.inputs)
        optimizer.zero_grad()
        if masks:
            masks.step(reference, k)
        loss = case.loss(reference(*batch[:n]), *batch[n:])
        loss.backward()
        optimizer.step()
        want.append(float(loss))
    want = np.array(want)
    if len(got) != steps or not np.all(np.abs(got - want) <= LOSS_RTOL * np.abs(want) + LOSS_ATOL):
        raise SystemExit(f"FAIL {name}: losses\n  tape-run: {got}\n  PyTorch:  {want}")
    rel = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-30))
    # The state after training: parameters and running statistics.
    after = np.load(path + ".after.npz")
    state = reference.state_dict()
    for key in imported.weights:
        if key not in state:
            continue
        w, g = state[key].detach().numpy(), after[key]
        if g.shape != w.shape or not np.allclose(g, w, rtol=STATE_RTOL, atol=STATE_ATOL):
            raise SystemExit(f"FAIL {name}: '{key}' after {steps} steps differs from "
                             f"PyTorch's: max |diff| {np.max(np.abs(g - w))}")

    # Evaluation of the trained state: @evaluate's mean loss and its outputs
    # over the same batches against the trained module in eval mode.
    n = len(case.inputs)
    eval_line = [l for l in out.splitlines() if l.startswith("Eval @evaluate")][0]
    eval_loss = float(eval_line.split("loss ")[1].split(",")[0].split(" ")[0])
    model = reference
    model.eval()
    outputs, losses = [], []
    with torch.no_grad():
        for k in range(steps):
            batch = [torch.from_numpy(a[k * s.shape[0]:(k + 1) * s.shape[0]])
                     for a, s in zip(arrays, case.inputs + case.targets)]
            o = model(*batch[:n])
            losses.append(float(case.loss(o, *batch[n:])))
            outputs.append(tensors(o))
    ref_loss = float(np.mean(losses))
    written = np.load(path + ".out.npz")
    largest = 0.0
    for i in range(len(outputs[0])):
        o = torch.cat([b[i] for b in outputs]).numpy()
        g = written[f"output{i + 1}"]
        worst = float(np.max(np.abs(g - o) / (np.abs(o) + 1))) if g.shape == o.shape else 1
        largest = max(largest, worst)
        if worst > OUT_TOL:
            raise SystemExit(f"FAIL {name}: output {i} of @evaluate differs from "
                             f"the module's by {worst:.2e} beyond the tolerance")
    if abs(eval_loss - ref_loss) > LOSS_RTOL * abs(ref_loss) + LOSS_ATOL:
        raise SystemExit(f"FAIL {name}: @evaluate's loss {eval_loss} != {ref_loss}")
    print(f"PASS {name}: {steps} losses within {rel:.1e} relative, the state after "
          f"them and @evaluate's loss and outputs match (outputs within {largest:.1e} "
          f"of 1 + |output|)")


def main():
    tape, work = sys.argv[1:3]
    for name in sys.argv[3:]:
        check(tape, work, name)


if __name__ == "__main__":
    main()
