// RUN: tape-opt %s --tape-cpu-privatize-buffers --split-input-file | FileCheck %s
// Numbers: test/Tools/tape-run/threads.test runs the MNIST CNN, whose
// convolutions keep their columns and pack buffers in such slots, at 1
// and 2 threads and compares the bits.

// Scratch of an scf.forall iteration: one slot of 64-byte multiples per
// iteration (4 x 6 floats = 96 bytes, rounded up to 128) in a buffer
// before the loop, viewed with the alloc's own type.
// CHECK-LABEL: func.func @forall
// CHECK: %[[SLOTS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<384xi8>
// CHECK: scf.forall (%[[T:.*]]) in (3)
// CHECK-NOT: memref.alloc
// CHECK: %[[OFFSET:.*]] = arith.muli %{{.*}}, %c128
// CHECK: %[[MINE:.*]] = memref.view %[[SLOTS]][%[[OFFSET]]][] : memref<384xi8> to memref<4x6xf32>
// CHECK: linalg.fill ins(%{{.*}} : f32) outs(%[[MINE]] : memref<4x6xf32>)
// CHECK: memref.copy %[[MINE]]
func.func @forall(%out: memref<3x4x6xf32>) {
  %one = arith.constant 1.0 : f32
  scf.forall (%t) in (3) {
    %scratch = memref.alloc() : memref<4x6xf32>
    linalg.fill ins(%one : f32) outs(%scratch : memref<4x6xf32>)
    %mine = memref.subview %out[%t, 0, 0] [1, 4, 6] [1, 1, 1] : memref<3x4x6xf32> to memref<4x6xf32, strided<[6, 1], offset: ?>>
    memref.copy %scratch, %mine : memref<4x6xf32> to memref<4x6xf32, strided<[6, 1], offset: ?>>
  }
  return
}

// -----

// An scf.parallel over two dimensions with bounds and steps: the slot is
// the linearized iteration ((i - 2) / 2) * 3 + j, of 2 x 3 iterations.
// CHECK-LABEL: func.func @parallel
// CHECK: %[[SLOTS:.*]] = memref.alloc() {alignment = 64 : i64} : memref<6144xi8>
// CHECK: scf.parallel (%[[I:.*]], %[[J:.*]]) =
// CHECK: %[[DI:.*]] = arith.subi %[[I]], %c2
// CHECK: %[[NI:.*]] = arith.divui %[[DI]], %c2
// CHECK: %[[ROW:.*]] = arith.muli %{{.*}}, %c3
// CHECK: memref.view %[[SLOTS]]
// CHECK-SAME: to memref<256xf32>
func.func @parallel() {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %c3 = arith.constant 3 : index
  %c6 = arith.constant 6 : index
  %zero = arith.constant 0.0 : f32
  scf.parallel (%i, %j) = (%c2, %c0) to (%c6, %c3) step (%c2, %c1) {
    %scratch = memref.alloc() : memref<256xf32>
    linalg.fill ins(%zero : f32) outs(%scratch : memref<256xf32>)
  }
  return
}

// -----

// An alloc that asks for more alignment than 64 bytes gets slots of that
// alignment (3 floats: a slot of 128 bytes).
// CHECK-LABEL: func.func @aligned
// CHECK: %[[SLOTS:.*]] = memref.alloc() {alignment = 128 : i64} : memref<256xi8>
// CHECK: arith.muli %{{.*}}, %c128
// CHECK: memref.view %[[SLOTS]]
func.func @aligned() {
  %zero = arith.constant 0.0 : f32
  scf.forall (%t) in (2) {
    %scratch = memref.alloc() {alignment = 128 : i64} : memref<3xf32>
    linalg.fill ins(%zero : f32) outs(%scratch : memref<3xf32>)
  }
  return
}

// -----

// Left alone: a dynamically shaped alloc, one inside a sequential loop of
// the body (buffer hoisting's to move), and a loop with dynamic bounds.
// CHECK-LABEL: func.func @left_alone
// CHECK: scf.forall
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
// CHECK: scf.for
// CHECK: memref.alloc() : memref<8xf32>
// CHECK: scf.forall (%{{.*}}) in (%arg1)
// CHECK: memref.alloc() : memref<8xf32>
func.func @left_alone(%n: index, %m: index) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %zero = arith.constant 0.0 : f32
  scf.forall (%t) in (2) {
    %dynamic = memref.alloc(%n) : memref<?xf32>
    linalg.fill ins(%zero : f32) outs(%dynamic : memref<?xf32>)
    scf.for %k = %c0 to %c4 step %c1 {
      %inner = memref.alloc() : memref<8xf32>
      linalg.fill ins(%zero : f32) outs(%inner : memref<8xf32>)
    }
  }
  scf.forall (%t) in (%m) {
    %scratch = memref.alloc() : memref<8xf32>
    linalg.fill ins(%zero : f32) outs(%scratch : memref<8xf32>)
  }
  return
}
