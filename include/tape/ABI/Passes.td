//===- Passes.td - Passes that make the step ABI -*- tablegen -*-===//
//
// After bufferization: the passes that give a compiled step its calling
// convention (state buffers updated in place, a caller-provided workspace,
// numerics checks reported to the runtime), and its verifier. Every name
// starts with `tape-abi-`.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_ABI_PASSES_TD
#define TAPE_ABI_PASSES_TD

include "mlir/Pass/PassBase.td"

def UpdateStateInPlace
    : Pass<"tape-abi-update-state-in-place", "::mlir::ModuleOp"> {
  let summary = "After bufferization: variables are updated in their own "
                "buffers and no longer returned";
  let description = [{
    Runs after one-shot bufferization of a module produced by
    `convert-tape-to-func` (functions marked `tape.lifted` take the state
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

def AllocateWorkspace
    : Pass<"tape-abi-allocate-workspace", "::mlir::ModuleOp"> {
  let summary = "Moves a step's fixed-size temporaries into a workspace "
                "buffer passed by the caller";
  let description = [{
    Runs after bufferization (and `buffer-results-to-out-params`), before
    deallocation is inserted: a `memref.dealloc` in a lifted function is an
    error, since the workspace belongs to the caller. In every function lifted by
    `convert-tape-to-func`, each `memref.alloc` of a static shape in the
    function's body block becomes a `memref.view` into a new last argument,
    `memref<N x i8>`, at a 64-byte aligned offset. Temporaries whose
    lifetimes do not overlap share bytes: a lifetime runs from the alloc to
    the last op of the body block that uses it or any view of it (a use in
    a loop or a branch counts as the whole loop or branch); offsets are
    first-fit in program order. Calls pass a view of the caller's workspace
    that follows its own temporaries. The function gets
    the attribute `tape.workspace_bytes = N`. The runtime allocates the
    workspace once per state, so a step does no heap allocation.

    Allocations in branches and sequential loops are expected hoisted
    before (upstream `buffer-hoisting`, `buffer-loop-hoisting`), except a
    buffer that an `scf.for` at the top level yields to its next iteration:
    it becomes two buffers, and each iteration writes the one its
    loop-carried argument is not (`arith.select` on the aligned pointers),
    provided that argument is not yielded too. A parallel loop's scratch
    (a thread's im2col columns and pack buffers) arrives as one buffer
    before the loop with a slot per iteration (`tape-cpu-privatize-buffers`).
    What stays on the heap: dynamic shapes, buffers in parallel loops that
    are not statically shaped or whose loop has dynamic bounds, and
    loop-carried buffers of nested loops.

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

def CheckNumerics : Pass<"tape-abi-check-numerics", "::mlir::ModuleOp"> {
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

def EmptyArguments : Pass<"tape-abi-empty-arguments", "::mlir::ModuleOp"> {
  let summary = "Passes arguments without elements as one-dimensional "
                "memrefs, which the bare-pointer convention accepts";
  let description = [{
    A tensor with no elements (a dimension of size 0: a matmul whose
    reduction is empty, an empty batch) is a valid input, state or output
    of a step, but upstream's bare-pointer calling convention refuses some
    such memref types (`memref<2x0xf32>`: its strides cannot be derived),
    and then lowers the whole function with memref descriptors, which
    breaks the step's ABI. No element of such an argument is ever read or
    written, so in every function with a body each argument whose static
    shape has no elements takes the type `memref<0xT>`; its uses get an
    empty `memref.alloca` of the original type, and calls pass an empty
    `memref.alloca` where the callee's argument changed. The caller still
    passes a pointer for it, as the ABI says.
  }];
  let dependentDialects = ["::mlir::memref::MemRefDialect"];
}

def VerifyABI : Pass<"tape-abi-verify", "::mlir::ModuleOp"> {
  let summary = "Checks the calling convention of the compiled steps";
  let description = [{
    The contract at the end of `tape-to-llvm`, which the JIT runtime, the
    AOT header and the C API rely on; each violation is a located error:

    * the module carries the state layout `tape.state`;
    * every public `llvm.func` lifted from a step or host function
      (`tape.lifted = [inputs, outputs]`) returns nothing and takes, as
      bare pointers, the state buffers, its inputs, its outputs and one
      workspace, in that order: `void f(state..., inputs..., outputs...,
      workspace)`;
    * it says how large its workspace is (`tape.workspace_bytes`, at least
      0).
  }];
}

#endif // TAPE_ABI_PASSES_TD
