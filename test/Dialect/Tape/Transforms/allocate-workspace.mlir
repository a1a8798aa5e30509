// RUN: tape-opt %s --tape-allocate-workspace --allow-unregistered-dialect | FileCheck %s

// Fixed-size temporaries become views into a workspace argument, 64-byte
// aligned; a callee gets the bytes after the caller's own temporaries.
// CHECK-LABEL: func.func @callee
// CHECK-SAME: (%[[X:[a-z0-9_]+]]: memref<4xf32>, %[[WS:[a-z0-9_]+]]: memref<128xi8>)
// CHECK-SAME: tape.workspace_bytes = 128 : i64
// CHECK: %[[C0:.*]] = arith.constant 0 : index
// CHECK: memref.view %[[WS]][%[[C0]]][] : memref<128xi8> to memref<4xf32>
// CHECK: %[[C64:.*]] = arith.constant 64 : index
// CHECK: memref.view %[[WS]][%[[C64]]][] : memref<128xi8> to memref<2x2xf64>
// CHECK-NOT: memref.dealloc
// CHECK-LABEL: func.func @caller
// CHECK-SAME: %[[WS:[a-z0-9_]+]]: memref<192xi8>
// CHECK-SAME: tape.workspace_bytes = 192 : i64
// CHECK: %[[T:.*]] = memref.view %[[WS]][%{{.*}}][] : memref<192xi8> to memref<4xf32>
// CHECK: %[[SUB:.*]] = memref.view %[[WS]][%{{.*}}][] : memref<192xi8> to memref<128xi8>
// CHECK: call @callee(%[[T]], %[[SUB]])
// Dynamic shapes stay on the heap.
// CHECK: memref.alloc(%{{.*}}) : memref<?xf32>
module {
  func.func @callee(%x: memref<4xf32>) attributes {tape.lifted} {
    %a = memref.alloc() : memref<4xf32>
    %b = memref.alloc() : memref<2x2xf64>
    "test.use"(%a, %b) : (memref<4xf32>, memref<2x2xf64>) -> ()
    memref.dealloc %a : memref<4xf32>
    return
  }
  func.func @caller(%n: index) attributes {tape.lifted} {
    %t = memref.alloc() : memref<4xf32>
    call @callee(%t) : (memref<4xf32>) -> ()
    %d = memref.alloc(%n) : memref<?xf32>
    "test.use"(%d) : (memref<?xf32>) -> ()
    return
  }
}
