#!/usr/bin/python3
"""Executes a logistic-regression-shaped function whose two products
tape-cpu-fuse-matvec-pairs computes in one loop over blocks of rows,
against numpy float64:

  z = X w + b;  dz = -lr (sigmoid(z) - y) / rows;  g = w + X^T dz
  loss = sum(z * z)   (z is also used after the loop)

g accumulates into w, which the forward product reads: the loop
accumulates into a copy. Shapes: blocks of 8 rows (1000 features), two
blocks (37 features, 300 rows), one row per block (5000 features).

Usage: matvec_pairs_exec.py TAPE_RUN WORKDIR [tape-run options...]
"""
import subprocess
import sys

import numpy as np

tape_run, work = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]
rng = np.random.default_rng(11)
SHAPES = [(1024, 1000), (300, 37), (96, 5000)]
RTOL = 2e-5
LR = 0.1


def source(rows, features):
    t = lambda *s: "tensor<" + "x".join(map(str, s)) + "xf32>"
    scale = -LR / rows
    return f"""
#rows = affine_map<(i, j) -> (i, j)>
#all = affine_map<(i, j) -> ()>
func.func @main(%x: {t(rows, features)}, %w: {t(features, 1)}, %b: tensor<1xf32>,
                %y: {t(rows, 1)}) -> ({t(features, 1)}, tensor<f32>) {{
  %e = tensor.empty() : {t(rows, 1)}
  %bb = linalg.broadcast ins(%b : tensor<1xf32>) outs(%e : {t(rows, 1)}) dimensions = [0]
  %z = linalg.matmul ins(%x, %w : {t(rows, features)}, {t(features, 1)}) outs(%bb : {t(rows, 1)}) -> {t(rows, 1)}
  %dz = linalg.generic {{indexing_maps = [#rows, #rows, #rows], iterator_types = ["parallel", "parallel"]}}
      ins(%z, %y : {t(rows, 1)}, {t(rows, 1)}) outs(%e : {t(rows, 1)}) {{
  ^bb0(%zi: f32, %yi: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %scale = arith.constant {scale:.9e} : f32
    %n = arith.negf %zi : f32
    %ex = math.exp %n : f32
    %den = arith.addf %one, %ex : f32
    %s = arith.divf %one, %den : f32
    %d = arith.subf %s, %yi : f32
    %r = arith.mulf %d, %scale : f32
    linalg.yield %r : f32
  }} -> {t(rows, 1)}
  %g = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
      ins(%x, %dz : {t(rows, features)}, {t(rows, 1)}) outs(%w : {t(features, 1)}) -> {t(features, 1)}
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<f32>
  %f = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
  %loss = linalg.generic {{indexing_maps = [#rows, #all], iterator_types = ["reduction", "reduction"]}}
      ins(%z : {t(rows, 1)}) outs(%f : tensor<f32>) {{
  ^bb0(%zi: f32, %acc: f32):
    %sq = arith.mulf %zi, %zi : f32
    %sum = arith.addf %acc, %sq : f32
    linalg.yield %sum : f32
  }} -> tensor<f32>
  return %g, %loss : {t(features, 1)}, tensor<f32>
}}
"""


failed = 0
for rows, features in SHAPES:
    name = f"{rows}x{features}"
    x = rng.standard_normal((rows, features)).astype(np.float32)
    w = (0.05 * rng.standard_normal((features, 1))).astype(np.float32)
    b = np.array([0.3], np.float32)
    y = (rng.random((rows, 1)) > 0.5).astype(np.float32)
    files = []
    for v, arr in (("x", x), ("w", w), ("b", b), ("y", y)):
        np.save(f"{work}/{name}_{v}.npy", arr)
        files += ["--input", f"{work}/{name}_{v}.npy"]
    with open(f"{work}/{name}.mlir", "w") as f:
        f.write(source(rows, features))
    p = subprocess.run([tape_run, f"{work}/{name}.mlir", "--entry", "main",
                        "--print-outputs", "--precision", "0"] + extra + files,
                       capture_output=True, text=True)
    if p.returncode:
        print(f"FAIL {name}: {p.stderr[-2000:]}")
        failed += 1
        continue
    outputs = [np.array([float(v) for v in line.split(":", 1)[1].split()])
               for line in p.stdout.splitlines() if ":" in line]
    X, W = x.astype(np.float64), w.astype(np.float64)
    z = X @ W + b[0]
    dz = -LR * (1 / (1 + np.exp(-z)) - y) / rows
    want_g = (W + X.T @ dz).ravel()
    scale_g = np.abs(W).ravel() + (np.abs(X.T) @ np.abs(dz)).ravel()
    want_loss = np.sum(z * z)
    err_g = np.max(np.abs(outputs[0] - want_g) / np.maximum(scale_g, 1e-3))
    err_loss = abs(outputs[1][0] - want_loss) / max(
        np.sum(np.abs(z) * (np.abs(X) @ np.abs(W) + abs(b[0]))), 1.0)
    ok = err_g <= RTOL and err_loss <= RTOL
    print(f"{'PASS' if ok else 'FAIL'} {name}: max relative error "
          f"{err_g:.1e} (gradient step), {err_loss:.1e} (loss)")
    failed += not ok
print(f"matvec_pairs_exec: {len(SHAPES) - failed} passed, {failed} failed")
sys.exit(1 if failed else 0)
