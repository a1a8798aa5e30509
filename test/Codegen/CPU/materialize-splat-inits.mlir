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

// -----

// Loops that carry a tensor start from their init: a fill two loops share
// (the attention products of two layers, after CSE) gives the first its
// own fill, right before it; a splat constant transposed and reshaped
// (AD's zero cotangent of a transposed value) becomes a fill, and the
// constant and the transpose go.
// CHECK-LABEL: func.func @loop_inits
// CHECK: %[[Z:.+]] = linalg.fill
// CHECK: %[[Z1:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<4x8xf32>)
// CHECK: scf.for {{.*}} iter_args(%{{.+}} = %[[Z1]])
// CHECK: scf.for {{.*}} iter_args(%{{.+}} = %[[Z]])
// CHECK-NOT: linalg.transpose
// CHECK-NOT: dense<0.000000e+00>
// CHECK: %[[Z2:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%{{.+}} : tensor<8x4xf32>)
// CHECK: scf.for {{.*}} iter_args(%{{.+}} = %[[Z2]])
func.func @loop_inits(%x: tensor<8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x4xf32>) {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %e = tensor.empty() : tensor<4x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %a = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %z) -> (tensor<4x8xf32>) {
    %r = tensor.insert_slice %x into %acc[%i, 0] [1, 8] [1, 1] : tensor<8xf32> into tensor<4x8xf32>
    scf.yield %r : tensor<4x8xf32>
  }
  %b = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %z) -> (tensor<4x8xf32>) {
    %r = tensor.insert_slice %x into %acc[%i, 0] [1, 8] [1, 1] : tensor<8xf32> into tensor<4x8xf32>
    scf.yield %r : tensor<4x8xf32>
  }
  %cz = arith.constant dense<0.0> : tensor<2x2x8xf32>
  %et = tensor.empty() : tensor<2x8x2xf32>
  %t = linalg.transpose ins(%cz : tensor<2x2x8xf32>) outs(%et : tensor<2x8x2xf32>) permutation = [0, 2, 1]
  %tc = tensor.collapse_shape %t [[0, 1], [2]] : tensor<2x8x2xf32> into tensor<16x2xf32>
  %te = tensor.expand_shape %tc [[0, 1], [2]] output_shape [8, 2, 2] : tensor<16x2xf32> into tensor<8x2x2xf32>
  %tf = tensor.collapse_shape %te [[0], [1, 2]] : tensor<8x2x2xf32> into tensor<8x4xf32>
  %c = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %tf) -> (tensor<8x4xf32>) {
    %col = tensor.insert_slice %x into %acc[0, %i] [8, 1] [1, 1] : tensor<8xf32> into tensor<8x4xf32>
    scf.yield %col : tensor<8x4xf32>
  }
  return %a, %b, %c : tensor<4x8xf32>, tensor<4x8xf32>, tensor<8x4xf32>
}

// -----

// A loop whose iteration i reads and overwrites slice i of its zero-filled
// init, for every i (the per-head products of attention), starts from an
// empty tensor, and each iteration fills its own slice right before the
// matmul (where tape-cpu-pack-matmuls folds it into the kernel). Not when
// the loop skips a slice (from 1), or reads more than its slice.
// CHECK-LABEL: func.func @slice_by_slice
// CHECK: %[[E:.+]] = tensor.empty() : tensor<4x8x8xf32>
// CHECK: scf.for %[[I:.+]] = %{{.+}} to %{{.+}} step %{{.+}} iter_args(%[[ACC:.+]] = %[[E]])
// CHECK: %[[S:.+]] = tensor.extract_slice %[[ACC]][%[[I]], 0, 0] [1, 8, 8] [1, 1, 1]
// CHECK: %[[F:.+]] = linalg.fill ins(%{{.+}} : f32) outs(%[[S]] : tensor<8x8xf32>)
// CHECK: linalg.matmul {{.*}} outs(%[[F]] : tensor<8x8xf32>)
// CHECK-LABEL: func.func @not_every_slice
// CHECK: %[[Z:.+]] = linalg.fill
// CHECK: iter_args(%{{.+}} = %[[Z]])
// CHECK-NOT: linalg.fill
// CHECK-LABEL: func.func @reads_more
// CHECK: %[[Z:.+]] = linalg.fill
// CHECK: iter_args(%{{.+}} = %[[Z]])
// CHECK-NOT: linalg.fill
func.func @slice_by_slice(%a: tensor<4x8x8xf32>, %b: tensor<8x8xf32>) -> tensor<4x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %e = tensor.empty() : tensor<4x8x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %z) -> (tensor<4x8x8xf32>) {
    %s = tensor.extract_slice %acc[%i, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<4x8x8xf32> to tensor<8x8xf32>
    %x = tensor.extract_slice %a[%i, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<4x8x8xf32> to tensor<8x8xf32>
    %p = linalg.matmul ins(%x, %b : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s : tensor<8x8xf32>) -> tensor<8x8xf32>
    %w = tensor.insert_slice %p into %acc[%i, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<8x8xf32> into tensor<4x8x8xf32>
    scf.yield %w : tensor<4x8x8xf32>
  }
  return %r : tensor<4x8x8xf32>
}
func.func @not_every_slice(%a: tensor<4x8x8xf32>, %b: tensor<8x8xf32>) -> tensor<4x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %e = tensor.empty() : tensor<4x8x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %r = scf.for %i = %c1 to %c4 step %c1 iter_args(%acc = %z) -> (tensor<4x8x8xf32>) {
    %s = tensor.extract_slice %acc[%i, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<4x8x8xf32> to tensor<8x8xf32>
    %x = tensor.extract_slice %a[%i, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<4x8x8xf32> to tensor<8x8xf32>
    %p = linalg.matmul ins(%x, %b : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s : tensor<8x8xf32>) -> tensor<8x8xf32>
    %w = tensor.insert_slice %p into %acc[%i, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<8x8xf32> into tensor<4x8x8xf32>
    scf.yield %w : tensor<4x8x8xf32>
  }
  return %r : tensor<4x8x8xf32>
}
func.func @reads_more(%a: tensor<4x8x8xf32>, %b: tensor<8x8xf32>) -> tensor<4x8x8xf32> {
  %zero = arith.constant 0.0 : f32
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %e = tensor.empty() : tensor<4x8x8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8x8xf32>) -> tensor<4x8x8xf32>
  %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %z) -> (tensor<4x8x8xf32>) {
    %s = tensor.extract_slice %acc[%i, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<4x8x8xf32> to tensor<8x8xf32>
    %first = tensor.extract_slice %acc[0, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<4x8x8xf32> to tensor<8x8xf32>
    %p = linalg.matmul ins(%first, %b : tensor<8x8xf32>, tensor<8x8xf32>) outs(%s : tensor<8x8xf32>) -> tensor<8x8xf32>
    %w = tensor.insert_slice %p into %acc[%i, 0, 0] [1, 8, 8] [1, 1, 1] : tensor<8x8xf32> into tensor<4x8x8xf32>
    scf.yield %w : tensor<4x8x8xf32>
  }
  return %r : tensor<4x8x8xf32>
}
