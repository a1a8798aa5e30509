"""Imports the PyTorch module of examples/cnn or examples/gpt with
tape-import-torch and trains it with tape-run: its losses match the
hand-written step's (examples/cnn/mnist_cnn.mlir, gen_gpt.py's output)
trained from the same weights on the same data, and PyTorch's stored ones
(the examples' torch_reference.json).

Usage: example_check.py cnn|gpt TAPE_IMPORT_TORCH TAPE_RUN WORKDIR
Prints one line per check; exits non-zero on a failure.
"""
import json
import os
import subprocess
import sys

import numpy as np

# float32 on both sides, different summation orders and fusions; over 10
# steps the losses agree to about 3e-7 relative (2026-12-03); a wrong
# gradient moves them by 1e-3 or more (as in tape-run/cnn.test).
RTOL = 1e-5

which, importer, tape_run, work = sys.argv[1:5]
root = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "..")
example = os.path.join(root, "examples", which)
sys.path.insert(0, example)
import data  # noqa: E402

reference = json.load(open(os.path.join(example, "torch_reference.json")))
steps = reference["steps"]


def run(*args):
    result = subprocess.run(list(args), capture_output=True, text=True)
    if result.returncode != 0:
        raise SystemExit(f"FAIL {' '.join(args)}:\n{result.stderr}")
    return result.stdout


def losses(model, inputs):
    out = run(tape_run, model, "--init", f"{work}/weights.npz", "--steps", str(steps),
              "--precision", "0", *sum((["--input", f] for f in inputs), []))
    got = np.array([float(line.split("Loss: ")[1]) for line in out.splitlines()
                    if line.startswith("Loss: ")])
    assert len(got) == steps, out
    return got


def compare(what, got, want):
    rel = np.max(np.abs(got - want) / np.abs(want))
    print(f"{what}: max relative difference over {steps} steps {rel:.1e}")
    if rel >= RTOL:
        raise SystemExit(f"FAIL {what}\n  got:  {got}\n  want: {want}")


if which == "cnn":
    batch = reference["batch"]
    x, labels = data.dataset(batch * steps)
    np.save(f"{work}/x.npy", x)
    np.save(f"{work}/labels.npy", labels)
    np.savez(f"{work}/weights.npz", **data.initial_weights())
    common = ["--input", f"{batch}x1x28x28xf32", "--target", f"{batch}xi64",
              "--loss", "nll_loss", "--optimizer", "Adam(lr=1e-3)", "--no-eval"]
    # With dropout: the importer seeds the two dropout ops 1 and 2, as the
    # hand-written step does, so both draw the same masks.
    run(importer, f"{example}/model.py:Net", *common, "-o", f"{work}/cnn.mlir")
    inputs = [f"{work}/x.npy", f"{work}/labels.npy"]
    imported = losses(f"{work}/cnn.mlir", inputs)
    compare("dropout on, imported vs hand-written", imported,
            losses(f"{example}/mnist_cnn.mlir", inputs))
    # Without dropout, against PyTorch.
    run(importer, f"{example}/model.py:Net(0.0, 0.0)", *common, "-o", f"{work}/cnn0.mlir")
    compare("dropout off, imported vs PyTorch", losses(f"{work}/cnn0.mlir", inputs),
            np.array(reference["losses"]))
else:
    import gen_gpt
    cfg = reference["config"]
    V, T, B, C, NH, L = (cfg[k] for k in ("vocab", "seq", "batch", "channels",
                                          "heads", "layers"))
    tokens, targets = data.tokens(B * T * steps, V)
    np.save(f"{work}/tokens.npy", tokens.reshape(-1, T))
    np.save(f"{work}/targets.npy", targets.reshape(-1, T))
    np.save(f"{work}/tokens_flat.npy", tokens)
    np.save(f"{work}/targets_flat.npy", targets)
    np.savez(f"{work}/weights.npz", **data.initial_weights(V, T, C, L))
    run(importer, f"{example}/model.py:GPT({V}, {T}, {B}, {C}, {NH}, {L})",
        "--input", f"idx={B}x{T}xi64", "--target", f"{B}x{T}xi64", "--loss", "loss",
        "--optimizer", "optimizer", "--no-eval", "-o", f"{work}/gpt.mlir")
    imported = losses(f"{work}/gpt.mlir", [f"{work}/tokens.npy", f"{work}/targets.npy"])
    with open(f"{work}/gpt_hand.mlir", "w") as f:
        f.write(gen_gpt.generate(V, T, B, C, NH, L, cfg["weight_decay"]))
    compare("imported vs hand-written", imported,
            losses(f"{work}/gpt_hand.mlir", [f"{work}/tokens_flat.npy",
                                               f"{work}/targets_flat.npy"]))
    compare("imported vs PyTorch", imported, np.array(reference["losses"]))
print(f"PASS the imported {which} trains as the hand-written step and PyTorch")
