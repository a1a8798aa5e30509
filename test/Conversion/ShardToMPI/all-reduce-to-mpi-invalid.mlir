// RUN: tape-opt %s --convert-all-reduce-to-mpi --split-input-file -verify-diagnostics

// A grid of a known size is a subset of the processes, which one MPI
// call on MPI_COMM_WORLD cannot reduce over.
shard.grid @four(shape = 4)
func.func @static(%t: tensor<8xf32>) -> tensor<8xf32> {
  // expected-error @+1 {{'shard.all_reduce' op over the grid @four cannot become one MPI all-reduce: only a grid of one axis of dynamic size (every process of the job) reduced along that axis can}}
  %r = shard.all_reduce %t on @four grid_axes = [0] : tensor<8xf32> -> tensor<8xf32>
  return %r : tensor<8xf32>
}

// -----

shard.grid @all(shape = ?)
func.func @matrix(%t: tensor<2x4xf32>) -> tensor<2x4xf32> {
  // expected-error @+1 {{'shard.all_reduce' op cannot become an MPI all-reduce: it must map a one-dimensional tensor of static size to one of the same type}}
  %r = shard.all_reduce %t on @all grid_axes = [0] : tensor<2x4xf32> -> tensor<2x4xf32>
  return %r : tensor<2x4xf32>
}

// -----

shard.grid @all(shape = ?)
func.func @bitwise(%t: tensor<8xi32>) -> tensor<8xi32> {
  // expected-error @+1 {{'shard.all_reduce' op has a reduction MPI has no operation for: bitwise_or}}
  %r = shard.all_reduce %t on @all grid_axes = [0] reduction = bitwise_or : tensor<8xi32> -> tensor<8xi32>
  return %r : tensor<8xi32>
}
