"""Trains the GPT example (examples/gpt/gen_gpt.py, default configuration)
with tape-run and compares its first losses with PyTorch's, stored by
examples/gpt/torch_reference.py, from the same weights on the same token
stream (examples/gpt/data.py).

Usage: gpt_check.py TAPE_RUN WORKDIR [tape-run options...]
Prints one line per check; exits non-zero on a failure.
"""
import json
import os
import subprocess
import sys

import numpy as np

# float32 on both sides with different summation orders (blocked
# matmuls, fused softmax and layernorm here); AdamW normalizes each
# update by the gradient's scale, so rounding in gradients near zero can
# move single updates by up to lr. Over 10 steps the losses agree to
# 3e-7 relative (2026-12-02); a wrong gradient moved them by 1e-2.
RTOL = 1e-5

tape_run, work = sys.argv[1:3]
extra = sys.argv[3:]
example = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "..", "..", "..", "..", "examples", "gpt")
sys.path.insert(0, example)
import data  # noqa: E402
import gen_gpt  # noqa: E402

reference = json.load(open(os.path.join(example, "torch_reference.json")))
cfg, steps = reference["config"], reference["steps"]
V, T, B, C, NH, L = (cfg[k] for k in ("vocab", "seq", "batch", "channels",
                                      "heads", "layers"))
with open(f"{work}/gpt.mlir", "w") as f:
    f.write(gen_gpt.generate(V, T, B, C, NH, L, cfg["weight_decay"]))
inputs, targets = data.tokens(B * T * steps, V)
np.save(f"{work}/tokens.npy", inputs)
np.save(f"{work}/targets.npy", targets)
inits = []
for name, value in data.initial_weights(V, T, C, L).items():
    np.save(f"{work}/{name}.npy", value)
    inits.append(f"--init={name}={work}/{name}.npy")


def losses(model, tokens, targets):
    """The losses tape-run prints training `model` on the token files."""
    out = subprocess.run(
        [tape_run, model, "--steps", str(steps), "--precision", "0",
         "--input", tokens, "--input", targets]
        + inits + extra, check=True, capture_output=True, text=True).stdout
    return np.array([float(line.split("Loss: ")[1])
                     for line in out.splitlines() if line.startswith("Loss: ")])


got = losses(f"{work}/gpt.mlir", f"{work}/tokens.npy", f"{work}/targets.npy")
want = np.array(reference["losses"])
assert len(got) == steps, got
rel = np.abs(got - want) / np.abs(want)
print("tape-run:", " ".join(f"{v:.6f}" for v in got))
print("PyTorch: ", " ".join(f"{v:.6f}" for v in want))
print(f"max relative difference over {steps} steps: {rel.max():.2e}")
assert rel.max() < RTOL, rel
assert got[-1] < got[0] - 0.1, got
print("PASS matches PyTorch; loss decreased")

# The same model with int32 token ids and targets (gen_gpt.py --ids i32):
# the gather and the target compare read i32; the losses are the same
# floats to the bit.
with open(f"{work}/gpt_i32.mlir", "w") as f:
    f.write(gen_gpt.generate(V, T, B, C, NH, L, cfg["weight_decay"], ids="i32"))
np.save(f"{work}/tokens_i32.npy", inputs.astype(np.int32))
np.save(f"{work}/targets_i32.npy", targets.astype(np.int32))
got32 = losses(f"{work}/gpt_i32.mlir", f"{work}/tokens_i32.npy",
               f"{work}/targets_i32.npy")
assert np.array_equal(got32, got), (got32, got)
print("PASS int32 ids: the same losses")
