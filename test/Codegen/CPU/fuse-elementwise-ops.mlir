// RUN: tape-opt %s --tape-cpu-fuse-elementwise-ops --split-input-file | FileCheck %s
// The numbers: scripts/gradcheck.py's pooling_nchw_max_scalar_loss and
// rowwise_loss_then_total.

#id = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>
#win = affine_map<(d0, d1, d2, d3) -> (d0 * 2 + d2, d1 * 2 + d3)>
#out = affine_map<(d0, d1, d2, d3) -> (d0, d1)>
#k = affine_map<(d0, d1, d2, d3) -> (d2, d3)>

// A producer that reads its destination (the adjoint of a sum, seeding
// zeros + 1, times the incoming factor: one generic once fused, reading
// its destination) stays out of a consumer whose loops reduce: fused, it
// would add 1 once per window element. Upstream's pass fuses it.
// CHECK-LABEL: func.func @seed_into_reduction
// CHECK: %[[SEED:.*]]:2 = linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK: arith.addf
// CHECK: arith.mulf
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["reduction", "reduction", "reduction", "reduction"]
// CHECK-SAME: ins(%{{.*}}, %{{.*}}, %[[SEED]]#1 :
func.func @seed_into_reduction(%x: tensor<4x4xf32>, %k: tensor<2x2xf32>, %c: tensor<2x2xf32>) -> tensor<4x4xf32> {
  %one = arith.constant dense<1.0> : tensor<f32>
  %zeros = arith.constant dense<0.0> : tensor<2x2xf32>
  %dx0 = arith.constant dense<0.0> : tensor<4x4xf32>
  %seed = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel"]}
      ins(%one : tensor<f32>) outs(%zeros : tensor<2x2xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  } -> tensor<2x2xf32>
  %g = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%seed, %c : tensor<2x2xf32>, tensor<2x2xf32>) outs(%seed : tensor<2x2xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    linalg.yield %p : f32
  } -> tensor<2x2xf32>
  %dx = linalg.generic {indexing_maps = [#win, #k, #out, #win], iterator_types = ["reduction", "reduction", "reduction", "reduction"]}
      ins(%x, %k, %g : tensor<4x4xf32>, tensor<2x2xf32>, tensor<2x2xf32>) outs(%dx0 : tensor<4x4xf32>) {
  ^bb0(%a: f32, %unused: f32, %d: f32, %acc: f32):
    %p = arith.mulf %a, %d : f32
    %s = arith.addf %acc, %p : f32
    linalg.yield %s : f32
  } -> tensor<4x4xf32>
  return %dx : tensor<4x4xf32>
}

// -----

#id = affine_map<(d0, d1) -> (d0, d1)>
#scalar = affine_map<(d0, d1) -> ()>

// Into a consumer whose loops are all parallel, the same producer fuses:
// each element is computed once.
// CHECK-LABEL: func.func @seed_into_elementwise
// CHECK: linalg.generic
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @seed_into_elementwise(%x: tensor<2x2xf32>, %one: tensor<f32>) -> tensor<2x2xf32> {
  %zeros = arith.constant dense<0.0> : tensor<2x2xf32>
  %seed = linalg.generic {indexing_maps = [#scalar, #id], iterator_types = ["parallel", "parallel"]}
      ins(%one : tensor<f32>) outs(%zeros : tensor<2x2xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  } -> tensor<2x2xf32>
  %e = tensor.empty() : tensor<2x2xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %seed : tensor<2x2xf32>, tensor<2x2xf32>) outs(%e : tensor<2x2xf32>) {
  ^bb0(%a: f32, %g: f32, %o: f32):
    %p = arith.mulf %a, %g : f32
    linalg.yield %p : f32
  } -> tensor<2x2xf32>
  return %y : tensor<2x2xf32>
}

// -----

#row = affine_map<(d0, d1) -> (d0)>
#id = affine_map<(d0, d1) -> (d0, d1)>
#vec = affine_map<(d0) -> (d0)>
#scalar1 = affine_map<(d0) -> ()>

// The same producer feeding a broadcast along rows (a per-row loss's
// adjoint, spread over the classes): all loops parallel, but the map for
// the producer's result leaves out d1, so fused it would add the seed once
// per column. It stays its own op.
// CHECK-LABEL: func.func @seed_into_broadcast
// CHECK: %[[SEED:.*]] = linalg.generic
// CHECK-SAME: iterator_types = ["parallel"]
// CHECK: linalg.generic
// CHECK-SAME: iterator_types = ["parallel", "parallel"]
// CHECK-SAME: ins(%{{.*}}, %[[SEED]] :
func.func @seed_into_broadcast(%x: tensor<4x8xf32>, %one: tensor<f32>) -> tensor<4x8xf32> {
  %zeros = arith.constant dense<0.0> : tensor<4xf32>
  %seed = linalg.generic {indexing_maps = [#scalar1, #vec], iterator_types = ["parallel"]}
      ins(%one : tensor<f32>) outs(%zeros : tensor<4xf32>) {
  ^bb0(%in: f32, %acc: f32):
    %s = arith.addf %acc, %in : f32
    linalg.yield %s : f32
  } -> tensor<4xf32>
  %e = tensor.empty() : tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #row, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %seed : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %g: f32, %o: f32):
    %p = arith.mulf %a, %g : f32
    linalg.yield %p : f32
  } -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// A producer whose result is also used elsewhere (AD keeps `t = tanh(x)`
// for the backward pass) fuses into its elementwise consumer: one op
// computes both and yields `t` as well, for the other use.
// CHECK-LABEL: func.func @shared_producer
// CHECK: %[[F:.+]]:2 = linalg.generic
// CHECK: math.tanh
// CHECK: arith.mulf
// CHECK: linalg.yield
// CHECK-NOT: linalg.generic
// CHECK: return %[[F]]#{{[01]}}, %[[F]]#{{[01]}}
#id = affine_map<(i, j) -> (i, j)>
func.func @shared_producer(%x: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %t = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.tanh %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t, %x : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %t, %y : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// Not into a reduction: the extra output would be indexed by the reduced
// dimension.
// CHECK-LABEL: func.func @shared_producer_into_reduction
// CHECK: math.tanh
// CHECK: linalg.yield
// CHECK: linalg.generic
// CHECK: arith.addf
#id = affine_map<(i, j) -> (i, j)>
#row = affine_map<(i, j) -> (i)>
func.func @shared_producer_into_reduction(%x: tensor<4x8xf32>, %acc: tensor<4xf32>) -> (tensor<4x8xf32>, tensor<4xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %t = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.tanh %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id, #row], iterator_types = ["parallel", "reduction"]}
      ins(%t : tensor<4x8xf32>) outs(%acc : tensor<4xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.addf %a, %o : f32
    linalg.yield %r : f32
  } -> tensor<4xf32>
  return %t, %s : tensor<4x8xf32>, tensor<4xf32>
}

// -----

// A cheap producer (`x * x`, one input, one multiply) with uses in the
// forward and the backward pass is computed again in each consumer: no op
// yields it, both read `x` instead. `tanh` beside it stays shared.
// CHECK-LABEL: func.func @cheap_producer_recomputed
// CHECK: %[[F:.+]] = linalg.generic
// CHECK-SAME: ins(%arg0 : tensor<4x8xf32>)
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: %[[B:.+]] = linalg.generic
// CHECK-SAME: ins(%arg0, %arg1 : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: arith.mulf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return %[[F]], %[[B]]
#id = affine_map<(i, j) -> (i, j)>
func.func @cheap_producer_recomputed(%x: tensor<4x8xf32>, %dy: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %sq = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = arith.mulf %a, %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%sq : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %r = arith.addf %a, %one : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %dx = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%sq, %dy : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %g: f32, %o: f32):
    %r = arith.mulf %a, %g : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %y, %dx : tensor<4x8xf32>, tensor<4x8xf32>
}

// -----

// GELU's pattern: `t = tanh(x)` is kept for the backward pass (shared),
// `s = 1 + t` is cheap and used by both passes, which a matmul keeps
// apart. The forward op computes t, s and y and yields t and y only; the
// backward op computes s again from t.
// CHECK-LABEL: func.func @cheap_after_shared
// CHECK: %[[F:.+]]:2 = linalg.generic
// CHECK: math.tanh
// CHECK: arith.addf
// CHECK: arith.mulf
// CHECK: linalg.yield
// CHECK: %[[G:.+]] = linalg.matmul ins(%[[F]]#1,
// CHECK: %[[B:.+]] = linalg.generic
// CHECK-SAME: ins(%[[F]]#0, %[[G]] : tensor<4x8xf32>, tensor<4x8xf32>)
// CHECK: arith.addf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return %[[B]]
#id = affine_map<(i, j) -> (i, j)>
func.func @cheap_after_shared(%x: tensor<4x8xf32>, %w: tensor<8x8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %t = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.tanh %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%t : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %one = arith.constant 1.0 : f32
    %r = arith.addf %a, %one : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %y = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %s : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %zero = arith.constant 0.0 : f32
  %z = linalg.fill ins(%zero : f32) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %dy = linalg.matmul ins(%y, %w : tensor<4x8xf32>, tensor<8x8xf32>) outs(%z : tensor<4x8xf32>) -> tensor<4x8xf32>
  %dx = linalg.generic {indexing_maps = [#id, #id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%s, %t, %dy : tensor<4x8xf32>, tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %g: f32, %o: f32):
    %p = arith.mulf %a, %b : f32
    %r = arith.mulf %p, %g : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %dx : tensor<4x8xf32>
}

// -----

// A layer norm's row statistic, broadcast along the columns, read by two
// generics: the broadcast becomes a generic and is fused into each, which
// reads the [4] vector by row instead of a [4, 8] array. The bias broadcast
// into the matmul's init stays a named broadcast (the packed kernels add it
// in their first slice).
// CHECK-DAG: #[[ROW:.+]] = affine_map<(d0, d1) -> (d0)>
// CHECK-DAG: #[[ID:.+]] = affine_map<(d0, d1) -> (d0, d1)>
// CHECK-LABEL: func.func @broadcast_read_twice
// CHECK-NOT: linalg.broadcast ins(%arg1
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%arg0, %arg1 : tensor<4x8xf32>, tensor<4xf32>)
// CHECK: arith.subf
// CHECK: linalg.generic {indexing_maps = [#[[ID]], #[[ROW]], #[[ID]]], iterator_types = ["parallel", "parallel"]} ins(%{{.+}}, %arg1 : tensor<4x8xf32>, tensor<4xf32>)
// CHECK: arith.mulf
// CHECK: %[[BIAS:.+]] = linalg.broadcast ins(%arg3 : tensor<8xf32>)
// CHECK: linalg.matmul ins(%{{.+}}, %arg2 : tensor<4x8xf32>, tensor<8x8xf32>) outs(%[[BIAS]] : tensor<4x8xf32>)
#id = affine_map<(d0, d1) -> (d0, d1)>
func.func @broadcast_read_twice(%x: tensor<4x8xf32>, %mean: tensor<4xf32>, %w: tensor<8x8xf32>, %bias: tensor<8xf32>) -> tensor<4x8xf32> {
  %e = tensor.empty() : tensor<4x8xf32>
  %m = linalg.broadcast ins(%mean : tensor<4xf32>) outs(%e : tensor<4x8xf32>) dimensions = [1]
  %c = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%x, %m : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.subf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %z = linalg.matmul ins(%c, %w : tensor<4x8xf32>, tensor<8x8xf32>) outs(%e : tensor<4x8xf32>) -> tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel", "parallel"]}
      ins(%z, %m : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %bb = linalg.broadcast ins(%bias : tensor<8xf32>) outs(%e : tensor<4x8xf32>) dimensions = [0]
  %y = linalg.matmul ins(%s, %w : tensor<4x8xf32>, tensor<8x8xf32>) outs(%bb : tensor<4x8xf32>) -> tensor<4x8xf32>
  return %y : tensor<4x8xf32>
}

// -----

// A log-softmax's `x - max` (the row's max read along the rows only) is
// cheap to compute again: each of its two readers computes it from x and
// the max instead of reading a stored [4, 8] array.
// CHECK-LABEL: func.func @shifted_read_twice
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1 : tensor<4x8xf32>, tensor<4xf32>)
// CHECK: arith.subf
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%arg0, %arg1, %arg2 : tensor<4x8xf32>, tensor<4xf32>, tensor<4x8xf32>)
// CHECK: arith.subf
// CHECK: arith.mulf
// CHECK-NOT: linalg.generic
// CHECK: return
func.func @shifted_read_twice(%x: tensor<4x8xf32>, %max: tensor<4xf32>, %y: tensor<4x8xf32>) -> (tensor<4x8xf32>, tensor<4x8xf32>) {
  %e = tensor.empty() : tensor<4x8xf32>
  %s = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%x, %max : tensor<4x8xf32>, tensor<4xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %m: f32, %o: f32):
    %r = arith.subf %a, %m : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %p = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s : tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %o: f32):
    %r = math.exp %a : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  %q = linalg.generic {indexing_maps = [affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>, affine_map<(d0, d1) -> (d0, d1)>], iterator_types = ["parallel", "parallel"]}
      ins(%s, %y : tensor<4x8xf32>, tensor<4x8xf32>) outs(%e : tensor<4x8xf32>) {
  ^bb0(%a: f32, %b: f32, %o: f32):
    %r = arith.mulf %a, %b : f32
    linalg.yield %r : f32
  } -> tensor<4x8xf32>
  return %p, %q : tensor<4x8xf32>, tensor<4x8xf32>
}
