// RUN: tape-opt %s --convert-tape-to-func --split-input-file --verify-diagnostics | FileCheck %s

// Every function takes the state first and returns it first; reads see
// the current value, assignments produce new values, and an assigned
// variable goes back into its argument's buffer.
// CHECK: module attributes {tape.state = [{initial_value = dense<1.000000e+00> : tensor<f32>, name = "w", trainable = true, type = tensor<f32>}, {initial_value = #tape.zeros, name = "n", trainable = false, type = tensor<i64>}]}
// CHECK-NOT: tape.variable
// CHECK-LABEL: func.func @step
// CHECK-SAME: (%[[W:.*]]: tensor<f32>, %[[N:.*]]: tensor<i64>, %[[D:.*]]: tensor<f32>) -> (tensor<f32>, tensor<i64>, tensor<f32>)
// CHECK-SAME: attributes {tape.lifted = array<i64: 1, 1>, tape.step}
// CHECK: %[[W1:.*]] = arith.subf %[[W]], %[[D]]
// CHECK: %[[W2:.*]] = arith.addf %[[W1]], %[[D]]
// CHECK: %[[N1:.*]] = arith.addi %[[N]], %{{.*}}
// CHECK: %[[OUTW:.*]] = bufferization.materialize_in_destination %[[W2]] in %[[W]]
// CHECK: %[[OUTN:.*]] = bufferization.materialize_in_destination %[[N1]] in %[[N]]
// CHECK: return %[[OUTW]], %[[OUTN]], %[[W1]]
tape.variable @w : tensor<f32> = dense<1.0>
tape.variable @n : tensor<i64> = #tape.zeros {trainable = false}
tape.step @step(%d: tensor<f32>) -> tensor<f32> {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %n = tape.handle @n : !tape.resource<tensor<i64>>
  tape.assign_sub %w, %d : !tape.resource<tensor<f32>>
  %mid = tape.read %w : !tape.resource<tensor<f32>>
  tape.assign_add %w, %d : !tape.resource<tensor<f32>>
  %one = arith.constant dense<1> : tensor<i64>
  tape.assign_add %n, %one : !tape.resource<tensor<i64>>
  tape.return %mid : tensor<f32>
}

// Host code passes the state to the step and reads what it left.
// CHECK-LABEL: func.func @host
// CHECK-SAME: (%[[W:.*]]: tensor<f32>, %[[N:.*]]: tensor<i64>) -> (tensor<f32>, tensor<i64>, tensor<f32>)
// CHECK: %[[C:.*]]:3 = call @step(%[[W]], %[[N]], %{{.*}})
// CHECK: %[[OUTW:.*]] = bufferization.materialize_in_destination %[[C]]#0 in %[[W]]
// CHECK: %[[OUTN:.*]] = bufferization.materialize_in_destination %[[C]]#1 in %[[N]]
// CHECK: return %[[OUTW]], %[[OUTN]], %[[OUTW]]
func.func @host() -> tensor<f32> {
  %d = arith.constant dense<0.5> : tensor<f32>
  %r = tape.call @step(%d) : (tensor<f32>) -> tensor<f32>
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %v = tape.read %w : !tape.resource<tensor<f32>>
  return %v : tensor<f32>
}

// -----

// Assignments in a branch: the state is one more result of the scf.if;
// the branch without the assignment yields the state unchanged.
// CHECK-LABEL: func.func @in_branch
// CHECK-SAME: (%[[W:.*]]: tensor<f32>, %[[D:.*]]: tensor<f32>, %[[C:.*]]: i1)
// CHECK: %[[R:.*]] = scf.if %[[C]] -> (tensor<f32>) {
// CHECK:   scf.yield %[[D]]
// CHECK: } else {
// CHECK:   scf.yield %[[W]]
// CHECK: bufferization.materialize_in_destination %[[R]] in %[[W]]
tape.variable @w : tensor<f32> = dense<1.0>
tape.step @in_branch(%d: tensor<f32>, %c: i1) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  scf.if %c {
    tape.assign %w, %d : !tape.resource<tensor<f32>>
  }
  tape.return
}

// -----

// Assignments in a loop: the loop carries a private copy of the state
// (one-shot bufferization cannot update an argument in place through a
// loop whose iterations yield new buffers); reads inside see the carried
// value.
// CHECK-LABEL: func.func @in_loop
// CHECK-SAME: (%[[W:.*]]: tensor<f32>, %[[D:.*]]: tensor<f32>)
// CHECK: %[[COPY:.*]] = bufferization.alloc_tensor() copy(%[[W]])
// CHECK: %[[R:.*]] = scf.for {{.*}} iter_args(%[[S:.*]] = %[[COPY]]) -> (tensor<f32>) {
// CHECK:   %[[N:.*]] = arith.addf %[[S]], %[[D]]
// CHECK:   scf.yield %[[N]]
// CHECK: bufferization.materialize_in_destination %[[R]] in %[[W]]
tape.variable @w : tensor<f32> = dense<1.0>
tape.step @in_loop(%d: tensor<f32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  scf.for %i = %c0 to %c3 step %c1 {
    tape.assign_add %w, %d : !tape.resource<tensor<f32>>
  }
  tape.return
}

// -----

// Elsewhere (here a linalg body), assignments are not supported.
tape.variable @w : tensor<f32> = dense<1.0>
tape.step @in_body(%d: tensor<2xf32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %e = tensor.empty() : tensor<2xf32>
  // expected-error @+1 {{'linalg.generic' op assigns variables inside this region, which convert-tape-to-func supports in scf.for, scf.if and scf.while only}}
  %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
      ins(%d : tensor<2xf32>) outs(%e : tensor<2xf32>) {
  ^bb0(%a: f32, %o: f32):
    %t = tensor.from_elements %a : tensor<f32>
    tape.assign %w, %t : !tape.resource<tensor<f32>>
    linalg.yield %a : f32
  } -> tensor<2xf32>
  tape.return
}
