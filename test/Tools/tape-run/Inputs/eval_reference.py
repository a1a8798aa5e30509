"""Evaluation with tape-run --eval on examples/mlp/mlp_sgd.mlir, checked
against float64 numpy from the variables tape-run saved.

Trains a few steps (checkpoint), evaluates @evaluate on the dataset
(eval only: variables and step count unchanged), then trains on with a
validation split evaluated every step and logged.

Usage: eval_reference.py TAPE_RUN MODEL WORKDIR
Prints one line per check; exits non-zero on a mismatch.
"""
import json
import re
import subprocess
import sys

import numpy as np

tape_run, model, work = sys.argv[1:4]
BATCH = 64
n = BATCH * 5
rng = np.random.default_rng(77)
x = rng.standard_normal((n, 784)).astype(np.float32)
labels = np.eye(10, dtype=np.float32)[np.argmax(x @ rng.standard_normal((784, 10)), axis=1)]
np.save(f"{work}/x.npy", x)
np.save(f"{work}/labels.npy", labels)
data = ["--input", f"{work}/x.npy", "--input", f"{work}/labels.npy"]


def run(*args):
    return subprocess.run([tape_run, model, *args], check=True,
                          capture_output=True, text=True).stdout


def load(folder):
    return {v: np.load(f"{folder}/{v}.npy") for v in ("w1", "b1", "w2", "b2")}


def reference(vs, rows):
    """Mean loss over the batches, accuracy and logits, in float64."""
    W1, B1, W2, B2 = (vs[k].astype(np.float64) for k in ("w1", "b1", "w2", "b2"))
    xb, yb = x[rows].astype(np.float64), labels[rows].astype(np.float64)
    logits = np.maximum(xb @ W1 + B1, 0) @ W2 + B2
    shifted = logits - logits.max(axis=1, keepdims=True)
    logp = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    per_batch = [-(yb[i:i + BATCH] * logp[i:i + BATCH]).sum() / BATCH
                 for i in range(0, len(xb), BATCH)]
    acc = np.mean(np.argmax(logits, 1) == np.argmax(yb, 1))
    return float(np.mean(per_batch)), float(acc), logits


EVAL = re.compile(r"Eval @evaluate after step (\d+): loss (\S+), accuracy (\S+) \((\d+) rows in (\d+) batches\)")
failed = False


def check(ok, what):
    global failed
    print(("ok: " if ok else "FAIL: ") + what)
    failed |= not ok


# 1. Train 6 steps.
import os
for d in ("trained", "evaluated", "continued"):
    os.makedirs(f"{work}/{d}", exist_ok=True)
run("--steps", "6", *data, "--quiet", "--checkpoint", f"{work}/six.ckpt",
    "--save-vars", f"{work}/trained")
trained = load(f"{work}/trained")

# 2. Evaluate only: the metrics of the whole dataset, the logits written.
out = run("--resume", f"{work}/six.ckpt", "--eval", "evaluate", *data,
          "--precision", "0", "--eval-output", f"{work}/logits.npy",
          "--save-vars", f"{work}/evaluated")
m = EVAL.search(out)
check(m is not None, "eval line printed: " + out.strip())
step, loss, acc, rows, batches = int(m[1]), float(m[2]), float(m[3]), int(m[4]), int(m[5])
want_loss, want_acc, want_logits = reference(trained, slice(0, n))
check(step == 6, f"after step 6 (got {step})")
check((rows, batches) == (n, 5), f"{rows} rows in {batches} batches")
check(abs(loss - want_loss) <= 1e-5 * abs(want_loss),
      f"mean loss {loss:.6f} vs float64 {want_loss:.6f}")
logits = np.load(f"{work}/logits.npy")
check(logits.shape == (n, 10) and np.allclose(logits, want_logits, rtol=1e-4, atol=1e-4),
      f"--eval-output holds the logits of all {n} rows")
tape_acc = np.mean(np.argmax(logits, 1) == np.argmax(labels, 1))
check(acc == tape_acc and abs(acc - want_acc) <= 1 / n,
      f"accuracy {acc} (float64 {want_acc})")
evaluated = load(f"{work}/evaluated")
check(all(np.array_equal(trained[k], evaluated[k]) for k in trained),
      "evaluation left every variable unchanged")

# 3. Two more steps with the last 20% of rows held out and evaluated after
# each step; the log gets training and evaluation lines.
out = run("--resume", f"{work}/six.ckpt", "--steps", "2", *data,
          "--eval", "evaluate", "--val-split", "0.2", "--eval-every", "1",
          "--precision", "0", "--log", f"{work}/log.jsonl",
          "--checkpoint", f"{work}/eight.ckpt", "--save-vars", f"{work}/continued")
evals = EVAL.findall(out)
check([int(e[0]) for e in evals] == [7, 8], "evaluated after steps 7 and 8")
check(all(int(e[3]) == BATCH and int(e[4]) == 1 for e in evals),
      "the validation split is the last 64 rows, one batch")
val_loss, val_acc, _ = reference(load(f"{work}/continued"), slice(n - BATCH, n))
check(abs(float(evals[-1][1]) - val_loss) <= 1e-5 * abs(val_loss),
      f"validation loss {evals[-1][1]} vs float64 {val_loss:.6f}")
lines = [json.loads(l) for l in open(f"{work}/log.jsonl")]
kinds = [("eval" if "eval" in l else "train", l["step"]) for l in lines]
check(kinds == [("train", 7), ("eval", 7), ("train", 8), ("eval", 8)],
      f"log lines {kinds}")
check(lines[-1]["rows"] == BATCH and lines[-1]["accuracy"] == float(evals[-1][2]),
      "the log's evaluation line has the rows and the accuracy")
out = run("--resume", f"{work}/eight.ckpt", "--eval", "evaluate", *data)
check("after step 8:" in out, "the checkpoint counted 8 steps, not the evaluations")

print("FAIL" if failed else "PASS")
sys.exit(1 if failed else 0)
