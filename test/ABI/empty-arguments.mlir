// RUN: tape-opt %s --tape-abi-empty-arguments --allow-unregistered-dialect | FileCheck %s

// An argument without elements is passed as memref<0xT> (upstream's
// bare-pointer convention refuses memref<2x0xf32>); its uses see an empty
// alloca of its type, and a call passes an empty alloca of the callee's.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%{{.*}}: memref<0xf32>, %[[B:.*]]: memref<2x3xf32>, %{{.*}}: memref<0xf32>)
// CHECK: %[[E:.*]] = memref.alloca() : memref<2x0xf32>
// CHECK: %[[F:.*]] = memref.alloca() : memref<0xf32>
// CHECK: call @helper(%[[F]], %[[B]]) : (memref<0xf32>, memref<2x3xf32>) -> ()
// CHECK: "test.use"(%[[E]])
// CHECK-LABEL: func.func private @helper
// CHECK-SAME: (%{{.*}}: memref<0xf32>, %{{.*}}: memref<2x3xf32>)
func.func @step(%x: memref<2x0xf32>, %b: memref<2x3xf32>, %flat: memref<0xf32>) {
  call @helper(%x, %b) : (memref<2x0xf32>, memref<2x3xf32>) -> ()
  "test.use"(%x) : (memref<2x0xf32>) -> ()
  return
}
func.func private @helper(%x: memref<2x0xf32>, %b: memref<2x3xf32>) {
  "test.use"(%x) : (memref<2x0xf32>) -> ()
  return
}
