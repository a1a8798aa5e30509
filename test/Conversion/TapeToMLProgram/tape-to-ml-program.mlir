// RUN: tape-opt %s --convert-tape-to-ml-program --split-input-file --verify-diagnostics | FileCheck %s
// And back: the round trip restores the variables and their accesses.
// RUN: tape-opt %s --convert-tape-to-ml-program --convert-ml-program-to-tape --split-input-file --verify-diagnostics | FileCheck --check-prefix=BACK %s

// CHECK: ml_program.global public mutable @w(dense<1.000000e+00> : tensor<2xf32>) : tensor<2xf32>
// CHECK: ml_program.global private mutable @n(dense<0> : tensor<i64>) : tensor<i64> {tape.trainable = false}
// CHECK-LABEL: tape.step @step
// CHECK-SAME: (%[[D:.*]]: tensor<2xf32>)
// CHECK: %[[V:.*]] = ml_program.global_load @w : tensor<2xf32>
// CHECK: ml_program.global_store @w = %[[D]] : tensor<2xf32>
// CHECK: %[[OLD:.*]] = ml_program.global_load @w : tensor<2xf32>
// CHECK: %[[NEW:.*]] = arith.subf %[[OLD]], %[[D]]
// CHECK: ml_program.global_store @w = %[[NEW]]
// CHECK: %[[C:.*]] = ml_program.global_load @n : tensor<i64>
// CHECK: arith.addi %[[C]]
// CHECK-NOT: tape.handle
// BACK: tape.variable @w : tensor<2xf32> = dense<1.000000e+00>
// BACK: tape.variable private @n : tensor<i64> = dense<0> {trainable = false}
// BACK-LABEL: tape.step @step
// BACK: tape.read
// BACK: tape.assign
// BACK-NOT: ml_program
tape.variable @w : tensor<2xf32> = dense<1.0>
tape.variable private @n : tensor<i64> = #tape.zeros {trainable = false}
tape.step @step(%d: tensor<2xf32>) -> tensor<2xf32> {
  %w = tape.handle @w : !tape.resource<tensor<2xf32>>
  %n = tape.handle @n : !tape.resource<tensor<i64>>
  %v = tape.read %w : !tape.resource<tensor<2xf32>>
  tape.assign %w, %d : !tape.resource<tensor<2xf32>>
  tape.assign_sub %w, %d : !tape.resource<tensor<2xf32>>
  %one = arith.constant dense<1> : tensor<i64>
  tape.assign_add %n, %one : !tape.resource<tensor<i64>>
  tape.return %v : tensor<2xf32>
}

// -----

tape.variable @w : tensor<f32> = dense<1.0>
tape.step @s(%g: tensor<f32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  // expected-error @+1 {{'tape.apply_gradients' op must be lowered before convert-tape-to-ml-program (run tape-materialize-optimizers and tape-differentiate first)}}
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  tape.return
}
