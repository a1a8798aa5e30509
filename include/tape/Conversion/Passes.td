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

#endif // TAPE_CONVERSION_PASSES_TD
