// RUN: tape-opt %s --tape-cpu-batched-contractions-as-matmuls --tape-cpu-specialize-contractions | FileCheck %s
// The numbers: test/Tools/tape-run/gpt.test (attention against PyTorch)
// and scripts/gradcheck.py's batched contraction cases run through this
// pass.

// CHECK-DAG: #[[$BT:.*]] = affine_map<(d0, d1, d2) -> (d1, d2)>

// Attention's scores, q k^T per batch and head, with q and k laid out by
// heads ([b, t, h, d]): both copied to [b, h, t, d] (runs of d), k read
// transposed; the scores are [b, h, i, j] already: a loop of 8 matmuls
// into slices of the result.
// CHECK-LABEL: func.func @scores
// CHECK: %[[Q:.*]] = linalg.transpose ins(%arg0 : tensor<2x16x4x8xf32>) {{.*}} permutation = [0, 2, 1, 3]
// CHECK: tensor.collapse_shape %[[Q]] {{\[}}[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
// CHECK: %[[K:.*]] = linalg.transpose ins(%arg1 : tensor<2x16x4x8xf32>) {{.*}} permutation = [0, 2, 1, 3]
// CHECK: tensor.collapse_shape %[[K]] {{\[}}[0, 1], [2], [3]] : tensor<2x4x16x8xf32> into tensor<8x16x8xf32>
// CHECK: %[[R:.*]] = scf.for %{{.*}} = %c0 to %c8 step %c1 iter_args(%[[ACC:.*]] = %{{.*}}) -> (tensor<8x16x16xf32>)
// CHECK: %[[C:.*]] = tensor.extract_slice %[[ACC]]{{.*}} : tensor<8x16x16xf32> to tensor<16x16xf32>
// CHECK: %[[M:.*]] = linalg.matmul indexing_maps = [#{{.*}}, #[[$BT]], #{{.*}}] ins(%{{.*}}, %{{.*}} : tensor<16x8xf32>, tensor<16x8xf32>) outs(%[[C]] : tensor<16x16xf32>)
// CHECK: tensor.insert_slice %[[M]] into %[[ACC]]
// CHECK: tensor.expand_shape %[[R]] {{\[}}[0, 1], [2], [3]]{{.*}} into tensor<2x4x16x16xf32>
func.func @scores(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %init: tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, i, h, d)>, affine_map<(b, h, i, j, d) -> (b, j, h, d)>, affine_map<(b, h, i, j, d) -> (b, h, i, j)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>) outs(%init : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x16x16xf32>
  return %r : tensor<2x4x16x16xf32>
}

// The weighted sum, att v: the result is laid out by heads ([b, i, h, d]),
// so the loop writes [b, h, i, d] and one transpose puts it back.
// CHECK-LABEL: func.func @weighted_sum
// CHECK: scf.for
// CHECK: linalg.matmul ins(%{{.*}}, %{{.*}} : tensor<16x16xf32>, tensor<16x8xf32>) outs(%{{.*}} : tensor<16x8xf32>)
// CHECK: %[[E:.*]] = tensor.expand_shape
// CHECK: linalg.transpose ins(%[[E]] : tensor<2x4x16x8xf32>) {{.*}} permutation = [0, 2, 1, 3]
func.func @weighted_sum(%att: tensor<2x4x16x16xf32>, %v: tensor<2x16x4x8xf32>, %init: tensor<2x16x4x8xf32>) -> tensor<2x16x4x8xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, h, i, j)>, affine_map<(b, h, i, j, d) -> (b, j, h, d)>, affine_map<(b, h, i, j, d) -> (b, i, h, d)>],
      iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]}
      ins(%att, %v : tensor<2x4x16x16xf32>, tensor<2x16x4x8xf32>) outs(%init : tensor<2x16x4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x16x4x8xf32>
  return %r : tensor<2x16x4x8xf32>
}

// Scores stored transposed ([b, h, j, i], as AD's dP^T): the inputs trade
// places, k as A and q as B (read transposed), so the loop writes the
// result in its own layout: no transpose of the result after the loop,
// nor of its init before it.
// CHECK-LABEL: func.func @scores_transposed
// CHECK: %[[K:.*]] = linalg.transpose ins(%arg1 : tensor<2x16x4x8xf32>) {{.*}} permutation = [0, 2, 1, 3]
// CHECK: %[[KB:.*]] = tensor.collapse_shape %[[K]]
// CHECK: %[[Q:.*]] = linalg.transpose ins(%arg0 : tensor<2x16x4x8xf32>) {{.*}} permutation = [0, 2, 1, 3]
// CHECK: %[[QB:.*]] = tensor.collapse_shape %[[Q]]
// CHECK-NOT: linalg.transpose
// CHECK: %[[INIT:.*]] = tensor.collapse_shape %arg2
// CHECK: scf.for %[[I:.*]] = %c0 to %c8 step %c1 iter_args(%{{.*}} = %[[INIT]])
// CHECK: %[[KS:.*]] = tensor.extract_slice %[[KB]][%[[I]], 0, 0]
// CHECK: %[[QS:.*]] = tensor.extract_slice %[[QB]][%[[I]], 0, 0]
// CHECK: linalg.matmul indexing_maps = [#{{.*}}, #[[$BT]], #{{.*}}] ins(%[[KS]], %[[QS]] : tensor<16x8xf32>, tensor<16x8xf32>)
// CHECK: tensor.expand_shape
// CHECK-NOT: linalg.transpose
// CHECK: return
func.func @scores_transposed(%q: tensor<2x16x4x8xf32>, %k: tensor<2x16x4x8xf32>, %init: tensor<2x4x16x16xf32>) -> tensor<2x4x16x16xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, h, i, j, d) -> (b, i, h, d)>, affine_map<(b, h, i, j, d) -> (b, j, h, d)>, affine_map<(b, h, i, j, d) -> (b, h, j, i)>],
      iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]}
      ins(%q, %k : tensor<2x16x4x8xf32>, tensor<2x16x4x8xf32>) outs(%init : tensor<2x4x16x16xf32>) {
  ^bb0(%a: f32, %b: f32, %acc: f32):
    %m = arith.mulf %a, %b : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x16x16xf32>
  return %r : tensor<2x4x16x16xf32>
}

// Without batch loops, a plain matmul: left to tape-cpu-specialize-contractions.
// CHECK-LABEL: func.func @plain
// CHECK-NOT: scf.for
// CHECK: linalg.matmul
func.func @plain(%a: tensor<8x4xf32>, %b: tensor<4x8xf32>, %c: tensor<8x8xf32>) -> tensor<8x8xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>],
      iterator_types = ["parallel", "parallel", "reduction"]}
      ins(%a, %b : tensor<8x4xf32>, tensor<4x8xf32>) outs(%c : tensor<8x8xf32>) {
  ^bb0(%x: f32, %y: f32, %acc: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %acc, %m : f32
    linalg.yield %s : f32
  } -> tensor<8x8xf32>
  return %r : tensor<8x8xf32>
}
