// RUN: tape-opt %s -split-input-file --mlir-print-local-scope --pass-pipeline='builtin.module(func.func(tape-cpu-accumulate-into-matmuls))' | FileCheck %s
// Numbers: the MLP tests (test/Tools/tape-run/mlp.test) train with these
// fused updates against a float64 reference.

// The SGD update w - lr * (X^T dZ): one matmul that starts from w, with the
// smaller operand (dZ: 64x256 < X: 64x784) scaled by -lr.
// CHECK-LABEL: func.func @sgd
// CHECK-SAME: (%[[X:.*]]: tensor<64x784xf32>, %[[DZ:.*]]: tensor<64x256xf32>, %[[W:.*]]: tensor<784x256xf32>)
// CHECK: %[[C:.*]] = arith.constant dense<-1.000000e-01> : tensor<64x256xf32>
// CHECK: %[[S:.*]] = arith.mulf %[[DZ]], %[[C]]
// CHECK: %[[R:.*]] = linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%[[X]], %[[S]] : tensor<64x784xf32>, tensor<64x256xf32>) outs(%[[W]] : tensor<784x256xf32>)
// CHECK-NOT: linalg.fill
// CHECK: return %[[R]]
func.func @sgd(%x: tensor<64x784xf32>, %dz: tensor<64x256xf32>, %w: tensor<784x256xf32>) -> tensor<784x256xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<784x256xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<784x256xf32>) -> tensor<784x256xf32>
  %g = linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%x, %dz : tensor<64x784xf32>, tensor<64x256xf32>) outs(%z : tensor<784x256xf32>) -> tensor<784x256xf32>
  %lr = arith.constant dense<0.1> : tensor<784x256xf32>
  %d = arith.mulf %lr, %g : tensor<784x256xf32>
  %n = arith.subf %w, %d : tensor<784x256xf32>
  return %n : tensor<784x256xf32>
}

// -----

// w + A B (no scale): the matmul starts from w, nothing is scaled.
// CHECK-LABEL: func.func @plus
// CHECK-SAME: (%[[A:.*]]: tensor<8x4xf32>, %[[B:.*]]: tensor<4x8xf32>, %[[W:.*]]: tensor<8x8xf32>)
// CHECK-NOT: arith.mulf
// CHECK: %[[R:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<8x4xf32>, tensor<4x8xf32>) outs(%[[W]] : tensor<8x8xf32>)
// CHECK: return %[[R]]
func.func @plus(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %z = arith.constant dense<0.0> : tensor<8x8xf32>
  %g = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32>
  %n = arith.addf %g, %w : tensor<8x8xf32>
  return %n : tensor<8x8xf32>
}

// -----

// Left alone: the product has another user (@product_kept), it does not
// start from zeros (@nonzero_init), the scale is not a constant
// (@variable_scale), or it is subtracted from, not subtracted
// (@product_minus_w).
// CHECK-LABEL: func.func @product_kept
// CHECK: linalg.fill
// CHECK: arith.subf
// CHECK-LABEL: func.func @nonzero_init
// CHECK: arith.subf
// CHECK-LABEL: func.func @variable_scale
// CHECK: arith.subf
// CHECK-LABEL: func.func @product_minus_w
// CHECK: arith.subf
func.func @product_kept(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> (tensor<8x8xf32>, tensor<8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8x8xf32>) -> tensor<8x8xf32>
  %g = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32>
  %n = arith.subf %w, %g : tensor<8x8xf32>
  return %n, %g : tensor<8x8xf32>, tensor<8x8xf32>
}
func.func @nonzero_init(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %w: tensor<8x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %g = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%c : tensor<8x8xf32>) -> tensor<8x8xf32>
  %n = arith.subf %w, %g : tensor<8x8xf32>
  return %n : tensor<8x8xf32>
}
func.func @variable_scale(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %w: tensor<8x8xf32>, %lr: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %z = arith.constant dense<0.0> : tensor<8x8xf32>
  %g = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32>
  %d = arith.mulf %lr, %g : tensor<8x8xf32>
  %n = arith.subf %w, %d : tensor<8x8xf32>
  return %n : tensor<8x8xf32>
}
func.func @product_minus_w(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %z = arith.constant dense<0.0> : tensor<8x8xf32>
  %g = linalg.matmul ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%z : tensor<8x8xf32>) -> tensor<8x8xf32>
  %n = arith.subf %g, %w : tensor<8x8xf32>
  return %n : tensor<8x8xf32>
}
