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
    "::mlir::affine::AffineDialect",
  ];
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
      one step count per optimizer, `@adam_iterations` (i64);
      `t = iterations + 1`,
      `alpha = learning_rate * sqrt(1 - beta2^t) / (1 - beta1^t)`,
      `m += (g - m) * (1 - beta1)`, `v += (g * g - v) * (1 - beta2)`,
      `w -= alpha * m / (sqrt(v) + epsilon)`.

    Slots are ordinary non-trainable `tape.variable`s initialised to zero,
    declared right after the variable they belong to, so checkpoints and
    the state layout include them.

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

def TapeLiftVariables : Pass<"tape-lift-variables", "::mlir::ModuleOp"> {
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

def TapeUpdateStateInPlace
    : Pass<"tape-update-state-in-place", "::mlir::ModuleOp"> {
  let summary = "After bufferization: variables are updated in their own "
                "buffers and no longer returned";
  let description = [{
    Runs after one-shot bufferization of a module produced by
    `tape-lift-variables` (functions marked `tape.lifted` take the state
    buffers first and return them first). Where bufferization updated a
    variable in place, the returned buffer is the argument itself and the
    result is simply dropped; otherwise the new value is copied into the
    argument before returning (with `report-copies`, a remark names the
    variable, since a copy of a weight per step is a performance bug).
    Callers use the buffers they passed instead of the dropped results.

    Example:

    ```mlir
    func.func @s(%w: memref<f32>, %d: memref<f32>) -> memref<f32> attributes {tape.lifted} {
      ...
      return %w : memref<f32>
    }
    ```

    becomes

    ```mlir
    func.func @s(%w: memref<f32>, %d: memref<f32>) attributes {tape.lifted} {
      ...
      return
    }
    ```
  }];
  let options = [
    Option<"reportCopies", "report-copies", "bool", /*default=*/"false",
           "Emit a remark for each variable that is copied, not updated in "
           "place">,
  ];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::linalg::LinalgDialect"];
}

def TapeAllocateWorkspace
    : Pass<"tape-allocate-workspace", "::mlir::ModuleOp"> {
  let summary = "Moves a step's fixed-size temporaries into a workspace "
                "buffer passed by the caller";
  let description = [{
    Runs after bufferization (and `buffer-results-to-out-params`), before
    deallocation is inserted. In every function lifted by
    `tape-lift-variables`, each `memref.alloc` of a static shape in the
    function's body block becomes a `memref.view` into a new last argument,
    `memref<N x i8>`, at a 64-byte aligned offset. Temporaries whose
    lifetimes do not overlap share bytes: a lifetime runs from the alloc to
    the last op of the body block that uses it or any view of it (a use in
    a loop or a branch counts as the whole loop or branch); offsets are
    first-fit in program order. Calls pass a view of the caller's workspace
    that follows its own temporaries. The function gets
    the attribute `tape.workspace_bytes = N`. The runtime allocates the
    workspace once per state, so a step does no heap allocation (only
    allocations inside loops or of dynamic size stay on the heap).

    Example:

    ```mlir
    func.func @s(%w: memref<4xf32>) attributes {tape.lifted} {
      %t = memref.alloc() : memref<4xf32>
      ...
    }
    ```

    becomes

    ```mlir
    func.func @s(%w: memref<4xf32>, %ws: memref<64xi8>) attributes {tape.lifted, tape.workspace_bytes = 64 : i64} {
      %c0 = arith.constant 0 : index
      %t = memref.view %ws[%c0][] : memref<64xi8> to memref<4xf32>
      ...
    }
    ```
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def TapeExpandStridedCopies
    : Pass<"tape-expand-strided-copies", "::mlir::ModuleOp"> {
  let summary = "Rewrites memref.copy between non-contiguous memrefs into "
                "linalg.copy";
  let description = [{
    `memref.copy` between memrefs with non-identity layouts lowers to a call
    of `memrefCopy` from MLIR's C runner utilities, a library that compiled
    steps should not need (neither the JIT nor an AOT object links it).
    This pass rewrites those copies into `linalg.copy`, which becomes loops
    like every other linalg op; contiguous copies stay `memref.copy` and
    become `memcpy`.

    Example:

    ```mlir
    memref.copy %a, %b : memref<2xf32, strided<[4]>> to memref<2xf32>
    ```

    becomes

    ```mlir
    linalg.copy ins(%a : memref<2xf32, strided<[4]>>) outs(%b : memref<2xf32>)
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TapeFoldTransposes
    : Pass<"tape-fold-transposes", "::mlir::func::FuncOp"> {
  let summary = "Folds linalg.transpose operands of matmuls into the "
                "matmul's indexing maps";
  let description = [{
    Reverse-mode AD differentiates `C = A B` into `dA = dC B^T` and
    `dB = A^T dC`, with each transpose a `linalg.transpose` that would be
    materialized as a copy. On tensors, a `linalg.matmul` or
    `linalg.batch_matmul` input produced by a `linalg.transpose` reads the
    transpose's input directly instead, through a permuted indexing map
    (MLIR's matmul with user-defined `indexing_maps`). The code generator
    (or the BLAS call, where enabled) then reads the untransposed data; the
    transpose disappears when it has no other use.

    Example:

    ```mlir
    %t = linalg.transpose ins(%w : tensor<256x10xf32>)
           outs(%e : tensor<10x256xf32>) permutation = [1, 0]
    %r = linalg.matmul ins(%d, %t : tensor<64x10xf32>, tensor<10x256xf32>)
           outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
    ```

    becomes

    ```mlir
    %r = linalg.matmul indexing_maps = [
           affine_map<(m, n, k) -> (m, k)>, affine_map<(m, n, k) -> (n, k)>,
           affine_map<(m, n, k) -> (m, n)>]
         ins(%d, %w : tensor<64x10xf32>, tensor<256x10xf32>)
         outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TapeCloneSharedFills
    : Pass<"tape-clone-shared-fills", "::mlir::func::FuncOp"> {
  let summary = "Gives every destination-style user of a shared "
                "`linalg.fill` its own fill";
  let description = [{
    CSE merges equal fills, such as the zero inits of several matmuls of the
    same shape. One-shot bufferization must then keep the filled buffer
    intact for every user but the last and copies it into each of the
    others' output buffers: a fill plus a copy per user, where each user
    needed only a fill. On tensors, after the last CSE, this pass clones a
    `linalg.fill` of a `tensor.empty` (both cloned) right before each use
    as a destination-style init beyond the first, so each user fills its
    own buffer, and the kernels that recognise a zero fill just before a
    matmul (`tape-pack-matmuls`, `tape-lower-matmul-to-blas`) can drop it.

    Example:

    ```mlir
    %e = tensor.empty() : tensor<64x256xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
    %a = linalg.matmul ins(%x, %w : ...) outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
    %b = linalg.matmul ins(%y, %v : ...) outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
    ```

    becomes

    ```mlir
    %e = tensor.empty() : tensor<64x256xf32>
    %z = linalg.fill ins(%zero : f32) outs(%e : tensor<64x256xf32>) -> tensor<64x256xf32>
    %a = linalg.matmul ins(%x, %w : ...) outs(%z : tensor<64x256xf32>) -> tensor<64x256xf32>
    %e1 = tensor.empty() : tensor<64x256xf32>
    %z1 = linalg.fill ins(%zero : f32) outs(%e1 : tensor<64x256xf32>) -> tensor<64x256xf32>
    %b = linalg.matmul ins(%y, %v : ...) outs(%z1 : tensor<64x256xf32>) -> tensor<64x256xf32>
    ```
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect",
                           "::mlir::tensor::TensorDialect"];
}

def TapeFuseElementwiseLoops
    : Pass<"tape-fuse-elementwise-loops", "::mlir::func::FuncOp"> {
  let summary = "Merges neighbouring elementwise loops on buffers into one";
  let description = [{
    Runs on buffers. Two `linalg.generic` ops in the same block, with only
    ops free of memory effects between them, both elementwise (all loops
    parallel, all indexing maps identities) over the same static domain,
    on whole buffers (function arguments or allocations with the identity
    layout, never views), become one generic with the union of their
    operands that does the first's computation and then the second's at
    each index; where the second reads a buffer the first writes, it uses
    the value just computed. This is always legal: iteration i of either op
    touches element i of its operands and nothing else. Chains merge into
    one loop.

    Upstream `linalg-fuse-elementwise-ops` runs earlier, on tensors, and
    fuses a producer into a consumer only when the consumer is its only
    user. Optimizer updates are not like that: Adam's `m`, `v` and `w`
    updates each write a state buffer and the last reads the first two, so
    they stay three loops that each stream their operands from memory. One
    loop reads `g`, `m`, `v` and `w` once and writes `m`, `v` and `w` once.

    Example:

    ```mlir
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
        ins(%m, %g : memref<1024xf32>, memref<1024xf32>) outs(%m : memref<1024xf32>) {...}
    linalg.generic {indexing_maps = [#id, #id, #id], iterator_types = ["parallel"]}
        ins(%w, %m : memref<1024xf32>, memref<1024xf32>) outs(%w : memref<1024xf32>) {...}
    ```

    becomes one `linalg.generic ins(%m, %g, %w) outs(%m, %w)` whose body
    computes the new `m`, then the new `w` from it, and yields both.
  }];
  let dependentDialects = ["::mlir::linalg::LinalgDialect"];
}

def TapeLowerMatmulToBlas
    : Pass<"tape-lower-matmul-to-blas", "::mlir::ModuleOp"> {
  let summary = "Replaces large f32 matmuls on buffers with calls to "
                "cblas_sgemm";
  let description = [{
    Runs on buffers, before `tape-vectorize`. A `linalg.matmul` on f32
    memrefs whose rows are contiguous (unit innermost stride), whose
    indexing maps are the default ones or transpose A and/or B (as
    `tape-fold-transposes` leaves them), and that does at least
    `min-flops` floating-point operations (2 M N K), with M and N at least
    `min-dimension` (narrower products are bound by memory, where sgemm's
    packing only adds traffic), becomes one call to
    the CBLAS function `cblas_sgemm` (row-major, transpose flags from the
    maps, leading dimensions from the strides). When the op just before
    it (ignoring ops without memory effects) fills the same output with
    zeros, the fill is dropped and the call uses `beta = 0`. With
    `fuse-updates`, a gradient matmul that only feeds a plain SGD update
    `w = w - c * g` becomes `sgemm(alpha = -c, beta = 1)` into `w` itself
    (the conditions are those of `tape-pack-matmuls`). The program
    must then be linked with a CBLAS library (OpenBLAS: `-lopenblas`);
    `tape-run --blas` loads it into the JIT.

    Example:

    ```mlir
    linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>)
                  outs(%c : memref<64x256xf32>)
    ```

    becomes (pointers from `memref.extract_aligned_pointer_as_index`)

    ```mlir
    func.call @cblas_sgemm(%row_major, %no_trans, %no_trans, %c64, %c256,
        %c784, %one, %pa, %c784, %pb, %c256, %one, %pc, %c256)
      : (i32, i32, i32, i32, i32, i32, f32, !llvm.ptr, i32, !llvm.ptr, i32,
         f32, !llvm.ptr, i32) -> ()
    ```
  }];
  let options = [
    Option<"minFlops", "min-flops", "int64_t", /*default=*/"1000000",
           "Smallest matmul (in 2 M N K flops) that becomes a BLAS call">,
    Option<"minDimension", "min-dimension", "int64_t", /*default=*/"16",
           "Smallest M and N of a matmul that becomes a BLAS call (narrower "
           "ones are matrix-vector products, bound by memory)">,
    Option<"fuseUpdates", "fuse-updates", "bool", /*default=*/"true",
           "Fold an SGD update of the matmul's result into the call "
           "(alpha = -lr, beta = 1, output = the weight)">,
  ];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def TapePackMatmuls : Pass<"tape-pack-matmuls", "::mlir::func::FuncOp"> {
  let summary = "Generates cache-blocked, packed register-tile code for "
                "large f32 matmuls on buffers";
  let description = [{
    Runs on buffers, before `tape-allocate-workspace`. A `linalg.matmul` on
    statically shaped f32 memrefs with default or transposed operand maps
    (as `tape-fold-transposes` leaves them), at least `mr` rows, `nr`
    columns and `min-flops` flops (2 M N K), becomes the loop nest of a
    GotoBLAS-style kernel:

    - for each `nc`-column block of B and `kc`-deep slice of K, the block
      of B is packed into `nr`-wide panels (contiguous, zero-padded);
    - for each `mc`-row block of A, that block is packed into `mr`-high
      panels;
    - an `mr x nr` register tile starts at zero while the matching tile of
      C and the next one down are prefetched, takes `kc` rank-1 updates (`vector.fma` of an
      element of the A panel broadcast from memory and a row of the B
      panel, all contiguous loads), and is then added to C (masked at the
      edges). When a zero fill of C comes just before the matmul, the fill
      is dropped and the first slice writes its tile without reading C.

    The packed panels make every load of the inner loop contiguous and keep
    the B panel in L1 and the A block in L2, which a register tile over the
    unpacked operands cannot (their rows are a whole row pitch apart). The
    two pack buffers are one `memref.alloc` each per function, sized for
    its largest matmul, so `tape-allocate-workspace` places them in the
    workspace. With `parallel`, the loop over column panels is an
    `scf.parallel` (threads share the packed A block; each writes its own
    columns of C), and so are the packing loops over panels of a block of
    at least 32768 elements (smaller ones do not pay for a fork and join). Transposed operands are transposed while packing. Smaller or
    narrower matmuls are left to `tape-vectorize`.

    With `fuse-updates`, a matmul whose result is a fresh, zero-filled
    gradient buffer read only by an in-place update `w = w - c * g` (plain
    SGD; also `w + c * g` and `w -/+ g`) accumulates `-c * A B` directly
    into `w`, the way a hand-written step calls sgemm with `beta = 1`: the
    gradient buffer, its fill and the update loop are erased. This holds
    only when the matmul's operands are not views of `w` and nothing between
    the matmul and the update uses `w`. Each `kc` slice then adds its
    partial products to `w` (scaled by `-c`), so the rounding differs from
    the unfused form by the order of additions only.

    Example:

    ```mlir
    linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>)
                  outs(%c : memref<64x256xf32>)
    ```

    becomes `scf.for` loops over column blocks, K slices and row blocks
    (packing into `memref<..x128x32xf32>` and `memref<..x128x8xf32>`
    panels) around an inner loop of 8 `vector.fma` on `vector<32xf32>`.
  }];
  let options = [
    Option<"mr", "mr", "int64_t", /*default=*/"8",
           "Rows of the register tile">,
    Option<"nr", "nr", "int64_t", /*default=*/"32",
           "Columns of the register tile (a multiple of the vector width)">,
    Option<"mc", "mc", "int64_t", /*default=*/"256",
           "Rows of A per packed block (a multiple of mr)">,
    Option<"kc", "kc", "int64_t", /*default=*/"256",
           "Depth of a packed slice">,
    Option<"nc", "nc", "int64_t", /*default=*/"1024",
           "Columns of B per packed block (a multiple of nr)">,
    Option<"minFlops", "min-flops", "int64_t", /*default=*/"262144",
           "Smallest matmul (2 M N K) that gets packed">,
    Option<"parallel", "parallel", "bool", /*default=*/"false",
           "Loop over the column panels with scf.parallel (threads, once "
           "convert-scf-to-openmp runs)">,
    Option<"fuseUpdates", "fuse-updates", "bool", /*default=*/"true",
           "Accumulate a gradient matmul straight into the weight an SGD "
           "update of the form w = w - c * dW writes">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def TapeCheckNumerics : Pass<"tape-check-numerics", "::mlir::ModuleOp"> {
  let summary = "Instruments compiled code to report the first op that "
                "produces a NaN or an infinity";
  let description = [{
    The counterpart of `tf.debugging.enable_check_numerics`, for compiled
    steps. Runs on buffers, after bufferization. After every linalg op that
    computes (not `linalg.fill`, `copy`, `transpose` or `broadcast`, which
    only move values) into a contiguous f32 or f64 memref, and after every
    arith or math op with a scalar float result outside linalg bodies, it
    calls a checker with the data and a site number:

    ```mlir
    func.func private @__tape_check_numerics_f32(!llvm.ptr, i64, i32)
    func.func private @__tape_check_scalar_f32(f32, i32)
    ```

    (and `_f64` variants). The module attribute `tape.numerics_sites` lists,
    per site, the op's name and source location, so that the runtime can
    say which op produced the first non-finite value: `tape-run
    --check-numerics` and the C/C++ API (`CompileOptions::checkNumerics`)
    then fail the call with that message. The pipeline turns elementwise
    fusion off when this is on, so that every op is checked where it is.

    Example:

    ```mlir
    linalg.generic ... ins(%x : memref<64xf32>) outs(%y : memref<64xf32>)
        { ... math.log ... }   // loc("mlp.mlir":34:5)
    ```

    gets, right after it,

    ```mlir
    func.call @__tape_check_numerics_f32(%py, %c64, %c3)
      : (!llvm.ptr, i64, i32) -> ()
    ```
  }];
  let dependentDialects = ["::mlir::func::FuncDialect",
                           "::mlir::arith::ArithDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::LLVM::LLVMDialect"];
}

def TapeMatvecKernels
    : Pass<"tape-matvec-kernels", "::mlir::func::FuncOp"> {
  let summary = "Vectorized kernels for matrix-vector products (matmuls "
                "with one output column)";
  let description = [{
    Runs on buffers, before `tape-vectorize`, whose register tiles over m
    and n degenerate to scalar FMAs when n is 1 (`x @ w` with one output,
    and its weight gradient `x^T @ dz`). A `linalg.matmul` on statically
    shaped f32 memrefs with N = 1 becomes:

    - A stored M x K (dot products): `rows` rows at a time, each with a
      `lanes`-wide accumulator over contiguous runs of its row (the last run
      masked), reduced horizontally at the end and added to C;
    - A stored K x M (`tape-fold-transposes` left the transpose in the
      maps): `4 x lanes` outputs at a time, accumulating broadcast vector
      elements times contiguous runs of A's rows (masked at the edge).

    Both read A, the large operand, once and contiguously: these products
    are bound by memory, not arithmetic. Sums are reassociated across the
    lanes of a vector (the dot-product form), so results differ from the
    plain loops in the last bits.

    Example:

    ```mlir
    linalg.matmul ins(%x, %w : memref<1024x1000xf32>, memref<1000x1xf32>)
                  outs(%z : memref<1024x1xf32>)
    ```

    becomes a loop over 4-row blocks around a loop over 125 runs of 8
    columns, 4 `vector.fma` each, then 4 `vector.reduction <add>`. With
    `parallel`, the loop over blocks of output rows (both forms) is an
    `scf.parallel`: each block writes its own rows of C.
  }];
  let options = [
    Option<"lanes", "lanes", "int64_t", /*default=*/"8",
           "Elements per vector">,
    Option<"rows", "rows", "int64_t", /*default=*/"4",
           "Rows per block in the dot-product form">,
    Option<"parallel", "parallel", "bool", /*default=*/"false",
           "Loop over blocks of output rows with scf.parallel (threads, "
           "once convert-scf-to-openmp runs)">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::arith::ArithDialect"];
}

def TapeVectorize : Pass<"tape-vectorize", "::mlir::func::FuncOp"> {
  let summary = "Tiles statically shaped linalg ops into register-sized "
                "tiles and vectorizes them";
  let description = [{
    Runs on buffers, after bufferization (so that tiles of in-place
    updates need no analysis). Contractions (matmul, batched
    matmul) are tiled to `m x n x 1` register blocks (`m` up to
    `contraction-m`, `n` up to `contraction-n`, largest divisors of the
    static sizes, so every tile is full) and vectorized to `vector.contract`,
    which later lowers to outer products (FMAs). Every other linalg op is
    tiled to one vector along its innermost dimension (up to
    `vector-width` elements) and vectorized. Ops with dynamic shapes or
    rank 0 stay as they are. `tape-hoist-vector-transfers` then keeps the
    accumulators of the reduction loops in registers.

    With `threads` above 1, an op whose loops are all parallel (elementwise
    ops, an optimizer's fused update, fills, broadcasts) and that has at
    least `min-parallel-elements` elements is first cut along its outermost
    dimension into `threads` blocks (the largest divisor of that dimension
    not above its share), iterated by an `scf.parallel` that
    `convert-scf-to-openmp` turns into a worksharing loop; each block is
    then tiled and vectorized as above.

    Example:

    ```mlir
    linalg.matmul ins(%a, %b : memref<64x784xf32>, memref<784x256xf32>)
                  outs(%c : memref<64x256xf32>)
    ```

    becomes loops over 8x32 tiles of `vector.contract` on
    `vector<8x1xf32>`, `vector<1x32xf32>` into `vector<8x32xf32>`.
  }];
  let options = [
    Option<"contractionM", "contraction-m", "int64_t", /*default=*/"8",
           "Rows of a contraction's register tile (at most)">,
    Option<"contractionN", "contraction-n", "int64_t", /*default=*/"32",
           "Columns of a contraction's register tile (at most)">,
    Option<"vectorWidth", "vector-width", "int64_t", /*default=*/"16",
           "Elements per vector for the other ops (at most)">,
    Option<"threads", "threads", "int64_t", /*default=*/"1",
           "Threads to spread large elementwise ops over (scf.parallel)">,
    Option<"minParallelElements", "min-parallel-elements", "int64_t",
           /*default=*/"65536",
           "Smallest elementwise op (in elements) that is spread over "
           "threads">,
  ];
  let dependentDialects = ["::mlir::scf::SCFDialect",
                           "::mlir::vector::VectorDialect",
                           "::mlir::memref::MemRefDialect",
                           "::mlir::affine::AffineDialect"];
}

def TapeHoistVectorTransfers
    : Pass<"tape-hoist-vector-transfers", "::mlir::func::FuncOp"> {
  let summary = "Keeps loop-carried vector accumulators in registers";
  let description = [{
    After bufferization, moves matching `vector.transfer_read`/`write`
    pairs on loop-invariant buffers out of loops (upstream
    `linalg::hoistRedundantVectorTransfers`), so a tiled contraction
    accumulates in registers instead of reloading its tile every step.

    Example: a `scf.for` over `k` whose body reads the `8x32` accumulator,
    adds an outer product and writes it back becomes a loop that carries
    the accumulator as a `vector<8x32xf32>` iter_arg.
  }];
  let dependentDialects = ["::mlir::vector::VectorDialect"];
}

#endif // TAPE_DIALECT_TAPE_PASSES_TD
