// RUN: tape-opt %s --tape-cpu-store-booleans-as-bytes | FileCheck %s
// The numbers: test/Tools/tape-run/cnn.test (dropout masks, drawn in one
// loop and read by the max-pool adjoint in another) and random.test.

// A mask one generic yields and another reads: stored as i8, extended
// where it is written and truncated where it is read.
// CHECK-LABEL: func.func @mask
// CHECK: %[[E:.*]] = tensor.empty() : tensor<16xi8>
// CHECK: %[[M:.*]]:2 = linalg.generic {{.*}} outs(%[[E]], %{{.*}} : tensor<16xi8>, tensor<16xf32>)
// CHECK: ^bb0(%{{.*}}: f32, %{{.*}}: i8, %{{.*}}: f32):
// CHECK: %[[K:.*]] = arith.cmpf ogt
// CHECK: %[[W:.*]] = arith.extui %[[K]] : i1 to i8
// CHECK: linalg.yield %[[W]], %{{.*}} : i8, f32
// CHECK: linalg.generic {{.*}} ins(%[[M]]#0, %arg1 : tensor<16xi8>, tensor<16xf32>)
// CHECK: ^bb0(%[[B:.*]]: i8, %{{.*}}: f32, %{{.*}}: f32):
// CHECK: %[[T:.*]] = arith.trunci %[[B]] : i8 to i1
// CHECK: arith.select %[[T]]
func.func @mask(%x: tensor<16xf32>, %g: tensor<16xf32>) -> (tensor<16xf32>, tensor<16xf32>) {
  %zero = arith.constant 0.0 : f32
  %em = tensor.empty() : tensor<16xi1>
  %ev = tensor.empty() : tensor<16xf32>
  %r:2 = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%x : tensor<16xf32>) outs(%em, %ev : tensor<16xi1>, tensor<16xf32>) {
  ^bb0(%v: f32, %m: i1, %o: f32):
    %keep = arith.cmpf ogt, %v, %zero : f32
    %y = arith.select %keep, %v, %zero : f32
    linalg.yield %keep, %y : i1, f32
  } -> (tensor<16xi1>, tensor<16xf32>)
  %d = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%r#0, %g : tensor<16xi1>, tensor<16xf32>) outs(%ev : tensor<16xf32>) {
  ^bb0(%m: i1, %v: f32, %o: f32):
    %y = arith.select %m, %v, %zero : f32
    linalg.yield %y : f32
  } -> tensor<16xf32>
  return %r#1, %d : tensor<16xf32>, tensor<16xf32>
}

// A boolean that leaves the function stays i1 (its type is the ABI's).
// CHECK-LABEL: func.func @returned
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<16xi1>)
// CHECK-NOT: arith.extui
func.func @returned(%x: tensor<16xf32>) -> tensor<16xi1> {
  %zero = arith.constant 0.0 : f32
  %em = tensor.empty() : tensor<16xi1>
  %r = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>], iterator_types = ["parallel"]}
      ins(%x : tensor<16xf32>) outs(%em : tensor<16xi1>) {
  ^bb0(%v: f32, %m: i1):
    %keep = arith.cmpf ogt, %v, %zero : f32
    linalg.yield %keep : i1
  } -> tensor<16xi1>
  return %r : tensor<16xi1>
}
