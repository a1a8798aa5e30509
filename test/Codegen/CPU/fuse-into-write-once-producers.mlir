// RUN: tape-opt %s -split-input-file --tape-cpu-fuse-into-write-once-producers | FileCheck %s
// Numbers: test/Tools/tape-run/cnn.test runs the MNIST CNN (whose
// max-pool adjoint and ReLU adjoint this pass joins) against PyTorch's
// losses, and window-exec.test runs max-pool adjoints against numpy.

// A max-pool adjoint (2x2 windows that tile the image) written once, then
// the ReLU's adjoint on it: one loop with the pool's loops, the ReLU's
// input and output read at the window map, the ReLU after the pool's body.
// CHECK-LABEL: func.func @pool_then_relu
// CHECK: %[[R:.+]] = linalg.generic {indexing_maps = [#[[W:.+]], #[[P:.+]], #[[P]], #[[K:.+]], #[[W]], #[[W]]], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
// CHECK-SAME: ins(%arg0, %arg1, %arg2, %{{.+}}, %arg3 : tensor<2x3x4x6xf32>, tensor<2x3x2x3xf32>, tensor<2x3x2x3xf32>, tensor<2x2xf32>, tensor<2x3x4x6xf32>) outs(%{{.+}} : tensor<2x3x4x6xf32>)
// CHECK: ^bb0(%[[X:.+]]: f32, %[[M:.+]]: f32, %[[G:.+]]: f32, %{{.+}}: f32, %[[PRE:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[IS:.+]] = arith.cmpf oeq, %[[X]], %[[M]] : f32
// CHECK-NEXT: %[[D:.+]] = arith.select %[[IS]], %[[G]], %{{.+}} : f32
// CHECK-NEXT: %[[POS:.+]] = arith.cmpf oge, %[[PRE]], %{{.+}} : f32
// CHECK-NEXT: %[[OUT:.+]] = arith.select %[[POS]], %[[D]], %{{.+}} : f32
// CHECK-NEXT: linalg.yield %[[OUT]] : f32
// CHECK-NOT: linalg.generic
// CHECK: return %[[R]]
#win = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>
#pooled = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>
#window = affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @pool_then_relu(%x: tensor<2x3x4x6xf32>, %m: tensor<2x3x2x3xf32>, %g: tensor<2x3x2x3xf32>, %pre: tensor<2x3x4x6xf32>) -> tensor<2x3x4x6xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<2x3x4x6xf32>
  %w = tensor.empty() : tensor<2x2xf32>
  %dx = linalg.generic {indexing_maps = [#win, #pooled, #pooled, #window, #win],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%x, %m, %g, %w : tensor<2x3x4x6xf32>, tensor<2x3x2x3xf32>, tensor<2x3x2x3xf32>, tensor<2x2xf32>) outs(%e : tensor<2x3x4x6xf32>) {
  ^bb0(%in: f32, %mx: f32, %grad: f32, %ww: f32, %out: f32):
    %is = arith.cmpf oeq, %in, %mx : f32
    %d = arith.select %is, %grad, %zero : f32
    linalg.yield %d : f32
  } -> tensor<2x3x4x6xf32>
  %e2 = tensor.empty() : tensor<2x3x4x6xf32>
  %r = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%pre, %dx : tensor<2x3x4x6xf32>, tensor<2x3x4x6xf32>) outs(%e2 : tensor<2x3x4x6xf32>) {
  ^bb0(%p: f32, %d: f32, %out: f32):
    %pos = arith.cmpf oge, %p, %zero : f32
    %s = arith.select %pos, %d, %zero : f32
    linalg.yield %s : f32
  } -> tensor<2x3x4x6xf32>
  return %r : tensor<2x3x4x6xf32>
}

// -----

// Left alone: windows that overlap (stride 1: an element is written by
// several iterations), a result with a second user, and a consumer that
// reads its output.
// CHECK-LABEL: func.func @left_alone
// CHECK-COUNT-6: linalg.generic
#win = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh + kh, ow + kw)>
#tile = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>
#pooled = affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>
#window = affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>
#id = affine_map<(n, c, h, w) -> (n, c, h, w)>
func.func @left_alone(%x: tensor<1x1x4x4xf32>, %g: tensor<1x1x3x3xf32>, %h: tensor<1x1x2x2xf32>, %acc: tensor<1x1x4x4xf32>)
    -> (tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) {
  %e = tensor.empty() : tensor<1x1x4x4xf32>
  %w = tensor.empty() : tensor<2x2xf32>
  %overlap = linalg.generic {indexing_maps = [#pooled, #window, #win],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%g, %w : tensor<1x1x3x3xf32>, tensor<2x2xf32>) outs(%e : tensor<1x1x4x4xf32>) {
  ^bb0(%in: f32, %ww: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x4x4xf32>
  %r1 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %overlap : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) outs(%e : tensor<1x1x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.mulf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4x4xf32>
  %shared = linalg.generic {indexing_maps = [#pooled, #window, #tile],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%h, %w : tensor<1x1x2x2xf32>, tensor<2x2xf32>) outs(%e : tensor<1x1x4x4xf32>) {
  ^bb0(%in: f32, %ww: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x4x4xf32>
  %r2 = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%x, %shared : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>) outs(%e : tensor<1x1x4x4xf32>) {
  ^bb0(%a: f32, %b: f32, %out: f32):
    %s = arith.mulf %a, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4x4xf32>
  %scatter = linalg.generic {indexing_maps = [#pooled, #window, #tile],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction", "reduction"]}
      ins(%h, %w : tensor<1x1x2x2xf32>, tensor<2x2xf32>) outs(%e : tensor<1x1x4x4xf32>) {
  ^bb0(%in: f32, %ww: f32, %out: f32):
    linalg.yield %in : f32
  } -> tensor<1x1x4x4xf32>
  %r3 = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel", "parallel", "parallel"]}
      ins(%scatter : tensor<1x1x4x4xf32>) outs(%acc : tensor<1x1x4x4xf32>) {
  ^bb0(%b: f32, %out: f32):
    %s = arith.addf %out, %b : f32
    linalg.yield %s : f32
  } -> tensor<1x1x4x4xf32>
  return %r1, %r2, %shared, %r3 : tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>, tensor<1x1x4x4xf32>
}
