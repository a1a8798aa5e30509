// One case per verifier rule of the tape dialect.
// RUN: tape-opt %s -split-input-file -verify-diagnostics --allow-unregistered-dialect

// expected-error @+1 {{'tape.variable' op attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of integers or floats}}
tape.variable @w : tensor<?xf32> = #tape.zeros

// -----

// expected-error @+1 {{variable value type must have a static shape, got 'tensor<?xf32>'}}
func.func private @f(!tape.resource<tensor<?xf32>>)

// -----

// expected-error @+1 {{initial value of type 'tensor<3xf32>' does not match the variable type 'tensor<2xf32>'}}
"tape.variable"() <{sym_name = "w", type = tensor<2xf32>, initial_value = dense<1.0> : tensor<3xf32>, trainable = true}> : () -> ()

// -----

// expected-error @+1 {{#tape.random_normal needs a float element type, got 'i32'}}
tape.variable @w : tensor<2xi32> = #tape.random_normal<seed = 1> {trainable = false}

// -----

// expected-error @+1 {{trainable variable @count must have a float element type, got 'i64'}}
tape.variable @count : tensor<i64> = #tape.zeros

// -----

// expected-error @+1 {{'tape.variable' op attribute 'initial_value' failed to satisfy constraint: dense elements or an initializer attribute}}
"tape.variable"() <{sym_name = "w", type = tensor<f32>, initial_value = 1.0 : f32, trainable = true}> : () -> ()

// -----

tape.step @s() {
  // expected-error @+1 {{declares variable @w inside 'tape.step': a variable is state that must outlive one call; declare it at module scope and refer to it with tape.handle}}
  tape.variable @w : tensor<f32> = dense<1.0>
  tape.return
}

// -----

// expected-error @+1 {{stddev must be >= 0, got -1}}
tape.variable @w : tensor<2xf32> = #tape.random_normal<stddev = -1.0, seed = 1>

// -----

// expected-error @+1 {{missing required parameter 'seed'}}
tape.variable @w : tensor<2xf32> = #tape.random_normal<stddev = 1.0>

// -----

// expected-error @+1 {{unknown parameter 'sigma'; expected one of: 'mean' 'stddev' 'seed'}}
tape.variable @w : tensor<2xf32> = #tape.random_normal<sigma = 1.0, seed = 1>

// -----

// expected-error @+1 {{parameter 'seed' is given twice}}
tape.variable @w : tensor<2xf32> = #tape.random_normal<seed = 1, seed = 2>

// -----

tape.step @s(%r: !tape.resource<tensor<f32>>) {
  // expected-error @+1 {{learning_rate must be >= 0, got -1.000000e-01}}
  "test.op"() {opt = #tape.sgd<learning_rate = -0.1>} : () -> ()
  tape.return
}

// -----

tape.step @s() {
  // expected-error @+1 {{momentum must be in [0, 1], got 1.5}}
  "test.op"() {opt = #tape.momentum<learning_rate = 0.1, momentum = 1.5>} : () -> ()
  tape.return
}

// -----

tape.step @s() {
  // expected-error @+1 {{parameter 'nesterov' expects 'true' or 'false'}}
  "test.op"() {opt = #tape.momentum<learning_rate = 0.1, momentum = 0.5, nesterov = maybe>} : () -> ()
  tape.return
}

// -----

tape.step @s() {
  // expected-error @+1 {{beta1 must be in [0, 1), got 1}}
  "test.op"() {opt = #tape.adam<beta1 = 1.0>} : () -> ()
  tape.return
}

// -----

tape.step @s() {
  // expected-error @+1 {{epsilon must be > 0, got 0}}
  "test.op"() {opt = #tape.adam<epsilon = 0.0>} : () -> ()
  tape.return
}

// -----

tape.step @s() {
  // expected-error @+1 {{weight_decay must be >= 0, got -1}}
  "test.op"() {opt = #tape.adamw<weight_decay = -1.0>} : () -> ()
  tape.return
}

// -----

tape.step @s() {
  // expected-error @+1 {{beta2 must be in [0, 1), got 1.5}}
  "test.op"() {opt = #tape.adamw<beta2 = 1.5>} : () -> ()
  tape.return
}

// -----

tape.step @s() {
  // expected-error @+1 {{'tape.handle' op refers to unknown variable @nope}}
  %w = tape.handle @nope : !tape.resource<tensor<f32>>
  tape.return
}

// -----

// expected-note @+1 {{symbol defined here}}
func.func private @f()
tape.step @s() {
  // expected-error @+1 {{'tape.handle' op refers to @f, which is a 'func.func', not a tape.variable}}
  %w = tape.handle @f : !tape.resource<tensor<f32>>
  tape.return
}

// -----

// expected-note @+1 {{variable declared here}}
tape.variable @w : tensor<2xf32> = #tape.zeros
tape.step @s() {
  // expected-error @+1 {{'tape.handle' op handle of type '!tape.resource<tensor<f32>>' does not match variable @w of type 'tensor<2xf32>'}}
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  tape.return
}

// -----

// expected-error @+1 {{variable element type must be an integer or float, got 'complex<f32>'}}
func.func private @f(!tape.resource<tensor<complex<f32>>>)

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>) {
  // expected-error @+1 {{'tape.read' op failed to verify that result type is the resource's value type}}
  %v = "tape.read"(%w) : (!tape.resource<tensor<f32>>) -> tensor<2xf32>
  tape.return
}

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>, %v: tensor<2xf32>) {
  // expected-error @+1 {{'tape.assign' op failed to verify that value type is the resource's value type}}
  "tape.assign"(%w, %v) : (!tape.resource<tensor<f32>>, tensor<2xf32>) -> ()
  tape.return
}

// -----

// expected-note @+1 {{prior use here}}
tape.step @s(%w: !tape.resource<tensor<f32>>, %v: tensor<2xf32>) {
  // expected-error @+1 {{use of value '%v' expects different type than prior uses: 'tensor<f32>' vs 'tensor<2xf32>'}}
  tape.assign_sub %w, %v : !tape.resource<tensor<f32>>
  tape.return
}

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>) {
  // expected-error @+1 {{'tape.record' op tape is asked for gradients 2 times but is not persistent; mark it 'tape.record persistent' to ask more than once}}
  %t, %l = tape.record {
    %v = tape.read %w : !tape.resource<tensor<f32>>
    tape.yield %v : tensor<f32>
  } : tensor<f32>
  %g1 = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  %g2 = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return
}

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>) {
  %t, %l = tape.record {
    %v = tape.read %w : !tape.resource<tensor<f32>>
    // expected-error @+1 {{'tape.yield' op yields 1 values of types 'tensor<f32>' but the enclosing tape.record has targets of types 'tensor<2xf32>'}}
    tape.yield %v : tensor<f32>
  } : tensor<2xf32>
  tape.return
}

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>) {
  // expected-error @+1 {{'tape.record' op region must end with tape.yield}}
  %t = "tape.record"() ({
    "test.op"() : () -> ()
  }) : () -> (!tape.tape)
  tape.return
}

// -----

tape.step @s(%x: tensor<f32>) {
  // expected-error @+1 {{'tape.watch' op must be inside a tape.record region}}
  tape.watch %x : tensor<f32>
  tape.return
}

// -----

tape.step @s(%x: tensor<f32>) {
  %t, %l = tape.record {
    %y = math.exp %x : tensor<f32>
    // expected-error @+1 {{'tape.watch' op watches a value defined inside the recording region; watch a tensor defined before the tape.record}}
    tape.watch %y : tensor<f32>
    tape.yield %y : tensor<f32>
  } : tensor<f32>
  tape.return
}

// -----

tape.step @s(%x: tensor<f32>, %w: !tape.resource<tensor<f32>>) {
  %t = "test.make_tape"() : () -> !tape.tape
  // expected-error @+1 {{'tape.gradient' op tape operand must be produced by tape.record}}
  %g = tape.gradient %t (%x : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return
}

// -----

tape.step @s(%x: tensor<f32>, %w: !tape.resource<tensor<f32>>) {
  // expected-note @+1 {{tape recorded here}}
  %t, %l = tape.record {
    %v = tape.read %w : !tape.resource<tensor<f32>>
    tape.yield %v : tensor<f32>
  } : tensor<f32>
  // expected-error @+1 {{'tape.gradient' op target #0 is not a result of the tape.record that produced the tape}}
  %g = tape.gradient %t (%x : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return
}

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>) {
  %t, %l = tape.record {
    %v = tape.read %w : !tape.resource<tensor<f32>>
    tape.yield %v : tensor<f32>
  } : tensor<f32>
  // expected-error @+1 {{'tape.gradient' op needs at least one source}}
  "tape.gradient"(%t, %l) <{operandSegmentSizes = array<i32: 1, 1, 0>}> : (!tape.tape, tensor<f32>) -> ()
  tape.return
}

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>) {
  %t, %l = tape.record {
    %v = tape.read %w : !tape.resource<tensor<f32>>
    tape.yield %v : tensor<f32>
  } : tensor<f32>
  // expected-error @+1 {{'tape.gradient' op needs at least one target}}
  "tape.gradient"(%t, %w) <{operandSegmentSizes = array<i32: 1, 0, 1>}> : (!tape.tape, !tape.resource<tensor<f32>>) -> (tensor<f32>)
  tape.return
}

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>, %n: !tape.resource<tensor<i32>>) {
  %t, %l = tape.record {
    %v = tape.read %w : !tape.resource<tensor<f32>>
    tape.yield %v : tensor<f32>
  } : tensor<f32>
  // expected-error @+1 {{'tape.gradient' op source #0 is a variable of type 'tensor<i32>'; gradients exist only for float variables}}
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%n : !tape.resource<tensor<i32>>)
  tape.return
}

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>, %x: tensor<f32>) {
  // expected-note @+1 {{tape recorded here}}
  %t, %l = tape.record {
    %v = tape.read %w : !tape.resource<tensor<f32>>
    %y = arith.mulf %v, %x : tensor<f32>
    tape.yield %y : tensor<f32>
  } : tensor<f32>
  // expected-error @+1 {{'tape.gradient' op source #0 is a tensor that the tape does not watch; add 'tape.watch' for it inside the recording region}}
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%x : tensor<f32>)
  tape.return
}

// -----

tape.step @s(%w: !tape.resource<tensor<f32>>, %i: tensor<i32>) {
  %t, %l = tape.record {
    %v = tape.read %w : !tape.resource<tensor<f32>>
    tape.yield %v : tensor<f32>
  } : tensor<f32>
  // expected-error @+1 {{'tape.gradient' op source #0 must be a resource or a float tensor, got 'tensor<i32>'}}
  %g = "tape.gradient"(%t, %l, %i) <{operandSegmentSizes = array<i32: 1, 1, 1>}> : (!tape.tape, tensor<f32>, tensor<i32>) -> (tensor<f32>)
  tape.return
}

// -----

// expected-error @+1 {{'tape.step' op @s has no body: a step is compiled from its body and cannot be external}}
tape.step private @s()

// -----

// expected-error @+1 {{'tape.step' op a gradient tape cannot cross a step boundary}}
tape.step @s(%t: !tape.tape) {
  tape.return
}

// -----

tape.step @s(%x: tensor<f32>) -> tensor<f32> {
  // expected-error @+1 {{'tape.return' op returns 0 values but step @s declares 1 results}}
  tape.return
}

// -----

tape.step @s(%x: tensor<2xf32>) -> tensor<f32> {
  // expected-error @+1 {{'tape.return' op result #0 has type 'tensor<2xf32>' but step @s declares 'tensor<f32>'}}
  tape.return %x : tensor<2xf32>
}

// -----

func.func @host() {
  // expected-error @+1 {{'tape.call' op calls unknown step @nope}}
  tape.call @nope() : () -> ()
  return
}

// -----

// expected-note @+1 {{symbol defined here}}
func.func private @f()
func.func @host() {
  // expected-error @+1 {{'tape.call' op calls @f, which is a 'func.func', not a tape.step; use func.call for host functions}}
  tape.call @f() : () -> ()
  return
}

// -----

// expected-note @+1 {{step defined here}}
tape.step @s(%x: tensor<f32>) {
  tape.return
}
func.func @host(%x: tensor<2xf32>) {
  // expected-error @+1 {{'tape.call' op call type '(tensor<2xf32>) -> ()' does not match the type of step @s: '(tensor<f32>) -> ()'}}
  tape.call @s(%x) : (tensor<2xf32>) -> ()
  return
}

// -----

tape.step @s(%g: tensor<2xf32>, %w: !tape.resource<tensor<f32>>) {
  // expected-error @+1 {{'tape.apply_gradients' op gradient #0 has type 'tensor<2xf32>' but variable #0 has type 'tensor<f32>'}}
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g : tensor<2xf32>) to (%w : !tape.resource<tensor<f32>>)
  tape.return
}


// -----

tape.step @s(%g: tensor<f32>, %w: !tape.resource<tensor<f32>>) {
  // expected-error @+1 {{Invalid attribute `optimizer` in property conversion}}
  "tape.apply_gradients"(%g, %w) <{optimizer = 1.0 : f32, operandSegmentSizes = array<i32: 1, 1, 0>}> : (tensor<f32>, !tape.resource<tensor<f32>>) -> ()
  tape.return
}

// -----

func.func @f() -> tensor<4xf32> {
  // expected-error @+1 {{'tape.random_uniform' op must be inside a tape.step: its values are keyed by the step count}}
  %u = tape.random_uniform {seed = 1 : i64} : tensor<4xf32>
  return %u : tensor<4xf32>
}

// -----

tape.step @s() -> tensor<?xf32> {
  // expected-error @+1 {{'tape.random_uniform' op needs a statically shaped result, got 'tensor<?xf32>'}}
  %u = tape.random_uniform {seed = 1 : i64} : tensor<?xf32>
  tape.return %u : tensor<?xf32>
}

// -----

tape.step @s() -> tensor<4xbf16> {
  // expected-error @+1 {{'tape.random_uniform' op draws f32 or f64 values, not 'bf16'}}
  %u = tape.random_uniform {seed = 1 : i64} : tensor<4xbf16>
  tape.return %u : tensor<4xbf16>
}

// -----

tape.step @s(%g: tensor<f32>, %w: !tape.resource<tensor<f32>>) {
  // expected-error @+1 {{rho must be in [0, 1), got 1}}
  tape.apply_gradients #tape.adadelta<rho = 1.0> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  tape.return
}

// -----

tape.step @s(%a: tensor<4xf32>, %b: tensor<4xf64>) {
  // expected-error @+1 {{'tape.clip_by_global_norm' op gradient #1 has element type 'f64' but gradient #0 has 'f32'; the global norm is computed in one type}}
  %c:3 = tape.clip_by_global_norm %a, %b {max_norm = 1.0 : f64} : tensor<4xf32>, tensor<4xf64>
  tape.return
}

// -----

tape.step @s(%a: tensor<4xf32>) {
  // expected-error @+1 {{'tape.clip_by_global_norm' op max_norm must be finite and > 0, got 0}}
  %c:2 = tape.clip_by_global_norm %a {max_norm = 0.0 : f64} : tensor<4xf32>
  tape.return
}

// -----

tape.step @s() {
  // expected-error @+1 {{'tape.clip_by_global_norm' op needs at least one gradient}}
  %n = "tape.clip_by_global_norm"() {max_norm = 1.0 : f64} : () -> tensor<f32>
  tape.return
}

// -----

tape.step @s(%g: tensor<f32>, %w: !tape.resource<tensor<f32>>, %lr: tensor<2xf32>) {
  // expected-error @+1 {{'tape.apply_gradients' op learning_rate must be a rank-0 tensor, got 'tensor<2xf32>'}}
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>) learning_rate(%lr : tensor<2xf32>)
  tape.return
}

// -----

tape.step @s(%g: tensor<f32>, %w: !tape.resource<tensor<f32>>, %lr: tensor<f64>) {
  // expected-error @+1 {{'tape.apply_gradients' op learning_rate has element type 'f64' but gradient #0 has 'f32'}}
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>) learning_rate(%lr : tensor<f64>)
  tape.return
}

// -----

// A variable whose type is not a tensor (only the generic form can say
// so): a located error, not a crash (the constraint checked the shape
// before the kind of type).
// expected-error @+1 {{attribute 'type' failed to satisfy constraint: type attribute of statically shaped tensor of integers or floats}}
"tape.variable"() {sym_name = "w", type = f32, initial_value = #tape.zeros} : () -> ()

// -----

// A variable declared {trainable = false} is never differentiated, whether
// or not the pipeline runs with `strict`.
// expected-note @+1 {{declared {trainable = false} here}}
tape.variable @counter : tensor<f32> = #tape.zeros {trainable = false}
tape.step @s() -> tensor<f32> {
  %w = tape.handle @counter : !tape.resource<tensor<f32>>
  %t, %l = tape.record {
    %v = tape.read %w : !tape.resource<tensor<f32>>
    %sq = arith.mulf %v, %v : tensor<f32>
    tape.yield %sq : tensor<f32>
  } : tensor<f32>
  // expected-error @+1 {{'tape.gradient' op source #0 is variable @counter, which is not trainable; take the gradient of a tensor read from it and watched (tape.watch), or drop {trainable = false}}}
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %g : tensor<f32>
}

// -----

// ... nor updated by an optimizer.
// expected-note @+1 {{declared {trainable = false} here}}
tape.variable @counter : tensor<f32> = #tape.zeros {trainable = false}
tape.step @s(%g: tensor<f32>) {
  %w = tape.handle @counter : !tape.resource<tensor<f32>>
  // expected-error @+1 {{'tape.apply_gradients' op variable #0 is @counter, which is not trainable: an optimizer updates only trainable variables; update it with tape.assign, or drop {trainable = false}}}
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  tape.return
}

// -----

// Hyper-parameters are written in f64 and used in the variable's type: one
// that is finite in f64 but not in f32 is refused ...
tape.step @s(%g: tensor<f32>, %w: !tape.resource<tensor<f32>>) {
  // expected-error @+1 {{'tape.apply_gradients' op learning_rate = 1.000000e+39 is not finite in 'f32', the element type of variable #0}}
  tape.apply_gradients #tape.sgd<learning_rate = 1.0e39> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  tape.return
}

// -----

// ... and so is one that rounds to zero there.
tape.step @s(%g: tensor<f16>, %w: !tape.resource<tensor<f16>>) {
  // expected-error @+1 {{'tape.apply_gradients' op epsilon = 1.000000e-08 is zero in 'f16', the element type of variable #0}}
  tape.apply_gradients #tape.adam<learning_rate = 0.001, epsilon = 1.0e-8> (%g : tensor<f16>) to (%w : !tape.resource<tensor<f16>>)
  tape.return
}

// -----

// `tape.name` is a non-empty string ...
// expected-error @+1 {{'tape.step' op has a 'tape.name' argument attribute that is not a non-empty string: 3 : i64}}
tape.step @s(%x: tensor<f32> {tape.name = 3}) {
  tape.return
}

// -----

// expected-error @+1 {{'func.func' op has a 'tape.name' result attribute that is not a non-empty string: ""}}
func.func @f(%x: tensor<f32>) -> (tensor<f32> {tape.name = ""}) {
  return %x : tensor<f32>
}

// -----

// ... and the only tape attribute an argument or a result takes.
// expected-error @+1 {{'func.func' op has an unknown argument attribute 'tape.weight'; the tape dialect defines only 'tape.name' there}}
func.func @f(%x: tensor<f32> {tape.weight}) {
  return
}
