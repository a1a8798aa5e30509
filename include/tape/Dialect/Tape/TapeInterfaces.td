//===- TapeInterfaces.td - Interfaces of the tape dialect --*- tablegen -*-===//

#ifndef TAPE_DIALECT_TAPE_TAPEINTERFACES_TD
#define TAPE_DIALECT_TAPE_TAPEINTERFACES_TD

include "mlir/IR/OpBase.td"

//===----------------------------------------------------------------------===//
// DifferentiableOpInterface
//===----------------------------------------------------------------------===//

def Tape_DifferentiableOpInterface : OpInterface<"DifferentiableOpInterface"> {
  let cppNamespace = "::mlir::tape";
  let description = [{
    The reverse-mode differentiation rule of an op. `tape-differentiate`
    calls `buildAdjoints` while it walks a recording region backwards, with
    the builder placed where the backward code goes.

    Rules attach to upstream ops as external models (see
    `tape::registerDifferentiableOpInterfaceExternalModels`); users attach
    rules to their own ops the same way, without touching this project.
  }];
  let methods = [
    InterfaceMethod<[{
        Builds the adjoints (vector-Jacobian products) of the op's operands.

        `resultAdjoints[i]` is the adjoint of result `i`, or a null value
        when nothing downstream depends on that result (treat it as zero).
        `forwardOperands` and `forwardResults` are the values the rule may
        use from the forward pass (they are the op's own operands and results
        unless the driver re-materialised them). The rule appends one value
        per operand to `operandAdjoints`, each with the operand's type, or a
        null value when the operand gets no contribution (integers, indices,
        conditions). Returns failure after emitting an error when the op is
        not differentiable with the given types.
      }],
      "::llvm::LogicalResult", "buildAdjoints",
      (ins "::mlir::OpBuilder &":$builder,
           "::mlir::ValueRange":$forwardOperands,
           "::mlir::ValueRange":$forwardResults,
           "::llvm::ArrayRef<::mlir::Value>":$resultAdjoints,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$operandAdjoints)
    >,
    InterfaceMethod<[{
        Whether `buildAdjoints` covers this op. A rule may cover only some
        forms of an op (a rule for an op with indexing maps might take only
        some maps); for the
        others `tape-differentiate` uses its own handling of the op where it
        has one (every linalg structured op goes through its generic form).
      }],
      "bool", "hasAdjointRule", (ins), "", "return true;"
    >,
  ];
}

//===----------------------------------------------------------------------===//
// InitializerAttrInterface
//===----------------------------------------------------------------------===//

def Tape_InitializerAttrInterface : AttrInterface<"InitializerAttrInterface"> {
  let cppNamespace = "::mlir::tape";
  let description = [{
    An initial value of a `tape.variable` that is computed at compile time
    from a description (zeros, seeded random numbers) rather than spelled out
    as dense elements. Every backend materialises it through the same C++
    code, so the runner, the AOT object and the tests agree bit for bit.
  }];
  let methods = [
    InterfaceMethod<[{
        Checks that this initializer can produce a value of `type`.
      }],
      "::llvm::LogicalResult", "verifyForType",
      (ins "::mlir::RankedTensorType":$type,
           "::llvm::function_ref<::mlir::InFlightDiagnostic()>":$emitError)
    >,
    InterfaceMethod<[{
        Returns the initial value as dense elements of `type`.
      }],
      "::mlir::DenseElementsAttr", "materialize",
      (ins "::mlir::RankedTensorType":$type)
    >,
  ];
}

//===----------------------------------------------------------------------===//
// OptimizerAttrInterface
//===----------------------------------------------------------------------===//

def Tape_OptimizerAttrInterface : AttrInterface<"OptimizerAttrInterface"> {
  let cppNamespace = "::mlir::tape";
  let description = [{
    An optimizer for `tape.apply_gradients`: its slot variables
    (per-variable state such as momentum, or Adam's m and v) and the update
    it makes. `tape-materialize-optimizers` creates the slots as ordinary
    non-trainable variables named `<variable>__<slot>` (so checkpoints and
    the state layout contain them), reads them, calls `buildUpdate` and
    assigns the results: the update is written once, here, by the
    optimizer.
  }];
  let methods = [
    InterfaceMethod<[{
        Names of the per-variable slot variables, in the order
        `buildUpdate` takes and returns them, e.g. {"adam_m", "adam_v"}.
      }],
      "::llvm::SmallVector<::llvm::StringRef>", "getSlotNames", (ins)
    >,
    InterfaceMethod<[{
        Whether the optimizer keeps a step count (Adam's bias correction
        does): one non-trainable `tensor<i64>` slot per variable,
        incremented with every update of the variable.
      }],
      "bool", "needsStepCount", (ins)
    >,
    InterfaceMethod<[{
        The real-valued hyper-parameters by name (learning rate, betas,
        epsilon, decay), as written. `tape.apply_gradients` checks that
        each survives the conversion to the variables' element type: finite,
        and not rounded to zero when it is not zero.
      }],
      "::llvm::SmallVector<std::pair<::llvm::StringRef, ::llvm::APFloat>>",
      "getHyperParameters", (ins)
    >,
    InterfaceMethod<[{
        Builds one variable's update on tensors: from its current `value`,
        its `gradient`, its slots' current values (in `getSlotNames` order)
        and, when `needsStepCount`, the number of updates done before this
        one (`steps`, a `tensor<i64>`; null otherwise), and the learning
        rate when it is a value (`learningRate`, a rank-0 tensor of the
        variable's element type; null when the attribute's constant
        applies). Returns the variable's new value and appends the slots'
        new values to `newSlots`.
      }],
      "::mlir::Value", "buildUpdate",
      (ins "::mlir::OpBuilder &":$b, "::mlir::Location":$loc,
           "::mlir::Value":$value, "::mlir::Value":$gradient,
           "::mlir::ValueRange":$slots, "::mlir::Value":$steps,
           "::mlir::Value":$learningRate,
           "::llvm::SmallVectorImpl<::mlir::Value> &":$newSlots)
    >,
  ];
}

#endif // TAPE_DIALECT_TAPE_TAPEINTERFACES_TD
