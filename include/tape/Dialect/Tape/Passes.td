//===- Passes.td - Passes of the tape dialect --------------*- tablegen -*-===//

#ifndef TAPE_DIALECT_TAPE_PASSES_TD
#define TAPE_DIALECT_TAPE_PASSES_TD

include "mlir/Pass/PassBase.td"

def TapeVerifySizes : Pass<"tape-verify-sizes", "::mlir::ModuleOp"> {
  let summary = "Refuses statically shaped types too large to allocate";
  let description = [{
    The pipeline's input contract on sizes, checked before any pass or the
    runtime computes one: every statically shaped type in the module (of a
    value, a block argument, or inside an attribute such as a variable's
    type or a function's signature) has an element count and a byte size
    that fit in 64 bits and at most 2^47 bytes (128 TiB, what a process
    can address on x86-64). Otherwise: a located error naming the type and
    its size. Sizes the compiler and the runtime derive later from these
    types cannot overflow.
  }];
}

def TapeDataParallel : Pass<"tape-data-parallel", "::mlir::ModuleOp"> {
  let summary = "Makes train steps data-parallel: gradients averaged over "
                "the processes inside the step, one all-reduce per gradient "
                "request";
  let description = [{
    Every process (MPI rank) runs the same step on its own batch; this pass
    makes them apply the same update, so that the variables stay
    bit-identical on all of them:

    * after each `tape.gradient`, the gradients of its variables (resource
      sources) are packed into one flat buffer per element type, with the
      step's rank-dependent scalar float results that are computed before
      it (the loss) and a count element `1`; one `shard.all_reduce` (sum)
      over `@tape_processes`, a one-axis grid as large as the job, adds
      the buffers of all processes; each gradient becomes its slice
      divided by the summed count `N`. The mean gradient of equal-sized
      batches is the gradient of the mean loss over the global batch, so
      N processes at batch B compute what one computes at batch N B (up to
      the order of float additions). Every use of a gradient (an
      optimizer, clipping, a returned gradient) sees the mean. Gradients
      with respect to watched tensors stay the process's own;
    * the step's other rank-dependent scalar float results get one more
      all-reduce before the return: every scalar float result of a step is
      the mean over the processes (the loss of the global batch);
      non-scalar results (predictions) stay the process's own;
    * each `tape.random_uniform` gets the offset `rank * n` (`n` its
      element count, the rank from `mpi.comm_rank`): a dropout mask of
      shape `[B, ...]` on rank `k` is rows `k B` to `(k + 1) B - 1` of the
      single-process mask at batch N B, so masks differ per process and
      the run equals the single-process one;
    * every value written to a variable (`tape.assign*`, the gradients of
      `tape.apply_gradients`), in steps and host functions, must be the
      same on every process: computed from variables, constants and mean
      gradients, not from the function's inputs, a raw gradient or a
      random draw. Otherwise the variables would drift apart: an error
      naming the variable, with a note at the process-dependent value;
    * every all-reduce, and every call of a function that runs one, must
      run on all processes together: one under an `scf` condition or trip
      count that may differ between processes is an error (the others
      would wait for it forever).

    Initial values are the module's (the same everywhere); the runtime
    (`tape-run` under `mpirun`) gives each process its rows and checks
    that the processes' variables agree. `convert-all-reduce-to-mpi`
    lowers the all-reduces before bufferization.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::mpi::MPIDialect",
                           "::mlir::shard::ShardDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TapeMaterializeOptimizers
    : Pass<"tape-materialize-optimizers", "::mlir::ModuleOp"> {
  let summary = "Rewrites tape.apply_gradients into reads, arithmetic and "
                "assignments, with slot variables for stateful optimizers";
  let description = [{
    Each `tape.apply_gradients` becomes ordinary variable updates in place:

    * SGD: `w -= learning_rate * g`;
    * momentum (Keras' SGD with momentum): slot `@<w>__momentum`,
      `v = momentum * v - learning_rate * g`, then `w += v`, or with
      Nesterov `w += momentum * v - learning_rate * g`;
    * Adam (Keras' formulation): slots `@<w>__adam_m`, `@<w>__adam_v` and
      the variable's step count `@<w>__adam_step` (i64, per variable as
      torch.optim keeps `state["step"]`, so two updates of one variable
      advance its moments and its count together); `t = step + 1`,
      `alpha = learning_rate * sqrt(1 - beta2^t) / (1 - beta1^t)`,
      `m += (g - m) * (1 - beta1)`, `v += (g * g - v) * (1 - beta2)`,
      `w -= alpha * m / (sqrt(v) + epsilon)`.

    Slots are ordinary non-trainable `tape.variable`s initialised to zero,
    declared right after the variable they belong to, so checkpoints and
    the state layout include them.

    `tape.clip_by_global_norm` becomes per-gradient sums of squares, the
    global norm and one scaling per gradient, as PyTorch's
    `clip_grad_norm_` computes them.

    Example:

    ```mlir
    tape.apply_gradients #tape.sgd<learning_rate = 0.01> (%g : tensor<f32>) to (%w : !tape.resource<tensor<f32>>)
    ```

    becomes

    ```mlir
    %lr = arith.constant dense<0.01> : tensor<f32>
    %d = arith.mulf %lr, %g : tensor<f32>
    tape.assign_sub %w, %d : !tape.resource<tensor<f32>>
    ```
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::math::MathDialect", "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TapeMaterializeRandom
    : Pass<"tape-materialize-random", "::mlir::ModuleOp"> {
  let summary = "Lowers tape.random_uniform to Philox4x32-10 in a "
                "linalg.generic keyed by a step-count variable";
  let description = [{
    A step that draws random numbers gets a non-trainable i64 variable,
    `@<step>__random_steps`, initialised to zero, read once at the step's
    entry and incremented by one before each `tape.return`. Each
    `tape.random_uniform` becomes a `linalg.generic` that computes, per
    element, Philox4x32-10 of (linear index + the op's `offset`, if any,
    step count) under the key `seed` (the formula is in the op's
    description); the round keys are
    constants, since the seed is. Being a variable, the step count is in
    checkpoints and the state layout, so a resumed run draws the same
    values an uninterrupted one would.
  }];
  let dependentDialects = ["::mlir::arith::ArithDialect",
                           "::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TapePrepareRecordings : Pass<"tape-prepare-recordings", "::mlir::ModuleOp"> {
  let summary = "Puts recording regions in the form reverse-mode AD expects";
  let description = [{
    Runs before `tape-verify-assignments` and `tape-differentiate` (which
    also runs it first, so that it is sound on its own):

    * calls (`func.call`, `tape.call`) inside a recording region are
      inlined, repeatedly, up to 64 levels: the tape records the ops a call
      runs, as TensorFlow's tape records the ops a Python function runs, so
      a variable read in a callee is a read on the tape. A callee with
      several blocks is an error; a callee without a body stays a call,
      and `tape-differentiate` names it if it is on a gradient path;
    * a variable read inside a loop, a branch or a linalg body moves in
      front of the top-level op of the region that contains it, when
      nothing in that op assigns the variable: it reads the same value
      there, once, and the backward code uses the value the forward pass
      read.
  }];
}

def TapeVerifyAssignments : Pass<"tape-verify-assignments", "::mlir::ModuleOp"> {
  let summary = "Proves that variable updates stay in-graph and diagnoses "
                "the hazards that lose or disconnect them";
  let description = [{
    Runs on tape-level IR (before `tape-differentiate`) and reports, each
    with a precise location, a note on the related op and a fix:

    * **lost update** (error): a value computed from a read of a variable
      and that variable's gradient (`w - lr * g`) that is never assigned
      back to it, the Python rebinding `w = w - lr * g`; also when it is
      only returned or passed to a call;
    * **host-side update** (warning; error with `strict`): a step returns
      a gradient and host code assigns the variable from it. It works
      (the next call reads the new value) but the update is not compiled
      with the step, not fused, and costs a round trip;
    * **disconnected gradient** (warning; error with `strict`): a gradient
      source the targets do not depend on, with the reason: the variable is
      read only before or outside the recording region, never read, or the
      path goes through a non-differentiable op or a call (named); when no
      source is connected, TensorFlow's "No gradients provided for any
      variable";
    * **assignment to something that is not a variable** (error): a
      resource that does not come from `tape.handle`;
    * **overwritten assignment** (warning): two `tape.assign` to one
      variable in a step with no read in between, so the first is lost;
    * **read after assign in a tape** (warning): a recording region reads
      a variable after assigning it, so its gradient mixes the old and the
      new value.

    Declaring a variable inside a step and assigning a value of the wrong
    type are rejected by the op verifiers already.

    With `report=text` or `report=json` it also prints, per step, every
    variable it touches: where it is read (inside a tape or not), where it
    is written (in the step or in host code), and whether each gradient
    request reaches it. `lint-hyperparameters` warns about optimizer
    hyper-parameters baked into the step as constants.

    Example:

    ```mlir
    %g = tape.gradient %t (%loss : tensor<f32>) wrt (%w : !tape.resource<tensor<f32>>)
    %wv = tape.read %w : !tape.resource<tensor<f32>>
    %step = arith.mulf %lr, %g : tensor<f32>
    // error: the updated value of @w is never assigned back to it
    %new = arith.subf %wv, %step : tensor<f32>
    ```
  }];
  let options = [
    Option<"strict", "strict", "bool", /*default=*/"false",
           "Report host-side updates and disconnected gradients as errors">,
    Option<"report", "report", "std::string", /*default=*/"\"\"",
           "Print a per-step variable report: 'text' or 'json'">,
    Option<"reportFile", "report-file", "std::string", /*default=*/"\"-\"",
           "File for the report ('-' is standard output)">,
    Option<"lintHyperparameters", "lint-hyperparameters", "bool",
           /*default=*/"false",
           "Warn about optimizer hyper-parameters that are compile-time "
           "constants (a learning rate that can never change)">,
  ];
}

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
    "::mlir::affine::AffineDialect",
  ];
}

#endif // TAPE_DIALECT_TAPE_PASSES_TD
