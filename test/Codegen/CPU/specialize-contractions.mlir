// RUN: tape-opt %s -split-input-file --mlir-print-local-scope --pass-pipeline='builtin.module(func.func(tape-cpu-specialize-contractions))' | FileCheck %s
// Numbers: test/Codegen/CPU/Inputs/generic_matmuls.mlir runs these forms
// through the whole pipeline against numpy (matmul-exec.test).

// A transposed, B transposed: linalg.matmul with both maps.
// CHECK-LABEL: func.func @both_transposed
// CHECK: linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%arg0, %arg1 : tensor<8x4xf32>, tensor<5x8xf32>) outs(%arg2 : tensor<4x5xf32>)
// CHECK-NOT: linalg.generic
func.func @both_transposed(%a: tensor<8x4xf32>, %b: tensor<5x8xf32>, %c: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<8x4xf32>, tensor<5x8xf32>) outs(%c : tensor<4x5xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x5xf32>
  return %r : tensor<4x5xf32>
}

// -----

// Operands in the other order and the loops numbered differently (the
// generic AD rule's adjoints look like this): still C = A B.
// CHECK-LABEL: func.func @swapped
// CHECK: linalg.matmul ins(%arg1, %arg0 : tensor<4x8xf32>, tensor<8x5xf32>) outs(%arg2 : tensor<4x5xf32>)
func.func @swapped(%b: tensor<8x5xf32>, %a: tensor<4x8xf32>, %c: tensor<4x5xf32>) -> tensor<4x5xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(n, k, m) -> (k, n)>, affine_map<(n, k, m) -> (m, k)>, affine_map<(n, k, m) -> (m, n)>], iterator_types = ["parallel", "reduction", "parallel"]} ins(%b, %a : tensor<8x5xf32>, tensor<4x8xf32>) outs(%c : tensor<4x5xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x5xf32>
  return %r : tensor<4x5xf32>
}

// -----

// Canonical forms go to upstream's specialization (here a batch matmul).
// CHECK-LABEL: func.func @batch
// CHECK: linalg.batch_matmul ins(%arg0, %arg1 : tensor<2x4x8xf32>, tensor<2x8x5xf32>)
func.func @batch(%a: tensor<2x4x8xf32>, %b: tensor<2x8x5xf32>, %c: tensor<2x4x5xf32>) -> tensor<2x4x5xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, k, n)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %b : tensor<2x4x8xf32>, tensor<2x8x5xf32>) outs(%c : tensor<2x4x5xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x5xf32>
  return %r : tensor<2x4x5xf32>
}

// -----

// Not touched: an elementwise generic (fusion works on generics), and a
// contraction that widens its operands inside the body.
// CHECK-LABEL: func.func @left_alone
// CHECK: linalg.generic
// CHECK: arith.addf
// CHECK: linalg.generic
// CHECK: arith.extf
// CHECK-NOT: linalg.matmul
func.func @left_alone(%a: tensor<4x8xf16>, %b: tensor<8x5xf16>, %c: tensor<4x5xf32>) -> (tensor<4x5xf32>, tensor<4x5xf32>) {
  %e = linalg.generic {indexing_maps = [affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>], iterator_types = ["parallel", "parallel"]} ins(%c : tensor<4x5xf32>) outs(%c : tensor<4x5xf32>) {
  ^bb0(%x: f32, %z: f32):
    %s = arith.addf %x, %x : f32
    linalg.yield %s : f32
  } -> tensor<4x5xf32>
  %r = linalg.generic {indexing_maps = [affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>], iterator_types = ["parallel", "parallel", "reduction"]} ins(%a, %b : tensor<4x8xf16>, tensor<8x5xf16>) outs(%c : tensor<4x5xf32>) {
  ^bb0(%x: f16, %y: f16, %z: f32):
    %xe = arith.extf %x : f16 to f32
    %ye = arith.extf %y : f16 to f32
    %m = arith.mulf %xe, %ye : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  } -> tensor<4x5xf32>
  return %e, %r : tensor<4x5xf32>, tensor<4x5xf32>
}

// -----

// A batch matmul with B transposed (the adjoint dA = dC B^T of a batch
// matmul looks like this): linalg.batch_matmul with maps. Upstream's
// specialization turned it into a batch_matmul whose shapes do not verify.
// CHECK-LABEL: func.func @batch_transposed
// CHECK: linalg.batch_matmul indexing_maps = [affine_map<(d0, d1, d2, d3) -> (d0, d1, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d2, d3)>, affine_map<(d0, d1, d2, d3) -> (d0, d1, d2)>] ins(%arg0, %arg1 : tensor<2x4x8xf32>, tensor<2x5x8xf32>)
func.func @batch_transposed(%a: tensor<2x4x8xf32>, %b: tensor<2x5x8xf32>, %c: tensor<2x4x5xf32>) -> tensor<2x4x5xf32> {
  %r = linalg.generic {indexing_maps = [affine_map<(b, m, n, k) -> (b, m, k)>, affine_map<(b, m, n, k) -> (b, n, k)>, affine_map<(b, m, n, k) -> (b, m, n)>], iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%a, %b : tensor<2x4x8xf32>, tensor<2x5x8xf32>) outs(%c : tensor<2x4x5xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %x, %y : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x4x5xf32>
  return %r : tensor<2x4x5xf32>
}

// -----

// The adjoints of C = A B as the generic AD rule builds them
// (test/Dialect/Tape/Transforms/differentiate.mlir, @matmul): dA = dC B^T
// and dB = A^T dC, the operands in the order the rule gives them.
// CHECK-LABEL: func.func @adjoints
// CHECK: linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d1, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%arg2, %arg1 : tensor<2x4xf32>, tensor<3x4xf32>)
// CHECK: linalg.matmul indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d0)>, affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>] ins(%arg0, %arg2 : tensor<2x3xf32>, tensor<2x4xf32>)
func.func @adjoints(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %dc: tensor<2x4xf32>, %za: tensor<2x3xf32>, %zb: tensor<3x4xf32>) -> (tensor<2x3xf32>, tensor<3x4xf32>) {
  %da = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d2)>], iterator_types = ["parallel", "reduction", "parallel"]} ins(%b, %dc : tensor<3x4xf32>, tensor<2x4xf32>) outs(%za : tensor<2x3xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %y, %x : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  } -> tensor<2x3xf32>
  %db = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d2, d1)>], iterator_types = ["reduction", "parallel", "parallel"]} ins(%a, %dc : tensor<2x3xf32>, tensor<2x4xf32>) outs(%zb : tensor<3x4xf32>) {
  ^bb0(%x: f32, %y: f32, %z: f32):
    %m = arith.mulf %y, %x : f32
    %s = arith.addf %z, %m : f32
    linalg.yield %s : f32
  } -> tensor<3x4xf32>
  return %da, %db : tensor<2x3xf32>, tensor<3x4xf32>
}
