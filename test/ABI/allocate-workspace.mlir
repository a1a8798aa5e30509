// RUN: tape-opt %s --tape-abi-allocate-workspace --split-input-file --verify-diagnostics --allow-unregistered-dialect | FileCheck %s

// Fixed-size temporaries become views into a workspace argument, 64-byte
// aligned; a callee gets the bytes after the caller's own temporaries.
// CHECK-LABEL: func.func @callee
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: memref<4xf32>, %[[WS:[a-z0-9_]+]]: memref<128xi8>)
// CHECK-SAME: tape.workspace_bytes = 128 : i64
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[WS]][%[[C0]]][] : memref<128xi8> to memref<4xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %[[WS]][%[[C64]]][] : memref<128xi8> to memref<2x2xf64>
// CHECK-LABEL: func.func @caller
// CHECK-SAME: %[[WS:[a-z0-9_]+]]: memref<192xi8>
// CHECK-SAME: tape.workspace_bytes = 192 : i64
// CHECK: %[[T:.*]] = memref.view %[[WS]][%{{.*}}][] : memref<192xi8> to memref<4xf32>
// CHECK: %[[SUB:.*]] = memref.view %[[WS]][%{{.*}}][] : memref<192xi8> to memref<128xi8>
// CHECK: call @callee(%[[T]], %[[SUB]])
// Dynamic shapes stay on the heap.
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
// Booleans take a byte each in memory (as LLVM stores i1), not a bit: a
// 64x10 mask needs 640 bytes, so the buffer after it starts at 640. (An
// undersized mask once overlapped its neighbour when fusion was off.)
// CHECK-LABEL: func.func @masks
// CHECK-SAME: tape.workspace_bytes = 3200 : i64
// CHECK: memref.view %{{.+}}[%{{.+}}][] : memref<3200xi8> to memref<64x10xi1>
// CHECK: %[[C640:.*]] = arith.constant 640 : index
// CHECK: memref.view %{{.+}}[%[[C640]]][] : memref<3200xi8> to memref<64x10xf32>
// Lifetimes that do not overlap share bytes: %a dies at its last use,
// so %b starts at offset 0 again; %c is used inside a loop that also reads
// a view of %b, which keeps %b alive through the loop, so %c goes after it.
// CHECK-LABEL: func.func @reuse
// CHECK-SAME: tape.workspace_bytes = 1280 : i64
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.+}}[%[[C0]]][] : memref<1280xi8> to memref<160xf32>
// CHECK: %[[C0B:.*]] = arith.constant 0 : index
// CHECK: memref.view %{{.+}}[%[[C0B]]][] : memref<1280xi8> to memref<160xf32>
// CHECK: %[[C640:.*]] = arith.constant 640 : index
// CHECK: memref.view %{{.+}}[%[[C640]]][] : memref<1280xi8> to memref<160xf32>
module {
  func.func @callee(%x: memref<4xf32>) attributes {tape.lifted = array<i64: 0, 0>} {
    %a = memref.alloc() : memref<4xf32>
    %b = memref.alloc() : memref<2x2xf64>
    "test.use"(%a, %b) : (memref<4xf32>, memref<2x2xf64>) -> ()
    return
  }
  func.func @caller(%n: index) attributes {tape.lifted = array<i64: 0, 0>} {
    %t = memref.alloc() : memref<4xf32>
    call @callee(%t) : (memref<4xf32>) -> ()
    %d = memref.alloc(%n) : memref<?xf32>
    "test.use"(%d) : (memref<?xf32>) -> ()
    return
  }
  func.func @masks() attributes {tape.lifted = array<i64: 0, 0>} {
    %m = memref.alloc() : memref<64x10xi1>
    %f = memref.alloc() : memref<64x10xf32>
    "test.use"(%m, %f) : (memref<64x10xi1>, memref<64x10xf32>) -> ()
    return
  }
  func.func @reuse(%n: index) attributes {tape.lifted = array<i64: 0, 0>} {
    %a = memref.alloc() : memref<160xf32>
    "test.use"(%a) : (memref<160xf32>) -> ()
    %b = memref.alloc() : memref<160xf32>
    %bv = memref.subview %b[0] [80] [1] : memref<160xf32> to memref<80xf32, strided<[1]>>
    %c = memref.alloc() : memref<160xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    scf.for %i = %c0 to %n step %c1 {
      "test.use"(%bv, %c) : (memref<80xf32, strided<[1]>>, memref<160xf32>) -> ()
    }
    return
  }
}

// -----

// The pass runs before buffer deallocation: a free would release workspace
// bytes the caller owns.
module {
  func.func @freed() attributes {tape.lifted = array<i64: 0, 0>} {
    %a = memref.alloc() : memref<4xf32>
    "test.use"(%a) : (memref<4xf32>) -> ()
    // expected-error @+2 {{frees a buffer before tape-abi-allocate-workspace ran}}
    // expected-note @+1 {{run tape-abi-allocate-workspace before buffer deallocation}}
    memref.dealloc %a : memref<4xf32>
    return
  }
}

// -----

// A buffer a loop yields to its next iteration alternates between two
// workspace buffers: each iteration takes the one its loop-carried
// argument is not. A buffer whose loop-carried argument is also yielded
// (here through a view, %kv) stays on the heap: the next iteration still
// reads that argument.
// CHECK-LABEL: func.func @recurrence
// CHECK-SAME: tape.workspace_bytes = 128 : i64
// CHECK: %[[A:.*]] = memref.view %{{.+}}[%{{.+}}][] : memref<128xi8> to memref<4xf32>
// CHECK: %[[B:.*]] = memref.view %{{.+}}[%{{.+}}][] : memref<128xi8> to memref<4xf32>
// CHECK: scf.for {{.*}} iter_args(%[[H:.*]] = %{{.*}}, %[[K:.*]] = %{{.*}}, %{{.*}} = %{{.*}})
// CHECK: %[[HP:.*]] = memref.extract_aligned_pointer_as_index %[[H]]
// CHECK: %[[AP:.*]] = memref.extract_aligned_pointer_as_index %[[A]]
// CHECK: %[[IS_A:.*]] = arith.cmpi eq, %[[HP]], %[[AP]]
// CHECK: %[[N:.*]] = arith.select %[[IS_A]], %[[B]], %[[A]]
// CHECK: "test.step"(%[[H]], %[[N]])
// CHECK: %[[KEEP:.*]] = memref.alloc() : memref<4xf32>
// CHECK: scf.yield %[[N]], %[[KEEP]], %{{.*}}
func.func @recurrence(%init: memref<4xf32>, %n: index) -> memref<4xf32> attributes {tape.lifted = array<i64: 0, 0>} {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %r:3 = scf.for %i = %c0 to %n step %c1 iter_args(%h = %init, %k = %init, %j = %init) -> (memref<4xf32>, memref<4xf32>, memref<4xf32>) {
    %next = memref.alloc() : memref<4xf32>
    "test.step"(%h, %next) : (memref<4xf32>, memref<4xf32>) -> ()
    %keep = memref.alloc() : memref<4xf32>
    "test.step"(%k, %keep) : (memref<4xf32>, memref<4xf32>) -> ()
    %v = memref.subview %k[0] [4] [1] : memref<4xf32> to memref<4xf32, strided<[1]>>
    %kv = memref.cast %v : memref<4xf32, strided<[1]>> to memref<4xf32>
    scf.yield %next, %keep, %kv : memref<4xf32>, memref<4xf32>, memref<4xf32>
  }
  return %r#0 : memref<4xf32>
}
