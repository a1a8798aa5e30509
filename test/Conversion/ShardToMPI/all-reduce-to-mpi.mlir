// RUN: tape-opt %s --convert-all-reduce-to-mpi --split-input-file | FileCheck %s

// An all-reduce over every process: the tensor's buffer is sent, a buffer
// of its own receives (MPI forbids one buffer as both), on
// MPI_COMM_WORLD; the grid goes when nothing uses it.
// CHECK-NOT: shard.grid
// CHECK-LABEL: func.func @sum
// CHECK-SAME: (%[[T:.*]]: tensor<17xf32>)
// CHECK: %[[SEND:.*]] = bufferization.to_buffer %[[T]] read_only : tensor<17xf32> to memref<17xf32>
// CHECK: %[[RECV:.*]] = memref.alloc() : memref<17xf32>
// CHECK: %[[WORLD:.*]] = mpi.comm_world : !mpi.comm
// CHECK: mpi.allreduce(%[[SEND]], %[[RECV]], MPI_SUM, %[[WORLD]]) : memref<17xf32>, memref<17xf32>
// CHECK: %[[R:.*]] = bufferization.to_tensor %[[RECV]] restrict writable : memref<17xf32> to tensor<17xf32>
// CHECK: return %[[R]]
shard.grid @all(shape = ?)
func.func @sum(%t: tensor<17xf32>) -> tensor<17xf32> {
  %r = shard.all_reduce %t on @all grid_axes = [0] reduction = sum : tensor<17xf32> -> tensor<17xf32>
  return %r : tensor<17xf32>
}

// -----

// MPI counts in an int: 2^31 + 4 elements take two calls on subviews.
// CHECK-LABEL: func.func @huge
// CHECK: %[[A:.*]] = memref.subview %{{.*}}[0] [2147483647] [1]
// CHECK: %[[B:.*]] = memref.subview %{{.*}}[0] [2147483647] [1]
// CHECK: mpi.allreduce(%[[A]], %[[B]], MPI_MAX
// CHECK: %[[C:.*]] = memref.subview %{{.*}}[2147483647] [5] [1]
// CHECK: %[[D:.*]] = memref.subview %{{.*}}[2147483647] [5] [1]
// CHECK: mpi.allreduce(%[[C]], %[[D]], MPI_MAX
// CHECK-NOT: mpi.allreduce
shard.grid @all(shape = ?)
func.func @huge(%t: tensor<2147483652xf64>) -> tensor<2147483652xf64> {
  %r = shard.all_reduce %t on @all grid_axes = [0] reduction = max : tensor<2147483652xf64> -> tensor<2147483652xf64>
  return %r : tensor<2147483652xf64>
}
