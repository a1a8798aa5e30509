// RUN: tape-opt %s -split-input-file --tape-cpu-materialize-splat-inits | FileCheck %s

// Two matmuls shared one (CSE'd) zero fill: the first gets a fill of its
// own, right before it; the last keeps the shared one.
// CHECK-LABEL: func.func @two_matmuls
// CHECK: %[[Z:.+]] = linalg.fill
// CHECK: %[[E1:.+]] = tensor.empty() : tensor<64x256xf32>
// CHECK: %[[Z1:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E1]] : tensor<64x256xf32>)
// CHECK: linalg.matmul {{.*}} outs(%[[Z1]] : tensor<64x256xf32>)
// CHECK: linalg.matmul {{.*}} outs(%[[Z]] : tensor<64x256xf32>)
func.func @two_matmuls(%x: tensor<64x784xf32>, %w: tensor<784x256xf32>, %y: tensor<64x784xf32>)
    -> (tensor<64x256xf32>, tensor<64x256xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<64x256xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
  %a = linalg.matmul ins(%x, %w : tensor<64x784xf32>, tensor<784x256xf32>) outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
  %b = linalg.matmul ins(%y, %w : tensor<64x784xf32>, tensor<784x256xf32>) outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
  return %a, %b : tensor<64x256xf32>, tensor<64x256xf32>
}

// -----

// A fill also read as an input keeps serving that read; the init gets a
// private fill. A fill with one use is left alone.
// CHECK-LABEL: func.func @read_and_init
// CHECK: %[[Z:.+]] = linalg.fill
// CHECK: %[[Z1:.+]] = linalg.fill
// CHECK: linalg.matmul ins(%[[Z]], %{{.+}} : {{.*}}) outs(%[[Z1]] : tensor<16x16xf32>)
// CHECK-LABEL: func.func @single_use
// CHECK-COUNT-1: linalg.fill
// CHECK-NOT: linalg.fill
func.func @read_and_init(%w: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %z = linalg.fill ins(%one : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %a = linalg.matmul ins(%z, %w : tensor<16x16xf32>, tensor<16x16xf32>) outs(%z : tensor<16x16xf32>) -> tensor<16x16xf32>
  return %a : tensor<16x16xf32>
}
func.func @single_use(%w: tensor<16x16xf32>) -> tensor<16x16xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
  %a = linalg.matmul ins(%w, %w : tensor<16x16xf32>, tensor<16x16xf32>) outs(%z : tensor<16x16xf32>) -> tensor<16x16xf32>
  return %a : tensor<16x16xf32>
}

// -----

// A splat constant as a destination (a reduction's zero init) becomes a
// fill, even with one use; the constant goes. Read as an input, or not a
// splat, a constant stays.
// CHECK-LABEL: func.func @splat_constants
// CHECK-NOT: arith.constant dense<0.000000e+00>
// CHECK: %[[C:.+]] = arith.constant dense<2.000000e+00> : tensor<4x8xf32>
// CHECK: %[[NS:.+]] = arith.constant dense<{{\[}}1.000000e+00, 2.000000e+00
// CHECK: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[E:.+]] = tensor.empty() : tensor<4xf32>
// CHECK: %[[F:.+]] = linalg.fill ins(%[[ZERO]] : f32) outs(%[[E]] : tensor<4xf32>)
// CHECK: linalg.reduce ins(%[[C]] : tensor<4x8xf32>) outs(%[[F]] : tensor<4xf32>)
// CHECK: linalg.reduce ins(%{{.+}} : tensor<2x2xf32>) outs(%[[NS]] : tensor<2xf32>)
func.func @splat_constants(%m: tensor<2x2xf32>) -> (tensor<4xf32>, tensor<2xf32>) {
  %c = arith.constant dense<2.0> : tensor<4x8xf32>
  %zeros = arith.constant dense<0.0> : tensor<4xf32>
  %ns = arith.constant dense<[1.0, 2.0]> : tensor<2xf32>
  %s = linalg.reduce ins(%c : tensor<4x8xf32>) outs(%zeros : tensor<4xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %0 = arith.addf %in, %acc : f32
      linalg.yield %0 : f32
    }
  %t = linalg.reduce ins(%m : tensor<2x2xf32>) outs(%ns : tensor<2xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %0 = arith.addf %in, %acc : f32
      linalg.yield %0 : f32
    }
  return %s, %t : tensor<4xf32>, tensor<2xf32>
}
