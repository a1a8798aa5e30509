// RUN: tape-opt %s -split-input-file -verify-diagnostics --tape-cpu-lower-matmul-to-blas=min-flops=1000 --canonicalize | FileCheck %s
// Numbers: test/Tools/tape-run/mlp.test trains the MLP with --blas against
// a float64 reference.

// Row-major, no transposes; the zero fill just before becomes beta = 0.
// CHECK: func.func private @cblas_sgemm(i32, i32, i32, i32, i32, i32, f32, !llvm.ptr, i32, !llvm.ptr, i32, f32, !llvm.ptr, i32)
// CHECK-LABEL: func.func @plain
// CHECK-NOT: linalg.fill
// CHECK-DAG: %[[ROW:.+]] = arith.constant 101 : i32
// CHECK-DAG: %[[N:.+]] = arith.constant 111 : i32
// CHECK-DAG: %[[C64:.+]] = arith.constant 64 : i32
// CHECK-DAG: %[[C256:.+]] = arith.constant 256 : i32
// CHECK-DAG: %[[C784:.+]] = arith.constant 784 : i32
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.+]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[PA:.+]] = llvm.inttoptr
// CHECK: %[[PB:.+]] = llvm.inttoptr
// CHECK: %[[PC:.+]] = llvm.inttoptr
// CHECK: call @cblas_sgemm(%[[ROW]], %[[N]], %[[N]], %[[C64]], %[[C256]], %[[C784]], %[[ONE]], %[[PA]], %[[C784]], %[[PB]], %[[C256]], %[[ZERO]], %[[PC]], %[[C256]])
// CHECK-NOT: linalg.matmul
func.func @plain(%a: memref<64x784xf32>, %b: memref<784x256xf32>, %c: memref<64x256xf32>) {
  %zero = arith.constant 0.0 : f32
  linalg.fill ins(%zero : f32) outs(%c : memref<64x256xf32>)
  linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>) outs(%c : memref<64x256xf32>)
  return
}

// -----

// Transposed operands (as reverse-mode AD writes them) set the flags;
// an output that is not zero-filled accumulates (beta = 1). Views pass
// their offset (in the pointer) and row stride (as leading dimension).
// CHECK-LABEL: func.func @transposed
// CHECK-DAG: %[[T:.+]] = arith.constant 112 : i32
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[C40:.+]] = arith.constant 40 : i32
// CHECK-DAG: %[[C48:.+]] = arith.constant 48 : i32
// CHECK-DAG: %[[OFF:.+]] = arith.constant 32 : index
// CHECK: %[[BASE:.+]] = memref.extract_aligned_pointer_as_index
// CHECK: arith.addi %[[BASE]], %[[OFF]] : index
// CHECK: call @cblas_sgemm(%{{.+}}, %[[T]], %[[T]], %{{.+}}, %{{.+}}, %{{.+}}, %[[ONE]], %{{.+}}, %[[C40]], %{{.+}}, %[[C48]], %[[ONE]],
func.func @transposed(%a: memref<32x40xf32>, %b: memref<16x48xf32>, %c: memref<32x16xf32>) {
  %av = memref.subview %a[0, 8] [32, 32] [1, 1] : memref<32x40xf32> to memref<32x32xf32, strided<[40, 1], offset: 8>>
  %bv = memref.subview %b[0, 0] [16, 32] [1, 1] : memref<16x48xf32> to memref<16x32xf32, strided<[48, 1]>>
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (n, k)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%av, %bv : memref<32x32xf32, strided<[40, 1], offset: 8>>, memref<16x32xf32, strided<[48, 1]>>) outs(%c : memref<32x16xf32>)
  return
}

// -----

// Left alone: too few flops, a matrix-vector product, a column stride, f64,
// tensors.
// CHECK-LABEL: func.func @kept
// CHECK-NOT: cblas_sgemm
// CHECK-COUNT-5: linalg.matmul
func.func @kept(%a: memref<4x4xf32>, %x: memref<512x512xf32>, %v: memref<512x1xf32>, %y: memref<512x1xf32>,
                %s: memref<64x64xf32, strided<[1, 64]>>, %d: memref<64x64xf64>, %t: tensor<64x64xf32>) -> tensor<64x64xf32> {
  linalg.matmul ins(%a, %a : memref<4x4xf32>, memref<4x4xf32>) outs(%a : memref<4x4xf32>)
  linalg.matmul ins(%x, %v : memref<512x512xf32>, memref<512x1xf32>) outs(%y : memref<512x1xf32>)
  linalg.matmul ins(%s, %s : memref<64x64xf32, strided<[1, 64]>>, memref<64x64xf32, strided<[1, 64]>>) outs(%s : memref<64x64xf32, strided<[1, 64]>>)
  linalg.matmul ins(%d, %d : memref<64x64xf64>, memref<64x64xf64>) outs(%d : memref<64x64xf64>)
  %r = linalg.matmul ins(%t, %t : tensor<64x64xf32>, tensor<64x64xf32>) outs(%t : tensor<64x64xf32>) -> tensor<64x64xf32>
  return %r : tensor<64x64xf32>
}

// -----

// A symbol of that name with another type is an error, not a bad call.
func.func private @cblas_sgemm(i32)
// expected-error@above {{is declared with a type other than CBLAS's}}
func.func @clash(%a: memref<64x64xf32>) {
  linalg.matmul ins(%a, %a : memref<64x64xf32>, memref<64x64xf32>) outs(%a : memref<64x64xf32>)
  return
}

// -----

// A matmul that starts from a weight (a folded SGD update,
// tape-cpu-accumulate-into-matmuls): beta = 1 into the weight.
// CHECK-LABEL: func.func @accumulating
// CHECK-DAG: %[[ONE:.+]] = arith.constant 1.000000e+00 : f32
// CHECK: memref.extract_strided_metadata %arg2
// CHECK: call @cblas_sgemm(%{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[ONE]], %{{.+}}, %{{.+}}, %{{.+}}, %{{.+}}, %[[ONE]],
// CHECK: return
func.func @accumulating(%x: memref<64x784xf32>, %dz: memref<64x256xf32>, %w: memref<784x256xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%x, %dz : memref<64x784xf32>, memref<64x256xf32>) outs(%w : memref<784x256xf32>)
  return
}
