// RUN: tape-opt %s --tape-differentiate --split-input-file --verify-diagnostics | FileCheck %s

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

// Matmul: dA = dC B^T, dB = A^T dC.
// CHECK-LABEL: func.func @matmul
// CHECK-SAME: (%[[A:.*]]: tensor<2x3xf32>, %[[B:.*]]: tensor<3x4xf32>
// CHECK: %[[C:.*]] = linalg.matmul ins(%[[A]], %[[B]]
// CHECK: %[[DC:.*]] = arith.constant dense<1.000000e+00> : tensor<2x4xf32>
// CHECK: %[[BT:.*]] = linalg.transpose ins(%[[B]] : tensor<3x4xf32>) {{.*}} permutation = [1, 0]
// CHECK: %[[DA:.*]] = linalg.matmul ins(%[[DC]], %[[BT]] : tensor<2x4xf32>, tensor<4x3xf32>)
// CHECK: %[[AT:.*]] = linalg.transpose ins(%[[A]] : tensor<2x3xf32>) {{.*}} permutation = [1, 0]
// CHECK: %[[DB:.*]] = linalg.matmul ins(%[[AT]], %[[DC]] : tensor<3x2xf32>, tensor<2x4xf32>)
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

// Broadcast: the gradient is summed back over the broadcast dimension.
// CHECK-LABEL: func.func @broadcast
// CHECK: %[[D:.*]] = arith.constant dense<1.000000e+00> : tensor<4x3xf32>
// CHECK: %[[R:.*]] = linalg.reduce ins(%[[D]] : tensor<4x3xf32>) outs(%{{.*}} : tensor<3xf32>) dimensions = [0]
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

// An op on the path without a rule is an error that names it.
func.func @no_rule(%x: tensor<f32>) -> tensor<f32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<f32>
    // expected-error @+1 {{'math.erf' op no gradient rule for 'math.erf'; it is on the path from a gradient source to a target}}
    %e = math.erf %x : tensor<f32>
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
// CHECK: %[[BWD:.*]]:2 = scf.for %[[K:.*]] = {{.*}} iter_args(%[[DACC:.*]] = %{{.*}}, %[[DX:.*]] = %{{.*}})
// CHECK:   %[[POP:.*]] = tensor.extract_slice %[[FWD]]#1
// CHECK:   math.cos %[[POP]]
// CHECK:   scf.yield
// CHECK: arith.addf %[[BWD]]#0, %[[BWD]]#1
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

// A loop on the path needs a static trip count to store its values.
func.func @dynamic_loop(%x: tensor<3xf32>, %n: index) -> tensor<3xf32> {
  %t, %y = tape.record {
    tape.watch %x : tensor<3xf32>
    %c0 = arith.constant 0 : index
    %c1 = arith.constant 1 : index
    // expected-error @+1 {{'scf.for' op differentiating a loop needs constant bounds and a positive constant step, so that its loop-carried values can be stored}}
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
// input does not index becomes a reduction.
// CHECK-LABEL: func.func @generic
// CHECK-SAME: (%[[A:.*]]: tensor<3xf32>, %[[B:.*]]: tensor<2x3xf32>)
// CHECK: %[[GA:.*]] = linalg.generic {{.*}}iterator_types = ["reduction", "parallel"]
// CHECK-SAME: ins(%[[A]], %[[B]], %{{.*}} : tensor<3xf32>, tensor<2x3xf32>, tensor<2x3xf32>)
// CHECK: ^bb0(%[[X:.*]]: f32, %[[Y:.*]]: f32, %[[D:.*]]: f32, %[[ACC:.*]]: f32):
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

func.func @generic_reduction(%a: tensor<3xf32>, %init: tensor<f32>) -> tensor<3xf32> {
  %t, %y = tape.record {
    tape.watch %a : tensor<3xf32>
    // expected-error @+1 {{'linalg.generic' op gradient of a linalg.generic with reduction iterators is not supported; express the reduction with linalg.reduce}}
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
