// RUN: tape-opt %s --tape-cpu-expand-strided-copies | FileCheck %s

// CHECK-LABEL: func.func @copies
// CHECK-SAME: (%[[S:.*]]: memref<2xf32, strided<[4]>>, %[[D:.*]]: memref<2xf32>, %[[E:.*]]: memref<2xf32>)
// CHECK: linalg.copy ins(%[[S]] : memref<2xf32, strided<[4]>>) outs(%[[D]] : memref<2xf32>)
// Contiguous copies stay memref.copy (they become memcpy).
// CHECK: memref.copy %[[D]], %[[E]]
func.func @copies(%s: memref<2xf32, strided<[4]>>, %d: memref<2xf32>, %e: memref<2xf32>) {
  memref.copy %s, %d : memref<2xf32, strided<[4]>> to memref<2xf32>
  memref.copy %d, %e : memref<2xf32> to memref<2xf32>
  return
}
