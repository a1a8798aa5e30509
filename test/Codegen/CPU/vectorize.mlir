// RUN: tape-opt %s --pass-pipeline="builtin.module(func.func(tape-cpu-vectorize,canonicalize,tape-cpu-hoist-vector-transfers))" | FileCheck %s

// A matmul becomes 8x32 register tiles over k, vectorized, with the
// accumulator carried in registers across k.
// CHECK-LABEL: func.func @matmul
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c8
// CHECK: scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c32
// CHECK: %[[ACC0:.*]] = vector.transfer_read %{{.*}} : memref<8x32xf32, strided<[256, 1], offset: ?>>, vector<8x32xf32>
// CHECK: %[[ACC:.*]] = scf.for %{{.*}} = %{{.*}} to %{{.*}} step %c1 iter_args(%[[A:.*]] = %[[ACC0]]) -> (vector<8x32xf32>)
// CHECK: vector.transfer_read
// CHECK: scf.yield
// CHECK: vector.transfer_write %[[ACC]]
func.func @matmul(%a: memref<64x16xf32>, %b: memref<16x256xf32>, %c: memref<64x256xf32>) {
  linalg.matmul ins(%a, %b : memref<64x16xf32>, memref<16x256xf32>) outs(%c : memref<64x256xf32>)
  return
}

// Elementwise ops: one vector of 16 along the innermost dimension.
// CHECK-LABEL: func.func @elementwise
// CHECK: scf.for %{{.*}} step %c1
// CHECK: scf.for %{{.*}} step %c16
// CHECK: vector.transfer_read {{.*}} vector<1x16xf32>
// CHECK: arith.addf {{.*}} : vector<1x16xf32>
// CHECK: vector.transfer_write
#id = affine_map<(i, j) -> (i, j)>
func.func @elementwise(%a: memref<4x64xf32>, %b: memref<4x64xf32>) {
  linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%a : memref<4x64xf32>) outs(%b : memref<4x64xf32>) {
    ^bb0(%x: f32, %y: f32):
      %s = arith.addf %x, %y : f32
      linalg.yield %s : f32
  }
  return
}

// Dynamic shapes are left alone.
// CHECK-LABEL: func.func @dynamic
// CHECK: linalg.generic
func.func @dynamic(%a: memref<?xf32>) {
  linalg.generic {indexing_maps = [affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      outs(%a : memref<?xf32>) {
    ^bb0(%y: f32):
      linalg.yield %y : f32
  }
  return
}

// A reduction of a value that does not vary along the reduced dimension
// (a fill folded into the body) stays a scalar loop: upstream vectorization
// would add it once per vector instead of once per element. (Found by
// scripts/ad_difftest.py.) Executed in vectorize-exec.test.
// CHECK-LABEL: func.func @uniform_reduction
// CHECK-NOT: vector.
// CHECK: linalg.generic
func.func @uniform_reduction(%x: memref<2x2xf64>, %s: f64, %out: memref<2xf64>) {
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>], iterator_types = ["parallel", "reduction"]}
      ins(%x : memref<2x2xf64>) outs(%out : memref<2xf64>) {
  ^bb0(%in: f64, %acc: f64):
    %v = math.sin %s : f64
    %r = arith.addf %acc, %v : f64
    linalg.yield %r : f64
  }
  return
}

// A reduction along the innermost loop: four vector accumulators per row
// (started by the first 64 lanes) take the vectors in turn, are combined
// pairwise after the loop, and the result's lanes are halved down to one
// (a min or max: LLVM would lower vector.reduction to a chain of scalar
// steps); the 8 lanes left over are reduced the same way and combined
// after it, then the old value. Executed in reduction-exec.test.
// CHECK-LABEL: func.func @row_max
// CHECK: scf.for %[[I:.+]] = %c0 to %c5 step %c1
// CHECK: %[[F0:.+]] = vector.load %{{.+}}[%[[I]], %c0] : memref<5x520xf32>, vector<16xf32>
// CHECK: %[[F1:.+]] = vector.load %{{.+}}[%[[I]], %c16]
// CHECK: %[[F2:.+]] = vector.load %{{.+}}[%[[I]], %c32]
// CHECK: %[[F3:.+]] = vector.load %{{.+}}[%[[I]], %c48]
// CHECK: %[[ACC:.+]]:4 = scf.for %{{.+}} = %c64 to %c512 step %c64 iter_args(%[[A0:.+]] = %[[F0]], %[[A1:.+]] = %[[F1]], %[[A2:.+]] = %[[F2]], %[[A3:.+]] = %[[F3]]) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK:   %[[V:.+]] = vector.load {{.*}} vector<16xf32>
// CHECK:   %[[M:.+]] = arith.maximumf %[[V]], %[[A0]] : vector<16xf32>
// CHECK:   scf.yield %[[M]], %{{.+}}, %{{.+}}, %{{.+}} :
// CHECK: %[[P0:.+]] = arith.maximumf %[[ACC]]#1, %[[ACC]]#0 : vector<16xf32>
// CHECK: %[[P1:.+]] = arith.maximumf %[[ACC]]#3, %[[ACC]]#2 : vector<16xf32>
// CHECK: %[[ALL:.+]] = arith.maximumf %[[P1]], %[[P0]] : vector<16xf32>
// CHECK: %[[LO:.+]] = vector.extract_strided_slice %[[ALL]] {offsets = [0], sizes = [8], strides = [1]}
// CHECK: %[[HI:.+]] = vector.extract_strided_slice %[[ALL]] {offsets = [8], sizes = [8], strides = [1]}
// CHECK: arith.maximumf %[[HI]], %[[LO]] : vector<8xf32>
// CHECK: arith.maximumf {{.+}} : vector<4xf32>
// CHECK: arith.maximumf {{.+}} : vector<2xf32>
// CHECK: %[[ONE:.+]] = arith.maximumf {{.+}} : vector<1xf32>
// CHECK: %[[R:.+]] = vector.extract %[[ONE]][0] : f32 from vector<1xf32>
// CHECK-NOT: vector.reduction
// CHECK: %[[REST:.+]] = vector.load %{{.+}}[%[[I]], %c512] : memref<5x520xf32>, vector<8xf32>
// CHECK: vector.extract_strided_slice %[[REST]] {offsets = [0], sizes = [4], strides = [1]}
// CHECK: vector.extract_strided_slice %[[REST]] {offsets = [4], sizes = [4], strides = [1]}
// CHECK: %[[ONE2:.+]] = arith.maximumf {{.+}} : vector<1xf32>
// CHECK: %[[R2:.+]] = vector.extract %[[ONE2]][0] : f32 from vector<1xf32>
// CHECK: %[[R3:.+]] = arith.maximumf %[[R2]], %[[R]] : f32
// CHECK: %[[OLD:.+]] = memref.load
// CHECK: arith.maximumf %[[R3]], %[[OLD]] : f32
// CHECK: memref.store
func.func @row_max(%x: memref<5x520xf32>, %out: memref<5xf32>) {
  linalg.reduce ins(%x : memref<5x520xf32>) outs(%out : memref<5xf32>) dimensions = [1]
    (%in: f32, %acc: f32) {
      %o = arith.maximumf %in, %acc : f32
      linalg.yield %o : f32
    }
  return
}

// A pooling window (the image indexed by `2 * ow + kw`, which upstream
// vectorization refuses) runs as vectors along the output's row: scalar
// loops over n, c, oh, kh, kw, then 4, 2 and 1 lanes of ow (the row of
// 7), the image's every second element taken from one read of twice the
// lanes (padded past the row's end) by a shuffle (one lane: a load).
// Executed in window-exec.test.
// CHECK-LABEL: func.func @max_pool
// CHECK-COUNT-5: scf.for
// CHECK: %[[READ:.+]] = vector.transfer_read %{{.+}}[{{.+}}], %{{.+}} : memref<2x3x10x14xf32>, vector<8xf32>
// CHECK: %[[X:.+]] = vector.shuffle %[[READ]], %[[READ]] [0, 2, 4, 6] : vector<8xf32>, vector<8xf32>
// CHECK: %[[OLD:.+]] = vector.load %{{.+}} : memref<2x3x5x7xf32>, vector<4xf32>
// CHECK: %[[MAX:.+]] = arith.maximumf %[[OLD]], %[[X]] : vector<4xf32>
// CHECK: vector.store %[[MAX]]
// CHECK: vector.transfer_read {{.*}} : memref<2x3x10x14xf32>, vector<4xf32>
// CHECK: vector.shuffle {{.*}} [0, 2] : vector<4xf32>, vector<4xf32>
// CHECK: vector.load %{{.+}} : memref<2x3x10x14xf32>, vector<1xf32>
func.func @max_pool(%x: memref<2x3x10x14xf32>, %w: memref<2x2xf32>, %out: memref<2x3x5x7xf32>) {
  linalg.pooling_nchw_max {dilations = dense<1> : tensor<2xi64>, strides = dense<2> : tensor<2xi64>}
      ins(%x, %w : memref<2x3x10x14xf32>, memref<2x2xf32>) outs(%out : memref<2x3x5x7xf32>)
  return
}

// A max pool's adjoint as fusion leaves it (every iterator a reduction;
// the output indexed by `2 * ow + kw`, a window as wide as its stride):
// ow and kw run as one loop of 8 consecutive elements, the pool's output
// and gradient loaded 4 at a time and each repeated for its window's two
// lanes. Executed in window-exec.test.
// CHECK-LABEL: func.func @max_pool_adjoint
// CHECK-COUNT-4: scf.for
// CHECK: %[[X:.+]] = vector.load %{{.+}} : memref<2x3x8x8xf32>, vector<8xf32>
// CHECK: %[[M4:.+]] = vector.load %{{.+}} : memref<2x3x4x4xf32>, vector<4xf32>
// CHECK: %[[M:.+]] = vector.shuffle %[[M4]], %[[M4]] [0, 0, 1, 1, 2, 2, 3, 3]
// CHECK: arith.cmpf oeq, %[[X]], %[[M]] : vector<8xf32>
// CHECK: vector.store %{{.+}} : memref<2x3x8x8xf32>, vector<8xf32>
func.func @max_pool_adjoint(%x: memref<2x3x8x8xf32>, %m: memref<2x3x4x4xf32>, %g: memref<2x3x4x4xf32>, %w: memref<2x2xf32>, %dx: memref<2x3x8x8xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>],
      iterator_types = ["reduction", "reduction", "reduction", "reduction", "reduction", "reduction"]}
      ins(%x, %m, %g, %w : memref<2x3x8x8xf32>, memref<2x3x4x4xf32>, memref<2x3x4x4xf32>, memref<2x2xf32>)
      outs(%dx : memref<2x3x8x8xf32>) {
  ^bb0(%in: f32, %mm: f32, %grad: f32, %window: f32, %acc: f32):
    %is = arith.cmpf oeq, %in, %mm : f32
    %d = arith.select %is, %grad, %zero : f32
    %o = arith.addf %acc, %d : f32
    linalg.yield %o : f32
  }
  return
}

// An op on an i1 buffer stays a scalar loop: bufferization stores one i1
// per byte, a vector<8xi1> load reads eight packed bits. (Found by the
// CNN example against PyTorch: the max-pool adjoint read the dropout mask
// kept from the forward pass, and most of its gradient was zero.)
// CHECK-LABEL: func.func @boolean_buffer
// CHECK-NOT: vector.
// CHECK: linalg.generic
func.func @boolean_buffer(%mask: memref<4x16xi1>, %x: memref<4x16xf32>, %out: memref<4x16xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%mask, %x : memref<4x16xi1>, memref<4x16xf32>) outs(%out : memref<4x16xf32>) {
  ^bb0(%m: i1, %v: f32, %o: f32):
    %r = arith.select %m, %v, %zero : f32
    linalg.yield %r : f32
  }
  return
}

// im2col (after tape-cpu-convolutions-as-matmuls): the image is indexed by
// sums of loops, which upstream vectorization refuses. The innermost loop
// (ow, 24 wide) walks along the image's rows: vectors of 16 and then 8
// lanes, loaded from where the window starts.
// CHECK-LABEL: func.func @im2col
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: scf.for
// CHECK: vector.load %arg0{{.*}} : memref<2x3x26x26xf32>, vector<16xf32>
// CHECK: vector.store {{.*}} : memref<3x3x3x2x24x24xf32>, vector<16xf32>
// CHECK: vector.load %arg0{{.*}} : memref<2x3x26x26xf32>, vector<8xf32>
// CHECK: vector.store {{.*}} : memref<3x3x3x2x24x24xf32>, vector<8xf32>
// CHECK-NOT: linalg.generic
func.func @im2col(%x: memref<2x3x26x26xf32>, %col: memref<3x3x3x2x24x24xf32>) {
  linalg.generic {indexing_maps = [affine_map<(c, kh, kw, n, oh, ow) -> (n, c, oh + kh, ow + kw)>, affine_map<(c, kh, kw, n, oh, ow) -> (c, kh, kw, n, oh, ow)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<2x3x26x26xf32>) outs(%col : memref<3x3x3x2x24x24xf32>) {
  ^bb0(%in: f32, %out: f32):
    linalg.yield %in : f32
  }
  return
}

// col2im: the columns added into the image. Its loops that add into one
// element are reductions, but the lanes of one vector (consecutive ow)
// reach distinct elements, so it vectorizes along ow all the same and
// adds in the scalar loops' order: 4 + 2 + 1 lanes for a width of 7.
// CHECK-LABEL: func.func @col2im
// CHECK: %[[A:.*]] = vector.load %arg0{{.*}} : memref<3x2x2x2x5x7xf32>, vector<4xf32>
// CHECK: %[[B:.*]] = vector.load %arg1{{.*}} : memref<2x3x6x8xf32>, vector<4xf32>
// CHECK: %[[S:.*]] = arith.addf %[[B]], %[[A]] : vector<4xf32>
// CHECK: vector.store %[[S]], %arg1{{.*}} : memref<2x3x6x8xf32>, vector<4xf32>
// CHECK: vector<2xf32>
// CHECK: vector<1xf32>
// CHECK-NOT: linalg.generic
func.func @col2im(%col: memref<3x2x2x2x5x7xf32>, %x: memref<2x3x6x8xf32>) {
  linalg.generic {indexing_maps = [affine_map<(c, kh, kw, n, oh, ow) -> (c, kh, kw, n, oh, ow)>, affine_map<(c, kh, kw, n, oh, ow) -> (n, c, oh + kh, ow + kw)>],
      iterator_types = ["parallel", "reduction", "reduction", "parallel", "reduction", "reduction"]}
      ins(%col : memref<3x2x2x2x5x7xf32>) outs(%x : memref<2x3x6x8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  }
  return
}

// A stride-2 window copy (x[n, c, 2 * oh + kh, 2 * ow + kw], im2col of a
// pool) with ow innermost: consecutive iterations skip an element, taken
// from one read of 8 elements by a shuffle (a gather before: a 64x64x24x24
// copy took 1.39 ms as loops, 1.32 ms as gathers).
// CHECK-LABEL: func.func @strided_window
// CHECK-COUNT-3: scf.for
// CHECK: %[[READ:.+]] = vector.transfer_read {{.*}} : memref<1x2x8x8xf32>, vector<8xf32>
// CHECK: vector.shuffle %[[READ]], %[[READ]] [0, 2, 4, 6] : vector<8xf32>, vector<8xf32>
// CHECK: vector.store
// CHECK-NOT: linalg.generic
func.func @strided_window(%x: memref<1x2x8x8xf32>, %out: memref<1x2x2x2x4x4xf32>) {
  linalg.generic {indexing_maps = [affine_map<(n, c, kh, kw, oh, ow) -> (n, c, oh * 2 + kh, ow * 2 + kw)>, affine_map<(n, c, kh, kw, oh, ow) -> (n, c, kh, kw, oh, ow)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "parallel", "parallel"]}
      ins(%x : memref<1x2x8x8xf32>) outs(%out : memref<1x2x2x2x4x4xf32>) {
  ^bb0(%in: f32, %o: f32):
    linalg.yield %in : f32
  }
  return
}
