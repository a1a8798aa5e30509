// RUN: tape-opt %s --tape-materialize-optimizers --split-input-file | FileCheck %s

// SGD: w <- w - lr * g, the update #tape.sgd builds
// (OptimizerAttrInterface::buildUpdate).
// CHECK-LABEL: tape.step @sgd
// CHECK-SAME: (%[[G:.*]]: tensor<3xf32>)
// CHECK: %[[W:.*]] = tape.handle @w
// CHECK: %[[WV:.*]] = tape.read %[[W]]
// CHECK: %[[LR:.*]] = arith.constant dense<5.000000e-02> : tensor<3xf32>
// CHECK: %[[D:.*]] = arith.mulf %[[LR]], %[[G]]
// CHECK: %[[NEW:.*]] = arith.subf %[[WV]], %[[D]]
// CHECK: tape.assign %[[W]], %[[NEW]]
// CHECK-NOT: tape.apply_gradients
tape.variable @w : tensor<3xf32> = #tape.zeros
tape.step @sgd(%g: tensor<3xf32>) {
  %w = tape.handle @w : !tape.resource<tensor<3xf32>>
  tape.apply_gradients #tape.sgd<learning_rate = 0.05> (%g : tensor<3xf32>) to (%w : !tape.resource<tensor<3xf32>>)
  tape.return
}

// -----

// Momentum: a slot variable after the variable, v = m*v - lr*g, w += v.
// CHECK: tape.variable @w : tensor<3xf32>
// CHECK-NEXT: tape.variable @w__momentum : tensor<3xf32> = #tape.zeros {trainable = false}
// CHECK-LABEL: tape.step @momentum
// CHECK: %[[V:.*]] = tape.handle @w__momentum
// CHECK: %[[VV:.*]] = tape.read %[[V]]
// CHECK: %[[WV:.*]] = tape.read %[[W:.*]] :
// CHECK: %[[NEW:.*]] = arith.subf
// CHECK: %[[WNEW:.*]] = arith.addf %[[WV]], %[[NEW]]
// CHECK: tape.assign %[[V]], %[[NEW]]
// CHECK: tape.assign %[[W]], %[[WNEW]]
tape.variable @w : tensor<3xf32> = #tape.zeros
tape.step @momentum(%g: tensor<3xf32>) {
  %w = tape.handle @w : !tape.resource<tensor<3xf32>>
  tape.apply_gradients #tape.momentum<learning_rate = 0.05, momentum = 0.9> (%g : tensor<3xf32>) to (%w : !tape.resource<tensor<3xf32>>)
  tape.return
}

// -----

// Adam: m, v and an i64 step count per variable.
// CHECK: tape.variable @w : tensor<3xf32>
// CHECK-NEXT: tape.variable @w__adam_m : tensor<3xf32> = #tape.zeros {trainable = false}
// CHECK-NEXT: tape.variable @w__adam_v : tensor<3xf32> = #tape.zeros {trainable = false}
// CHECK-NEXT: tape.variable @w__adam_step : tensor<i64> = #tape.zeros {trainable = false}
// CHECK-LABEL: tape.step @adam
// CHECK: %[[IT:.*]] = tape.handle @w__adam_step
// CHECK: math.powf
// CHECK: math.powf
// CHECK: math.sqrt
// CHECK: linalg.fill
// CHECK: tape.assign %{{.*}}, %{{.*}} : !tape.resource<tensor<3xf32>>
// CHECK: tape.assign %{{.*}}, %{{.*}} : !tape.resource<tensor<3xf32>>
// CHECK: tape.assign %{{.*}}, %{{.*}} : !tape.resource<tensor<3xf32>>
// CHECK: tape.assign_add %[[IT]]
tape.variable @w : tensor<3xf32> = #tape.zeros
tape.step @adam(%g: tensor<3xf32>) {
  %w = tape.handle @w : !tape.resource<tensor<3xf32>>
  tape.apply_gradients #tape.adam<learning_rate = 0.001> (%g : tensor<3xf32>) to (%w : !tape.resource<tensor<3xf32>>)
  tape.return
}

// -----

// AdamW (PyTorch's form): its own slots and step count; the bias
// corrections in f64, rounded once to f32; decoupled decay of w. Each
// variable has its own step count.
// CHECK: tape.variable @w__adamw_m : tensor<3xf32> = #tape.zeros {trainable = false}
// CHECK-NEXT: tape.variable @w__adamw_v : tensor<3xf32> = #tape.zeros {trainable = false}
// CHECK-NEXT: tape.variable @w__adamw_step : tensor<i64> = #tape.zeros {trainable = false}
// CHECK: tape.variable @b__adamw_m
// CHECK: tape.variable @b__adamw_step : tensor<i64>
// CHECK-LABEL: tape.step @adamw
// CHECK: math.powf %{{.*}}, %{{.*}} : f64
// CHECK: math.powf %{{.*}}, %{{.*}} : f64
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: %[[DECAY:.*]] = arith.constant dense<0.999899983> : tensor<3xf32>
// CHECK: arith.mulf %{{.*}}, %[[DECAY]] : tensor<3xf32>
// CHECK: tape.assign_add
tape.variable @w : tensor<3xf32> = #tape.zeros
tape.variable @b : tensor<3xf32> = #tape.zeros
tape.step @adamw(%g: tensor<3xf32>, %gb: tensor<3xf32>) {
  %w = tape.handle @w : !tape.resource<tensor<3xf32>>
  %b = tape.handle @b : !tape.resource<tensor<3xf32>>
  tape.apply_gradients #tape.adamw<learning_rate = 0.001, weight_decay = 0.1> (%g : tensor<3xf32>) to (%w : !tape.resource<tensor<3xf32>>)
  tape.apply_gradients #tape.adamw<learning_rate = 0.001, weight_decay = 0.0> (%gb : tensor<3xf32>) to (%b : !tape.resource<tensor<3xf32>>)
  tape.return
}

// -----

// Two Adam updates of one variable (two apply_gradients in a step) share
// the variable's slots and its step count, and each advances both; a user
// variable that happens to carry a slot's name is not taken for the slot.
// CHECK: tape.variable @w : tensor<3xf32>
// CHECK-NEXT: tape.variable @w__adam_m : tensor<3xf32> = #tape.zeros{{$}}
// CHECK-NEXT: tape.variable @w__adam_m_0 : tensor<3xf32> = #tape.zeros {trainable = false}
// CHECK-NEXT: tape.variable @w__adam_v : tensor<3xf32> = #tape.zeros {trainable = false}
// CHECK-NEXT: tape.variable @w__adam_step : tensor<i64> = #tape.zeros {trainable = false}
// CHECK-NOT: tape.variable
// CHECK-LABEL: tape.step @twice
// CHECK-COUNT-2: tape.assign_add %{{.*}} : !tape.resource<tensor<i64>>
// CHECK-NOT: tape.assign_add
tape.variable @w : tensor<3xf32> = #tape.zeros
tape.variable @w__adam_m : tensor<3xf32> = #tape.zeros
tape.step @twice(%g: tensor<3xf32>) {
  %w = tape.handle @w : !tape.resource<tensor<3xf32>>
  tape.apply_gradients #tape.adam<learning_rate = 0.05> (%g : tensor<3xf32>) to (%w : !tape.resource<tensor<3xf32>>)
  tape.apply_gradients #tape.adam<learning_rate = 0.05> (%g : tensor<3xf32>) to (%w : !tape.resource<tensor<3xf32>>)
  tape.return
}
