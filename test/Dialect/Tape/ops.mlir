// Every tape op, type and attribute round-trips: custom form, generic form,
// and print -> parse -> print is a fixed point.
// RUN: tape-opt %s | FileCheck %s
// RUN: tape-opt %s --mlir-print-op-generic | tape-opt | FileCheck %s
// RUN: tape-opt %s > %t.1 && tape-opt %t.1 > %t.2 && diff %t.1 %t.2
// RUN: tape-opt %s --mlir-print-op-generic > %t.g1 && tape-opt %t.g1 --mlir-print-op-generic > %t.g2 && diff %t.g1 %t.g2

// CHECK: tape.variable @w : tensor<f32> = dense<1.000000e+00>
tape.variable @w : tensor<f32> = dense<1.0>
// CHECK: tape.variable @v : tensor<2xf64> = dense<[1.000000e+00, 2.000000e+00]>
tape.variable @v : tensor<2xf64> = dense<[1.0, 2.0]>
// CHECK: tape.variable @z : tensor<4x3xf32> = #tape.zeros
tape.variable @z : tensor<4x3xf32> = #tape.zeros
// CHECK: tape.variable @r : tensor<8xf32> = #tape.random_normal<mean = 1.000000e+00, stddev = 5.000000e-01, seed = 42>
tape.variable @r : tensor<8xf32> = #tape.random_normal<mean = 1.0, stddev = 0.5, seed = 42>
// CHECK: tape.variable @r0 : tensor<8xf32> = #tape.random_normal<mean = 0.000000e+00, stddev = 1.000000e+00, seed = 3>
tape.variable @r0 : tensor<8xf32> = #tape.random_normal<seed = 3>
// CHECK: tape.variable private @step : tensor<i64> = #tape.zeros {trainable = false}
tape.variable private @step : tensor<i64> = #tape.zeros {trainable = false}
// CHECK: tape.variable @frozen : tensor<3xf32> = dense<2.000000e+00> {trainable = false}
tape.variable @frozen : tensor<3xf32> = dense<2.0> {trainable = false}

// CHECK-LABEL: tape.step @resources
tape.step @resources(%x: tensor<f32>) -> tensor<f32> {
  // CHECK: %[[W:.*]] = tape.handle @w : !tape.resource<tensor<f32>>
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  // CHECK: %[[V:.*]] = tape.read %[[W]] : !tape.resource<tensor<f32>>
  %v = tape.read %w : !tape.resource<tensor<f32>>
  // CHECK: tape.assign %[[W]], %[[V]] : !tape.resource<tensor<f32>>
  tape.assign %w, %v : !tape.resource<tensor<f32>>
  // CHECK: tape.assign_add %[[W]], %{{.*}} : !tape.resource<tensor<f32>>
  tape.assign_add %w, %x : !tape.resource<tensor<f32>>
  // CHECK: tape.assign_sub %[[W]], %{{.*}} : !tape.resource<tensor<f32>>
  tape.assign_sub %w, %x : !tape.resource<tensor<f32>>
  // CHECK: tape.return %[[V]] : tensor<f32>
  tape.return %v : tensor<f32>
}

// CHECK-LABEL: tape.step @tapes
tape.step @tapes(%x: tensor<2xf64>) -> (tensor<f32>, tensor<2xf64>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  // CHECK: %[[T:.*]], %[[L:.*]]:2 = tape.record persistent {
  %t, %l:2 = tape.record persistent {
    // CHECK: tape.watch %{{.*}} : tensor<2xf64>
    tape.watch %x : tensor<2xf64>
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    // CHECK: tape.stop_gradient %{{.*}} : tensor<f32>
    %c = tape.stop_gradient %wv : tensor<f32>
    %sq = arith.mulf %wv, %c : tensor<f32>
    %e = math.exp %x : tensor<2xf64>
    // CHECK: tape.yield %{{.*}}, %{{.*}} : tensor<f32>, tensor<2xf64>
    tape.yield %sq, %e : tensor<f32>, tensor<2xf64>
  } : tensor<f32>, tensor<2xf64>
  // CHECK: tape.gradient %[[T]] (%[[L]]#0 : tensor<f32>) wrt (%{{.*}} : !tape.resource<tensor<f32>>)
  %gw = tape.gradient %t (%l#0 : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  // CHECK: tape.gradient %[[T]] (%[[L]]#0, %[[L]]#1 : tensor<f32>, tensor<2xf64>) wrt (%{{.*}}, %{{.*}} : !tape.resource<tensor<f32>>, tensor<2xf64>)
  %g:2 = tape.gradient %t (%l#0, %l#1 : tensor<f32>, tensor<2xf64>) wrt (%w, %x : !tape.resource<tensor<f32>>, tensor<2xf64>)
  tape.return %gw, %g#1 : tensor<f32>, tensor<2xf64>
}

// CHECK-LABEL: tape.step @optimizers
tape.step @optimizers(%g: tensor<f32>, %gz: tensor<4x3xf32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %z = tape.handle @z : !tape.resource<tensor<4x3xf32>>
  // CHECK: tape.apply_gradients #tape.sgd<learning_rate = 1.000000e-02> (%{{.*}} : tensor<f32>) to (%{{.*}} : !tape.resource<tensor<f32>>)
  tape.apply_gradients #tape.sgd<learning_rate = 0.01> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  // CHECK: tape.apply_gradients #tape.momentum<learning_rate = 1.000000e-01, momentum = 9.000000e-01, nesterov = true>
  tape.apply_gradients #tape.momentum<learning_rate = 0.1, momentum = 0.9, nesterov = true> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  // CHECK: tape.apply_gradients #tape.momentum<learning_rate = 1.000000e-01, momentum = 0.000000e+00, nesterov = false>
  tape.apply_gradients #tape.momentum<learning_rate = 0.1, momentum = 0.0> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  // Keras' defaults fill what is not given; values print exactly.
  // CHECK: tape.apply_gradients #tape.adam<learning_rate = 1.000000e-03, beta1 = 9.000000e-01, beta2 = 0.99899999999999999, epsilon = 9.9999999999999995E-8> (%{{.*}}, %{{.*}} : tensor<f32>, tensor<4x3xf32>)
  tape.apply_gradients #tape.adam<> (%g, %gz : tensor<f32>, tensor<4x3xf32>) to (%w, %z : !tape.resource<tensor<f32>>, !tape.resource<tensor<4x3xf32>>)
  // CHECK: tape.apply_gradients #tape.adam<learning_rate = 2.000000e-03, beta1 = 8.000000e-01, beta2 = 0.98999999999999999, epsilon = 1.000000e-08>
  tape.apply_gradients #tape.adam<learning_rate = 2.0e-3, beta1 = 0.8, beta2 = 0.99, epsilon = 1.0e-8> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  // AdamW: PyTorch's defaults fill what is not given.
  // CHECK: tape.apply_gradients #tape.adamw<learning_rate = 1.000000e-03, beta1 = 9.000000e-01, beta2 = 0.99899999999999999, epsilon = 1.000000e-08, weight_decay = 1.000000e-02>
  tape.apply_gradients #tape.adamw<> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  // CHECK: tape.apply_gradients #tape.adamw<learning_rate = 3.000000e-04, beta1 = 9.000000e-01, beta2 = 0.94999999999999996, epsilon = 1.000000e-08, weight_decay = 0.000000e+00>
  tape.apply_gradients #tape.adamw<learning_rate = 3.0e-4, beta2 = 0.95, weight_decay = 0.0> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  // A learning rate that is a value.
  // CHECK: tape.apply_gradients #tape.adamw<{{.*}}> (%{{.*}} : tensor<f32>) to (%{{.*}} : !tape.resource<tensor<f32>>) learning_rate(%{{.*}} : tensor<f32>)
  %lr = arith.constant dense<3.0e-4> : tensor<f32>
  tape.apply_gradients #tape.adamw<weight_decay = 0.1> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>) learning_rate(%lr : tensor<f32>)
  // SGD prints its weight decay only when there is one.
  // CHECK: tape.apply_gradients #tape.sgd<learning_rate = 1.000000e-01, weight_decay = 5.000000e-04>
  tape.apply_gradients #tape.sgd<learning_rate = 0.1, weight_decay = 5.0e-4> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  // CHECK: tape.apply_gradients #tape.sgd<learning_rate = 1.000000e-01> (
  tape.apply_gradients #tape.sgd<learning_rate = 0.1, weight_decay = 0.0> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  // Adadelta: PyTorch's defaults fill what is not given.
  // CHECK: tape.apply_gradients #tape.adadelta<learning_rate = 1.000000e+00, rho = 9.000000e-01, epsilon = 9.9999999999999995E-7, weight_decay = 0.000000e+00>
  tape.apply_gradients #tape.adadelta<> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  // CHECK: tape.return
  tape.return
}

// CHECK-LABEL: tape.step @clip
tape.step @clip(%a: tensor<4x3xf32>, %b: tensor<3xf32>) -> (tensor<4x3xf32>, tensor<3xf32>, tensor<f32>) {
  // CHECK: %{{.*}}:2, %{{.*}} = tape.clip_by_global_norm %{{.*}}, %{{.*}} {max_norm = 1.000000e+00 : f64} : tensor<4x3xf32>, tensor<3xf32>
  %c:3 = tape.clip_by_global_norm %a, %b {max_norm = 1.0 : f64} : tensor<4x3xf32>, tensor<3xf32>
  tape.return %c#0, %c#1, %c#2 : tensor<4x3xf32>, tensor<3xf32>, tensor<f32>
}

// CHECK-LABEL: tape.step @draws
tape.step @draws(%o: i64) -> (tensor<4x3xf32>, tensor<2xf64>, tensor<2xf32>) {
  // CHECK: tape.random_uniform {seed = 7 : i64} : tensor<4x3xf32>
  %u = tape.random_uniform {seed = 7 : i64} : tensor<4x3xf32>
  // CHECK: tape.random_uniform {seed = -1 : i64} : tensor<2xf64>
  %v = tape.random_uniform {seed = -1 : i64} : tensor<2xf64>
  // CHECK: tape.random_uniform offset %{{.*}} {seed = 2 : i64} : tensor<2xf32>
  %w = tape.random_uniform offset %o {seed = 2 : i64} : tensor<2xf32>
  tape.return %u, %v, %w : tensor<4x3xf32>, tensor<2xf64>, tensor<2xf32>
}

// CHECK-LABEL: func.func @host
func.func @host(%x: tensor<f32>) -> tensor<f32> {
  // CHECK: tape.call @resources(%{{.*}}) : (tensor<f32>) -> tensor<f32>
  %r = tape.call @resources(%x) : (tensor<f32>) -> tensor<f32>
  return %r : tensor<f32>
}

// `tape.name` names an input or output of a step or a host function.
// CHECK-LABEL: tape.step @named
// CHECK-SAME: (%{{.*}}: tensor<f32> {tape.name = "x"}) -> (tensor<f32> {tape.name = "loss"})
tape.step @named(%x: tensor<f32> {tape.name = "x"}) -> (tensor<f32> {tape.name = "loss"}) {
  tape.return %x : tensor<f32>
}
// CHECK-LABEL: func.func @named_host
// CHECK-SAME: (%{{.*}}: tensor<f32> {tape.name = "in"}) -> (tensor<f32> {tape.name = "out"})
func.func @named_host(%x: tensor<f32> {tape.name = "in"}) -> (tensor<f32> {tape.name = "out"}) {
  return %x : tensor<f32>
}
