// RUN: tape-opt %s --tape-cpu-outline-loop-nests=min-ops=4 | FileCheck %s
// The numbers: every model test runs the whole pipeline, this pass last
// before LLVM.

// A loop nest becomes a private function (internal linkage, never inlined
// by LLVM); the buffers it uses are its arguments, the constants and the
// view of the workspace it reads are recomputed inside (a view is a
// strided memref the bare-pointer convention cannot pass). A small op
// stays.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[WS:.*]]: memref<64xi8>, %[[X:.*]]: memref<16xf32>)
// CHECK: call @step__loop0(%[[X]], %[[WS]]) : (memref<16xf32>, memref<64xi8>) -> ()
// CHECK: memref.store
// CHECK: return
// CHECK: func.func private @step__loop0(%[[A:.*]]: memref<16xf32>, %[[B:.*]]: memref<64xi8>) attributes {llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]}
// CHECK: %[[V:.*]] = memref.view %[[B]]
// CHECK: scf.for
// CHECK: memref.load %[[A]]
// CHECK: memref.store %{{.*}}, %[[V]]
func.func @step(%ws: memref<64xi8>, %x: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %v = memref.view %ws[%c0][] : memref<64xi8> to memref<16xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %a = memref.load %x[%i] : memref<16xf32>
    %b = arith.mulf %a, %a : f32
    memref.store %b, %v[%i] : memref<16xf32>
  }
  %z = arith.constant 0.0 : f32
  memref.store %z, %x[%c0] : memref<16xf32>
  return
}

// A nest that uses a strided view defined by something that is not
// recomputable stays in place.
// CHECK-LABEL: func.func @kept
// CHECK: scf.for
// CHECK-NOT: call
func.func @kept(%x: memref<16xf32, strided<[2]>>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.for %i = %c0 to %c16 step %c1 {
    %a = memref.load %x[%i] : memref<16xf32, strided<[2]>>
    %b = arith.mulf %a, %a : f32
    memref.store %b, %x[%i] : memref<16xf32, strided<[2]>>
  }
  return
}
