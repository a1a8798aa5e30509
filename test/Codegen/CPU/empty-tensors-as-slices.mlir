// RUN: tape-opt %s -split-input-file --tape-cpu-empty-tensors-as-slices | FileCheck %s
// RUN: tape-opt %s -split-input-file --tape-cpu-empty-tensors-as-slices --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --canonicalize --cse --canonicalize | FileCheck %s --check-prefix=BUF
// RUN: tape-opt %s -split-input-file --one-shot-bufferize="bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --canonicalize --cse --canonicalize | FileCheck %s --check-prefix=COPY

// One image of a convolution: the bias broadcast into an empty [f, oh, ow]
// tensor, collapsed to the matmul's init, the product expanded back and
// inserted into the loop's result. The empty tensor becomes the slice the
// insertion writes, so bufferization computes the image in place.
// CHECK-LABEL: func.func @image_loop
// CHECK: scf.for %[[I:.+]] = {{.*}} iter_args(%[[OUT:.+]] = %{{.+}})
// CHECK-NOT: tensor.empty
// CHECK: %[[S:.+]] = tensor.extract_slice %[[OUT]][%[[I]], 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<8x4x2x3xf32> to tensor<4x2x3xf32>
// CHECK: linalg.generic {{.*}} outs(%[[S]] : tensor<4x2x3xf32>)
// CHECK: tensor.insert_slice %{{.+}} into %[[OUT]][%[[I]], 0, 0, 0]
// Bufferized, the bias and the product are written into the result's
// slice, with no buffer or copy of their own (without the pass: a copy).
// BUF-LABEL: func.func @image_loop
// BUF-NOT: memref.alloc
// BUF-NOT: memref.copy
// BUF: return
// COPY-LABEL: func.func @image_loop
// COPY: memref.alloc
// COPY: memref.copy
#bias = affine_map<(f, h, w) -> (f)>
#id = affine_map<(f, h, w) -> (f, h, w)>
func.func @image_loop(%bias: tensor<4xf32>, %w: tensor<4x5xf32>,
                      %cols: tensor<8x5x6xf32>, %init: tensor<8x4x2x3xf32>)
    -> tensor<8x4x2x3xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %i = %c0 to %c8 step %c1 iter_args(%out = %init) -> (tensor<8x4x2x3xf32>) {
    %e = tensor.empty() : tensor<4x2x3xf32>
    %b = linalg.generic {indexing_maps = [#bias, #id],
                         iterator_types = ["parallel", "parallel", "parallel"]}
        ins(%bias : tensor<4xf32>) outs(%e : tensor<4x2x3xf32>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    } -> tensor<4x2x3xf32>
    %c = tensor.collapse_shape %b [[0], [1, 2]] : tensor<4x2x3xf32> into tensor<4x6xf32>
    %x = tensor.extract_slice %cols[%i, 0, 0] [1, 5, 6] [1, 1, 1] : tensor<8x5x6xf32> to tensor<5x6xf32>
    %p = linalg.matmul ins(%w, %x : tensor<4x5xf32>, tensor<5x6xf32>) outs(%c : tensor<4x6xf32>) -> tensor<4x6xf32>
    %y = tensor.expand_shape %p [[0], [1, 2]] output_shape [4, 2, 3] : tensor<4x6xf32> into tensor<4x2x3xf32>
    %n = tensor.insert_slice %y into %out[%i, 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<4x2x3xf32> into tensor<8x4x2x3xf32>
    scf.yield %n : tensor<8x4x2x3xf32>
  }
  return %r : tensor<8x4x2x3xf32>
}

// -----

// An empty tensor that something else also reads, a chain through an op
// that is not destination-passing or a reshape, and a destination defined
// after the empty tensor are left alone.
// CHECK-LABEL: func.func @shared_empty
// CHECK: tensor.empty
// CHECK-LABEL: func.func @through_other_op
// CHECK: tensor.empty
// CHECK-LABEL: func.func @destination_later
// CHECK: tensor.empty
func.func @shared_empty(%v: f32, %dest: tensor<4x6xf32>)
    -> (tensor<4x6xf32>, tensor<6xf32>) {
  %e = tensor.empty() : tensor<6xf32>
  %f = linalg.fill ins(%v : f32) outs(%e : tensor<6xf32>) -> tensor<6xf32>
  %r = tensor.insert_slice %f into %dest[0, 0] [1, 6] [1, 1] : tensor<6xf32> into tensor<4x6xf32>
  return %r, %e : tensor<4x6xf32>, tensor<6xf32>
}

func.func @through_other_op(%v: f32, %dest: tensor<4x6xf32>) -> tensor<4x6xf32> {
  %e = tensor.empty() : tensor<6xf32>
  %f = linalg.fill ins(%v : f32) outs(%e : tensor<6xf32>) -> tensor<6xf32>
  %g = tensor.pad %f low[0] high[0] {
  ^bb0(%j: index):
    tensor.yield %v : f32
  } : tensor<6xf32> to tensor<6xf32>
  %r = tensor.insert_slice %g into %dest[0, 0] [1, 6] [1, 1] : tensor<6xf32> into tensor<4x6xf32>
  return %r : tensor<4x6xf32>
}

func.func @destination_later(%v: f32) -> tensor<4x6xf32> {
  %e = tensor.empty() : tensor<6xf32>
  %f = linalg.fill ins(%v : f32) outs(%e : tensor<6xf32>) -> tensor<6xf32>
  %d = tensor.empty() : tensor<4x6xf32>
  %z = linalg.fill ins(%v : f32) outs(%d : tensor<4x6xf32>) -> tensor<4x6xf32>
  %r = tensor.insert_slice %f into %z[0, 0] [1, 6] [1, 1] : tensor<6xf32> into tensor<4x6xf32>
  return %r : tensor<4x6xf32>
}

// -----

// The same loop after tape-cpu-fuse-into-image-loops: a ReLU reads the
// product (through a reshape to [1, f, oh, ow]) and writes a second
// result. Reading the final product does not stop the rewrite: the ReLU
// reads it from the slice, and nothing gets a buffer or copy of its own.
// CHECK-LABEL: func.func @image_loop_read_by_relu
// CHECK: scf.for %[[I:.+]] = {{.*}} iter_args(%[[OUT:.+]] = %{{.+}}, %{{.+}} = %{{.+}})
// CHECK: %[[S:.+]] = tensor.extract_slice %[[OUT]][%[[I]], 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<8x4x2x3xf32> to tensor<4x2x3xf32>
// CHECK: linalg.generic {{.*}} outs(%[[S]] : tensor<4x2x3xf32>)
// BUF-LABEL: func.func @image_loop_read_by_relu
// BUF-NOT: memref.alloc
// BUF-NOT: memref.copy
// BUF: return
#bias = affine_map<(f, h, w) -> (f)>
#id = affine_map<(f, h, w) -> (f, h, w)>
#id4 = affine_map<(n, f, h, w) -> (n, f, h, w)>
func.func @image_loop_read_by_relu(%bias: tensor<4xf32>, %w: tensor<4x5xf32>,
                                   %cols: tensor<8x5x6xf32>, %init: tensor<8x4x2x3xf32>,
                                   %init2: tensor<8x4x2x3xf32>)
    -> (tensor<8x4x2x3xf32>, tensor<8x4x2x3xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %r:2 = scf.for %i = %c0 to %c8 step %c1 iter_args(%out = %init, %out2 = %init2) -> (tensor<8x4x2x3xf32>, tensor<8x4x2x3xf32>) {
    %e = tensor.empty() : tensor<4x2x3xf32>
    %b = linalg.generic {indexing_maps = [#bias, #id],
                         iterator_types = ["parallel", "parallel", "parallel"]}
        ins(%bias : tensor<4xf32>) outs(%e : tensor<4x2x3xf32>) {
    ^bb0(%in: f32, %o: f32):
      linalg.yield %in : f32
    } -> tensor<4x2x3xf32>
    %c = tensor.collapse_shape %b [[0], [1, 2]] : tensor<4x2x3xf32> into tensor<4x6xf32>
    %x = tensor.extract_slice %cols[%i, 0, 0] [1, 5, 6] [1, 1, 1] : tensor<8x5x6xf32> to tensor<5x6xf32>
    %p = linalg.matmul ins(%w, %x : tensor<4x5xf32>, tensor<5x6xf32>) outs(%c : tensor<4x6xf32>) -> tensor<4x6xf32>
    %y = tensor.expand_shape %p [[0], [1, 2]] output_shape [4, 2, 3] : tensor<4x6xf32> into tensor<4x2x3xf32>
    %y4 = tensor.expand_shape %p [[0, 1], [2, 3]] output_shape [1, 4, 2, 3] : tensor<4x6xf32> into tensor<1x4x2x3xf32>
    %s2 = tensor.extract_slice %out2[%i, 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<8x4x2x3xf32> to tensor<1x4x2x3xf32>
    %relu = linalg.generic {indexing_maps = [#id4, #id4],
                            iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
        ins(%y4 : tensor<1x4x2x3xf32>) outs(%s2 : tensor<1x4x2x3xf32>) {
    ^bb0(%in: f32, %o: f32):
      %m = arith.maximumf %in, %zero : f32
      linalg.yield %m : f32
    } -> tensor<1x4x2x3xf32>
    %n = tensor.insert_slice %y into %out[%i, 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<4x2x3xf32> into tensor<8x4x2x3xf32>
    %n2 = tensor.insert_slice %relu into %out2[%i, 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<1x4x2x3xf32> into tensor<8x4x2x3xf32>
    scf.yield %n, %n2 : tensor<8x4x2x3xf32>, tensor<8x4x2x3xf32>
  }
  return %r#0, %r#1 : tensor<8x4x2x3xf32>, tensor<8x4x2x3xf32>
}
