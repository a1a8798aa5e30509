#!/usr/bin/python3
"""Executes compiled reductions along the innermost loop against numpy
float64: max, min, a sum of exp, a product, integer sums and maxima, an op
with two outputs and a broadcast input, a 3-D reduction, a causal mask
from linalg.index, a bias gradient (a sum over images and pixels:
reductions outside the parallel loop too, the pixels' two loops one
contiguous loop); rows shorter than a vector, exactly one vector, and one
vector plus every smaller remainder
(37 = 32 + 4 + 1, 520 = 512 + 8, 45 = 32 + 8 + 4 + 1).

Usage: reduction_exec.py TAPE_RUN WORKDIR [tape-run options...]
Prints `PASS` per output, or `FAIL` with the largest error.
"""
import os
import subprocess
import sys

import numpy as np

tape_run, work = sys.argv[1], sys.argv[2]
extra = sys.argv[3:]
rng = np.random.default_rng(11)

MODULE = r"""
#row = affine_map<(i, j) -> (i, j)>
#out = affine_map<(i, j) -> (i)>
func.func @reductions(%a: tensor<7x37xf32>, %b: tensor<5x520xf32>,
                      %c: tensor<3x16xf64>, %n: tensor<4x45xi32>,
                      %s: tensor<5xf32>, %t: tensor<2x3x40xf32>, %short: tensor<3x7xf32>,
                      %img: tensor<3x4x5x8xf32>)
    -> (tensor<7xf32>, tensor<5xf32>, tensor<5xf32>, tensor<3xf64>, tensor<4xi32>,
        tensor<4xi32>, tensor<5xf32>, tensor<5xf32>, tensor<2x3xf32>, tensor<3xf32>,
        tensor<7xf32>, tensor<4xf32>) {
  %ninf = arith.constant 0xFF800000 : f32
  %pinf = arith.constant 0x7F800000 : f32
  %zero = arith.constant 0.0 : f32
  %one = arith.constant 1.0 : f64
  %izero = arith.constant 0 : i32
  %imin = arith.constant -2147483648 : i32
  %e7 = tensor.empty() : tensor<7xf32>
  %e5 = tensor.empty() : tensor<5xf32>
  %e3d = tensor.empty() : tensor<3xf64>
  %e4 = tensor.empty() : tensor<4xi32>
  %e23 = tensor.empty() : tensor<2x3xf32>
  %e3 = tensor.empty() : tensor<3xf32>
  %max7 = linalg.fill ins(%ninf : f32) outs(%e7 : tensor<7xf32>) -> tensor<7xf32>
  %r0 = linalg.reduce ins(%a : tensor<7x37xf32>) outs(%max7 : tensor<7xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %o = arith.maximumf %in, %acc : f32
      linalg.yield %o : f32
    }
  %min5 = linalg.fill ins(%pinf : f32) outs(%e5 : tensor<5xf32>) -> tensor<5xf32>
  %r1 = linalg.reduce ins(%b : tensor<5x520xf32>) outs(%min5 : tensor<5xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %o = arith.minimumf %acc, %in : f32
      linalg.yield %o : f32
    }
  %sum5 = linalg.fill ins(%zero : f32) outs(%e5 : tensor<5xf32>) -> tensor<5xf32>
  %r2 = linalg.generic {indexing_maps = [#row, #out], iterator_types = ["parallel", "reduction"]}
      ins(%b : tensor<5x520xf32>) outs(%sum5 : tensor<5xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %x = math.exp %in : f32
    %o = arith.addf %x, %acc : f32
    linalg.yield %o : f32
  } -> tensor<5xf32>
  %prod3 = linalg.fill ins(%one : f64) outs(%e3d : tensor<3xf64>) -> tensor<3xf64>
  %r3 = linalg.reduce ins(%c : tensor<3x16xf64>) outs(%prod3 : tensor<3xf64>) dimensions = [1]
    (%in: f64, %acc: f64) {
      %o = arith.mulf %in, %acc : f64
      linalg.yield %o : f64
    }
  %isum = linalg.fill ins(%izero : i32) outs(%e4 : tensor<4xi32>) -> tensor<4xi32>
  %r4 = linalg.reduce ins(%n : tensor<4x45xi32>) outs(%isum : tensor<4xi32>) dimensions = [1]
    (%in: i32, %acc: i32) {
      %o = arith.addi %in, %acc : i32
      linalg.yield %o : i32
    }
  %imax = linalg.fill ins(%imin : i32) outs(%e4 : tensor<4xi32>) -> tensor<4xi32>
  %r5 = linalg.reduce ins(%n : tensor<4x45xi32>) outs(%imax : tensor<4xi32>) dimensions = [1]
    (%in: i32, %acc: i32) {
      %o = arith.maxsi %in, %acc : i32
      linalg.yield %o : i32
    }
  %r6:2 = linalg.generic {indexing_maps = [#row, #out, #out, #out], iterator_types = ["parallel", "reduction"]}
      ins(%b, %s : tensor<5x520xf32>, tensor<5xf32>) outs(%sum5, %max5b : tensor<5xf32>, tensor<5xf32>) {
  ^bb0(%in: f32, %scale: f32, %acc: f32, %m: f32):
    %x = arith.mulf %in, %scale : f32
    %o = arith.addf %acc, %x : f32
    %y = arith.subf %in, %scale : f32
    %p = arith.maximumf %y, %m : f32
    linalg.yield %o, %p : f32, f32
  } -> (tensor<5xf32>, tensor<5xf32>)
  %max23 = linalg.fill ins(%ninf : f32) outs(%e23 : tensor<2x3xf32>) -> tensor<2x3xf32>
  %r7 = linalg.reduce ins(%t : tensor<2x3x40xf32>) outs(%max23 : tensor<2x3xf32>) dimensions = [2]
    (%in: f32, %acc: f32) {
      %o = arith.maximumf %in, %acc : f32
      linalg.yield %o : f32
    }
  %sum3 = linalg.fill ins(%zero : f32) outs(%e3 : tensor<3xf32>) -> tensor<3xf32>
  %r8 = linalg.reduce ins(%short : tensor<3x7xf32>) outs(%sum3 : tensor<3xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %o = arith.addf %in, %acc : f32
      linalg.yield %o : f32
    }
  // A causal mask from the loops' indices: the max of a[i, j] for j <= 4 i.
  %r9 = linalg.generic {indexing_maps = [#row, #out], iterator_types = ["parallel", "reduction"]}
      ins(%a : tensor<7x37xf32>) outs(%max7 : tensor<7xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %i = linalg.index 0 : index
    %j = linalg.index 1 : index
    %c4 = arith.constant 4 : index
    %limit = arith.muli %i, %c4 : index
    %future = arith.cmpi ugt, %j, %limit : index
    %x = arith.select %future, %ninf, %in : f32
    %o = arith.maxnumf %x, %acc : f32
    linalg.yield %o : f32
  } -> tensor<7xf32>
  // A bias gradient: the sum over images and pixels per channel.
  %e4f = tensor.empty() : tensor<4xf32>
  %sum4 = linalg.fill ins(%zero : f32) outs(%e4f : tensor<4xf32>) -> tensor<4xf32>
  %r10 = linalg.reduce ins(%img : tensor<3x4x5x8xf32>) outs(%sum4 : tensor<4xf32>) dimensions = [0, 2, 3]
    (%in: f32, %acc: f32) {
      %o = arith.addf %in, %acc : f32
      linalg.yield %o : f32
    }
  return %r0, %r1, %r2, %r3, %r4, %r5, %r6#0, %r6#1, %r7, %r8, %r9, %r10
      : tensor<7xf32>, tensor<5xf32>, tensor<5xf32>, tensor<3xf64>, tensor<4xi32>,
        tensor<4xi32>, tensor<5xf32>, tensor<5xf32>, tensor<2x3xf32>, tensor<3xf32>,
        tensor<7xf32>, tensor<4xf32>
}
"""
# %max5b: the multi-output op's second output starts from -inf.
MODULE = MODULE.replace("  %r6:2", "  %max5b = linalg.fill ins(%ninf : f32) outs(%e5 : tensor<5xf32>) -> tensor<5xf32>\n  %r6:2")

a = rng.standard_normal((7, 37)).astype(np.float32)
b = rng.standard_normal((5, 520)).astype(np.float32)
c = rng.uniform(0.8, 1.25, (3, 16))
n = rng.integers(-1000, 1000, (4, 45), dtype=np.int32)
s = rng.standard_normal(5).astype(np.float32)
t = rng.standard_normal((2, 3, 40)).astype(np.float32)
short = rng.standard_normal((3, 7)).astype(np.float32)
img = rng.standard_normal((3, 4, 5, 8)).astype(np.float32)
inputs = [a, b, c, n, s, t, short, img]
b64 = b.astype(np.float64)
expected = [  # (values, relative tolerance: 0 for exact)
    (a.max(1), 0), (b.min(1), 0), (np.exp(b64).sum(1), 1e-6),
    (c.prod(1), 1e-14), (n.sum(1), 0), (n.max(1), 0),
    ((b64 * s[:, None]).sum(1), 1e-5), ((b64 - s[:, None]).astype(np.float32).max(1), 0),
    (t.max(2), 0), (short.astype(np.float64).sum(1), 1e-6),
    (np.array([a[i, :4 * i + 1].max() for i in range(7)]), 0),
    (img.astype(np.float64).sum((0, 2, 3)), 1e-6),
]

os.makedirs(work, exist_ok=True)
path = os.path.join(work, "reductions.mlir")
with open(path, "w") as f:
    f.write(MODULE)
args = [tape_run, path, "--entry", "reductions", "--print-outputs", "--precision", "0"]
for i, x in enumerate(inputs):
    name = os.path.join(work, f"in{i}.npy")
    np.save(name, x)
    args += ["--input", name]
out = subprocess.run(args + extra, check=True, capture_output=True, text=True).stdout
lines = [l for l in out.splitlines() if l.startswith("output #")]
assert len(lines) == len(expected), out
for i, (line, (want, rtol)) in enumerate(zip(lines, expected)):
    # The shortest text that reads back as the output's element type.
    dtype = {"float32": np.float32, "float64": np.float64, "int32": np.int32}[
        line.split()[2].split("[")[0]]
    got = np.array(line.split(":", 1)[1].split(), dtype=dtype).astype(np.float64)
    want = np.asarray(want, dtype=np.float64).ravel()
    err = np.max(np.abs(got - want) / np.maximum(np.abs(want), 1e-30))
    print(f"{'PASS' if err <= rtol else 'FAIL'} output {i}: largest relative error {err:.3g}")
