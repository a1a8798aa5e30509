// RUN: tape-opt %s --tape-materialize-random --split-input-file | FileCheck %s
// The values themselves are checked bit for bit by
// test/Tools/tape-run/random.test.

// A step that draws gets a step-count variable, read at entry and
// incremented before the return; the draw is a generic with no inputs.
// CHECK: tape.variable @dropout__random_steps : tensor<i64> = #tape.zeros {trainable = false}
// CHECK-LABEL: tape.step @dropout
// CHECK: %[[H:.*]] = tape.handle @dropout__random_steps
// CHECK: %[[R:.*]] = tape.read %[[H]]
// CHECK: %[[S:.*]] = tensor.extract %[[R]][] : tensor<i64>
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: outs(%{{.*}} : tensor<4x8xf32>)
// CHECK: linalg.index 0
// CHECK: linalg.index 1
// CHECK: arith.uitofp
// CHECK: %[[H2:.*]] = tape.handle @dropout__random_steps
// CHECK: tape.assign_add %[[H2]]
// CHECK-NEXT: tape.return
tape.step @dropout(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %u = tape.random_uniform {seed = 3 : i64} : tensor<4x8xf32>
  %p = arith.constant dense<0.5> : tensor<4x8xf32>
  %keep = arith.cmpf oge, %u, %p : tensor<4x8xf32>
  %z = arith.constant dense<0.0> : tensor<4x8xf32>
  %y = arith.select %keep, %x, %z : tensor<4x8xi1>, tensor<4x8xf32>
  tape.return %y : tensor<4x8xf32>
}

// -----

// An offset moves the draw along the counter: the element's index plus
// the offset keys Philox (tape-data-parallel gives each process its block).
// CHECK-LABEL: tape.step @offset
// CHECK-SAME: (%[[OFF:.*]]: i64)
// CHECK: linalg.generic
// CHECK: %[[I:.*]] = arith.addi %{{.*}}, %{{.*}} : i64
// CHECK: arith.addi %[[I]], %[[OFF]] : i64
tape.step @offset(%o: i64) -> tensor<8xf32> {
  %u = tape.random_uniform offset %o {seed = 3 : i64} : tensor<8xf32>
  tape.return %u : tensor<8xf32>
}

// -----

// A step without draws is left alone; a clashing name is renamed.
// CHECK: tape.variable @s__random_steps : tensor<f32>
// CHECK: tape.variable @s__random_steps_0 : tensor<i64>
// CHECK-LABEL: tape.step @s
// CHECK: tape.handle @s__random_steps_0
// CHECK-LABEL: tape.step @plain
// CHECK-NOT: random_steps
tape.variable @s__random_steps : tensor<f32> = #tape.zeros
tape.step @s() -> tensor<2xf64> {
  %u = tape.random_uniform {seed = 3 : i64} : tensor<2xf64>
  tape.return %u : tensor<2xf64>
}
tape.step @plain() {
  tape.return
}

