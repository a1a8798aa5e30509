//===- Passes.td - Passes of the tape dialect --------------*- tablegen -*-===//

#ifndef TAPE_DIALECT_TAPE_PASSES_TD
#define TAPE_DIALECT_TAPE_PASSES_TD

include "mlir/Pass/PassBase.td"

def TapeDifferentiate : Pass<"tape-differentiate", "::mlir::ModuleOp"> {
  let summary = "Reverse-mode AD: replaces tapes and gradient requests with "
                "explicit backward code";
  let description = [{
    For every `tape.record`, inlines the recorded region in place (the
    forward pass runs exactly once) and replaces every `tape.gradient` on
    its tape with explicit backward code in upstream ops, built by walking
    the recorded ops in reverse and calling each op's
    `DifferentiableOpInterface` rule. Afterwards no tape op is left.

    * Only ops on a path from a source to a target need a rule; an op on
      such a path without one is an error that names it.
    * Non-differentiable ops (integer results, `tape.stop_gradient`) cut the
      path. A source that the targets do not depend on gets zeros and a
      warning that says why (not read in the region, or which op cut it).
    * Nested tapes are differentiated first, so a region that contains a
      gradient can itself be differentiated (second order).
    * The gradient of a non-scalar target, or of several targets, is the
      gradient of the sum of all their elements.

    Example:

    ```mlir
    %t, %l = tape.record {
      tape.watch %x : tensor<f32>
      %y = arith.mulf %x, %x : tensor<f32>
      tape.yield %y : tensor<f32>
    } : tensor<f32>
    %g = tape.gradient %t (%l : tensor<f32>) wrt (%x : tensor<f32>)
    ```

    becomes

    ```mlir
    %y = arith.mulf %x, %x : tensor<f32>
    %one = arith.constant dense<1.0> : tensor<f32>
    %a = arith.mulf %one, %x : tensor<f32>
    %b = arith.mulf %one, %x : tensor<f32>
    %g = arith.addf %a, %b : tensor<f32>
    ```
  }];
  let dependentDialects = [
    "::mlir::arith::ArithDialect",
    "::mlir::math::MathDialect",
    "::mlir::linalg::LinalgDialect",
    "::mlir::tensor::TensorDialect",
    "::mlir::scf::SCFDialect",
  ];
}

#endif // TAPE_DIALECT_TAPE_PASSES_TD
