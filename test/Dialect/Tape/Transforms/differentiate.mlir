// RUN: tape-opt %s --tape-differentiate --split-input-file --verify-diagnostics --allow-unregistered-dialect --mlir-print-local-scope | FileCheck %s

// The seed's neuron: the region is inlined once, the backward code follows
// at the gradient request, and no tape op is left.
// CHECK-LABEL: tape.step @seed
// CHECK-NOT: tape.record
// CHECK: %[[W:.*]] = tape.read %weight
// CHECK: %[[B:.*]] = tape.read %bias
// CHECK: %[[XW:.*]] = arith.mulf %[[X:.*]], %[[W]]
// CHECK: %[[P:.*]] = arith.addf %[[XW]], %[[B]]
// CHECK: %[[E:.*]] = arith.subf %[[P]], %{{.*}}
// CHECK: %[[L:.*]] = arith.mulf %[[E]], %[[E]]
// CHECK: %[[ONE:.*]] = arith.constant dense<1.000000e+00>
// CHECK: %[[D1:.*]] = arith.mulf %[[ONE]], %[[E]]
// CHECK: %[[D2:.*]] = arith.mulf %[[ONE]], %[[E]]
// CHECK: %[[DE:.*]] = arith.addf %[[D1]], %[[D2]]
// CHECK: %[[DW:.*]] = arith.mulf %[[DE]], %[[X]]
// CHECK-NOT: tape.gradient
// CHECK: tape.return %[[L]], %[[DW]], %[[DE]]
tape.variable @weight : tensor<f32> = dense<1.0>
tape.variable @bias : tensor<f32> = dense<0.0>
tape.step @seed(%x: tensor<f32>, %y: tensor<f32>) -> (tensor<f32>, tensor<f32>, tensor<f32>) {
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
  tape.return %loss, %g#0, %g#1 : tensor<f32>, tensor<f32>, tensor<f32>
}

// -----

// Matmul (through the generic rule): dA = dC B^T and dB = A^T dC are
// contractions that read the transposed operand through their maps (no
// transpose copy); codegen makes them linalg.matmul again
// (test/Codegen/CPU/specialize-contractions.mlir, @adjoints).
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3x4xf32>
// CHECK: %[[C:.*]] = linalg.matmul ins(%[[A]], %[[B]]
// CHECK: %[[DC:.*]] = arith.constant dense<1.000000e+00> : tensor<2x4xf32>
// CHECK: %[[DA:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d2, d1)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d0, d2)>], iterator_types = ["parallel", "reduction", "parallel"]} ins(%[[B]], %[[DC]] : tensor<3x4xf32>, tensor<2x4xf32>)
// CHECK: %[[DB:.*]] = linalg.generic {indexing_maps = [affine_map<(d0, d1, d2) -> (d0, d2)>, affine_map<(d0, d1, d2) -> (d0, d1)>, affine_map<(d0, d1, d2) -> (d2, d1)>], iterator_types = ["reduction", "parallel", "parallel"]} ins(%[[A]], %[[DC]] : tensor<2x3xf32>, tensor<2x4xf32>)
// CHECK-NOT: linalg.transpose
// CHECK: return %[[DA]], %[[DB]]
func.func @matmul(%a: tensor<2x3xf32>, %b: tensor<3x4xf32>, %init: tensor<2x4xf32>) -> (tensor<2x3xf32>, tensor<3x4xf32>) {
  %t, %c = tape.record {
    tape.watch %a : tensor<2x3xf32>
    tape.watch %b : tensor<3x4xf32>
    %m = linalg.matmul ins(%a, %b : tensor<2x3xf32>, tensor<3x4xf32>) outs(%init : tensor<2x4xf32>) -> tensor<2x4xf32>
    tape.yield %m : tensor<2x4xf32>
  } : tensor<2x4xf32>
  %g:2 = tape.gradient %t (%c : tensor<2x4xf32>) wrt (%a, %b : tensor<2x3xf32>, tensor<3x4xf32>)
  return %g#0, %g#1 : tensor<2x3xf32>, tensor<3x4xf32>
}

// -----

// Broadcast (through its generic form): the gradient is summed back over
// the broadcast dimension, a reduction of the adjoint.
// CHECK-LABEL: func.func @broadcast
// CHECK: %[[D:.*]] = arith.constant dense<1.000000e+00> : tensor<4x3xf32>
// CHECK: %[[R:.*]] = linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]} ins(%[[D]] : tensor<4x3xf32>) outs(%{{.*}} : tensor<3xf32>)
// CHECK: arith.addf
// CHECK: return %[[R]]
func.func @broadcast(%v: tensor<3xf32>) -> tensor<3xf32> {
  %t, %y = tape.record {
    tape.watch %v : tensor<3xf32>
    %e = tensor.empty() : tensor<4x3xf32>
    %b = linalg.broadcast ins(%v : tensor<3xf32>) outs(%e : tensor<4x3xf32>) dimensions = [0]
    tape.yield %b : tensor<4x3xf32>
  } : tensor<4x3xf32>
  %g = tape.gradient %t (%y : tensor<4x3xf32>) wrt (%v : tensor<3xf32>)
  return %g : tensor<3xf32>
}

// -----

// Persistent tape: two requests, two backward sweeps; a source the target
// does not use gets zeros.
// CHECK-LABEL: func.func @persistent
// CHECK: %[[S:.*]] = math.sin %[[X:.*]] : tensor<f32>
// CHECK: %[[C1:.*]] = math.cos %[[X]]
// CHECK: %[[G1:.*]] = arith.mulf %{{.*}}, %[[C1]]
// CHECK: %[[C2:.*]] = math.cos %[[X]]
// CHECK: %[[G2:.*]] = arith.mulf %{{.*}}, %[[C2]]
// CHECK: return %[[G1]], %[[G2]]
func.func @persistent(%x: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %t, %y = tape.record persistent {
    tape.watch %x : tensor<f32>
    %s = math.sin %x : tensor<f32>
    tape.yield %s : tensor<f32>
  } : tensor<f32>
  %g1 = tape.gradient %t (%y : tensor<f32>) wrt (%x : tensor<f32>)
  %g2 = tape.gradient %t (%y : tensor<f32>) wrt (%x : tensor<f32>)
  return %g1, %g2 : tensor<f32>, tensor<f32>
}

// -----

// A variable read before the region is a constant to the tape.
tape.variable @w : tensor<f32> = dense<1.0>
tape.step @read_outside(%x: tensor<f32>) -> tensor<f32> {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %wv = tape.read %w : !tape.resource<tensor<f32>>
  // expected-note @+1 {{the variable is not read inside this recording region; move the tape.read inside it}}
  %t, %y = tape.record {
    tape.watch %x : tensor<f32>
    %p = arith.mulf %x, %wv : tensor<f32>
    tape.yield %p : tensor<f32>
  } : tensor<f32>
  // expected-warning @+1 {{gradient source #0 (@w) does not influence the targets; its gradient is zero}}
  %g = tape.gradient %t (%y : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %g : tensor<f32>
}

// -----

// The path goes through stop_gradient: zero, and the note names the op.
tape.variable @w : tensor<f32> = dense<1.0>
tape.step @stopped() -> tensor<f32> {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %t, %y = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    // expected-note @+1 {{the path is cut here by 'tape.stop_gradient'}}
    %c = tape.stop_gradient %wv : tensor<f32>
    %p = arith.mulf %c, %c : tensor<f32>
    tape.yield %p : tensor<f32>
  } : tensor<f32>
  // expected-warning @+1 {{gradient source #0 (@w) does not influence the targets; its gradient is zero}}
  %g = tape.gradient %t (%y : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %g : tensor<f32>
}

// -----

// A non-differentiable op (float to integer) cuts the path too.
func.func @cast(%x: tensor<f32>) -> tensor<f32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<f32>
    // expected-note @+1 {{the path is cut here by 'arith.fptosi'}}
    %i = arith.fptosi %x : tensor<f32> to tensor<i32>
    %f = arith.sitofp %i : tensor<i32> to tensor<f32>
    tape.yield %f : tensor<f32>
  } : tensor<f32>
  // expected-warning @+1 {{gradient source #0 does not influence the targets; its gradient is zero}}
  %g = tape.gradient %t (%y : tensor<f32>) wrt (%x : tensor<f32>)
  return %g : tensor<f32>
}

// -----

// Piecewise-constant ops (floor, ceil, round, trunc) have a zero
// derivative almost everywhere: they cut the path, and the note says
// where (a straight-through estimator then uses tape.stop_gradient).
func.func @floor(%x: tensor<f32>) -> tensor<f32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<f32>
    // expected-note @+1 {{the path is cut here by 'math.floor'}}
    %f = math.floor %x : tensor<f32>
    tape.yield %f : tensor<f32>
  } : tensor<f32>
  // expected-warning @+1 {{gradient source #0 does not influence the targets; its gradient is zero}}
  %g = tape.gradient %t (%y : tensor<f32>) wrt (%x : tensor<f32>)
  return %g : tensor<f32>
}

// -----

// An op on the path without a rule is an error that names it; an op the
// analysis does not know counts as on the path when it takes a varied value.
func.func @no_rule(%x: tensor<f32>) -> tensor<f32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<f32>
    // expected-error @+1 {{'test.unknown' op no gradient rule for 'test.unknown'; it is on the path from a gradient source to a target}}
    %e = "test.unknown"(%x) : (tensor<f32>) -> tensor<f32>
    tape.yield %e : tensor<f32>
  } : tensor<f32>
  // expected-note @+1 {{gradient requested here}}
  %g = tape.gradient %t (%y : tensor<f32>) wrt (%x : tensor<f32>)
  return %g : tensor<f32>
}

// -----

// Ops off the path need no rule (math.erf feeds nothing the source touches).
// CHECK-LABEL: func.func @off_path
// CHECK: math.erf
// CHECK-NOT: tape.
func.func @off_path(%x: tensor<f32>, %c: tensor<f32>) -> tensor<f32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<f32>
    %e = math.erf %c : tensor<f32>
    %p = arith.mulf %x, %e : tensor<f32>
    tape.yield %p : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%y : tensor<f32>) wrt (%x : tensor<f32>)
  return %g : tensor<f32>
}

// -----

// scf.for: the forward loop stores each iteration's carried value in a
// stacked tensor; the backward loop runs in reverse, pops it, recomputes the
// body and carries the adjoints (of the iter_arg and of the captured %x).
// CHECK-LABEL: func.func @loop
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>)
// CHECK: %[[STACK0:.*]] = tensor.empty() : tensor<4x3xf32>
// CHECK: %[[FWD:.*]]:2 = scf.for %[[I:.*]] = %{{.*}} iter_args(%[[ACC:.*]] = %[[X]], %[[STACK:.*]] = %[[STACK0]])
// CHECK:   %[[S:.*]] = math.sin %[[ACC]]
// CHECK:   tensor.insert_slice %[[ACC]] into %[[STACK]]
// CHECK: %[[BWD:.*]]:2 = scf.for %[[K:.*]] = %{{.*}} to %{{.*}} iter_args(%[[DACC:.*]] = %{{.*}}, %[[DX:.*]] = %{{.*}})
// CHECK:   %[[POP:.*]] = tensor.extract_slice %[[FWD]]#1
// CHECK:   math.cos %[[POP]]
// CHECK:   scf.yield
// CHECK: arith.addf %[[BWD]]#1, %[[BWD]]#0
func.func @loop(%x: tensor<3xf32>) -> tensor<3xf32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<3xf32>
    %c0 = arith.constant 0 : index
    %c4 = arith.constant 4 : index
    %c1 = arith.constant 1 : index
    %r = scf.for %i = %c0 to %c4 step %c1 iter_args(%acc = %x) -> (tensor<3xf32>) {
      %s = math.sin %acc : tensor<3xf32>
      %m = arith.mulf %s, %x : tensor<3xf32>
      scf.yield %m : tensor<3xf32>
    }
    tape.yield %r : tensor<3xf32>
  } : tensor<3xf32>
  %g = tape.gradient %t (%y : tensor<3xf32>) wrt (%x : tensor<3xf32>)
  return %g : tensor<3xf32>
}

// -----

// scf.if: the backward code branches on the same condition, recomputes the
// taken branch and yields the adjoints of what the branches captured.
// CHECK-LABEL: func.func @branch
// CHECK-SAME: (%[[C:.*]]: i1, %[[X:.*]]: tensor<2xf32>)
// CHECK: scf.if %[[C]] -> (tensor<2xf32>)
// CHECK:   math.exp %[[X]]
// CHECK: %[[B:.*]] = scf.if %[[C]] -> (tensor<2xf32>) {
// CHECK:   %[[E:.*]] = math.exp %[[X]]
// CHECK:   %[[G:.*]] = arith.mulf %{{.*}}, %[[E]]
// CHECK:   scf.yield %[[G]]
// CHECK: } else {
// CHECK:   %[[N:.*]] = arith.negf
// CHECK:   scf.yield %[[N]]
// CHECK: return %[[B]]
func.func @branch(%c: i1, %x: tensor<2xf32>) -> tensor<2xf32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<2xf32>
    %r = scf.if %c -> (tensor<2xf32>) {
      %e = math.exp %x : tensor<2xf32>
      scf.yield %e : tensor<2xf32>
    } else {
      %n = arith.negf %x : tensor<2xf32>
      scf.yield %n : tensor<2xf32>
    }
    tape.yield %r : tensor<2xf32>
  } : tensor<2xf32>
  %g = tape.gradient %t (%y : tensor<2xf32>) wrt (%x : tensor<2xf32>)
  return %g : tensor<2xf32>
}

// -----

// A loop with a run-time trip count stores its values in stacks of that
// many rows, max(0, ceildiv(ub - lb, step)).
// CHECK-LABEL: func.func @dynamic_loop
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>, %[[N:.*]]: index)
// CHECK: %[[D:.*]] = arith.subi %[[N]], %{{.*}} : index
// CHECK: %[[Q:.*]] = arith.ceildivsi %[[D]], %{{.*}} : index
// CHECK: %[[TRIP:.*]] = arith.maxsi %[[Q]], %{{.*}} : index
// CHECK: tensor.empty(%[[TRIP]]) : tensor<?x3xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[TRIP]]
func.func @dynamic_loop(%x: tensor<3xf32>, %n: index) -> tensor<3xf32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<3xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    %r = scf.for %i = %c0 to %n step %c1 iter_args(%acc = %x) -> (tensor<3xf32>) {
      %s = math.sin %acc : tensor<3xf32>
      scf.yield %s : tensor<3xf32>
    }
    tape.yield %r : tensor<3xf32>
  } : tensor<3xf32>
  %g = tape.gradient %t (%y : tensor<3xf32>) wrt (%x : tensor<3xf32>)
  return %g : tensor<3xf32>
}

// -----

// linalg.generic (a map): per input, a generic over the same iteration
// space recomputes the scalar body and sweeps it; the dimension a broadcast
// input does not index becomes a reduction. Operands the backward body does
// not read (here %a itself) are dropped.
// CHECK-LABEL: func.func @generic
// CHECK-SAME: (%[[A:.*]]: tensor<3xf32>, %[[B:.*]]: tensor<2x3xf32>)
// CHECK: %[[GA:.*]] = linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]
// CHECK-SAME: ins(%[[B]], %{{.*}} : tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK: ^bb0(%[[Y:.*]]: f32, %[[D:.*]]: f32, %[[ACC:.*]]: f32):
// CHECK:   %[[DX:.*]] = arith.mulf %[[D]], %[[Y]] : f32
// CHECK:   %[[SUM:.*]] = arith.addf %[[ACC]], %[[DX]] : f32
// CHECK:   linalg.yield %[[SUM]]
// CHECK: return %[[GA]]
func.func @generic(%a: tensor<3xf32>, %b: tensor<2x3xf32>) -> tensor<3xf32> {
  %t, %y = tape.record {
    tape.watch %a : tensor<3xf32>
    %e = tensor.empty() : tensor<2x3xf32>
    %r = linalg.generic {indexing_maps = [affine_map<(i, j) -> (j)>, affine_map<(i, j) -> (i, j)>, affine_map<(i, j) -> (i, j)>],
                         iterator_types = ["parallel", "parallel"]}
        ins(%a, %b : tensor<3xf32>, tensor<2x3xf32>) outs(%e : tensor<2x3xf32>) {
      ^bb0(%x: f32, %w: f32, %o: f32):
        %m = arith.mulf %x, %w : f32
        linalg.yield %m : f32
    } -> tensor<2x3xf32>
    tape.yield %r : tensor<2x3xf32>
  } : tensor<2x3xf32>
  %g = tape.gradient %t (%y : tensor<2x3xf32>) wrt (%a : tensor<3xf32>)
  return %g : tensor<3xf32>
}

// -----

// A reduction generic: a sum passes the result adjoint to every point
// (a broadcast back) and to the init.
// CHECK-LABEL: func.func @generic_reduction
// CHECK-SAME: (%[[A:.*]]: tensor<3xf32>, %[[I:.*]]: tensor<f32>)
// CHECK: %[[D:.*]] = arith.constant dense<1.000000e+00> : tensor<f32>
// CHECK: %[[G:.*]] = linalg.generic {{.*}}iterator_types = ["parallel"]} ins(%[[D]] : tensor<f32>)
// CHECK: return %[[G]]
func.func @generic_reduction(%a: tensor<3xf32>, %init: tensor<f32>) -> tensor<3xf32> {
  %t, %y = tape.record {
    tape.watch %a : tensor<3xf32>
    %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> ()>],
                         iterator_types = ["reduction"]}
        ins(%a : tensor<3xf32>) outs(%init : tensor<f32>) {
      ^bb0(%x: f32, %o: f32):
        %s = arith.addf %x, %o : f32
        linalg.yield %s : f32
    } -> tensor<f32>
    tape.yield %r : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%y : tensor<f32>) wrt (%a : tensor<3xf32>)
  return %g : tensor<3xf32>
}

// -----

// Several targets: the gradient of their sum, w.r.t. a variable (through
// its reads) and a watched tensor at once.
// CHECK-LABEL: tape.step @two_targets
// CHECK-SAME: (%[[X:.*]]: tensor<f32>)
// CHECK: %[[W:.*]] = tape.read %w
// CHECK: %[[P:.*]] = arith.mulf %[[W]], %[[X]]
// CHECK: %[[E:.*]] = math.exp %[[X]]
// CHECK: %[[D1:.*]] = arith.constant dense<1.000000e+00>
// CHECK: %[[D2:.*]] = arith.constant dense<1.000000e+00>
// CHECK: %[[GE:.*]] = arith.mulf %[[D2]], %[[E]]
// CHECK: %[[GW:.*]] = arith.mulf %[[D1]], %[[X]]
// CHECK: %[[GXP:.*]] = arith.mulf %[[D1]], %[[W]]
// CHECK: %[[GX:.*]] = arith.addf %[[GE]], %[[GXP]]
// CHECK: tape.return %[[GW]], %[[GX]]
tape.variable @w : tensor<f32> = dense<3.0>
tape.step @two_targets(%x: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %t, %l:2 = tape.record {
    tape.watch %x : tensor<f32>
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %p = arith.mulf %wv, %x : tensor<f32>
    %e = math.exp %x : tensor<f32>
    tape.yield %p, %e : tensor<f32>, tensor<f32>
  } : tensor<f32>, tensor<f32>
  %g:2 = tape.gradient %t (%l#0, %l#1 : tensor<f32>, tensor<f32>) wrt (%w, %x : !tape.resource<tensor<f32>>, tensor<f32>)
  tape.return %g#0, %g#1 : tensor<f32>, tensor<f32>
}

// -----

// A variable read inside a loop body moves in front of the loop (nothing in
// the loop assigns it), so its adjoint is the loop's captured adjoint.
// Executed in soundness.test.
// CHECK-LABEL: tape.step @read_in_loop
// CHECK: %[[W:.*]] = tape.read
// CHECK: scf.for
// CHECK: arith.mulf %[[W]]
// CHECK: %[[B:.*]]:2 = scf.for
// CHECK: tape.return %[[B]]#1
tape.variable @w : tensor<f32> = dense<1.0>
tape.step @read_in_loop(%x: tensor<f32>) -> tensor<f32> {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %z = arith.constant dense<0.0> : tensor<f32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %t, %l = tape.record {
    %r = scf.for %i = %c0 to %c3 step %c1 iter_args(%acc = %z) -> (tensor<f32>) {
      %wv = tape.read %w : !tape.resource<tensor<f32>>
      %p = arith.mulf %wv, %x : tensor<f32>
      %s = arith.addf %acc, %p : tensor<f32>
      scf.yield %s : tensor<f32>
    }
    tape.yield %r : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %g : tensor<f32>
}

// -----

// A float captured by a linalg body: its adjoint sums the body's adjoint
// over every point, in an all-reduction generic with a rank-0 output.
// CHECK-LABEL: func.func @generic_capture
// CHECK-SAME: (%[[X:.*]]: tensor<3xf32>, %[[T:.*]]: tensor<f32>)
// CHECK: %[[S:.*]] = tensor.extract %[[T]][]
// CHECK: %[[G:.*]] = linalg.generic {indexing_maps = [affine_map<(d0) -> (d0)>, affine_map<(d0) -> (d0)>, affine_map<(d0) -> ()>], iterator_types = ["reduction"]} ins(%[[X]], %{{.*}} : tensor<3xf32>, tensor<3xf32>) outs(%{{.*}} : tensor<f32>)
// CHECK: %[[GS:.*]] = tensor.extract %[[G]][]
// CHECK: %[[GT:.*]] = tensor.insert %[[GS]]
// CHECK: return %[[GT]]
func.func @generic_capture(%x: tensor<3xf32>, %temp: tensor<f32>) -> tensor<f32> {
  %t, %y = tape.record {
    tape.watch %temp : tensor<f32>
    %s = tensor.extract %temp[] : tensor<f32>
    %e = tensor.empty() : tensor<3xf32>
    %r = linalg.generic {indexing_maps = [affine_map<(i) -> (i)>, affine_map<(i) -> (i)>], iterator_types = ["parallel"]}
        ins(%x : tensor<3xf32>) outs(%e : tensor<3xf32>) {
      ^bb0(%a: f32, %o: f32):
        %m = arith.mulf %a, %s : f32
        linalg.yield %m : f32
    } -> tensor<3xf32>
    tape.yield %r : tensor<3xf32>
  } : tensor<3xf32>
  %g = tape.gradient %t (%y : tensor<3xf32>) wrt (%temp : tensor<f32>)
  return %g : tensor<f32>
}

// -----

// A convolution-like map (i + k) is not a projected permutation: the input's
// adjoint is scattered back through it by an all-reduction generic whose
// output is read and written at i + k.
// CHECK-LABEL: func.func @conv_scatter
// CHECK: linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0 + d1)>], iterator_types = ["reduction", "reduction"]}
func.func @conv_scatter(%x: tensor<6xf32>, %w: tensor<3xf32>, %init: tensor<4xf32>) -> tensor<6xf32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<6xf32>
    %r = linalg.conv_1d ins(%x, %w : tensor<6xf32>, tensor<3xf32>) outs(%init : tensor<4xf32>) -> tensor<4xf32>
    tape.yield %r : tensor<4xf32>
  } : tensor<4xf32>
  %g = tape.gradient %t (%y : tensor<4xf32>) wrt (%x : tensor<6xf32>)
  return %g : tensor<6xf32>
}

// -----

// Calls inside a recording region are inlined, so the tape sees the
// callee's ops (and its variable reads).
// CHECK-LABEL: func.func @call_inlined
// CHECK-NOT: call @square
// CHECK: arith.mulf
func.func private @square(%a: tensor<f32>) -> tensor<f32> {
  %m = arith.mulf %a, %a : tensor<f32>
  return %m : tensor<f32>
}
func.func @call_inlined(%x: tensor<f32>) -> tensor<f32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<f32>
    %r = func.call @square(%x) : (tensor<f32>) -> tensor<f32>
    tape.yield %r : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%y : tensor<f32>) wrt (%x : tensor<f32>)
  return %g : tensor<f32>
}

// -----

// A call whose callee has no body cannot be differentiated: an error, not
// a zero.
func.func private @external(tensor<f32>) -> tensor<f32>
func.func @external_call(%x: tensor<f32>) -> tensor<f32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<f32>
    // expected-error @+1 {{'func.call' op cannot be differentiated: the callee has no body to differentiate (an external function); it is on the path from a gradient source to a target}}
    %r = func.call @external(%x) : (tensor<f32>) -> tensor<f32>
    tape.yield %r : tensor<f32>
  } : tensor<f32>
  // expected-note @+1 {{gradient requested here}}
  %g = tape.gradient %t (%y : tensor<f32>) wrt (%x : tensor<f32>)
  return %g : tensor<f32>
}

// -----

// An op with regions and no rule on the path is an error that names it.
func.func @region_without_rule(%x: tensor<f32>) -> tensor<f32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<f32>
    %s = tensor.extract %x[] : tensor<f32>
    // expected-error @+1 {{'tensor.generate' op has regions and no gradient rule ('tensor.generate'); it is on the path from a gradient source to a target}}
    %r = tensor.generate {
    ^bb0(%i: index):
      tensor.yield %s : f32
    } : tensor<2xf32>
    tape.yield %r : tensor<2xf32>
  } : tensor<2xf32>
  // expected-note @+1 {{gradient requested here}}
  %g = tape.gradient %t (%y : tensor<2xf32>) wrt (%x : tensor<f32>)
  return %g : tensor<f32>
}

// -----

// A source read inside a loop that also assigns the variable cannot move
// out of it: an error instead of a lost adjoint.
tape.variable @w : tensor<f32> = dense<1.0>
tape.step @read_where_assigned() -> tensor<f32> {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %z = arith.constant dense<0.0> : tensor<f32>
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c2 = arith.constant 2 : index
  %t, %l = tape.record {
    %r = scf.for %i = %c0 to %c2 step %c1 iter_args(%acc = %z) -> (tensor<f32>) {
      // expected-error @+1 {{'tape.read' op is a gradient source inside a region that also assigns the variable, so the read cannot move out of it and its gradient cannot be collected}}
      %wv = tape.read %w : !tape.resource<tensor<f32>>
      %s = arith.addf %acc, %wv : tensor<f32>
      %one = arith.constant dense<1.0> : tensor<f32>
      tape.assign_add %w, %one : !tape.resource<tensor<f32>>
      scf.yield %s : tensor<f32>
    }
    tape.yield %r : tensor<f32>
  } : tensor<f32>
  // expected-note @+1 {{gradient requested here; fix: read the variable before the loop or branch that assigns it}}
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %g : tensor<f32>
}

// -----

// A gradient path through variable state (assign a value that depends on
// a source, read it back towards the target) is an error, not a zero.
tape.variable @w : tensor<f32> = dense<1.0>
tape.variable @u : tensor<f32> = dense<0.0> {trainable = false}
tape.step @through_state() -> tensor<f32> {
  %w = tape.handle @w : !tape.resource<tensor<f32>>
  %u = tape.handle @u : !tape.resource<tensor<f32>>
  %t, %l = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %d = arith.mulf %wv, %wv : tensor<f32>
    // expected-note @+1 {{assigned here; fix: use the assigned value directly instead of reading it back}}
    tape.assign %u, %d : !tape.resource<tensor<f32>>
    // expected-error @+1 {{'tape.read' op reads a variable that was assigned a value depending on a gradient source earlier in the recording region, and the read is on the way to a target: the tape does not differentiate through variable state}}
    %uv = tape.read %u : !tape.resource<tensor<f32>>
    tape.yield %uv : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %t (%l : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %g : tensor<f32>
}
