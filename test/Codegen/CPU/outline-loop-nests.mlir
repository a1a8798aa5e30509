// RUN: tape-opt %s --tape-cpu-outline-loop-nests=min-ops=4 | FileCheck %s
// The numbers: every model test runs the whole pipeline, this pass last
// before LLVM.

// A loop nest becomes a private function (internal linkage, never inlined
// by LLVM); the buffers it uses, the view of the workspace included, are
// its arguments, the constants are recomputed inside. A small op stays.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[WS:.*]]: memref<64xi8>, %[[X:.*]]: memref<16xf32>)
// CHECK: %[[V:.*]] = memref.view %[[WS]]
// CHECK: call @step__loop0(%[[X]], %[[V]]) : (memref<16xf32>, memref<16xf32>) -> ()
// CHECK: memref.store
// CHECK: return
// CHECK: func.func private @step__loop0(%[[A:.*]]: memref<16xf32>, %[[B:.*]]: memref<16xf32>) attributes {llvm.linkage = #llvm.linkage<internal>, passthrough = ["noinline"]}
// CHECK: scf.for
// CHECK: memref.load %[[A]]
// CHECK: memref.store %{{.*}}, %[[B]]
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

// Two nests that differ only in their buffers and in where the views
// start share one function; a nest that differs in a constant gets its
// own. A strided subview cannot be passed: it is recomputed inside from
// the buffer it views.
// CHECK-LABEL: func.func @layers
// CHECK-SAME: (%[[WS:.*]]: memref<256xi8>, %[[X:.*]]: memref<32xf32>)
// CHECK: %[[V0:.*]] = memref.view %[[WS]]
// CHECK: %[[V1:.*]] = memref.view %[[WS]]
// CHECK: call @layers__loop0(%[[X]], %[[V0]])
// CHECK: call @layers__loop0(%[[V0]], %[[V1]])
// CHECK: call @layers__loop2(%[[X]], %[[V1]])
// CHECK: func.func private @layers__loop0(
// CHECK-NOT: func.func private @layers__loop1
// CHECK: func.func private @layers__loop2(%{{.*}}: memref<32xf32>, %[[B:.*]]: memref<32xf32>)
// CHECK: arith.constant 3.0
// CHECK: memref.subview %[[B]]
func.func @layers(%ws: memref<256xi8>, %x: memref<32xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c8 = arith.constant 8 : index
  %c16 = arith.constant 16 : index
  %c128 = arith.constant 128 : index
  %two = arith.constant 2.0 : f32
  %three = arith.constant 3.0 : f32
  %v0 = memref.view %ws[%c0][] : memref<256xi8> to memref<32xf32>
  %v1 = memref.view %ws[%c128][] : memref<256xi8> to memref<32xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %a = memref.load %x[%i] : memref<32xf32>
    %b = arith.mulf %a, %two : f32
    memref.store %b, %v0[%i] : memref<32xf32>
  }
  scf.for %i = %c0 to %c16 step %c1 {
    %a = memref.load %v0[%i] : memref<32xf32>
    %b = arith.mulf %a, %two : f32
    memref.store %b, %v1[%i] : memref<32xf32>
  }
  %odd = memref.subview %v1[1] [8] [2] : memref<32xf32> to memref<8xf32, strided<[2], offset: 1>>
  scf.for %i = %c0 to %c8 step %c1 {
    %a = memref.load %x[%i] : memref<32xf32>
    %b = arith.mulf %a, %three : f32
    memref.store %b, %odd[%i] : memref<8xf32, strided<[2], offset: 1>>
  }
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

// A nest that frees a buffer from outside stays: the callee would see only
// the aligned pointer, and free needs the allocated one. One that frees
// its own buffer is outlined.
// CHECK-LABEL: func.func @frees
// CHECK: scf.if
// CHECK-NEXT: memref.dealloc
// CHECK: call @frees__loop
// CHECK: func.func private @frees__loop
// CHECK: memref.alloc
// CHECK: memref.dealloc
func.func @frees(%x: memref<16xf32>, %owned: i1) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  scf.if %owned {
    memref.dealloc %x : memref<16xf32>
    %z = arith.constant 0.0 : f32
    %y = arith.addf %z, %z : f32
    %w = arith.addf %y, %y : f32
  }
  scf.for %i = %c0 to %c16 step %c1 {
    %t = memref.alloc() : memref<4xf32>
    %a = memref.load %t[%c0] : memref<4xf32>
    memref.dealloc %t : memref<4xf32>
  }
  return
}

// A nest that uses a buffer its function allocates on the heap stays, so
// that LLVM can still delete the allocation.
// CHECK-LABEL: func.func @heap
// CHECK: memref.alloc
// CHECK: scf.for
// CHECK-NOT: call
func.func @heap(%x: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c16 = arith.constant 16 : index
  %h = memref.alloc() : memref<16xf32>
  scf.for %i = %c0 to %c16 step %c1 {
    %a = memref.load %x[%i] : memref<16xf32>
    memref.store %a, %h[%i] : memref<16xf32>
  }
  %b = memref.load %h[%c0] : memref<16xf32>
  memref.store %b, %x[%c0] : memref<16xf32>
  memref.dealloc %h : memref<16xf32>
  return
}
