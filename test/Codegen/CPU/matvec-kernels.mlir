// RUN: tape-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tape-cpu-matvec-kernels{lanes=8 rows=4}))' | FileCheck %s
// RUN: tape-opt %s -split-input-file --pass-pipeline='builtin.module(func.func(tape-cpu-matvec-kernels{lanes=8 rows=4 parallel=true}))' | FileCheck --check-prefix=PAR %s
// Numbers: matmul-exec.test runs these kernels against numpy.

// Dot products: 4 rows per block, an 8-lane accumulator each over K (the
// last run of 1000 = 125 x 8 needs no mask), then a horizontal sum into C.
// CHECK-LABEL: func.func @dot
// CHECK: %[[V:.+]] = memref.collapse_shape %{{.+}} {{\[\[}}0, 1]] : memref<1000x1xf32> into memref<1000xf32>
// CHECK: %[[C:.+]] = memref.collapse_shape %{{.+}} {{\[\[}}0, 1]] : memref<1024x1xf32> into memref<1024xf32>
// CHECK: scf.for
// CHECK: scf.for {{.*}} iter_args
// CHECK: vector.transfer_read %[[V]]{{.*}} {in_bounds = [true]} : memref<1000xf32>, vector<8xf32>
// CHECK-COUNT-4: vector.fma
// CHECK-COUNT-4: vector.reduction <add>
// CHECK-NOT: linalg.matmul
func.func @dot(%x: memref<1024x1000xf32>, %w: memref<1000x1xf32>, %z: memref<1024x1xf32>) {
  linalg.matmul ins(%x, %w : memref<1024x1000xf32>, memref<1000x1xf32>) outs(%z : memref<1024x1xf32>)
  return
}

// -----

// A stored K x M (the weight gradient x^T dz): 32 outputs at a time (masked: no in_bounds), a
// broadcast element of the vector times contiguous runs of A's row; 1000
// is no multiple of 32, so the runs are masked.
// CHECK-LABEL: func.func @axpy
// CHECK: vector.transfer_read %{{[^ ]+}}[%{{[^ ]+}}], %{{[^ ]+}} : memref<1000xf32>, vector<8xf32>
// CHECK: scf.for
// CHECK: vector.broadcast
// CHECK-COUNT-4: vector.fma
// CHECK-COUNT-4: vector.transfer_write %{{[^ ]+}}, %{{[^ ]+}}[%{{[^ ]+}}] : vector<8xf32>, memref<1000xf32>
func.func @axpy(%x: memref<1024x1000xf32>, %dz: memref<1024x1xf32>, %dw: memref<1000x1xf32>) {
  linalg.matmul indexing_maps = [affine_map<(m, n, k) -> (k, m)>, affine_map<(m, n, k) -> (k, n)>, affine_map<(m, n, k) -> (m, n)>]
    ins(%x, %dz : memref<1024x1000xf32>, memref<1024x1xf32>) outs(%dw : memref<1000x1xf32>)
  return
}

// -----

// More than one output column, or a strided output: left to the other
// kernels.
// CHECK-LABEL: func.func @kept
// CHECK-COUNT-2: linalg.matmul
func.func @kept(%x: memref<64x64xf32>, %y: memref<64x2xf32>, %s: memref<64x1xf32, strided<[2, 1]>>, %v: memref<64x1xf32>) {
  linalg.matmul ins(%x, %y : memref<64x64xf32>, memref<64x2xf32>) outs(%y : memref<64x2xf32>)
  linalg.matmul ins(%x, %v : memref<64x64xf32>, memref<64x1xf32>) outs(%s : memref<64x1xf32, strided<[2, 1]>>)
  return
}

// With parallel=true, both forms loop over blocks of output rows with
// scf.parallel; the inner loops stay sequential.
// PAR-LABEL: func.func @dot
// PAR: scf.parallel
// PAR: scf.for
// PAR: vector.fma
// PAR-LABEL: func.func @axpy
// PAR: scf.parallel
// PAR: scf.for
// PAR: vector.fma
