// RUN: tape-opt %s --tape-abi-update-state-in-place=report-copies=true --split-input-file --verify-diagnostics --allow-unregistered-dialect | FileCheck %s

// Updated in place: the state results are dropped; callers use the
// buffers they passed.
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[W:.*]]: memref<4xf32>, %[[OUT:.*]]: memref<4xf32>) -> memref<f32>
// CHECK: return %{{.*}} : memref<f32>
// CHECK-LABEL: func.func @host
// CHECK-SAME: (%[[W:.*]]: memref<4xf32>)
// CHECK: %[[R:.*]] = call @step(%[[W]], %{{.*}}) : (memref<4xf32>, memref<4xf32>) -> memref<f32>
// CHECK: "test.use"(%[[W]], %[[R]])
module attributes {tape.state = [{name = "w", type = tensor<4xf32>, trainable = true, initial_value = #tape.zeros}]} {
  func.func @step(%w: memref<4xf32>, %o: memref<4xf32>) -> (memref<4xf32>, memref<f32>) attributes {tape.lifted = array<i64: 0, 0>} {
    %l = memref.alloc() : memref<f32>
    return %w, %l : memref<4xf32>, memref<f32>
  }
  func.func @host(%w: memref<4xf32>) -> memref<4xf32> attributes {tape.lifted = array<i64: 0, 0>} {
    %o = memref.alloc() : memref<4xf32>
    %r:2 = call @step(%w, %o) : (memref<4xf32>, memref<4xf32>) -> (memref<4xf32>, memref<f32>)
    "test.use"(%r#0, %r#1) : (memref<4xf32>, memref<f32>) -> ()
    return %r#0 : memref<4xf32>
  }
}

// -----

// Not in place: the new value is copied into the variable's buffer, and
// report-copies says so.
// CHECK-LABEL: func.func @copied
// CHECK-SAME: (%[[W:.*]]: memref<4xf32>)
// CHECK: %[[NEW:.*]] = memref.alloc()
// CHECK: linalg.copy ins(%[[NEW]] : memref<4xf32>) outs(%[[W]] : memref<4xf32>)
// CHECK: return{{$}}
module attributes {tape.state = [{name = "w", type = tensor<4xf32>, trainable = true, initial_value = #tape.zeros}]} {
  func.func @copied(%w: memref<4xf32>) -> memref<4xf32> attributes {tape.lifted = array<i64: 0, 0>} {
    %new = memref.alloc() : memref<4xf32>
    // expected-remark @+1 {{variable "w" is copied into its buffer instead of updated in place}}
    return %new : memref<4xf32>
  }
}

// -----

// A buffer returned twice (CSE merged two equal results) gets a copy, so
// that every output has its own buffer (found by the garbler: upstream's
// buffer-results-to-out-params crashed on it).
// CHECK-LABEL: func.func @twice
// CHECK: %[[A:.*]] = memref.alloc() : memref<f32>
// CHECK: %[[B:.*]] = memref.alloc() : memref<f32>
// CHECK: linalg.copy ins(%[[A]] : memref<f32>) outs(%[[B]] : memref<f32>)
// CHECK: return %[[A]], %[[B]]
module attributes {tape.state = []} {
  func.func @twice() -> (memref<f32>, memref<f32>) attributes {tape.lifted = array<i64: 0, 0>} {
    %a = memref.alloc() : memref<f32>
    return %a, %a : memref<f32>, memref<f32>
  }
}
