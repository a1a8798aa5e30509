// RUN: tape-opt %s -split-input-file --tape-cpu-fuse-into-image-loops | FileCheck %s
// Numbers: cnn.test (losses against PyTorch) and threads.test run the
// MNIST CNN, whose ReLUs this fuses into the convolutions' image loops.

// The ReLU after a convolution's image loop runs on each image's slice in
// the loop (its destination, created after the loop, moves before it);
// the loop yields both the pre-activation (AD keeps it) and the ReLU.
// CHECK-LABEL: func.func @relu_after_images
// CHECK: tensor.empty() : tensor<4x8x6xf32>
// CHECK-NEXT: %[[E:.+]] = tensor.empty() : tensor<4x8x6xf32>
// CHECK: %[[L:.+]]:2 = scf.for {{.+}} iter_args(%{{.+}} = %{{.+}}, %[[R:.+]] = %[[E]])
// CHECK: linalg.matmul
// CHECK: tensor.insert_slice
// CHECK: %[[SLICE:.+]] = tensor.extract_slice %[[R]]
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[SLICE]] : tensor<1x8x6xf32>)
// CHECK: arith.maximumf
// CHECK: scf.yield
// CHECK-NOT: linalg.generic
// CHECK: return %[[L]]#0, %[[L]]#1
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @relu_after_images(%w: tensor<8x5xf32>, %cols: tensor<4x5x6xf32>) -> (tensor<4x8x6xf32>, tensor<4x8x6xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x8x6xf32>
  %pre = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> (tensor<4x8x6xf32>) {
    %x = tensor.extract_slice %cols[%i, 0, 0] [1, 5, 6] [1, 1, 1] : tensor<4x5x6xf32> to tensor<5x6xf32>
    %e = tensor.empty() : tensor<8x6xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8x6xf32>) -> tensor<8x6xf32>
    %y = linalg.matmul ins(%w, %x : tensor<8x5xf32>, tensor<5x6xf32>) outs(%z : tensor<8x6xf32>) -> tensor<8x6xf32>
    %next = tensor.insert_slice %y into %acc[%i, 0, 0] [1, 8, 6] [1, 1, 1] : tensor<8x6xf32> into tensor<4x8x6xf32>
    scf.yield %next : tensor<4x8x6xf32>
  }
  %out = tensor.empty() : tensor<4x8x6xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%pre : tensor<4x8x6xf32>) outs(%out : tensor<4x8x6xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x8x6xf32>
  return %pre, %relu : tensor<4x8x6xf32>, tensor<4x8x6xf32>
}

// -----

// Left alone: a consumer that also reads a value computed after the loop,
// one whose destination is shared, and a loop with no matmul in it.
// CHECK-LABEL: func.func @later_operand
// CHECK: scf.yield
// CHECK-NEXT: }
// CHECK: linalg.generic
// CHECK-LABEL: func.func @shared_destination
// CHECK: scf.yield
// CHECK-NEXT: }
// CHECK: linalg.generic
// CHECK-LABEL: func.func @no_matmul
// CHECK: scf.yield
// CHECK-NEXT: }
// CHECK: linalg.generic
#id = affine_map<(d0, d1, d2) -> (d0, d1, d2)>
func.func @later_operand(%w: tensor<8x5xf32>, %cols: tensor<4x5x6xf32>, %g: tensor<4x8x6xf32>) -> tensor<4x8x6xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x8x6xf32>
  %pre = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> (tensor<4x8x6xf32>) {
    %x = tensor.extract_slice %cols[%i, 0, 0] [1, 5, 6] [1, 1, 1] : tensor<4x5x6xf32> to tensor<5x6xf32>
    %e = tensor.empty() : tensor<8x6xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8x6xf32>) -> tensor<8x6xf32>
    %y = linalg.matmul ins(%w, %x : tensor<8x5xf32>, tensor<5x6xf32>) outs(%z : tensor<8x6xf32>) -> tensor<8x6xf32>
    %next = tensor.insert_slice %y into %acc[%i, 0, 0] [1, 8, 6] [1, 1, 1] : tensor<8x6xf32> into tensor<4x8x6xf32>
    scf.yield %next : tensor<4x8x6xf32>
  }
  %later = arith.negf %g : tensor<4x8x6xf32>
  %out = tensor.empty() : tensor<4x8x6xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%pre, %later : tensor<4x8x6xf32>, tensor<4x8x6xf32>) outs(%out : tensor<4x8x6xf32>) {
  ^bb0(%in: f32, %l: f32, %o: f32):
    %m = arith.mulf %in, %l : f32
    linalg.yield %m : f32
  } -> tensor<4x8x6xf32>
  return %r : tensor<4x8x6xf32>
}
func.func @shared_destination(%w: tensor<8x5xf32>, %cols: tensor<4x5x6xf32>) -> (tensor<4x8x6xf32>, tensor<4x8x6xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x8x6xf32>
  %pre = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> (tensor<4x8x6xf32>) {
    %x = tensor.extract_slice %cols[%i, 0, 0] [1, 5, 6] [1, 1, 1] : tensor<4x5x6xf32> to tensor<5x6xf32>
    %e = tensor.empty() : tensor<8x6xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8x6xf32>) -> tensor<8x6xf32>
    %y = linalg.matmul ins(%w, %x : tensor<8x5xf32>, tensor<5x6xf32>) outs(%z : tensor<8x6xf32>) -> tensor<8x6xf32>
    %next = tensor.insert_slice %y into %acc[%i, 0, 0] [1, 8, 6] [1, 1, 1] : tensor<8x6xf32> into tensor<4x8x6xf32>
    scf.yield %next : tensor<4x8x6xf32>
  }
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%pre : tensor<4x8x6xf32>) outs(%init : tensor<4x8x6xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x8x6xf32>
  return %pre, %relu : tensor<4x8x6xf32>, tensor<4x8x6xf32>
}
func.func @no_matmul(%cols: tensor<4x8x6xf32>) -> tensor<4x8x6xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  %init = tensor.empty() : tensor<4x8x6xf32>
  %pre = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %init) -> (tensor<4x8x6xf32>) {
    %x = tensor.extract_slice %cols[%i, 0, 0] [1, 8, 6] [1, 1, 1] : tensor<4x8x6xf32> to tensor<8x6xf32>
    %y = arith.negf %x : tensor<8x6xf32>
    %next = tensor.insert_slice %y into %acc[%i, 0, 0] [1, 8, 6] [1, 1, 1] : tensor<8x6xf32> into tensor<4x8x6xf32>
    scf.yield %next : tensor<4x8x6xf32>
  }
  %out = tensor.empty() : tensor<4x8x6xf32>
  %relu = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel"]}
      ins(%pre : tensor<4x8x6xf32>) outs(%out : tensor<4x8x6xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<4x8x6xf32>
  return %relu : tensor<4x8x6xf32>
}

// -----

// A declaration has no loops.
// CHECK-LABEL: func.func private @declared
func.func private @declared(tensor<4xf32>) -> tensor<4xf32>
