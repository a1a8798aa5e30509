"""Checks tape.random_uniform bit for bit against Philox4x32-10 written
here in numpy (itself checked against Random123's known-answer vectors),
and the properties dropout relies on: new values each step, the same
values at 1 and 2 threads, the same values after checkpoint and resume,
and uniform statistics.

Usage: random_reference.py TAPE_RUN WORKDIR
Prints one line per check; exits non-zero on a failure.
"""
import subprocess
import sys

import numpy as np

M0, M1 = 0xD2511F53, 0xCD9E8D57
W0, W1 = 0x9E3779B9, 0xBB67AE85
MASK = 0xFFFFFFFF


def philox4x32_10(ctr, key):
    """ctr: four uint64 arrays holding 32-bit words; key: two ints."""
    c = [np.asarray(w, dtype=np.uint64) for w in ctr]
    k0, k1 = key
    for _ in range(10):
        p0 = c[0] * np.uint64(M0)
        p1 = c[2] * np.uint64(M1)
        c = [(p1 >> np.uint64(32)) ^ c[1] ^ np.uint64(k0), p1 & np.uint64(MASK),
             (p0 >> np.uint64(32)) ^ c[3] ^ np.uint64(k1), p0 & np.uint64(MASK)]
        k0, k1 = (k0 + W0) & MASK, (k1 + W1) & MASK
    return c


# Random123's kat_vectors for philox4x32_10.
KAT = [((0, 0, 0, 0), (0, 0), (0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8)),
       ((MASK,) * 4, (MASK, MASK), (0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd)),
       ((0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344), (0xa4093822, 0x299f31d0),
        (0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1))]
for ctr, key, want in KAT:
    got = tuple(int(w) for w in philox4x32_10(ctr, key))
    assert got == want, (ctr, key, [hex(w) for w in got])
print("PASS philox4x32_10 known-answer vectors")


def uniform(shape, seed, step, dtype):
    n = int(np.prod(shape))
    i = np.arange(n, dtype=np.uint64)
    seed &= (1 << 64) - 1
    bits = philox4x32_10([i & np.uint64(MASK), i >> np.uint64(32),
                          np.uint64(step & MASK), np.uint64(step >> 32)],
                         (seed & MASK, seed >> 32))
    if dtype == np.float32:
        v = (bits[0] >> np.uint64(8)).astype(np.float64) * 2.0**-24
    else:
        v = ((bits[0] << np.uint64(32) | bits[1]) >> np.uint64(11)).astype(np.float64) * 2.0**-53
    return v.astype(dtype).reshape(shape)


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
