// RUN: tape-opt %s --tape-abi-check-numerics --mlir-print-debuginfo | FileCheck %s
// Behaviour: test/Tools/tape-run/check-numerics.test runs instrumented
// steps.

// The sites, in order, with op names (an elementwise generic is named by
// its payload op) and source locations.
// CHECK: module attributes {tape.numerics_sites = ["'math.log' at {{.*}}check-numerics.mlir:22:3", "'arith.divf' at {{.*}}check-numerics.mlir:33:8"]}
// CHECK-DAG: func.func private @__tape_check_scalar_f32(f32, i32)
// CHECK-DAG: func.func private @__tape_check_numerics_f32(!llvm.ptr, i64, i32)
// CHECK-LABEL: func.func @step
// Fills move values: not checked.
// CHECK: linalg.fill
// CHECK-NOT: call
// CHECK: linalg.generic
// CHECK: %[[C0:.+]] = arith.constant 0 : i32
// CHECK: %[[P:.+]] = llvm.inttoptr
// CHECK: %[[N:.+]] = arith.constant 64 : i64
// CHECK: call @__tape_check_numerics_f32(%[[P]], %[[N]], %[[C0]])
func.func @step(%x: memref<64xf32>, %y: memref<64xf32>, %a: f32, %b: f32) -> f32 {
  %ninf = arith.constant 0xFF800000 : f32
  linalg.fill ins(%ninf : f32) outs(%y : memref<64xf32>)
  linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>],
                  iterator_types = ["parallel"]}
      ins(%x : memref<64xf32>) outs(%y : memref<64xf32>) {
  ^bb0(%in: f32, %out: f32):
    // Ops inside a linalg body are checked through the op's output.
    %l = math.log %in : f32
    linalg.yield %l : f32
  }
  // CHECK: %[[Q:.+]] = arith.divf
  // CHECK: %[[C1:.+]] = arith.constant 1 : i32
  // CHECK: call @__tape_check_scalar_f32(%[[Q]], %[[C1]])
  %q = arith.divf %a, %b : f32
  return %q : f32
}
