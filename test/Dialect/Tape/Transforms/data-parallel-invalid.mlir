// RUN: tape-opt %s --tape-data-parallel --split-input-file -verify-diagnostics

// A variable assigned from the step's own input would hold a different
// value on each process.
tape.variable @last : tensor<f32> = dense<0.0>

// expected-note @+1 {{it depends on input #0 of the function}}
tape.step @remember(%x: tensor<f32>) {
  %h = tape.handle @last : !tape.resource<tensor<f32>>
  %two = arith.constant dense<2.0> : tensor<f32>
  %y = arith.mulf %x, %two : tensor<f32>
  // expected-error @+2 {{data-parallel: the value written to @last may differ between processes}}
  // expected-note @+1 {{compute the update from gradients}}
  tape.assign %h, %y : !tape.resource<tensor<f32>>
  tape.return
}

// -----

// A gradient with respect to a watched tensor is the process's own, as is
// a random draw.
tape.variable @v : tensor<4xf32> = dense<0.0>

tape.step @noise() {
  %h = tape.handle @v : !tape.resource<tensor<4xf32>>
  // expected-note @+1 {{it depends on this process-dependent value}}
  %u = tape.random_uniform {seed = 1 : i64} : tensor<4xf32>
  // expected-error @+2 {{data-parallel: the value written to @v may differ between processes}}
  // expected-note @+1 {{compute the update from gradients}}
  tape.assign_add %h, %u : !tape.resource<tensor<4xf32>>
  tape.return
}

// -----

// A host function's own input, too.
tape.variable @w : tensor<f32> = dense<0.0>

// expected-note @+1 {{it depends on input #0 of the function}}
func.func @host(%x: tensor<f32>) {
  %h = tape.handle @w : !tape.resource<tensor<f32>>
  // expected-error @+2 {{data-parallel: the value written to @w may differ between processes}}
  // expected-note @+1 {{compute the update from gradients}}
  tape.assign %h, %x : !tape.resource<tensor<f32>>
  return
}

// -----

// MPI has no bf16 sum.
tape.variable @h : tensor<2xbf16> = dense<1.0>

tape.step @half(%x: tensor<2xbf16>) -> tensor<2xbf16> {
  %hh = tape.handle @h : !tape.resource<tensor<2xbf16>>
  %tape, %l = tape.record {
    %v = tape.read %hh : !tape.resource<tensor<2xbf16>>
    %p = arith.mulf %v, %x : tensor<2xbf16>
    tape.yield %p : tensor<2xbf16>
  } : tensor<2xbf16>
  // expected-error @+1 {{data-parallel: cannot average 'bf16' values over the processes (MPI sums f32 and f64); compute this gradient in f32}}
  %g = tape.gradient %tape (%l : tensor<2xbf16>) wrt (%hh : !tape.resource<tensor<2xbf16>>)
  tape.return %g : tensor<2xbf16>
}

// -----

// Host code that runs a data-parallel step only on some processes: the
// others would wait in its all-reduce.
tape.variable @u : tensor<f32> = dense<1.0>

tape.step @step(%x: tensor<f32>) -> tensor<f32> {
  %h = tape.handle @u : !tape.resource<tensor<f32>>
  %tape, %l = tape.record {
    %v = tape.read %h : !tape.resource<tensor<f32>>
    %p = arith.mulf %v, %x : tensor<f32>
    tape.yield %p : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %tape (%l : tensor<f32>) wrt (%h : !tape.resource<tensor<f32>>)
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g : tensor<f32>) to (%h : !tape.resource<tensor<f32>>)
  tape.return %l : tensor<f32>
}

// expected-note @+1 {{this process-dependent value decides it}}
func.func @sometimes(%x: tensor<f32>, %run: i1) {
  scf.if %run {
    // expected-error @+1 {{data-parallel: every process must run this call (it all-reduces gradients) together, but it is inside 'scf.if', whose condition or trip count may differ between processes: the others would wait for it forever}}
    %l = tape.call @step(%x) : (tensor<f32>) -> tensor<f32>
  }
  return
}
