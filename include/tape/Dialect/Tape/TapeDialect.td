//===- TapeDialect.td - The tape dialect -------------------*- tablegen -*-===//
//
// The `tape` dialect models a machine-learning train step: variables as
// resources, a gradient tape that records a region, gradient requests and
// optimizer updates. Forward math stays in upstream dialects.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_DIALECT_TAPE_TAPEDIALECT_TD
#define TAPE_DIALECT_TAPE_TAPEDIALECT_TD

include "mlir/IR/OpBase.td"

def Tape_Dialect : Dialect {
  let name = "tape";
  let cppNamespace = "::mlir::tape";
  let summary = "Train steps: variables, gradient tapes and optimizer updates";
  let description = [{
    The `tape` dialect describes a whole train step the way TensorFlow's
    `tf.function` + `tf.GradientTape` does, so that it can be compiled to
    native code in one piece:

    * `tape.variable` declares named, typed, initialised state that lives
      across calls of a step. Code refers to it through a `!tape.resource`
      handle (`tape.handle`) and reads or assigns it (`tape.read`,
      `tape.assign`, `tape.assign_add`, `tape.assign_sub`). A read sees every
      assignment made before it in program order, inside the step or in host
      code between two calls: nothing is captured by value.
    * `tape.record` is the gradient tape: ops in its region are recorded and
      `tape.gradient` asks for the derivative of the region's targets with
      respect to variables or watched tensors (`tape.watch`).
      `tape.stop_gradient` cuts a path.
    * `tape.step` marks a function that is compiled whole (the analogue of
      `@tf.function`); host code is ordinary `func.func` and calls a step
      with `tape.call`.
    * `tape.apply_gradients` applies an optimizer (`#tape.sgd`,
      `#tape.momentum`, `#tape.adam`) to variables.

    Forward math is written in upstream dialects (arith, math, linalg,
    tensor); the differentiation rules attach to them as external models of
    `DifferentiableOpInterface`.

    `tape.name` (a non-empty string) on an argument or a result of a
    `tape.step` or `func.func` names that input or output for the
    embedding APIs (the C API's `tapeModelGetFunctionInputName`); without
    it an input is named by its SSA name in the source text (`%x` is "x").

    Once a module leaves the dialect (`convert-tape-to-func`), these
    attributes carry what the step ABI needs down the pipeline:

    * `tape.state` (module): the state layout, one
      `{name, type, trainable, initial_value}` dictionary per variable in
      argument order;
    * `tape.step` (function): the function was a `tape.step`;
    * `tape.lifted` (function): the function takes the state first; the
      value is the number of inputs and outputs of its own signature
      (`[inputs, outputs]`), which the ABI verifier checks against;
    * `tape.workspace_bytes` (function): the size of the workspace the
      caller passes last (`tape-abi-allocate-workspace`);
    * `tape.numerics_sites` (module): with `tape-abi-check-numerics`, what
      each checked site is, for the runtime's messages.
  }];
  let discardableAttrs = (ins
    "::mlir::ArrayAttr":$state,
    "::mlir::UnitAttr":$step,
    "::mlir::DenseI64ArrayAttr":$lifted,
    "::mlir::IntegerAttr":$workspace_bytes,
    "::mlir::ArrayAttr":$numerics_sites,
    "::mlir::StringAttr":$name
  );
  let hasRegionArgAttrVerify = 1;
  let hasRegionResultAttrVerify = 1;
  let useDefaultTypePrinterParser = 1;
  let useDefaultAttributePrinterParser = 1;
  let hasConstantMaterializer = 0;
  let dependentDialects = ["::mlir::func::FuncDialect"];
  let extraClassDeclaration = [{
    void registerTypes();
    void registerAttributes();
  }];
}

class Tape_Op<string mnemonic, list<Trait> traits = []>
    : Op<Tape_Dialect, mnemonic, traits>;

#endif // TAPE_DIALECT_TAPE_TAPEDIALECT_TD
