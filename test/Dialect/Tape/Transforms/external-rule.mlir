// A rule attached from outside the project's libraries: tape_test.cube is
// defined in test/lib and registers its DifferentiableOpInterface model from
// there, as a user would for their own op.
// RUN: tape-opt %s --tape-differentiate | FileCheck %s

// CHECK-LABEL: func.func @cube
// CHECK-SAME: (%[[X:.*]]: tensor<4xf32>)
// CHECK: %[[Y:.*]] = tape_test.cube %[[X]] : tensor<4xf32>
// CHECK: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<4xf32>
// CHECK: %[[THREE:.*]] = arith.constant dense<3.000000e+00> : tensor<4xf32>
// CHECK: %[[SQ:.*]] = arith.mulf %[[X]], %[[X]]
// CHECK: %[[SLOPE:.*]] = arith.mulf %[[THREE]], %[[SQ]]
// CHECK: %[[G:.*]] = arith.mulf %[[ONE]], %[[SLOPE]]
// CHECK: return %[[G]]
func.func @cube(%x: tensor<4xf32>) -> tensor<4xf32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<4xf32>
    %c = tape_test.cube %x : tensor<4xf32>
    tape.yield %c : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%x : tensor<4xf32>)
  return %g : tensor<4xf32>
}
