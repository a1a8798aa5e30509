// RUN: tape-opt %s -split-input-file --tape-cpu-clone-shared-fills | FileCheck %s

// Two matmuls shared one (CSE'd) zero init: each gets its own empty tensor
// and fill, right before it; the shared one goes.
// CHECK-LABEL: func.func @two_matmuls
// CHECK-NOT: linalg.fill
// CHECK: %[[E:.+]] = tensor.empty() : tensor<64x256xf32>
// CHECK: %[[Z:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E]] : tensor<64x256xf32>)
// CHECK: linalg.matmul {{.*}} outs(%[[Z]] : tensor<64x256xf32>)
// CHECK: %[[E1:.+]] = tensor.empty() : tensor<64x256xf32>
// CHECK: %[[Z1:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[E1]] : tensor<64x256xf32>)
// CHECK: linalg.matmul {{.*}} outs(%[[Z1]] : tensor<64x256xf32>)
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
  %zero = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<16x16xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<16x16xf32>) -> tensor<16x16xf32>
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
