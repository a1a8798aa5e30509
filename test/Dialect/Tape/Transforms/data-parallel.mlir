// RUN: tape-opt %s --tape-data-parallel --split-input-file | FileCheck %s
// What the all-reduces compute on several processes is checked by running
// them: test/Tools/tape-run/data-parallel.test.

// The gradients of a request's variables and the loss go into one f32
// buffer with a count element; one all-reduce sums it over the grid of
// all processes; each gradient is its slice over the count, and so is the
// returned loss. The request keeps the process's own loss; the other
// result (predictions) stays the process's own.
// CHECK: shard.grid @tape_processes(shape = ?)
// CHECK-LABEL: tape.step @sgd
// CHECK: %[[TAPE:.*]], %[[T:.*]]:2 = tape.record
// CHECK: %[[G:.*]]:2 = tape.gradient %[[TAPE]] (%[[T]]#0 : tensor<f32>)
// CHECK: %[[E:.*]] = tensor.empty() : tensor<17xf32>
// CHECK: %[[W:.*]] = tensor.collapse_shape %[[G]]#0 {{\[}}[0, 1]] : tensor<4x3xf32> into tensor<12xf32>
// CHECK: %[[S0:.*]] = tensor.insert_slice %[[W]] into %[[E]][0] [12] [1]
// CHECK: %[[S1:.*]] = tensor.insert_slice %[[G]]#1 into %[[S0]][12] [3] [1]
// CHECK: %[[L:.*]] = tensor.expand_shape %[[T]]#0 [] output_shape [1]
// CHECK: %[[S2:.*]] = tensor.insert_slice %[[L]] into %[[S1]][15] [1] [1]
// CHECK: %[[ONE:.*]] = arith.constant dense<1.000000e+00> : tensor<1xf32>
// CHECK: %[[S3:.*]] = tensor.insert_slice %[[ONE]] into %[[S2]][16] [1] [1]
// CHECK: %[[SUM:.*]] = shard.all_reduce %[[S3]] on @tape_processes grid_axes = [0] : tensor<17xf32> -> tensor<17xf32>
// CHECK: %[[N:.*]] = tensor.extract %[[SUM]][%{{.*}}] : tensor<17xf32>
// CHECK: tensor.extract_slice %[[SUM]][0] [12] [1]
// CHECK: %[[MW:.*]] = linalg.generic
// CHECK: arith.divf %{{.*}}, %[[N]] : f32
// CHECK: tensor.extract_slice %[[SUM]][12] [3] [1]
// CHECK: %[[MB:.*]] = linalg.generic
// CHECK: tensor.extract_slice %[[SUM]][15] [1] [1]
// CHECK: %[[ML:.*]] = linalg.generic
// CHECK: tape.apply_gradients #tape.sgd<learning_rate = 1.000000e-01> (%[[MW]], %[[MB]] :
// CHECK: tape.return %[[ML]], %[[T]]#1 : tensor<f32>, tensor<2x3xf32>
tape.variable @w : tensor<4x3xf32> = dense<1.0>
tape.variable @b : tensor<3xf32> = dense<0.0>

tape.step @sgd(%x: tensor<2x4xf32>, %y: tensor<2x3xf32>) -> (tensor<f32>, tensor<2x3xf32>) {
  %hw = tape.handle @w : !tape.resource<tensor<4x3xf32>>
  %hb = tape.handle @b : !tape.resource<tensor<3xf32>>
  %tape, %loss, %p = tape.record {
    %w = tape.read %hw : !tape.resource<tensor<4x3xf32>>
    %b = tape.read %hb : !tape.resource<tensor<3xf32>>
    %zero = arith.constant 0.0 : f32
    %e = tensor.empty() : tensor<2x3xf32>
    %bb = linalg.broadcast ins(%b : tensor<3xf32>) outs(%e : tensor<2x3xf32>) dimensions = [0]
    %xw = linalg.matmul ins(%x, %w : tensor<2x4xf32>, tensor<4x3xf32>) outs(%bb : tensor<2x3xf32>) -> tensor<2x3xf32>
    %r = arith.subf %xw, %y : tensor<2x3xf32>
    %sq = arith.mulf %r, %r : tensor<2x3xf32>
    %e0 = tensor.empty() : tensor<f32>
    %z0 = linalg.fill ins(%zero : f32) outs(%e0 : tensor<f32>) -> tensor<f32>
    %s = linalg.reduce ins(%sq : tensor<2x3xf32>) outs(%z0 : tensor<f32>) dimensions = [0, 1]
      (%in: f32, %acc: f32) {
        %a = arith.addf %in, %acc : f32
        linalg.yield %a : f32
      }
    tape.yield %s, %xw : tensor<f32>, tensor<2x3xf32>
  } : tensor<f32>, tensor<2x3xf32>
  %g:2 = tape.gradient %tape (%loss : tensor<f32>) wrt (%hw, %hb : !tape.resource<tensor<4x3xf32>>, !tape.resource<tensor<3xf32>>)
  tape.apply_gradients #tape.sgd<learning_rate = 0.1> (%g#0, %g#1 : tensor<4x3xf32>, tensor<3xf32>) to (%hw, %hb : !tape.resource<tensor<4x3xf32>>, !tape.resource<tensor<3xf32>>)
  tape.return %loss, %p : tensor<f32>, tensor<2x3xf32>
}

// -----

// f32 and f64 gradients: one buffer and one all-reduce per element type
// (here the f32 one holds @a's gradient and the count). A gradient with
// respect to a watched tensor stays the process's own where it is used;
// scalar results computed after the request share an all-reduce of their
// own before the return; a returned gradient of a variable is its mean.
// CHECK-LABEL: tape.step @mixed
// CHECK: %[[G:.*]]:3 = tape.gradient
// CHECK: tensor.empty() : tensor<2xf32>
// CHECK: shard.all_reduce %{{.*}} on @tape_processes grid_axes = [0] : tensor<2xf32> -> tensor<2xf32>
// CHECK: %[[MA:.*]] = linalg.generic
// CHECK: tensor.empty() : tensor<3xf64>
// CHECK: shard.all_reduce %{{.*}} on @tape_processes grid_axes = [0] : tensor<3xf64> -> tensor<3xf64>
// CHECK: %[[MD:.*]] = linalg.generic
// CHECK: %[[LATE:.*]] = arith.mulf %[[MA]], %[[G]]#2 : tensor<f32>
// CHECK: tensor.empty() : tensor<3xf32>
// CHECK: tensor.expand_shape %[[LATE]]
// CHECK: tensor.expand_shape %[[G]]#2
// CHECK: shard.all_reduce %{{.*}} : tensor<3xf32> -> tensor<3xf32>
// CHECK: %[[ML:.*]] = linalg.generic
// CHECK: %[[MX:.*]] = linalg.generic
// CHECK: tape.return %[[ML]], %[[MD]], %[[MX]] : tensor<f32>, tensor<2xf64>, tensor<f32>
tape.variable @a : tensor<f32> = dense<1.0>
tape.variable @d : tensor<2xf64> = dense<1.0>

tape.step @mixed(%x: tensor<f32>) -> (tensor<f32>, tensor<2xf64>, tensor<f32>) {
  %ha = tape.handle @a : !tape.resource<tensor<f32>>
  %hd = tape.handle @d : !tape.resource<tensor<2xf64>>
  %tape, %l = tape.record {
    tape.watch %x : tensor<f32>
    %a = tape.read %ha : !tape.resource<tensor<f32>>
    %d = tape.read %hd : !tape.resource<tensor<2xf64>>
    %ax = arith.mulf %a, %x : tensor<f32>
    %dd = arith.mulf %d, %d : tensor<2xf64>
    %e = tensor.empty() : tensor<f64>
    %zero = arith.constant 0.0 : f64
    %z = linalg.fill ins(%zero : f64) outs(%e : tensor<f64>) -> tensor<f64>
    %s = linalg.reduce ins(%dd : tensor<2xf64>) outs(%z : tensor<f64>) dimensions = [0]
      (%in: f64, %acc: f64) {
        %sum = arith.addf %in, %acc : f64
        linalg.yield %sum : f64
      }
    %sf = arith.truncf %s : tensor<f64> to tensor<f32>
    %t = arith.addf %ax, %sf : tensor<f32>
    tape.yield %t : tensor<f32>
  } : tensor<f32>
  %g:3 = tape.gradient %tape (%l : tensor<f32>) wrt (%ha, %hd, %x : !tape.resource<tensor<f32>>, !tape.resource<tensor<2xf64>>, tensor<f32>)
  %late = arith.mulf %g#0, %g#2 : tensor<f32>
  tape.return %late, %g#1, %g#2 : tensor<f32>, tensor<2xf64>, tensor<f32>
}

// -----

// Dropout: each draw takes this process's block of the draw N times as
// large: offset rank * (its element count), the rank from MPI.
// CHECK-LABEL: tape.step @dropout
// CHECK: %[[WORLD:.*]] = mpi.comm_world : !mpi.comm
// CHECK: %[[RANK:.*]] = mpi.comm_rank(%[[WORLD]]) : i32
// CHECK: %[[R64:.*]] = arith.extui %[[RANK]] : i32 to i64
// CHECK: %[[N:.*]] = arith.constant 32 : i64
// CHECK: %[[OFF:.*]] = arith.muli %[[R64]], %[[N]] : i64
// CHECK: tape.random_uniform offset %[[OFF]] {seed = 3 : i64} : tensor<4x8xf32>
tape.step @dropout(%x: tensor<4x8xf32>) -> tensor<4x8xf32> {
  %u = tape.random_uniform {seed = 3 : i64} : tensor<4x8xf32>
  %p = arith.constant dense<0.5> : tensor<4x8xf32>
  %keep = arith.cmpf oge, %u, %p : tensor<4x8xf32>
  %z = arith.constant dense<0.0> : tensor<4x8xf32>
  %y = arith.select %keep, %x, %z : tensor<4x8xi1>, tensor<4x8xf32>
  tape.return %y : tensor<4x8xf32>
}

// -----

// The seed's host-side update: the step returns the mean gradients (the
// same on every process), so the host's assignments from them are too.
// CHECK-LABEL: tape.step @train_step
// CHECK: shard.all_reduce
// CHECK-LABEL: func.func @host_iteration
// CHECK: tape.assign_sub
tape.variable @weight : tensor<f32> = dense<1.0>

tape.step @train_step(%x: tensor<f32>) -> (tensor<f32>, tensor<f32>) {
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %tape, %loss = tape.record {
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %l = arith.mulf %x, %wv : tensor<f32>
    tape.yield %l : tensor<f32>
  } : tensor<f32>
  %g = tape.gradient %tape (%loss : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
  tape.return %loss, %g : tensor<f32>, tensor<f32>
}

func.func @host_iteration() -> tensor<f32> {
  %x = arith.constant dense<2.0> : tensor<f32>
  %lr = arith.constant dense<0.01> : tensor<f32>
  %loss, %gw = tape.call @train_step(%x) : (tensor<f32>) -> (tensor<f32>, tensor<f32>)
  %w = tape.handle @weight : !tape.resource<tensor<f32>>
  %dw = arith.mulf %lr, %gw : tensor<f32>
  tape.assign_sub %w, %dw : !tape.resource<tensor<f32>>
  return %loss : tensor<f32>
}
