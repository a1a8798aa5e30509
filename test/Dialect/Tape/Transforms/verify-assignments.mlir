// RUN: tape-opt %s --tape-verify-assignments --split-input-file --verify-diagnostics --allow-unregistered-dialect

// The seed's first program verifies clean: both updates are in-graph.
tape.variable @weight : tensor<f32> = dense<1.0>
tape.variable @bias : tensor<f32> = dense<0.0>
tape.step @clean() -> tensor<f32> {
  %x = arith.constant dense<2.0> : tensor<f32>
  %y = arith.constant dense<3.0> : tensor<f32>
  %lr = arith.constant dense<0.01> : tensor<f32>
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %b = tape.handle @bias : !tape.resource<tensor<f32>>
  %t, %loss = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %bv = tape.read %b : !tape.resource<tensor<f32>>
    %xw = arith.mulf %x, %wv : tensor<f32>
    %p = arith.addf %xw, %bv : tensor<f32>
    %e = arith.subf %p, %y : tensor<f32>
    %l = arith.mulf %e, %e : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  %g:2 = tape.gradient %t (%loss : tensor<f32>) wrt (%w, %b : !tape.resource<tensor<f32>>, !tape.resource<tensor<f32>>)
  %dw = arith.mulf %lr, %g#0 : tensor<f32>
  tape.assign_sub %w, %dw : !tape.resource<tensor<f32>>
  // Computing the new value and assigning it is fine too.
  %bv2 = tape.read %b : !tape.resource<tensor<f32>>
  %db = arith.mulf %lr, %g#1 : tensor<f32>
  %bn = arith.subf %bv2, %db : tensor<f32>
  tape.assign %b, %bn : !tape.resource<tensor<f32>>
  tape.return %loss : tensor<f32>
}

// -----

// Optimizer state computed from the variable and its gradient (Adadelta's
// slots with weight decay: g + wd * w feeds them) is assigned to the
// state, not to the variable: not a lost update.
tape.variable @weight : tensor<f32> = dense<1.0>
tape.variable @weight__slot : tensor<f32> = #tape.zeros {trainable = false}
tape.step @state_from_weight_and_gradient() -> tensor<f32> {
  %wd = arith.constant dense<0.1> : tensor<f32>
  %lr = arith.constant dense<0.01> : tensor<f32>
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %s = tape.handle @weight__slot : !tape.resource<tensor<f32>>
  %t, %loss = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %l = arith.mulf %wv, %wv : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%loss : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  %wv2 = tape.read %w : !tape.resource<tensor<f32>>
  %decay = arith.mulf %wv2, %wd : tensor<f32>
  %gd = arith.addf %g, %decay : tensor<f32>
  %sq = arith.mulf %gd, %gd : tensor<f32>
  tape.assign %s, %sq : !tape.resource<tensor<f32>>
  %step = arith.mulf %gd, %lr : tensor<f32>
  %wn = arith.subf %wv2, %step : tensor<f32>
  tape.assign %w, %wn : !tape.resource<tensor<f32>>
  tape.return %loss : tensor<f32>
}

// -----

// The seed's first program with the rebinding bug `w = w - lr * g`.
tape.variable @weight : tensor<f32> = dense<1.0>
tape.step @rebinding() -> tensor<f32> {
  %x = arith.constant dense<2.0> : tensor<f32>
  %lr = arith.constant dense<0.01> : tensor<f32>
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %t, %loss = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %l = arith.mulf %x, %wv : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  // expected-note @+1 {{fix: assign it back with 'tape.assign' to @weight, or apply the step with 'tape.assign_sub' or 'tape.apply_gradients'}}
  %g = tape.gradient %t (%loss : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  %wv = tape.read %w : !tape.resource<tensor<f32>>
  %step = arith.mulf %lr, %g : tensor<f32>
  // expected-error @+1 {{lost update: the updated value of @weight is computed here from the variable and its gradient but never assigned back, so @weight keeps its old value (the Python rebinding `w = w - lr * g`)}}
  %new = arith.subf %wv, %step : tensor<f32>
  tape.return %loss : tensor<f32>
}

// -----

// A lost update that is returned from the step instead of assigned.
tape.variable @weight : tensor<f32> = dense<1.0>
tape.step @returned() -> tensor<f32> {
  %lr = arith.constant dense<0.01> : tensor<f32>
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %t, %loss = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %l = arith.mulf %wv, %wv : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  // expected-note @+1 {{fix: assign it back}}
  %g = tape.gradient %t (%loss : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  %wv = tape.read %w : !tape.resource<tensor<f32>>
  %step = arith.mulf %lr, %g : tensor<f32>
  // expected-error @+1 {{lost update: the updated value of @weight}}
  %new = arith.subf %wv, %step : tensor<f32>
  // expected-note @+1 {{the value leaves here without being assigned}}
  tape.return %new : tensor<f32>
}

// -----

// The seed's third program: the update runs in host code.
tape.variable @weight : tensor<f32> = dense<1.0>
tape.step @train_step() -> (tensor<f32>, tensor<f32>) {
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %t, %loss = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %l = arith.mulf %wv, %wv : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  // expected-note @+1 {{fix: move the update into the step after this tape.gradient ('tape.assign_sub' or 'tape.apply_gradients') and stop returning the gradient}}
  %g = tape.gradient %t (%loss : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %loss, %g : tensor<f32>, tensor<f32>
}
func.func @host() -> tensor<f32> {
  %lr = arith.constant dense<0.01> : tensor<f32>
  // expected-note @+1 {{the gradient comes from this call}}
  %loss, %g = tape.call @train_step() : () -> (tensor<f32>, tensor<f32>)
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %d = arith.mulf %lr, %g : tensor<f32>
  // expected-warning @+1 {{host-side update: @weight is updated in host code from a gradient that step @train_step returns; this runs correctly (the next call reads the new value), but the update is not compiled with the step, not fused with it, and costs a round trip per step}}
  tape.assign_sub %w, %d : !tape.resource<tensor<f32>>
  return %loss : tensor<f32>
}

// -----

// Host code that only logs a returned gradient is fine.
tape.variable @weight : tensor<f32> = dense<1.0>
tape.step @train_step() -> tensor<f32> {
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %t, %loss = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %l = arith.mulf %wv, %wv : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%loss : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  tape.return %g : tensor<f32>
}
func.func @host() -> tensor<f32> {
  %g = tape.call @train_step() : () -> tensor<f32>
  return %g : tensor<f32>
}

// -----

// Read before the recording region: the tape sees a constant.
tape.variable @weight : tensor<f32> = dense<1.0>
tape.step @read_before(%x: tensor<f32>) {
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  // expected-note @+1 {{@weight is read here, before the recording region: the tape sees that value as a constant; fix: move the tape.read inside the tape.record}}
  %wv = tape.read %w : !tape.resource<tensor<f32>>
  %t, %loss = tape.record {
    %l = arith.mulf %x, %wv : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  // expected-warning @+1 {{disconnected gradient: source #0 (@weight) does not influence the targets, so its gradient is zero; no source receives a gradient (TensorFlow: "No gradients provided for any variable")}}
  %g = tape.gradient %t (%loss : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
  tape.return
}

// -----

// A variable that is never read; another one is connected.
tape.variable @weight : tensor<f32> = dense<1.0>
tape.variable @unused : tensor<f32> = dense<1.0>
tape.step @never_read(%x: tensor<f32>) {
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %u = tape.handle @unused : !tape.resource<tensor<f32>>
  // expected-note @+1 {{@unused is never read in this function}}
  %t, %loss = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %l = arith.mulf %x, %wv : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  // expected-warning @+1 {{disconnected gradient: source #1 (@unused) does not influence the targets, so its gradient is zero}}
  %g:2 = tape.gradient %t (%loss : tensor<f32>) wrt (%w, %u : !tape.resource<tensor<f32>>, !tape.resource<tensor<f32>>)
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g#0, %g#1 : tensor<f32>, tensor<f32>) to (%w, %u : !tape.resource<tensor<f32>>, !tape.resource<tensor<f32>>)
  tape.return
}

// -----

// Paths cut by a non-differentiable op, by stop_gradient and by a call to
// host code that returns no float (the `.numpy()` escape). (A call that
// returns floats is on the path: tape-differentiate inlines it, or fails
// when it has no body.)
tape.variable @a : tensor<f32> = dense<1.0>
tape.variable @b : tensor<f32> = dense<1.0>
tape.variable @c : tensor<f32> = dense<1.0>
func.func private @to_host(tensor<f32>) -> tensor<i32>
tape.step @cuts() -> tensor<f32> {
  %ha = tape.handle @a : !tape.resource<tensor<f32>>
  %hb = tape.handle @b : !tape.resource<tensor<f32>>
  %hc = tape.handle @c : !tape.resource<tensor<f32>>
  %t, %loss = tape.record {
    %av = tape.read %ha : !tape.resource<tensor<f32>>
    %bv = tape.read %hb : !tape.resource<tensor<f32>>
    %cv = tape.read %hc : !tape.resource<tensor<f32>>
    // expected-note @+1 {{the path goes through 'arith.fptosi', which is not differentiable (its result is not a float)}}
    %i = arith.fptosi %av : tensor<f32> to tensor<i32>
    %af = arith.sitofp %i : tensor<i32> to tensor<f32>
    // expected-note @+1 {{the path is cut here by tape.stop_gradient}}
    %bs = tape.stop_gradient %bv : tensor<f32>
    // expected-note @+1 {{the path leaves the differentiable code through this 'func.call' (like `.numpy()`): the tape cannot see through it}}
    %ch = func.call @to_host(%cv) : (tensor<f32>) -> tensor<i32>
    %chf = arith.sitofp %ch : tensor<i32> to tensor<f32>
    %s = arith.addf %af, %bs : tensor<f32>
    %l = arith.addf %s, %chf : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  // expected-warning @+3 {{disconnected gradient: source #0 (@a)}}
  // expected-warning @+2 {{disconnected gradient: source #1 (@b)}}
  // expected-warning @+1 {{disconnected gradient: source #2 (@c)}}
  %g:3 = tape.gradient %t (%loss : tensor<f32>) wrt (%ha, %hb, %hc : !tape.resource<tensor<f32>>, !tape.resource<tensor<f32>>, !tape.resource<tensor<f32>>)
  tape.return %loss : tensor<f32>
}

// -----

tape.step @not_a_variable(%v: tensor<f32>) {
  // expected-note @+1 {{fix: take the variable's handle with 'tape.handle @name'}}
  %r = "test.make_resource"() : () -> !tape.resource<tensor<f32>>
  // expected-error @+1 {{assigns to a resource that is not a variable: it comes from 'test.make_resource', not from tape.handle}}
  tape.assign %r, %v : !tape.resource<tensor<f32>>
  tape.return
}

// -----

tape.variable @v : tensor<f32> = dense<1.0>
tape.step @overwrite(%a: tensor<f32>, %b: tensor<f32>) {
  %h = tape.handle @v : !tape.resource<tensor<f32>>
  // expected-note @+1 {{the earlier assignment}}
  tape.assign %h, %a : !tape.resource<tensor<f32>>
  // expected-warning @+1 {{overwrites @v before anything reads the value assigned to it before: one of the two assignments is lost}}
  tape.assign %h, %b : !tape.resource<tensor<f32>>
  tape.return
}

// -----

// Assign, read, assign is fine; so are two in-place updates.
tape.variable @v : tensor<f32> = dense<1.0>
tape.step @ordered(%a: tensor<f32>, %b: tensor<f32>) -> tensor<f32> {
  %h = tape.handle @v : !tape.resource<tensor<f32>>
  tape.assign %h, %a : !tape.resource<tensor<f32>>
  %r = tape.read %h : !tape.resource<tensor<f32>>
  tape.assign %h, %b : !tape.resource<tensor<f32>>
  tape.assign_add %h, %a : !tape.resource<tensor<f32>>
  tape.assign_add %h, %b : !tape.resource<tensor<f32>>
  tape.return %r : tensor<f32>
}

// -----

tape.variable @w : tensor<f32> = dense<1.0>
tape.step @mixed(%x: tensor<f32>) -> tensor<f32> {
  %h = tape.handle @w : !tape.resource<tensor<f32>>
  %t, %loss = tape.record {
    %a = tape.read %h : !tape.resource<tensor<f32>>
    // expected-note @+1 {{assigned here; fix: read it before the assignment, or assign after the tape}}
    tape.assign_add %h, %x : !tape.resource<tensor<f32>>
    // expected-warning @+1 {{reads @w after it was assigned in the same recording region: its gradient mixes the value before and after the assignment}}
    %b = tape.read %h : !tape.resource<tensor<f32>>
    %l = arith.mulf %a, %b : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%loss : tensor<f32>) wrt (%h : !tape.resource<tensor<f32>>)
  tape.return %g : tensor<f32>
}

// -----

// Nested tapes over a variable: the outer tape yields the inner gradient
// and the value; the second derivative is not a lost update (each yielded
// value flows to its own result of the record, not to all of them).
tape.variable @w : tensor<f32> = dense<2.0>
tape.step @second_order() -> (tensor<f32>, tensor<f32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %t, %d1, %f = tape.record {
    %it, %iy = tape.record {
      %wv = tape.read %w : !tape.resource<tensor<f32>>
      %sq = arith.mulf %wv, %wv : tensor<f32>
      %cube = arith.mulf %sq, %wv : tensor<f32>
      tape.yield %cube : tensor<f32>
    } : tensor<f32>
    %g1 = tape.gradient %it (%iy : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
    tape.yield %g1, %iy : tensor<f32>, tensor<f32>
  } : tensor<f32>, tensor<f32>
  %g2 = tape.gradient %t (%d1 : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %d1, %g2 : tensor<f32>, tensor<f32>
}
