// RUN: tape-opt %s -split-input-file --tape-cpu-fuse-into-image-loops | FileCheck %s
// The numbers: test/Tools/tape-run/cnn.test (the CNN against PyTorch, one
// thread) runs through this pass.

// A convolution's loop over the images and the ReLU after it: the ReLU
// runs on each image's slice in the loop, which yields both results; the
// product is inserted as before (rank-reduced), and the ReLU reads it
// through a reshape to [1, f, oh, ow].
// CHECK-LABEL: func.func @relu_after_convolution
// CHECK: %[[L:.+]]:2 = scf.for %[[I:.+]] = {{.*}} iter_args(%[[OUT:.+]] = %arg3, %[[OUT2:.+]] = %arg4)
// CHECK: %[[P:.+]] = linalg.matmul
// CHECK: %[[Y:.+]] = tensor.expand_shape %[[P]] {{\[}}[0], [1, 2]]
// CHECK: %[[Y4:.+]] = tensor.expand_shape %[[Y]] {{\[}}[0, 1], [2], [3]]
// CHECK: %[[S2:.+]] = tensor.extract_slice %[[OUT2]][%[[I]], 0, 0, 0] [1, 4, 2, 3]
// CHECK: %[[R:.+]] = linalg.generic {{.*}} ins(%[[Y4]] : tensor<1x4x2x3xf32>) outs(%[[S2]] : tensor<1x4x2x3xf32>)
// CHECK: arith.maximumf
// CHECK: %[[N:.+]] = tensor.insert_slice %[[Y]] into %[[OUT]][%[[I]], 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<4x2x3xf32> into tensor<8x4x2x3xf32>
// CHECK: %[[N2:.+]] = tensor.insert_slice %[[R]] into %[[OUT2]][%[[I]], 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<1x4x2x3xf32> into tensor<8x4x2x3xf32>
// CHECK: scf.yield %[[N]], %[[N2]]
// CHECK-NOT: linalg.generic
// CHECK: return %[[L]]#1
#id4 = affine_map<(n, f, h, w) -> (n, f, h, w)>
func.func @relu_after_convolution(%w: tensor<4x5xf32>, %cols: tensor<8x5x6xf32>,
                                  %c: tensor<4x6xf32>, %init: tensor<8x4x2x3xf32>,
                                  %init2: tensor<8x4x2x3xf32>) -> tensor<8x4x2x3xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %zero = arith.constant 0.0 : f32
  %r = scf.for %i = %c0 to %c8 step %c1 iter_args(%out = %init) -> (tensor<8x4x2x3xf32>) {
    %x = tensor.extract_slice %cols[%i, 0, 0] [1, 5, 6] [1, 1, 1] : tensor<8x5x6xf32> to tensor<5x6xf32>
    %p = linalg.matmul ins(%w, %x : tensor<4x5xf32>, tensor<5x6xf32>) outs(%c : tensor<4x6xf32>) -> tensor<4x6xf32>
    %y = tensor.expand_shape %p [[0], [1, 2]] output_shape [4, 2, 3] : tensor<4x6xf32> into tensor<4x2x3xf32>
    %n = tensor.insert_slice %y into %out[%i, 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<4x2x3xf32> into tensor<8x4x2x3xf32>
    scf.yield %n : tensor<8x4x2x3xf32>
  }
  %relu = linalg.generic {indexing_maps = [#id4, #id4],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%r : tensor<8x4x2x3xf32>) outs(%init2 : tensor<8x4x2x3xf32>) {
  ^bb0(%in: f32, %o: f32):
    %m = arith.maximumf %in, %zero : f32
    linalg.yield %m : f32
  } -> tensor<8x4x2x3xf32>
  return %relu : tensor<8x4x2x3xf32>
}

// -----

// A consumer that is not elementwise (a pool through windows) stays
// outside, and the loop is not touched.
// CHECK-LABEL: func.func @pool_after_convolution
// CHECK: scf.for
// CHECK: tensor.insert_slice %{{.+}} : tensor<4x2x3xf32> into tensor<8x4x2x3xf32>
// CHECK: scf.yield
// CHECK: linalg.generic
func.func @pool_after_convolution(%w: tensor<4x5xf32>, %cols: tensor<8x5x6xf32>,
                                  %c: tensor<4x6xf32>, %init: tensor<8x4x2x3xf32>,
                                  %init2: tensor<8x4x1x1xf32>, %win: tensor<2x3xf32>) -> tensor<8x4x1x1xf32> {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c8 = arith.constant 8 : index
  %r = scf.for %i = %c0 to %c8 step %c1 iter_args(%out = %init) -> (tensor<8x4x2x3xf32>) {
    %x = tensor.extract_slice %cols[%i, 0, 0] [1, 5, 6] [1, 1, 1] : tensor<8x5x6xf32> to tensor<5x6xf32>
    %p = linalg.matmul ins(%w, %x : tensor<4x5xf32>, tensor<5x6xf32>) outs(%c : tensor<4x6xf32>) -> tensor<4x6xf32>
    %y = tensor.expand_shape %p [[0], [1, 2]] output_shape [4, 2, 3] : tensor<4x6xf32> into tensor<4x2x3xf32>
    %n = tensor.insert_slice %y into %out[%i, 0, 0, 0] [1, 4, 2, 3] [1, 1, 1, 1] : tensor<4x2x3xf32> into tensor<8x4x2x3xf32>
    scf.yield %n : tensor<8x4x2x3xf32>
  }
  %pool = linalg.generic {indexing_maps = [affine_map<(n, f, oh, ow, kh, kw) -> (n, f, oh * 2 + kh, ow * 3 + kw)>,
                                           affine_map<(n, f, oh, ow, kh, kw) -> (kh, kw)>,
                                           affine_map<(n, f, oh, ow, kh, kw) -> (n, f, oh, ow)>],
                          iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%r, %win : tensor<8x4x2x3xf32>, tensor<2x3xf32>) outs(%init2 : tensor<8x4x1x1xf32>) {
  ^bb0(%in: f32, %k: f32, %o: f32):
    %m = arith.maximumf %in, %o : f32
    linalg.yield %m : f32
  } -> tensor<8x4x1x1xf32>
  return %pool : tensor<8x4x1x1xf32>
}
