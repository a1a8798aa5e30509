//===- TapeToLLVM.cpp - The tape-to-llvm pipeline -------------------------===//

#include "tape/Pipelines/Pipelines.h"

#include "tape/Dialect/Tape/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/Support/ErrorHandling.h"
#include "llvm/TargetParser/Host.h"
#include "llvm/Support/raw_ostream.h"

#include <mutex>

using namespace mlir;
using namespace mlir::tape;

/// Appends upstream passes given in textual form (their C++ constructors
/// differ from release to release; the pass names are the stable API).
/// Textual pipelines need the passes in the registry, so an embedder that
/// never registered them still gets a working pipeline.
static void addPipeline(OpPassManager &pm, const std::string &text) {
  static std::once_flag registered;
  std::call_once(registered, [] { registerAllPasses(); });
  std::string error;
  llvm::raw_string_ostream os(error);
  if (failed(parsePassPipeline(text, pm, os)))
    llvm::report_fatal_error(llvm::Twine("tape-to-llvm: bad pipeline '") +
                             text + "': " + error);
}

int64_t mlir::tape::hostVectorBits() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  if (features.lookup("avx512f"))
    return 512;
  if (features.lookup("avx"))
    return 256;
  return 128;
}

namespace {
/// Register tile sizes for a vector width: as many accumulators as leave
/// room for one row of B and one broadcast element of A (AVX-512 has 32
/// registers, AVX and SSE 16).
struct RegisterTile {
  int64_t rows, columns, lanes;
  explicit RegisterTile(int64_t vectorBits) {
    if (vectorBits != 128 && vectorBits != 256 && vectorBits != 512)
      llvm::report_fatal_error("tape-to-llvm: vector-bits must be 0, 128, "
                               "256 or 512");
    lanes = vectorBits / 32;
    columns = 2 * lanes;                  // two vectors per row
    rows = vectorBits == 512 ? 8 : 6;     // 16 or 12 accumulators
  }
};
} // namespace

void mlir::tape::buildTapeToTensorPipeline(OpPassManager &pm,
                                           const TapeToLLVMOptions &options) {
  // 1. apply_gradients -> reads/arith/assigns; momentum and Adam slots
  //    become ordinary variables, so the state layout includes them.
  pm.addPass(createTapeMaterializeOptimizers());
  // Calls inside recording regions are inlined and variable reads hoisted
  // out of loops and branches, so that verification and AD see the ops
  // the tape records.
  pm.addPass(createTapePrepareRecordings());
  // 2. The hazards are diagnosed on the tape-level IR, where the tapes and
  //    the gradient requests still say what the user meant.
  if (options.verifyAssignments) {
    TapeVerifyAssignmentsOptions verify;
    verify.strict = options.strict;
    pm.addPass(createTapeVerifyAssignments(verify));
  }
  // 3. Reverse-mode AD: no tape is left afterwards.
  pm.addPass(createTapeDifferentiate());
  // 4. Variables become state passed to every function.
  pm.addPass(createTapeLiftVariables());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
}

void mlir::tape::buildTapeToLLVMPipeline(OpPassManager &pm,
                                         const TapeToLLVMOptions &options) {
  buildTapeToTensorPipeline(pm, options);
  // 5. Tensor math to linalg, and elementwise fusion (forward, backward and
  //    optimizer updates fuse into neighbouring loops). The backward
  //    matmuls read transposed operands through their indexing maps.
  if (options.foldTransposes)
    pm.addNestedPass<func::FuncOp>(createTapeFoldTransposes());
  // Checking numerics keeps every op apart, so that the first non-finite
  // value is pinned on one op.
  addPipeline(pm, options.checkNumerics
                      ? "func.func(convert-elementwise-to-linalg),"
                        "canonicalize,cse"
                      : "func.func(convert-elementwise-to-linalg,"
                        "linalg-fuse-elementwise-ops),canonicalize,cse");

  // CSE merged equal fills (the zero inits of same-shaped matmuls): give
  // each user its own again, or bufferization copies the shared one.
  pm.addNestedPass<func::FuncOp>(createTapeCloneSharedFills());

  // 6. One-shot bufferization across function boundaries; updates of a
  //    variable land in its own buffer.
  addPipeline(pm, "eliminate-empty-tensors,"
                  "one-shot-bufferize{bufferize-function-boundaries "
                  "function-boundary-type-conversion=identity-layout-map "
                  "allow-return-allocs-from-loops}");
  TapeUpdateStateInPlaceOptions inPlace;
  inPlace.reportCopies = options.reportCopies;
  pm.addPass(createTapeUpdateStateInPlace(inPlace));
  if (options.checkNumerics)
    pm.addPass(createTapeCheckNumerics());
  // 7. Results become caller-provided out-parameters; fixed-size
  //    temporaries move into a workspace the caller provides (no heap
  //    allocation per step); what is left is freed.
  addPipeline(pm, "canonicalize,"
                  "buffer-results-to-out-params{modify-public-functions "
                  "hoist-static-allocs}");
  // Large matmuls: a BLAS call where asked for, else a packed,
  //    cache-blocked kernel (its pack buffers go into the workspace).
  if (options.blas) {
    TapeLowerMatmulToBlasOptions blas;
    blas.minFlops = options.blasMinFlops;
    blas.fuseUpdates = options.fuseUpdates;
    pm.addPass(createTapeLowerMatmulToBlas(blas));
  }
  RegisterTile tile(options.vectorBits ? options.vectorBits
                                       : hostVectorBits());
  if (options.vectorize && options.packMatmuls) {
    TapePackMatmulsOptions pack;
    pack.mr = tile.rows;
    pack.nr = tile.columns;
    pack.mc = 42 * tile.rows; // A block ~128-256 KiB: in L2 beside B's
    pack.parallel = options.threads > 1;
    pack.fuseUpdates = options.fuseUpdates;
    pm.addNestedPass<func::FuncOp>(createTapePackMatmuls(pack));
  }
  // Neighbouring elementwise loops (an optimizer's per-slot updates) become
  // one pass over memory; after the kernels above took the SGD updates
  // they fold into matmuls.
  pm.addNestedPass<func::FuncOp>(createTapeFuseElementwiseLoops());
  pm.addPass(createTapeAllocateWorkspace());
  // Deallocation may add a private helper on dynamically shaped memrefs,
  // which the bare-pointer ABI below cannot express: inline it away.
  addPipeline(pm, "buffer-deallocation-pipeline,inline,symbol-dce,"
                  "canonicalize");
  // Copies between strided views would call a runtime library; make them
  // loops like every other linalg op.
  pm.addPass(createTapeExpandStridedCopies());
  // 8. Register tiles and vectors (on buffers), accumulators in
  //    registers, loops, then LLVM with a bare-pointer C ABI.
  if (options.vectorize) {
    TapeMatvecKernelsOptions matvec;
    matvec.lanes = tile.lanes;
    matvec.parallel = options.threads > 1;
    pm.addNestedPass<func::FuncOp>(createTapeMatvecKernels(matvec));
    TapeVectorizeOptions vectorize;
    vectorize.contractionM = tile.rows;
    vectorize.contractionN = tile.columns;
    vectorize.vectorWidth = tile.lanes;
    vectorize.threads = options.threads;
    pm.addNestedPass<func::FuncOp>(createTapeVectorize(vectorize));
    addPipeline(pm, "canonicalize,cse");
    pm.addNestedPass<func::FuncOp>(createTapeHoistVectorTransfers());
  }
  // Parallel loops (the packed kernels' column panels) become OpenMP
  // worksharing loops.
  if (options.threads > 1)
    addPipeline(pm, "convert-scf-to-openmp{num-threads=" +
                        std::to_string(options.threads) +
                        "},canonicalize"); // inlines the empty alloca_scope
  addPipeline(pm, "func.func(convert-linalg-to-loops),"
                  "func.func(lower-vector-multi-reduction),"
                  // Fully unrolled: no stack buffers for n-d transfers
                  // (allocas inside loops would grow the stack).
                  "convert-vector-to-scf{full-unroll=true},"
                  "expand-strided-metadata,lower-affine,convert-scf-to-cf,"
                  "finalize-memref-to-llvm,"
                  "math-expand-ops{ops=rsqrt,clampf,fpowi},convert-math-to-llvm,"
                  "convert-math-to-libm,convert-arith-to-llvm,"
                  "convert-vector-to-llvm{vector-contract-lowering="
                  "outerproduct},"
                  // Masked transfers make their masks with arith ops.
                  "convert-arith-to-llvm,"
                  "convert-index-to-llvm,convert-cf-to-llvm,"
                  "convert-func-to-llvm{use-bare-ptr-memref-call-conv},"
                  "convert-ub-to-llvm,convert-openmp-to-llvm,"
                  "reconcile-unrealized-casts");
}

void mlir::tape::registerTapePipelines() {
  PassPipelineRegistration<TapeToLLVMOptions>(
      "tape-to-llvm",
      "Compiles train steps in the tape dialect to the LLVM dialect: "
      "optimizers, verification, AD, state lifting, linalg, bufferization "
      "with in-place state, loops, LLVM",
      buildTapeToLLVMPipeline);
  PassPipelineRegistration<TapeToLLVMOptions>(
      "tape-to-tensor",
      "The first stages of tape-to-llvm: optimizers, verification, AD and "
      "state lifting, ending in plain tensor functions",
      buildTapeToTensorPipeline);
}
