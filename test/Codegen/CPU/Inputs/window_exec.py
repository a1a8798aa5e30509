#!/usr/bin/python3
"""Executes compiled windowed ops (pooling: the image indexed by
`stride * o + k`) against numpy float64: a 2x2 max pool with stride 2, a
3x2 sum pool with strides 3 and 2 and dilation 2, and the max pool's
adjoint in the form AD writes it (the gradient where the input equals the
window's maximum, the window's shape from an operand), whose window is as
wide as its stride (the vectors run along `2 ow + kw` as one loop: 8 + 4 +
2 lanes of a row of 14); and an adjoint in the form fusion leaves it in the
CNN (every iterator a reduction) with a 2x4 window read in the body and a
row of 24 (16 + 8, or 6 x 4 lanes). Output rows of 7 (4 + 2 + 1 lanes) and
20 (16 + 4) elements.

Usage: window_exec.py TAPE_RUN WORKDIR [tape-run options...]
Prints `PASS` per output, or `FAIL` with the largest error.
"""
import os
import subprocess
import sys

import numpy as np

tape_run, work = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]
rng = np.random.default_rng(5)

MODULE = r"""
func.func @windows(%x: tensor<2x3x10x14xf32>, %y: tensor<1x2x14x42xf32>, %g: tensor<2x3x5x7xf32>,
                   %x2: tensor<1x2x8x24xf32>, %g2: tensor<1x2x4x6xf32>, %w24: tensor<2x4xf32>)
    -> (tensor<2x3x5x7xf32>, tensor<1x2x4x20xf32>, tensor<2x3x10x14xf32>, tensor<1x2x8x24xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %zero = arith.constant 0.0 : f32
  %w22 = tensor.empty() : tensor<2x2xf32>
  %e0 = tensor.empty() : tensor<2x3x5x7xf32>
  %f0 = linalg.fill ins(%ninf : f32) outs(%e0 : tensor<2x3x5x7xf32>) -> tensor<2x3x5x7xf32>
  %max = linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %w22 : tensor<2x3x10x14xf32>, tensor<2x2xf32>) outs(%f0 : tensor<2x3x5x7xf32>) -> tensor<2x3x5x7xf32>
  %w32 = tensor.empty() : tensor<3x2xf32>
  %e1 = tensor.empty() : tensor<1x2x4x20xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<1x2x4x20xf32>) -> tensor<1x2x4x20xf32>
  %sum = linalg.pooling_nchw_sum {dilations = dense<2> : tensor<2xi64>, strides = dense<[3, 2]> : tensor<2xi64>}
      ins(%y, %w32 : tensor<1x2x14x42xf32>, tensor<3x2xf32>) outs(%f1 : tensor<1x2x4x20xf32>) -> tensor<1x2x4x20xf32>
  %e2 = tensor.empty() : tensor<2x3x10x14xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<2x3x10x14xf32>) -> tensor<2x3x10x14xf32>
  %dx = linalg.generic {indexing_maps = [
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %max, %g, %w22 : tensor<2x3x10x14xf32>, tensor<2x3x5x7xf32>, tensor<2x3x5x7xf32>, tensor<2x2xf32>)
      outs(%f2 : tensor<2x3x10x14xf32>) {
  ^bb0(%in: f32, %m: f32, %grad: f32, %window: f32, %acc: f32):
    %is = arith.cmpf oeq, %in, %m : f32
    %d = arith.select %is, %grad, %zero : f32
    %o = arith.addf %acc, %d : f32
    linalg.yield %o : f32
  } -> tensor<2x3x10x14xf32>
  %e3 = tensor.empty() : tensor<1x2x8x24xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<1x2x8x24xf32>) -> tensor<1x2x8x24xf32>
  %dy = linalg.generic {indexing_maps = [
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 4 + kw)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 4 + kw)>],
      iterator_types = ["reduction", "reduction", "reduction", "reduction", "reduction", "reduction"]}
      ins(%x2, %g2, %w24 : tensor<1x2x8x24xf32>, tensor<1x2x4x6xf32>, tensor<2x4xf32>)
      outs(%f3 : tensor<1x2x8x24xf32>) {
  ^bb0(%a: f32, %gg: f32, %wv: f32, %acc: f32):
    %p = arith.mulf %gg, %wv : f32
    %pos = arith.cmpf ogt, %a, %zero : f32
    %d = arith.select %pos, %p, %a : f32
    %o = arith.addf %acc, %d : f32
    linalg.yield %o : f32
  } -> tensor<1x2x8x24xf32>
  return %max, %sum, %dx, %dy : tensor<2x3x5x7xf32>, tensor<1x2x4x20xf32>, tensor<2x3x10x14xf32>, tensor<1x2x8x24xf32>
}
"""

x = rng.standard_normal((2, 3, 10, 14)).astype(np.float32)
y = rng.standard_normal((1, 2, 14, 42)).astype(np.float32)
g = rng.standard_normal((2, 3, 5, 7)).astype(np.float32)
windows = x.reshape(2, 3, 5, 2, 7, 2)
pooled = windows.max(axis=(3, 5))
summed = np.zeros((1, 2, 4, 20))
for kh in range(3):
    for kw in range(2):
        summed += y[:, :, 2 * kh:2 * kh + 10:3, 2 * kw:2 * kw + 39:2].astype(np.float64)
dx = np.where(windows == pooled[:, :, :, None, :, None], g[:, :, :, None, :, None], 0)
x2 = rng.standard_normal((1, 2, 8, 24)).astype(np.float32)
g2 = rng.standard_normal((1, 2, 4, 6)).astype(np.float32)
w24 = rng.standard_normal((2, 4)).astype(np.float32)
windows2 = x2.reshape(1, 2, 4, 2, 6, 4)          # n, c, oh, kh, ow, kw
product = g2[:, :, :, None, :, None] * w24[None, None, None, :, None, :]
dy = np.where(windows2 > 0, product, windows2).reshape(1, 2, 8, 24)
expected = [(pooled, 0), (summed, 1e-6), (dx.reshape(2, 3, 10, 14), 0), (dy, 0)]

os.makedirs(work, exist_ok=True)
path = os.path.join(work, "windows.mlir")
with open(path, "w") as f:
    f.write(MODULE)
args = [tape_run, path, "--entry", "windows", "--print-outputs", "--precision", "0"]
for i, value in enumerate([x, y, g, x2, g2, w24]):
    name = os.path.join(work, f"in{i}.npy")
    np.save(name, value)
    args += ["--input", name]
out = subprocess.run(args + extra, check=True, capture_output=True, text=True).stdout
lines = [l for l in out.splitlines() if l.startswith("output #")]
assert len(lines) == len(expected), out
for i, (line, (want, rtol)) in enumerate(zip(lines, expected)):
    got = np.array(line.split(":", 1)[1].split(), dtype=np.float32).astype(np.float64)
    want = np.asarray(want, dtype=np.float64).ravel()
    # Relative above 1, absolute below (a sum of six terms can be near 0).
    err = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1.0))
    print(f"{'PASS' if err <= rtol else 'FAIL'} output {i}: largest relative error {err:.3g}")
