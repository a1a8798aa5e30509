//===- Passes.td - Conversions to and from the tape dialect -*- tablegen -*-===//

#ifndef TAPE_CONVERSION_PASSES_TD
#define TAPE_CONVERSION_PASSES_TD

include "mlir/Pass/PassBase.td"

def ConvertTapeToMLProgram
    : Pass<"convert-tape-to-ml-program", "::mlir::ModuleOp"> {
  let summary = "Variables and their reads and assignments to ml_program";
  let description = [{
    Every `tape.variable` becomes a mutable `ml_program.global` with the
    same symbol, type and (materialised) initial value; a non-trainable
    variable keeps `tape.trainable = false` as an attribute so that the way
    back restores it. `tape.read` becomes `ml_program.global_load`,
    `tape.assign` `ml_program.global_store`, and `assign_add`/`assign_sub`
    a load, an add or subtract, and a store. Tapes and optimizer ops must
    be gone first (`tape-materialize-optimizers`, `tape-differentiate`).

    Example:

    ```mlir
    tape.variable @w : tensor<f32> = dense<1.0>
    ...
    %v = tape.read %h : !tape.resource<tensor<f32>>
    ```

    becomes

    ```mlir
    ml_program.global public mutable @w(dense<1.0> : tensor<f32>) : tensor<f32>
    ...
    %v = ml_program.global_load @w : tensor<f32>
    ```
  }];
  let dependentDialects = ["::mlir::ml_program::MLProgramDialect",
                           "::mlir::arith::ArithDialect"];
}

def ConvertMLProgramToTape
    : Pass<"convert-ml-program-to-tape", "::mlir::ModuleOp"> {
  let summary = "Mutable ml_program globals to tape variables";
  let description = [{
    Every mutable `ml_program.global` of a statically shaped integer or
    float tensor with an initial value becomes a `tape.variable` (trainable
    when its elements are floats, unless it carries
    `tape.trainable = false`); `ml_program.global_load` becomes
    `tape.handle` + `tape.read` and `ml_program.global_store`
    `tape.handle` + `tape.assign`. Immutable globals stay as they are.

    Example:

    ```mlir
    ml_program.global private mutable @w(dense<1.0> : tensor<f32>) : tensor<f32>
    %v = ml_program.global_load @w : tensor<f32>
    ```

    becomes

    ```mlir
    tape.variable private @w : tensor<f32> = dense<1.0>
    %h = tape.handle @w : !tape.resource<tensor<f32>>
    %v = tape.read %h : !tape.resource<tensor<f32>>
    ```
  }];
  let dependentDialects = ["::mlir::tape::TapeDialect"];
}

def VerifyTensorContract
    : Pass<"tape-verify-tensor-contract", "::mlir::ModuleOp"> {
  let summary = "Checks what the tensor stage hands to code generation";
  let description = [{
    The contract at the end of the tensor stage of `tape-to-llvm` (after
    `convert-tape-to-func`), which code generation and the ABI passes rely
    on; each violation is a located error:

    * no op of the tape dialect is left;
    * the module carries the state layout `tape.state`: one dictionary per
      variable with `name`, `type`, `trainable` and `initial_value`;
    * every function with a body is lifted (`tape.lifted = [inputs,
      outputs]`), has one block, takes the state types first and returns
      them first, and has as many further inputs and results as
      `tape.lifted` says.
  }];
}

def ConvertAllReduceToMPI
    : Pass<"convert-all-reduce-to-mpi", "::mlir::ModuleOp"> {
  let summary = "All-reduces over every process to mpi.allreduce on "
                "MPI_COMM_WORLD, before bufferization";
  let description = [{
    Each `shard.all_reduce` of a one-dimensional tensor over a grid with a
    single axis of dynamic size (every process of the job, as
    `tape-data-parallel` declares it) becomes

    ```mlir
    %send = bufferization.to_buffer %t read_only : tensor<Nxf32> to memref<Nxf32>
    %recv = memref.alloc() : memref<Nxf32>
    %world = mpi.comm_world : !mpi.comm
    mpi.allreduce(%send, %recv, MPI_SUM, %world) : memref<Nxf32>, memref<Nxf32>
    %sum = bufferization.to_tensor %recv restrict : memref<Nxf32> to tensor<Nxf32>
    ```

    with one `mpi.allreduce` per 2^31 - 1 elements (MPI counts in `int`).
    Both buffers have static sizes, so the workspace holds them
    (`tape-abi-allocate-workspace`): a step allocates nothing. The receive
    buffer is not the send buffer, since MPI forbids passing one buffer as
    both (OpenMPI fails the call with `MPI_ERR_BUFFER`). Upstream's
    `convert-shard-to-mpi` does pass one buffer as both, splits a new
    communicator at every call (a collective call per step, and a
    communicator that is never freed) and needs the number of processes at
    compile time, which is why this pass exists. A grid no op uses any
    more is erased. Other all-reduces (several axes, a static grid, a
    tensor of another rank) are located errors.
  }];
  let dependentDialects = ["::mlir::bufferization::BufferizationDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::mpi::MPIDialect"];
}

def ConvertMPIToLLVMCalls
    : Pass<"convert-mpi-to-llvm-calls", "::mlir::ModuleOp"> {
  let summary = "mpi ops to calls of an MPI library of the chosen ABI";
  let description = [{
    Upstream's patterns (`populateMPIToLLVMConversionPatterns`) turn
    `mpi.comm_world`, `mpi.comm_rank` and `mpi.allreduce` into calls of
    `MPI_Comm_rank` and `MPI_Allreduce` with the communicator, datatype
    and reduction handles of the ABI that the module's DLTI entry
    `"MPI:Implementation"` names; this pass sets that entry from its
    option first. With OpenMPI's ABI it then renames the reduction
    handles: LLVM 22's patterns refer to `ompi_mpi_sum` (`..._max`, ...),
    which OpenMPI does not define; its `mpi.h` spells `MPI_SUM`
    `&ompi_mpi_op_sum`, the symbol `libmpi.so.40` exports. Runs after
    `finalize-memref-to-llvm` (the patterns take memref descriptors).
  }];
  let options = [
    Option<"implementation", "implementation", "std::string",
           /*default=*/"\"OpenMPI\"",
           "The MPI library's ABI: 'OpenMPI' or 'MPICH' (also Intel MPI, "
           "MVAPICH)">
  ];
  let dependentDialects = ["::mlir::LLVM::LLVMDialect",
                           "::mlir::DLTIDialect"];
}

def ConvertTapeToFunc : Pass<"convert-tape-to-func", "::mlir::ModuleOp"> {
  let summary = "Turns variables into state passed to every function and "
                "steps into functions";
  let description = [{
    Runs after `tape-differentiate` and `tape-materialize-optimizers`. Every
    function (steps and host functions) gets one leading tensor argument per
    module variable, in declaration order, and returns their final values
    first: reads become the current value, assignments new values, and
    `tape.call` a `func.call` that passes the state along. A variable that
    a function assigns is returned through
    `bufferization.materialize_in_destination` into its argument, so that
    one-shot bufferization with function boundaries updates it in place and
    `drop-equivalent-buffer-results` removes the result: the compiled ABI is
    `(state buffers..., inputs..., outputs...)`, with no globals, so two
    instances of one model coexist in a process.

    `tape.step` becomes `func.func` with a `tape.step` unit attribute; the
    variables become the module attribute `tape.state`, an array of
    `{name, type, trainable}` dictionaries that gives the state layout.

    Assignments must be in the function's body block, not inside loops or
    branches (reads may be anywhere).

    Example:

    ```mlir
    tape.variable @w : tensor<f32> = dense<1.0>
    tape.step @s(%d: tensor<f32>) {
      %h = tape.handle @w : !tape.resource<tensor<f32>>
      tape.assign_sub %h, %d : !tape.resource<tensor<f32>>
      tape.return
    }
    ```

    becomes

    ```mlir
    func.func @s(%w: tensor<f32>, %d: tensor<f32>) -> tensor<f32> attributes {tape.step} {
      %0 = arith.subf %w, %d : tensor<f32>
      %1 = bufferization.materialize_in_destination %0 in %w : (tensor<f32>, tensor<f32>) -> tensor<f32>
      return %1 : tensor<f32>
    }
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::bufferization::BufferizationDialect",
                           "::mlir::func::FuncDialect"];
}

#endif // TAPE_CONVERSION_PASSES_TD
