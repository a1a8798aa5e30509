// Known upstream bug, found by scripts/garble.py: MLIR 22's linalg.reduce
// parser dereferences a null attribute when `dimensions` is malformed, and
// the process dies with SIGSEGV instead of reporting a parse error. Nothing
// in this project can intercept it (the crash is inside ReduceOp::parse).
// This test documents it; when upstream fixes the parser it starts to pass
// and lit reports XPASS, which is the cue to drop the XFAIL.
// XFAIL: *
// RUN: not tape-opt %s 2>&1 | FileCheck %s
// CHECK: error: expected integer value

func.func @f(%t: tensor<4x4xf32>, %i: tensor<f32>) -> tensor<f32> {
  %r = linalg.reduce ins(%t : tensor<4x4xf32>) outs(%i : tensor<f32>) dimensions = [0, ,1]
    (%in: f32, %acc: f32) {
      %s = arith.addf %in, %acc : f32
      linalg.yield %s : f32
    }
  return %r : tensor<f32>
}
