// RUN: tape-opt %s -split-input-file --tape-cpu-write-once-accumulations | FileCheck %s
// Numbers: window-exec.test runs max-pool adjoints of this form (2x2 and
// 2x4 windows that tile the image) against numpy.

// The adjoint of a 2x2 max pool with stride 2: each element of the image
// is reached once, so the scatter writes its values into an empty tensor
// and the zeros go.
// CHECK-LABEL: func.func @pool_adjoint
// CHECK-NOT: arith.constant dense
// CHECK: %[[E:.+]] = tensor.empty() : tensor<2x3x10x14xf32>
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[E]] : tensor<2x3x10x14xf32>)
// CHECK: %[[D:.+]] = arith.select
// CHECK-NEXT: linalg.yield %[[D]] : f32
func.func @pool_adjoint(%x: tensor<2x3x10x14xf32>, %m: tensor<2x3x5x7xf32>, %g: tensor<2x3x5x7xf32>) -> tensor<2x3x10x14xf32> {
  %zero = arith.constant 0.0 : f32
  %zeros = arith.constant dense<0.0> : tensor<2x3x10x14xf32>
  %w = tensor.empty() : tensor<2x2xf32>
  %dx = linalg.generic {indexing_maps = [
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh, ow)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (kh, kw)>,
      affine_map<(n, c, oh, ow, kh, kw) -> (n, c, oh * 2 + kh, ow * 2 + kw)>],
      iterator_types = ["reduction", "reduction", "reduction", "reduction", "reduction", "reduction"]}
      ins(%x, %m, %g, %w : tensor<2x3x10x14xf32>, tensor<2x3x5x7xf32>, tensor<2x3x5x7xf32>, tensor<2x2xf32>)
      outs(%zeros : tensor<2x3x10x14xf32>) {
  ^bb0(%in: f32, %mx: f32, %grad: f32, %window: f32, %acc: f32):
    %is = arith.cmpf oeq, %in, %mx : f32
    %d = arith.select %is, %grad, %zero : f32
    %o = arith.addf %acc, %d : f32
    linalg.yield %o : f32
  } -> tensor<2x3x10x14xf32>
  return %dx : tensor<2x3x10x14xf32>
}

// -----

// The fill stays where something else uses it too; the op still writes.
// CHECK-LABEL: func.func @shared_fill
// CHECK: %[[F:.+]] = linalg.fill
// CHECK: %[[E:.+]] = tensor.empty() : tensor<24xf32>
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[E]] : tensor<24xf32>)
// CHECK: return %{{.+}}, %[[F]]
func.func @shared_fill(%dy: tensor<12x2xf32>) -> (tensor<24xf32>, tensor<24xf32>) {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<24xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<24xf32>) -> tensor<24xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0 * 2 + d1)>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%dy : tensor<12x2xf32>) outs(%z : tensor<24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<24xf32>
  return %g, %z : tensor<24xf32>, tensor<24xf32>
}

// -----

// Left alone: overlapping windows (stride 1, window 2: elements reached
// twice), a window that leaves gaps (stride 3, window 2), a plain reduction
// (d1 missing from the output), a non-zero start, and a body that reads
// the accumulator twice.
// CHECK-LABEL: func.func @overlapping
// CHECK: linalg.fill
// CHECK: arith.addf
// CHECK-LABEL: func.func @gaps
// CHECK: linalg.fill
// CHECK: arith.addf
// CHECK-LABEL: func.func @reduction
// CHECK: linalg.fill
// CHECK: arith.addf
// CHECK-LABEL: func.func @ones
// CHECK: linalg.fill
// CHECK: arith.addf
// CHECK-LABEL: func.func @reads_twice
// CHECK: linalg.fill
// CHECK: arith.addf
func.func @overlapping(%dy: tensor<11x2xf32>) -> tensor<12xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<12xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<12xf32>) -> tensor<12xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0 + d1)>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%dy : tensor<11x2xf32>) outs(%z : tensor<12xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<12xf32>
  return %g : tensor<12xf32>
}
func.func @gaps(%dy: tensor<8x2xf32>) -> tensor<24xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<24xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<24xf32>) -> tensor<24xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0 * 3 + d1)>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%dy : tensor<8x2xf32>) outs(%z : tensor<24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<24xf32>
  return %g : tensor<24xf32>
}
func.func @reduction(%x: tensor<8x4xf32>) -> tensor<8xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<8xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<8xf32>) -> tensor<8xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0)>],
                       iterator_types = ["parallel", "reduction"]}
      ins(%x : tensor<8x4xf32>) outs(%z : tensor<8xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<8xf32>
  return %g : tensor<8xf32>
}
func.func @ones(%dy: tensor<12x2xf32>) -> tensor<24xf32> {
  %one = arith.constant 1.0 : f32
  %e = tensor.empty() : tensor<24xf32>
  %z = linalg.fill ins(%one : f32) outs(%e : tensor<24xf32>) -> tensor<24xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0 * 2 + d1)>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%dy : tensor<12x2xf32>) outs(%z : tensor<24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %s = arith.addf %out, %in : f32
    linalg.yield %s : f32
  } -> tensor<24xf32>
  return %g : tensor<24xf32>
}
func.func @reads_twice(%dy: tensor<12x2xf32>) -> tensor<24xf32> {
  %zero = arith.constant 0.0 : f32
  %e = tensor.empty() : tensor<24xf32>
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<24xf32>) -> tensor<24xf32>
  %g = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                        affine_map<(d0, d1) -> (d0 * 2 + d1)>],
                       iterator_types = ["reduction", "reduction"]}
      ins(%dy : tensor<12x2xf32>) outs(%z : tensor<24xf32>) {
  ^bb0(%in: f32, %out: f32):
    %m = arith.mulf %out, %in : f32
    %s = arith.addf %out, %m : f32
    linalg.yield %s : f32
  } -> tensor<24xf32>
  return %g : tensor<24xf32>
}

// -----

// Each result of an elementwise op is its own accumulation: the first adds
// into zeros (the sum feeds the second result too, which then reads the
// value directly), the second into an argument, which stays.
// CHECK-LABEL: func.func @two_results
// CHECK: %[[E:.+]] = tensor.empty() : tensor<8x4xf32>
// CHECK: linalg.generic
// CHECK-SAME: outs(%[[E]], %arg1 : tensor<8x4xf32>, tensor<8x4xf32>)
// CHECK: ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32, %[[ACC:.+]]: f32):
// CHECK-NEXT: %[[NEG:.+]] = arith.negf %[[IN]] : f32
// CHECK-NEXT: %[[SUM:.+]] = arith.addf %[[ACC]], %[[NEG]] : f32
// CHECK-NEXT: linalg.yield %[[NEG]], %[[SUM]] : f32, f32
func.func @two_results(%x: tensor<8x4xf32>, %acc: tensor<8x4xf32>) -> (tensor<8x4xf32>, tensor<8x4xf32>) {
  %zeros = arith.constant dense<0.0> : tensor<8x4xf32>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                          affine_map<(d0, d1) -> (d0, d1)>,
                                          affine_map<(d0, d1) -> (d0, d1)>],
                         iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x4xf32>) outs(%zeros, %acc : tensor<8x4xf32>, tensor<8x4xf32>) {
  ^bb0(%in: f32, %z: f32, %a: f32):
    %n = arith.negf %in : f32
    %s = arith.addf %z, %n : f32
    %t = arith.addf %a, %s : f32
    linalg.yield %s, %t : f32, f32
  } -> (tensor<8x4xf32>, tensor<8x4xf32>)
  return %r#0, %r#1 : tensor<8x4xf32>, tensor<8x4xf32>
}

// -----

// Results that accumulated into zeros, that nothing uses once they write:
// the op stops computing them (fusion leaves such results behind when it
// fuses a producer whose other users are fused later).
// CHECK-LABEL: func.func @unused_results
// CHECK: %[[E:.+]] = tensor.empty() : tensor<8x4xf32>
// CHECK: %[[R:.+]] = linalg.generic
// CHECK-SAME: ins(%arg0 : tensor<8x4xf32>) outs(%[[E]] : tensor<8x4xf32>)
// CHECK: ^bb0(%[[IN:.+]]: f32, %{{.+}}: f32):
// CHECK-NEXT: %[[NEG:.+]] = arith.negf %[[IN]] : f32
// CHECK-NEXT: %[[SQ:.+]] = arith.mulf %[[NEG]], %[[NEG]] : f32
// CHECK-NEXT: linalg.yield %[[SQ]] : f32
// CHECK-NEXT: } -> tensor<8x4xf32>
// CHECK-NEXT: return %[[R]]
func.func @unused_results(%x: tensor<8x4xf32>) -> tensor<8x4xf32> {
  %zeros = arith.constant dense<0.0> : tensor<8x4xf32>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>,
                                          affine_map<(d0, d1) -> (d0, d1)>,
                                          affine_map<(d0, d1) -> (d0, d1)>],
                         iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<8x4xf32>) outs(%zeros, %zeros : tensor<8x4xf32>, tensor<8x4xf32>) {
  ^bb0(%in: f32, %z: f32, %w: f32):
    %n = arith.negf %in : f32
    %s = arith.addf %z, %n : f32
    %q = arith.mulf %s, %s : f32
    %t = arith.addf %w, %q : f32
    linalg.yield %s, %t : f32, f32
  } -> (tensor<8x4xf32>, tensor<8x4xf32>)
  return %r#1 : tensor<8x4xf32>
}
