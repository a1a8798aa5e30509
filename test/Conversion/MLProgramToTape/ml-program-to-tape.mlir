// RUN: tape-opt %s --convert-ml-program-to-tape --split-input-file --verify-diagnostics | FileCheck %s

// Mutable globals become variables (trainable when float); immutable ones
// stay.
// CHECK: tape.variable private @w : tensor<3xf32> = dense<[1.000000e+00, 2.000000e+00, 3.000000e+00]>
// CHECK: tape.variable @count : tensor<i32> = dense<0> {trainable = false}
// CHECK: ml_program.global private @k(dense<2.000000e+00> : tensor<f32>) : tensor<f32>
// CHECK-LABEL: func.func @f
// CHECK: %[[H:.*]] = tape.handle @w : !tape.resource<tensor<3xf32>>
// CHECK: %[[V:.*]] = tape.read %[[H]]
// CHECK: %[[H2:.*]] = tape.handle @w
// CHECK: tape.assign %[[H2]], %[[V]]
// CHECK: ml_program.global_load_const @k
ml_program.global private mutable @w(dense<[1.0, 2.0, 3.0]> : tensor<3xf32>) : tensor<3xf32>
ml_program.global public mutable @count(dense<0> : tensor<i32>) : tensor<i32>
ml_program.global private @k(dense<2.0> : tensor<f32>) : tensor<f32>
func.func @f() -> tensor<f32> {
  %v = ml_program.global_load @w : tensor<3xf32>
  ml_program.global_store @w = %v : tensor<3xf32>
  %k = ml_program.global_load_const @k : tensor<f32>
  return %k : tensor<f32>
}

// -----

// expected-error @+1 {{'ml_program.global' op cannot become a tape.variable: it needs a statically shaped integer or float tensor type and a dense initial value}}
ml_program.global private mutable @dyn : tensor<?xf32>
