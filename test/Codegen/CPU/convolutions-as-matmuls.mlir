// RUN: tape-opt %s --tape-cpu-convolutions-as-matmuls=image-by-image=0 --tape-cpu-specialize-contractions | FileCheck %s
// RUN: tape-opt %s --tape-cpu-convolutions-as-matmuls --tape-cpu-specialize-contractions | FileCheck %s --check-prefix=IMAGE
// RUN: tape-opt %s --tape-cpu-convolutions-as-matmuls=threads=2 --tape-cpu-specialize-contractions | FileCheck %s --check-prefix=THREADS
// The numbers: scripts/gradcheck.py's convolution cases and
// test/Tools/tape-run/cnn.test (against PyTorch) run through this pass.

// CHECK-DAG: #[[$AT:.*]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$IM:.*]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d3, d0, d1 + d4, d2 + d5)>
// CHECK-DAG: #[[$BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>

// The default: one image at a time. Each image's columns are small
// enough to stay in cache from im2col to the packing that reads them, and
// one image's product [f, oh * ow] is already the result's layout: no
// transposes. The filter is read whole by every iteration.
// IMAGE-LABEL: func.func @forward
// IMAGE: scf.for %[[N:.*]] = %{{.*}} to %{{.*}} step %{{.*}} iter_args(%[[ACC:.*]] = %arg2)
// IMAGE: %[[X:.*]] = tensor.extract_slice %arg0[%[[N]], 0, 0, 0] [1, 3, 9, 9] [1, 1, 1, 1] : tensor<2x3x9x9xf32> to tensor<3x9x9xf32>
// IMAGE: %[[Y:.*]] = tensor.extract_slice %[[ACC]][%[[N]], 0, 0, 0] [1, 4, 7, 3]
// IMAGE: %[[COL:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<3x9x9xf32>) outs(%{{.*}} : tensor<3x3x3x7x3xf32>)
// IMAGE: %[[B:.*]] = tensor.collapse_shape %[[COL]] {{.*}} into tensor<27x21xf32>
// IMAGE: %[[C:.*]] = tensor.collapse_shape %[[Y]] {{.*}} into tensor<4x21xf32>
// IMAGE: %[[P:.*]] = linalg.matmul ins(%{{.*}}, %[[B]] : tensor<4x27xf32>, tensor<27x21xf32>) outs(%[[C]] : tensor<4x21xf32>)
// IMAGE-NOT: linalg.transpose
// IMAGE: %[[E:.*]] = tensor.expand_shape %[[P]]
// IMAGE: tensor.insert_slice %[[E]] into %[[ACC]][%[[N]], 0, 0, 0]
//
// The input gradient: one image's columns, then col2im into its slice.
// IMAGE-LABEL: func.func @input_gradient
// IMAGE: scf.for %[[N:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %arg2)
// IMAGE: %[[DY:.*]] = tensor.extract_slice %arg1[%[[N]], 0, 0, 0]
// IMAGE: %[[DX:.*]] = tensor.extract_slice %[[ACC]][%[[N]], 0, 0, 0]
// IMAGE: %[[COLS:.*]] = linalg.matmul {{.*}} : tensor<4x27xf32>, tensor<4x49xf32>) outs(%{{.*}} : tensor<27x49xf32>)
// IMAGE: %[[E:.*]] = tensor.expand_shape %[[COLS]]
// IMAGE: %[[S:.*]] = linalg.generic {{.*}} ins(%[[E]] : tensor<3x3x3x7x7xf32>) outs(%[[DX]] : tensor<3x9x9xf32>)
// IMAGE: tensor.insert_slice %[[S]] into %[[ACC]][%[[N]], 0, 0, 0]
//
// The filter gradient has no image dimension: the iterations accumulate
// into it.
// IMAGE-LABEL: func.func @filter_gradient
// IMAGE: scf.for %[[N:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %arg2)
// IMAGE: %[[C:.*]] = tensor.collapse_shape %[[ACC]] {{.*}} into tensor<4x27xf32>
// IMAGE: %[[P:.*]] = linalg.matmul {{.*}} : tensor<4x49xf32>, tensor<27x49xf32>) outs(%[[C]] : tensor<4x27xf32>)
// IMAGE: %[[E:.*]] = tensor.expand_shape %[[P]]
// IMAGE: scf.yield %[[E]]
//
// IMAGE-LABEL: func.func @depthwise
// IMAGE: linalg.depthwise_conv_2d_nhwc_hwc
//
// A bias broadcast into a fresh tensor as the init is computed image by
// image into the slice the matmul accumulates into; the loop starts from
// the fresh tensor and the whole-batch broadcast is gone.
// IMAGE-LABEL: func.func @biased
// IMAGE: %[[E:.*]] = tensor.empty() : tensor<2x4x7x7xf32>
// IMAGE-NOT: linalg.broadcast
// IMAGE: scf.for %[[N:.*]] = {{.*}} iter_args(%[[ACC:.*]] = %[[E]])
// IMAGE: %[[Y:.*]] = tensor.extract_slice %[[ACC]][%[[N]], 0, 0, 0]
// IMAGE: %[[B:.*]] = linalg.generic {{.*}} ins(%arg2 : tensor<4xf32>) outs(%[[Y]] : tensor<4x7x7xf32>)
// IMAGE: %[[C:.*]] = tensor.collapse_shape %[[B]]
// IMAGE: linalg.matmul {{.*}} outs(%[[C]] : tensor<4x49xf32>)

// The whole batch at once (image-by-image=0).
// Forward NCHW convolution, stride 2 and dilation 2 in width: im2col
// gathers through the strided, dilated map. The filter is the matmul's A
// and the columns its B, so that the bias (the init) and the result are
// transposed in runs of whole rows ([n, f] to [f, n]) rather than
// element by element.
// CHECK-LABEL: func.func @forward
// CHECK: %[[A:.*]] = tensor.collapse_shape %arg1 {{\[}}[0], [1, 2, 3]] : tensor<4x3x3x3xf32> into tensor<4x27xf32>
// CHECK: %[[COL:.*]] = linalg.generic
// CHECK-SAME: ins(%arg0 : tensor<2x3x9x9xf32>) outs(%{{.*}} : tensor<3x3x3x2x7x3xf32>)
// CHECK: %[[B:.*]] = tensor.collapse_shape %[[COL]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<3x3x3x2x7x3xf32> into tensor<27x42xf32>
// CHECK: linalg.transpose ins(%arg2 : tensor<2x4x7x3xf32>) {{.*}} permutation = [1, 0, 2, 3]
// CHECK: %[[C:.*]] = linalg.matmul ins(%[[A]], %[[B]] : tensor<4x27xf32>, tensor<27x42xf32>) outs(%{{.*}} : tensor<4x42xf32>)
// CHECK: %[[E:.*]] = tensor.expand_shape %[[C]]
// CHECK: %[[R:.*]] = linalg.transpose ins(%[[E]] : tensor<4x2x7x3xf32>) {{.*}} permutation = [1, 0, 2, 3]
// CHECK: return %[[R]]
func.func @forward(%x: tensor<2x3x9x9xf32>, %w: tensor<4x3x3x3xf32>, %b: tensor<2x4x7x3xf32>) -> tensor<2x4x7x3xf32> {
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<[1, 2]> : tensor<2xi64>, strides = dense<[1, 2]> : tensor<2xi64>}
      ins(%x, %w : tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) outs(%b : tensor<2x4x7x3xf32>) -> tensor<2x4x7x3xf32>
  return %y : tensor<2x4x7x3xf32>
}

// The input gradient AD builds: the image is the result. The matmul
// computes the columns (the filter read transposed, without a copy), and
// col2im adds them into the init; the loops added to others reduce.
// CHECK-LABEL: func.func @input_gradient
// CHECK: %[[W:.*]] = tensor.collapse_shape %arg0 {{\[}}[0], [1, 2, 3]] : tensor<4x3x3x3xf32> into tensor<4x27xf32>
// CHECK: linalg.transpose ins(%arg1 : tensor<2x4x7x7xf32>) {{.*}} permutation = [1, 0, 2, 3]
// CHECK: %[[ZERO:.*]] = linalg.fill
// CHECK: %[[COLS:.*]] = linalg.matmul indexing_maps = [#[[$AT]], #{{.*}}, #{{.*}}] ins(%[[W]], %{{.*}} : tensor<4x27xf32>, tensor<4x98xf32>) outs(%[[ZERO]] : tensor<27x98xf32>)
// CHECK: %[[E:.*]] = tensor.expand_shape %[[COLS]]
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "reduction", "reduction", "parallel", "reduction", "reduction"]
// CHECK-SAME: ins(%[[E]] : tensor<3x3x3x2x7x7xf32>) outs(%arg2 : tensor<2x3x9x9xf32>)
// CHECK: arith.addf
// With threads, one image per thread: every loop is a reduction to AD,
// but `n` indexes the result plainly, so the pieces write disjoint
// images.
// THREADS-LABEL: func.func @input_gradient
// THREADS: scf.forall (%{{.*}}) in (2) shared_outs(%[[OUT:.*]] = %arg2)
// THREADS: %[[N:.*]] = arith.muli
// THREADS: tensor.extract_slice %arg1[%[[N]], 0, 0, 0] [1, 4, 7, 7]
// THREADS: tensor.extract_slice %[[OUT]][%[[N]], 0, 0, 0] [1, 3, 9, 9]
// THREADS: linalg.matmul
// THREADS: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][%[[N]], 0, 0, 0] [1, 3, 9, 9]
func.func @input_gradient(%w: tensor<4x3x3x3xf32>, %dy: tensor<2x4x7x7xf32>, %dx: tensor<2x3x9x9xf32>) -> tensor<2x3x9x9xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(n, f, oh, ow, c, kh, kw) -> (f, c, kh, kw)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (n, f, oh, ow)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (n, c, oh + kh, ow + kw)>],
      iterator_types = ["reduction", "reduction", "reduction", "reduction", "reduction", "reduction", "reduction"]}
      ins(%w, %dy : tensor<4x3x3x3xf32>, tensor<2x4x7x7xf32>) outs(%dx : tensor<2x3x9x9xf32>) {
  ^bb0(%a: f32, %g: f32, %acc: f32):
    %p = arith.mulf %a, %g : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<2x3x9x9xf32>
  return %r : tensor<2x3x9x9xf32>
}

// The filter gradient AD builds (unit stride): the columns are laid out
// [c, kh, kw, n, oh, ow], so that im2col copies whole rows of the image
// (ow innermost) and the forward convolution's columns are the same
// tensor; the matmul reads them transposed, without a copy.
// CHECK-LABEL: func.func @filter_gradient
// CHECK: %[[COL:.*]] = linalg.generic {indexing_maps = [#[[$IM]], #{{.*}}]
// CHECK-SAME: ins(%arg1 : tensor<2x3x9x9xf32>) outs(%{{.*}} : tensor<3x3x3x2x7x7xf32>)
// CHECK: %[[B:.*]] = tensor.collapse_shape %[[COL]] {{\[}}[0, 1, 2], [3, 4, 5]] : tensor<3x3x3x2x7x7xf32> into tensor<27x98xf32>
// CHECK: linalg.matmul indexing_maps = [#{{.*}}, #[[$BT]], #{{.*}}] ins(%{{.*}}, %[[B]] : tensor<4x98xf32>, tensor<27x98xf32>) outs(%{{.*}} : tensor<4x27xf32>)
func.func @filter_gradient(%dy: tensor<2x4x7x7xf32>, %x: tensor<2x3x9x9xf32>, %dw: tensor<4x3x3x3xf32>) -> tensor<4x3x3x3xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(n, f, oh, ow, c, kh, kw) -> (n, f, oh, ow)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (n, c, oh + kh, ow + kw)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (f, c, kh, kw)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction", "parallel", "parallel", "parallel"]}
      ins(%dy, %x : tensor<2x4x7x7xf32>, tensor<2x3x9x9xf32>) outs(%dw : tensor<4x3x3x3xf32>) {
  ^bb0(%g: f32, %a: f32, %acc: f32):
    %p = arith.mulf %g, %a : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x3x3x3xf32>
  return %r : tensor<4x3x3x3xf32>
}

// Depthwise: the channel is in all three operands (a batch dimension):
// left alone.
// CHECK-LABEL: func.func @depthwise
// CHECK: linalg.depthwise_conv_2d_nhwc_hwc
func.func @depthwise(%x: tensor<1x5x5x2xf32>, %w: tensor<3x3x2xf32>, %b: tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32> {
  %y = linalg.depthwise_conv_2d_nhwc_hwc {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<1x5x5x2xf32>, tensor<3x3x2xf32>) outs(%b : tensor<1x3x3x2xf32>) -> tensor<1x3x3x2xf32>
  return %y : tensor<1x3x3x2xf32>
}


// The filter gradient of a one-channel 3x3 convolution, in the
// [f, c * kh * kw] order, has 9 columns: a narrow product, which the
// packed kernels leave to register tiles. The other order (16 filters:
// 16 columns) wins although C is then transposed, in and out (9 x 16
// elements each); the output gradient is copied as [f, n, oh, ow], runs
// of whole rows, and read transposed.
// CHECK-LABEL: func.func @narrow_filter_gradient
// CHECK: linalg.transpose ins(%arg0 : tensor<2x16x7x7xf32>) {{.*}} permutation = [1, 0, 2, 3]
// CHECK: linalg.transpose ins(%arg2 : tensor<16x1x3x3xf32>) {{.*}} permutation = [1, 2, 3, 0]
// CHECK: linalg.matmul {{.*}} ins(%{{.*}}, %{{.*}} : tensor<9x98xf32>, tensor<16x98xf32>) outs(%{{.*}} : tensor<9x16xf32>)
// CHECK: linalg.transpose ins(%{{.*}} : tensor<1x3x3x16xf32>) {{.*}} permutation = [3, 0, 1, 2]
func.func @narrow_filter_gradient(%dy: tensor<2x16x7x7xf32>, %x: tensor<2x1x9x9xf32>, %dw: tensor<16x1x3x3xf32>) -> tensor<16x1x3x3xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(n, f, oh, ow, c, kh, kw) -> (n, f, oh, ow)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (n, c, oh + kh, ow + kw)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (f, c, kh, kw)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction", "parallel", "parallel", "parallel"]}
      ins(%dy, %x : tensor<2x16x7x7xf32>, tensor<2x1x9x9xf32>) outs(%dw : tensor<16x1x3x3xf32>) {
  ^bb0(%g: f32, %a: f32, %acc: f32):
    %p = arith.mulf %g, %a : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<16x1x3x3xf32>
  return %r : tensor<16x1x3x3xf32>
}

// With threads, the bias broadcast is computed by each thread into its
// own images, which the forall writes from a fresh tensor.
// THREADS-LABEL: func.func @biased
// THREADS: %[[E:.*]] = tensor.empty() : tensor<2x4x7x7xf32>
// THREADS: scf.forall (%{{.*}}) in (2) shared_outs(%[[OUT:.*]] = %[[E]])
// THREADS: %[[MINE:.*]] = tensor.extract_slice %[[OUT]]
// THREADS: linalg.generic {{.*}} ins(%arg2 : tensor<4xf32>) outs(%[[MINE]] : tensor<1x4x7x7xf32>)
// THREADS: linalg.matmul
// THREADS: tensor.parallel_insert_slice
func.func @biased(%x: tensor<2x3x9x9xf32>, %w: tensor<4x3x3x3xf32>, %bias: tensor<4xf32>) -> tensor<2x4x7x7xf32> {
  %e = tensor.empty() : tensor<2x4x7x7xf32>
  %b = linalg.broadcast ins(%bias : tensor<4xf32>) outs(%e : tensor<2x4x7x7xf32>) dimensions = [0, 2, 3]
  %y = linalg.conv_2d_nchw_fchw {dilations = dense<1> : tensor<2xi64>, strides = dense<1> : tensor<2xi64>}
      ins(%x, %w : tensor<2x3x9x9xf32>, tensor<4x3x3x3xf32>) outs(%b : tensor<2x4x7x7xf32>) -> tensor<2x4x7x7xf32>
  return %y : tensor<2x4x7x7xf32>
}

// A filter gradient sums over the images, so the threads split its input
// channels (the result's second dimension), each running the image loop
// over its own channels of every image: no partial sums to add, and each
// element summed in the same order as by one thread.
// THREADS-LABEL: func.func @filter_gradient_by_channels
// THREADS: scf.forall (%{{.*}}) in (2) shared_outs(%[[OUT:.*]] = %arg2)
// THREADS: %[[C:.*]] = arith.muli
// THREADS: %[[X:.*]] = tensor.extract_slice %arg1[0, %[[C]], 0, 0] [4, 1, 9, 9]
// THREADS: tensor.extract_slice %[[OUT]][0, %[[C]], 0, 0] [4, 1, 3, 3]
// THREADS: scf.for
// THREADS: tensor.extract_slice %[[X]]
// THREADS: linalg.matmul {{.*}} outs(%{{.*}} : tensor<4x9xf32>)
// THREADS: tensor.parallel_insert_slice %{{.*}} into %[[OUT]][0, %[[C]], 0, 0] [4, 1, 3, 3]
func.func @filter_gradient_by_channels(%dy: tensor<4x4x7x7xf32>, %x: tensor<4x2x9x9xf32>, %dw: tensor<4x2x3x3xf32>) -> tensor<4x2x3x3xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(n, f, oh, ow, c, kh, kw) -> (n, f, oh, ow)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (n, c, oh + kh, ow + kw)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (f, c, kh, kw)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction", "parallel", "parallel", "parallel"]}
      ins(%dy, %x : tensor<4x4x7x7xf32>, tensor<4x2x9x9xf32>) outs(%dw : tensor<4x2x3x3xf32>) {
  ^bb0(%g: f32, %a: f32, %acc: f32):
    %p = arith.mulf %g, %a : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x2x3x3xf32>
  return %r : tensor<4x2x3x3xf32>
}

// A filter gradient with many more columns ([c, kh, kw]: 144) than filters
// (32): the columns are A, read in place by the packed kernels, and the
// output gradient B, of which the packer transposes 32 x 256 instead of
// 144 x 256 per image. C is then [c, kh, kw, f]: the image loop carries
// it in that layout, transposed once before and once after the loop.
// IMAGE-LABEL: func.func @wide_filter_gradient
// IMAGE: %[[T:.*]] = linalg.transpose ins(%arg2 : tensor<32x16x3x3xf32>) {{.*}} permutation = [1, 2, 3, 0]
// IMAGE: %[[L:.*]] = scf.for %{{.*}} iter_args(%[[ACC:.*]] = %[[T]]) -> (tensor<16x3x3x32xf32>)
// IMAGE-NOT: linalg.transpose
// IMAGE: %[[C:.*]] = tensor.collapse_shape %[[ACC]] {{\[}}[0, 1, 2], [3]] : tensor<16x3x3x32xf32> into tensor<144x32xf32>
// IMAGE: linalg.matmul {{.*}} : tensor<144x256xf32>, tensor<32x256xf32>) outs(%[[C]] : tensor<144x32xf32>)
// IMAGE-NOT: linalg.transpose
// IMAGE: scf.yield
// IMAGE: linalg.transpose ins(%[[L]] : tensor<16x3x3x32xf32>) {{.*}} permutation = [3, 0, 1, 2]
func.func @wide_filter_gradient(%dy: tensor<2x32x16x16xf32>, %x: tensor<2x16x18x18xf32>, %dw: tensor<32x16x3x3xf32>) -> tensor<32x16x3x3xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(n, f, oh, ow, c, kh, kw) -> (n, f, oh, ow)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (n, c, oh + kh, ow + kw)>, affine_map<(n, f, oh, ow, c, kh, kw) -> (f, c, kh, kw)>],
      iterator_types = ["reduction", "parallel", "reduction", "reduction", "parallel", "parallel", "parallel"]}
      ins(%dy, %x : tensor<2x32x16x16xf32>, tensor<2x16x18x18xf32>) outs(%dw : tensor<32x16x3x3xf32>) {
  ^bb0(%g: f32, %a: f32, %acc: f32):
    %p = arith.mulf %g, %a : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<32x16x3x3xf32>
  return %r : tensor<32x16x3x3xf32>
}
