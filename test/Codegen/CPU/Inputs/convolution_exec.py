#!/usr/bin/python3
"""Executes compiled convolutions (tape-cpu-convolutions-as-matmuls: image
by image, im2col or col2im around one matmul) against numpy float64: a
forward convolution, its input gradient, and two filter gradients in the
form AD writes them: one with 32 filters over 16 input channels, whose
matmul takes the columns as A and the output gradient as B and whose image
loop carries the gradient transposed ([c, kh, kw, f]), and a narrow one
(one input channel: 9 columns).

Usage: convolution_exec.py TAPE_RUN WORKDIR [tape-run options...]
Prints `PASS` per output, or `FAIL` with the largest error.
"""
import os
import subprocess
import sys

import numpy as np

tape_run, work = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]
rng = np.random.default_rng(7)

FILTER_GRADIENT = r"""
  %{name} = linalg.generic {{indexing_maps = [
      affine_map<(n, f, oh, ow, c, kh, kw) -> (n, f, oh, ow)>,
      affine_map<(n, f, oh, ow, c, kh, kw) -> (n, c, oh + kh, ow + kw)>,
      affine_map<(n, f, oh, ow, c, kh, kw) -> (f, c, kh, kw)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction", "parallel", "parallel", "parallel"]}}
      ins(%{dy}, %{x} : {dyt}, {xt}) outs(%{init} : {wt}) {{
  ^bb0(%g: f32, %a: f32, %acc: f32):
    %p = arith.mulf %g, %a : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  }} -> {wt}"""

MODULE = r"""
func.func @convolutions(%x: tensor<3x16x18x18xf32>, %w: tensor<32x16x3x3xf32>, %dy: tensor<3x32x16x16xf32>,
                        %x1: tensor<3x1x18x18xf32>)
    -> (tensor<3x32x16x16xf32>, tensor<3x16x18x18xf32>, tensor<32x16x3x3xf32>, tensor<32x1x3x3xf32>) {
  %zero = arith.constant 0.0 : f32
  %e0 = tensor.empty() : tensor<3x32x16x16xf32>
  %f0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<3x32x16x16xf32>) -> tensor<3x32x16x16xf32>
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<3x16x18x18xf32>, tensor<32x16x3x3xf32>) outs(%f0 : tensor<3x32x16x16xf32>) -> tensor<3x32x16x16xf32>
  %e1 = tensor.empty() : tensor<3x16x18x18xf32>
  %f1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<3x16x18x18xf32>) -> tensor<3x16x18x18xf32>
  %dx = linalg.generic {indexing_maps = [
      affine_map<(n, f, oh, ow, c, kh, kw) -> (n, f, oh, ow)>,
      affine_map<(n, f, oh, ow, c, kh, kw) -> (f, c, kh, kw)>,
      affine_map<(n, f, oh, ow, c, kh, kw) -> (n, c, oh + kh, ow + kw)>],
      iterator_types = ["parallel", "reduction", "reduction", "reduction", "parallel", "reduction", "reduction"]}
      ins(%dy, %w : tensor<3x32x16x16xf32>, tensor<32x16x3x3xf32>) outs(%f1 : tensor<3x16x18x18xf32>) {
  ^bb0(%g: f32, %v: f32, %acc: f32):
    %p = arith.mulf %g, %v : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<3x16x18x18xf32>
  %e2 = tensor.empty() : tensor<32x16x3x3xf32>
  %f2 = linalg.fill ins(%zero : f32) outs(%e2 : tensor<32x16x3x3xf32>) -> tensor<32x16x3x3xf32>
WIDE
  %e3 = tensor.empty() : tensor<32x1x3x3xf32>
  %f3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<32x1x3x3xf32>) -> tensor<32x1x3x3xf32>
NARROW
  return %y, %dx, %dw, %dw1 : tensor<3x32x16x16xf32>, tensor<3x16x18x18xf32>, tensor<32x16x3x3xf32>, tensor<32x1x3x3xf32>
}
"""
MODULE = MODULE.replace("WIDE", FILTER_GRADIENT.format(
    name="dw", dy="dy", x="x", init="f2", dyt="tensor<3x32x16x16xf32>",
    xt="tensor<3x16x18x18xf32>", wt="tensor<32x16x3x3xf32>"))
MODULE = MODULE.replace("NARROW", FILTER_GRADIENT.format(
    name="dw1", dy="dy", x="x1", init="f3", dyt="tensor<3x32x16x16xf32>",
    xt="tensor<3x1x18x18xf32>", wt="tensor<32x1x3x3xf32>"))


def windows(image):
    """[n, c, oh, ow, kh, kw] views of a [n, c, 18, 18] image (3x3)."""
    return np.stack([np.stack([image[:, :, kh:kh + 16, kw:kw + 16]
                               for kw in range(3)], axis=-1)
                     for kh in range(3)], axis=-2)


x = rng.standard_normal((3, 16, 18, 18)).astype(np.float32)
w = rng.standard_normal((32, 16, 3, 3)).astype(np.float32)
dy = rng.standard_normal((3, 32, 16, 16)).astype(np.float32)
x1 = rng.standard_normal((3, 1, 18, 18)).astype(np.float32)
x64, w64, dy64 = (v.astype(np.float64) for v in (x, w, dy))
y = np.einsum("ncijhw,fchw->nfij", windows(x64), w64)
dx = np.zeros((3, 16, 18, 18))
for kh in range(3):
    for kw in range(3):
        dx[:, :, kh:kh + 16, kw:kw + 16] += np.einsum("nfij,fc->ncij", dy64,
                                                      w64[:, :, kh, kw])
dw = np.einsum("nfij,ncijhw->fchw", dy64, windows(x64))
dw1 = np.einsum("nfij,ncijhw->fchw", dy64, windows(x1.astype(np.float64)))
expected = [y, dx, dw, dw1]

os.makedirs(work, exist_ok=True)
path = os.path.join(work, "convolutions.mlir")
with open(path, "w") as f:
    f.write(MODULE)
args = [tape_run, path, "--entry", "convolutions", "--print-outputs",
        "--precision", "0"]
for i, value in enumerate([x, w, dy, x1]):
    name = os.path.join(work, f"in{i}.npy")
    np.save(name, value)
    args += ["--input", name]
out = subprocess.run(args + extra, check=True, capture_output=True,
                     text=True).stdout
lines = [l for l in out.splitlines() if l.startswith("output #")]
assert len(lines) == len(expected), out
for i, (line, want) in enumerate(zip(lines, expected)):
    got = np.array(line.split(":", 1)[1].split(),
                   dtype=np.float32).astype(np.float64)
    want = want.ravel()
    # Sums of up to 2304 products in float32: relative to the largest term
    # magnitude they can reach (float32 rounding ~1e-7 per addition).
    err = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1.0))
    print(f"{'PASS' if err <= 1e-4 else 'FAIL'} output {i}: "
          f"largest relative error {err:.3g}")
