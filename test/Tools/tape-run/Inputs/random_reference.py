"""Checks tape.random_uniform bit for bit against Philox4x32-10 written
here in numpy (itself checked against Random123's known-answer vectors),
and the properties dropout relies on: new values each step, the same
values at 1 and 2 threads, the same values after checkpoint and resume,
and uniform statistics.

Usage: random_reference.py TAPE_RUN WORKDIR
Prints one line per check; exits non-zero on a failure.
"""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from philox import uniform  # noqa: E402  (checks the known-answer vectors)

print("PASS philox4x32_10 known-answer vectors")

tape_run, work = sys.argv[1:3]
DRAWS = [((3, 5, 7), 7, np.float32, "f32"),
         ((300,), (1 << 40) + 3, np.float64, "f64"),
         ((256, 300), -1, np.float32, "f32")]  # big enough for threads
types = [f"tensor<{'x'.join(map(str, s))}x{t}>" for s, _, _, t in DRAWS]
body = "\n".join(f"    %u{k} = tape.random_uniform {{seed = {seed} : i64}} : {ty}"
                 for k, ((_, seed, _, _), ty) in enumerate(zip(DRAWS, types)))
module = f"""module {{
  tape.step @draw() -> ({", ".join(types)}) {{
{body}
    tape.return {", ".join(f"%u{k}" for k in range(len(DRAWS)))} : {", ".join(types)}
  }}
}}
"""
open(f"{work}/draw.mlir", "w").write(module)


def run(*args):
    out = subprocess.run([tape_run, f"{work}/draw.mlir", "--print-outputs",
                          "--precision", "0", *args],
                         check=True, capture_output=True, text=True).stdout
    calls, current = [], []
    for line in out.splitlines():
        if not line.startswith("output #"):
            continue
        current.append(np.array([float(v) for v in line.split(": ", 1)[1].split()]))
        if len(current) == len(DRAWS):
            calls.append(current)
            current = []
    return calls


straight = run("--steps", "3")
assert len(straight) == 3
for step, outputs in enumerate(straight):
    for (shape, seed, dtype, _), got in zip(DRAWS, outputs):
        want = uniform(shape, seed, step, dtype).ravel()
        assert np.array_equal(got.astype(dtype), want), (step, seed)
print("PASS bit-identical to the reference over 3 steps (f32, f64, 64-bit and negative seeds)")
assert not np.array_equal(straight[0][2], straight[1][2])
print("PASS each step draws new values")

threaded = run("--steps", "3", "--num-threads", "2")
assert all(np.array_equal(a, b) for sa, sb in zip(straight, threaded)
           for a, b in zip(sa, sb))
print("PASS identical at 2 threads")

ckpt = f"{work}/draw.ckpt"
first = run("--steps", "2", "--checkpoint", ckpt)
resumed = run("--steps", "1", "--resume", ckpt)
assert all(np.array_equal(a, b) for a, b in zip(straight[2], resumed[0]))
print("PASS a resumed run draws what an uninterrupted one does")

big = np.concatenate([s[2] for s in straight])
n = big.size
mean, var = big.mean(), big.var()
# Mean of n uniforms: standard deviation sqrt(1/12 / n); allow 5 of them.
assert abs(mean - 0.5) < 5 * np.sqrt(1 / 12 / n), mean
assert abs(var - 1 / 12) < 0.002, var
assert big.min() >= 0.0 and big.max() < 1.0
keep = (big >= 0.25).mean()
assert abs(keep - 0.75) < 5 * np.sqrt(0.75 * 0.25 / n), keep
print(f"PASS uniform statistics over {n} draws (dropout p=0.25 keeps {keep:.4f})")
