// RUN: tape-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tape-cpu-fold-transposes))' | FileCheck %s
// Numbers: gradcheck.test executes the folded matmuls of every matmul rule.

// The backward matmuls of C = A B: dA = dC B^T and dB = A^T dC.
// CHECK-DAG: #[[$MK:.+]] = affine_map<(d0, d1, d2) -> (d0, d2)>
// CHECK-DAG: #[[$NK:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-DAG: #[[$KM:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$KN:.+]] = affine_map<(d0, d1, d2) -> (d2, d1)>
// CHECK-DAG: #[[$MN:.+]] = affine_map<(d0, d1, d2) -> (d0, d1)>
// CHECK-LABEL: func.func @backward
// CHECK-SAME: (%[[A:[^:]+]]: tensor<64x784xf32>, %[[B:[^:]+]]: tensor<784x256xf32>, %[[DC:[^:]+]]: tensor<64x256xf32>
// CHECK-NOT: linalg.transpose
// CHECK: linalg.matmul indexing_maps = [#[[$MK]], #[[$NK]], #[[$MN]]] ins(%[[DC]], %[[B]] : tensor<64x256xf32>, tensor<784x256xf32>)
// CHECK: linalg.matmul indexing_maps = [#[[$KM]], #[[$KN]], #[[$MN]]] ins(%[[A]], %[[DC]] : tensor<64x784xf32>, tensor<64x256xf32>)
func.func @backward(%a: tensor<64x784xf32>, %b: tensor<784x256xf32>, %dc: tensor<64x256xf32>,
                    %za: tensor<64x784xf32>, %zb: tensor<784x256xf32>)
    -> (tensor<64x784xf32>, tensor<784x256xf32>) {
  %eb = tensor.empty() : tensor<256x784xf32>
  %bt = linalg.transpose ins(%b : tensor<784x256xf32>) outs(%eb : tensor<256x784xf32>) permutation = [1, 0]
  %da = linalg.matmul ins(%dc, %bt : tensor<64x256xf32>, tensor<256x784xf32>) outs(%za : tensor<64x784xf32>) -> tensor<64x784xf32>
  %ea = tensor.empty() : tensor<784x64xf32>
  %at = linalg.transpose ins(%a : tensor<64x784xf32>) outs(%ea : tensor<784x64xf32>) permutation = [1, 0]
  %db = linalg.matmul ins(%at, %dc : tensor<784x64xf32>, tensor<64x256xf32>) outs(%zb : tensor<784x256xf32>) -> tensor<784x256xf32>
  return %da, %db : tensor<64x784xf32>, tensor<784x256xf32>
}

// -----

// Both operands transposed; a matmul that already has maps composes.
// CHECK-DAG: #[[$KM:.+]] = affine_map<(d0, d1, d2) -> (d2, d0)>
// CHECK-DAG: #[[$NK:.+]] = affine_map<(d0, d1, d2) -> (d1, d2)>
// CHECK-LABEL: func.func @both
// CHECK-SAME: (%[[A:[^:]+]]: tensor<3x2xf32>, %[[B:[^:]+]]: tensor<4x3xf32>
// CHECK: linalg.matmul indexing_maps = [#[[$KM]], #[[$NK]], #{{.+}}] ins(%[[A]], %[[B]] : tensor<3x2xf32>, tensor<4x3xf32>)
func.func @both(%a: tensor<3x2xf32>, %b: tensor<4x3xf32>, %c: tensor<2x4xf32>) -> tensor<2x4xf32> {
  %ea = tensor.empty() : tensor<2x3xf32>
  %at = linalg.transpose ins(%a : tensor<3x2xf32>) outs(%ea : tensor<2x3xf32>) permutation = [1, 0]
  %eb = tensor.empty() : tensor<3x4xf32>
  %bt = linalg.transpose ins(%b : tensor<4x3xf32>) outs(%eb : tensor<3x4xf32>) permutation = [1, 0]
  %r = linalg.matmul ins(%at, %bt : tensor<2x3xf32>, tensor<3x4xf32>) outs(%c : tensor<2x4xf32>) -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

// Batched: the two inner dimensions swap, the batch stays first. A
// transpose that moves the batch dimension is no matmul map: it stays.
// CHECK-DAG: #[[$BKM:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d1)>
// CHECK-DAG: #[[$BKN:.+]] = affine_map<(d0, d1, d2, d3) -> (d0, d3, d2)>
// CHECK-LABEL: func.func @batch
// CHECK-SAME: (%[[A:[^:]+]]: tensor<5x4x3xf32>
// CHECK: linalg.batch_matmul indexing_maps = [#[[$BKM]], #[[$BKN]], #{{.+}}] ins(%[[A]], %{{.+}} : tensor<5x4x3xf32>, tensor<5x4x6xf32>)
// CHECK: %[[T:.+]] = linalg.transpose {{.*}} permutation = [1, 0, 2]
// CHECK: linalg.batch_matmul ins(%[[T]], %{{.+}} : tensor<2x3x4xf32>
func.func @batch(%a: tensor<5x4x3xf32>, %b: tensor<5x4x6xf32>, %c: tensor<5x3x6xf32>,
                 %x: tensor<3x2x4xf32>, %y: tensor<2x4x6xf32>, %z: tensor<2x3x6xf32>)
    -> (tensor<5x3x6xf32>, tensor<2x3x6xf32>) {
  %ea = tensor.empty() : tensor<5x3x4xf32>
  %at = linalg.transpose ins(%a : tensor<5x4x3xf32>) outs(%ea : tensor<5x3x4xf32>) permutation = [0, 2, 1]
  %r = linalg.batch_matmul ins(%at, %b : tensor<5x3x4xf32>, tensor<5x4x6xf32>) outs(%c : tensor<5x3x6xf32>) -> tensor<5x3x6xf32>
  %ex = tensor.empty() : tensor<2x3x4xf32>
  %xt = linalg.transpose ins(%x : tensor<3x2x4xf32>) outs(%ex : tensor<2x3x4xf32>) permutation = [1, 0, 2]
  %s = linalg.batch_matmul ins(%xt, %y : tensor<2x3x4xf32>, tensor<2x4x6xf32>) outs(%z : tensor<2x3x6xf32>) -> tensor<2x3x6xf32>
  return %r, %s : tensor<5x3x6xf32>, tensor<2x3x6xf32>
}
