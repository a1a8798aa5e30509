// RUN: tape-opt %s --finalize-memref-to-llvm --convert-mpi-to-llvm-calls | FileCheck --check-prefix=OMPI %s
// RUN: tape-opt %s --finalize-memref-to-llvm "--convert-mpi-to-llvm-calls=implementation=MPICH" | FileCheck --check-prefix=MPICH %s
// RUN: not tape-opt %s "--convert-mpi-to-llvm-calls=implementation=LAM" 2>&1 | FileCheck --check-prefix=BAD %s

// OpenMPI's ABI: handles are the addresses of OpenMPI's objects, with
// MPI_SUM spelled as OpenMPI's mpi.h spells it (ompi_mpi_op_sum; LLVM 22's
// patterns say ompi_mpi_sum, which libmpi does not define); the DLTI
// entry that chose the ABI is gone.
// OMPI-NOT: dlti
// OMPI-DAG: llvm.mlir.global external @ompi_mpi_op_sum()
// OMPI-DAG: llvm.mlir.global external @ompi_mpi_float()
// OMPI-DAG: llvm.mlir.global external @ompi_mpi_comm_world()
// OMPI-DAG: llvm.func @MPI_Allreduce(!llvm.ptr, !llvm.ptr, i32, !llvm.ptr, !llvm.ptr, !llvm.ptr) -> i32
// OMPI-DAG: llvm.func @MPI_Comm_rank(!llvm.ptr, !llvm.ptr) -> i32
// OMPI-NOT: @ompi_mpi_sum
// OMPI-LABEL: func.func @step
// OMPI: llvm.call @MPI_Comm_rank
// OMPI: %[[FLOAT:.*]] = llvm.mlir.addressof @ompi_mpi_float
// OMPI: %[[SUM:.*]] = llvm.mlir.addressof @ompi_mpi_op_sum
// OMPI: llvm.call @MPI_Allreduce(%{{.*}}, %{{.*}}, %{{.*}}, %[[FLOAT]], %[[SUM]], %{{.*}})
// OMPI-NOT: mpi.

// MPICH's ABI: integer handles (MPI_SUM 0x58000003, MPI_FLOAT 0x4c00040a,
// MPI_COMM_WORLD 0x44000000).
// MPICH-LABEL: func.func @step
// MPICH-DAG: llvm.mlir.constant(1476395011 : i32)
// MPICH-DAG: llvm.mlir.constant(1275069450 : i32)
// MPICH-DAG: llvm.mlir.constant(1140850688 : i64)
// MPICH: llvm.call @MPI_Allreduce
// MPICH-NOT: ompi

// BAD: unknown MPI ABI 'LAM' (OpenMPI or MPICH)
func.func @step(%send: memref<17xf32>, %recv: memref<17xf32>) -> i32 {
  %world = mpi.comm_world : !mpi.comm
  %rank = mpi.comm_rank(%world) : i32
  mpi.allreduce(%send, %recv, MPI_SUM, %world) : memref<17xf32>, memref<17xf32>
  return %rank : i32
}
