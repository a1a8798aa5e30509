//===- TapeToLLVM.cpp - The tape-to-llvm pipeline -------------------------===//
//
// One straight list of stages; each stage names what it hands on, and the
// two hand-overs the rest of the compiler relies on are verified by a pass
// (tape-verify-tensor-contract, tape-abi-verify). docs/Architecture.md
// draws the same list.
//
//===----------------------------------------------------------------------===//

#include "tape/Pipelines/Pipelines.h"

#include "tape/ABI/Passes.h"
#include "tape/Codegen/CPU/Passes.h"
#include "tape/Conversion/Passes.h"
#include "tape/Dialect/Tape/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Conversion/VectorToSCF/VectorToSCF.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Dialect/SCF/Transforms/Passes.h"
#include "mlir/Dialect/Vector/Transforms/Passes.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include <thread>

using namespace mlir;
using namespace mlir::tape;

namespace {
/// Register tile sizes for a vector width: as many accumulators as leave
/// room for one row of B and one broadcast element of A (AVX-512 has 32
/// registers, AVX and SSE 16).
struct RegisterTile {
  int64_t rows, columns, lanes;
  explicit RegisterTile(int64_t vectorBits) {
    lanes = vectorBits / 32;
    columns = 2 * lanes;              // two vectors per row
    rows = vectorBits == 512 ? 8 : 6; // 16 or 12 accumulators
  }
};

/// Stands in for a pipeline whose options are out of range: fails with
/// the reason, so that tape-opt reports it instead of aborting.
struct OptionErrorPass
    : public PassWrapper<OptionErrorPass, OperationPass<ModuleOp>> {
  MLIR_DEFINE_EXPLICIT_INTERNAL_INLINE_TYPE_ID(OptionErrorPass)
  explicit OptionErrorPass(std::string message) : message(std::move(message)) {}
  StringRef getArgument() const override { return "tape-option-error"; }
  void runOnOperation() override {
    getOperation().emitError(message);
    signalPassFailure();
  }
  std::string message;
};
} // namespace

void mlir::tape::buildTapeToTensorPipeline(
    OpPassManager &pm, const ::tape::CompileOptions &options) {
  // --- Input contract: no statically shaped type is too large to
  //     allocate, so no size derived from one overflows later.
  pm.addPass(createTapeVerifySizes());

  // --- Frontend stage: TOSA (in steps, functions and recording regions
  //     alike) becomes linalg, tensor and arith, which AD differentiates.
  //     The passes touch nothing else, so a module without TOSA is left as
  //     it was.
  OpPassManager &functions = pm.nestAny();
  functions.addPass(tosa::createTosaToLinalgNamed());
  functions.addPass(tosa::createTosaToLinalg());
  functions.addPass(createTosaToArithPass());
  functions.addPass(createTosaToTensorPass());

  // --- Tape stage: tape dialect in, tape dialect without optimizers and
  //     tapes out.
  // apply_gradients -> reads, arithmetic and assignments; optimizer slots
  // become ordinary variables, so the state layout includes them.
  pm.addPass(createTapeMaterializeOptimizers());
  // Calls in recording regions inlined, variable reads hoisted out of
  // loops and branches, while loops counted: what the tape records.
  pm.addPass(createTapePrepareRecordings());
  // Hazards are diagnosed on tape-level IR, where tapes and gradient
  // requests still say what the user meant (before data parallelism
  // rewrites the gradients' uses).
  if (options.verifyAssignments) {
    TapeVerifyAssignmentsOptions verify;
    verify.strict = options.strict;
    pm.addPass(createTapeVerifyAssignments(verify));
  }
  // Every use of a gradient (the optimizers' arithmetic, clipping) sees
  // its mean over the processes; each draw gets its process's offset.
  if (options.dataParallel)
    pm.addPass(createTapeDataParallel());
  // tape.random_uniform -> Philox in a linalg.generic, keyed by a step
  // count that is a variable (so checkpoints carry it).
  pm.addPass(createTapeMaterializeRandom());
  // Reverse-mode AD: no tape is left.
  pm.addPass(createTapeDifferentiate());

  // --- Tensor stage: variables become state arguments of plain tensor
  //     functions. Contract: no tape op, the state layout, every function
  //     lifted with one block.
  pm.addPass(createConvertTapeToFunc());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  pm.addPass(createVerifyTensorContract());
}

LogicalResult mlir::tape::buildTapeToLLVMPipeline(
    OpPassManager &pm, const ::tape::CompileOptions &options) {
  std::string invalid = ::tape::checkCompileOptions(options);
  if (!invalid.empty()) {
    pm.addPass(std::make_unique<OptionErrorPass>("tape-to-llvm: " + invalid));
    return failure();
  }
  int vectorBits = ::tape::targetVectorBits(options);
  int threads = options.threads > 0
                    ? options.threads
                    : std::max(1u, std::thread::hardware_concurrency());
  RegisterTile tile(vectorBits);

  buildTapeToTensorPipeline(pm, options);

  // --- Codegen on tensors: tensor math to linalg, elementwise fusion
  //     (forward, backward and optimizer updates fuse into neighbouring
  //     loops), aggregate ops and gathers to loops linalg can tile. Checking
  //     numerics keeps every op apart, so that the first non-finite value
  //     is pinned on one op.
  OpPassManager &tensorFns = pm.nest<func::FuncOp>();
  // Convolutions and their adjoints: im2col (col2im) around one 2-D
  // matmul, which the next pass names; with threads, one piece of each
  // convolution per thread.
  cpu::ConvolutionsAsMatmulsOptions convolutions;
  convolutions.threads = threads;
  tensorFns.addPass(cpu::createConvolutionsAsMatmuls(convolutions));
  // Contractions with batch loops (attention): a loop of 2-D matmuls.
  tensorFns.addPass(cpu::createBatchedContractionsAsMatmuls());
  // Matmuls written as generics become linalg.matmul: the kernels apply.
  tensorFns.addPass(cpu::createSpecializeContractions());
  // SGD updates of weights by gradient matmuls accumulate into the weight.
  if (options.fuseUpdates)
    tensorFns.addPass(cpu::createAccumulateIntoMatmuls());
  tensorFns.addPass(cpu::createDecomposeAggregates());
  // AD's cotangents of slices (zeros with the slice inserted) are added
  // by inserting each slice where the sum so far is zero.
  tensorFns.addPass(cpu::createSumsOfDisjointSlices());
  tensorFns.addPass(createConvertElementwiseToLinalgPass());
  if (!options.checkNumerics) {
    tensorFns.addPass(cpu::createFuseElementwiseOps());
    // An elementwise op on a convolution's result (its ReLU) runs in the
    // convolution's loop over the images, on each image while in cache.
    tensorFns.addPass(cpu::createFuseIntoImageLoops());
  }
  // A matrix read by a matrix-vector product and, row by row, by the
  // transposed product of its gradient is read once, a block of rows at a
  // time (with threads, a share of the rows per thread first).
  if (!options.checkNumerics) {
    cpu::FuseMatvecPairsOptions matvecPairs;
    matvecPairs.threads = threads;
    tensorFns.addPass(cpu::createFuseMatvecPairs(matvecPairs));
  }
  tensorFns.addPass(cpu::createLowerGatherScatter());
  // Masks that loops hand to loops are stored as bytes, so both vectorize.
  tensorFns.addPass(cpu::createStoreBooleansAsBytes());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // An accumulation into zeros that reaches each element once (the
  // adjoint of a max-pool whose windows tile the image) writes instead.
  pm.addNestedPass<func::FuncOp>(cpu::createWriteOnceAccumulations());
  // An elementwise op on what such a scatter writes joins its loop.
  pm.addNestedPass<func::FuncOp>(cpu::createFuseIntoWriteOnceProducers());
  // Splat inits (zero constants, fills CSE merged) become one private fill
  // per user, which bufferization turns into a write instead of a copy.
  pm.addNestedPass<func::FuncOp>(cpu::createMaterializeSplatInits());

  // --- Bufferization across function boundaries; updates of a variable
  //     land in its own buffer, and the state results are dropped. The
  //     all-reduces of data parallelism first become MPI calls between
  //     two buffers.
  if (options.dataParallel)
    pm.addPass(createConvertAllReduceToMPI());
  // A value inserted into a slice is computed in that slice (upstream's
  // elimination, and ours through the reshapes of convolution loops).
  pm.addNestedPass<func::FuncOp>(cpu::createEmptyTensorsAsSlices());
  pm.addPass(bufferization::createEmptyTensorEliminationPass());
  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  bufferize.allowReturnAllocsFromLoops = true;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  abi::UpdateStateInPlaceOptions inPlace;
  inPlace.reportCopies = options.reportCopies;
  pm.addPass(abi::createUpdateStateInPlace(inPlace));
  if (options.checkNumerics)
    pm.addPass(abi::createCheckNumerics());
  // Results become caller-provided out-parameters.
  pm.addPass(createCanonicalizerPass());
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.modifyPublicFunctions = true;
  outParams.hoistStaticAllocs = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));

  // --- Kernels on buffers: large matmuls call BLAS where asked for, else
  //     packed, cache-blocked kernels (their pack buffers go into the
  //     workspace); neighbouring elementwise loops (an optimizer's per-slot
  //     updates) become one pass over memory.
  if (options.blas) {
    cpu::LowerMatmulToBlasOptions blas;
    blas.minFlops = options.blasMinFlops;
    pm.addPass(cpu::createLowerMatmulToBlas(blas));
  }
  if (options.vectorize && options.packMatmuls) {
    cpu::PackMatmulsOptions pack;
    pack.mr = tile.rows;
    pack.nr = tile.columns;
    pack.mc = 42 * tile.rows; // A block ~128-256 KiB: in L2 beside B's
    pack.parallel = threads > 1;
    pm.addNestedPass<func::FuncOp>(cpu::createPackMatmuls(pack));
  }
  pm.addNestedPass<func::FuncOp>(cpu::createFuseElementwiseLoops());

  // --- ABI: fixed-size temporaries move into a workspace the caller
  //     provides (no heap allocation per step); what is left is freed.
  //     Temporaries in branches and sequential loops are hoisted first;
  //     those of a parallel loop's iterations get a slot each of one
  //     buffer before the loop.
  //     Deallocation may add a private helper on dynamically shaped
  //     memrefs, which the bare-pointer ABI cannot express: inline it.
  pm.addNestedPass<func::FuncOp>(bufferization::createBufferHoistingPass());
  pm.addNestedPass<func::FuncOp>(
      bufferization::createBufferLoopHoistingPass());
  pm.addNestedPass<func::FuncOp>(cpu::createPrivatizeBuffers());
  pm.addPass(abi::createAllocateWorkspace());
  bufferization::buildBufferDeallocationPipeline(pm);
  pm.addPass(createInlinerPass());
  pm.addPass(createSymbolDCEPass());
  pm.addPass(createCanonicalizerPass());
  // Copies between strided views would call a runtime library.
  pm.addPass(cpu::createExpandStridedCopies());

  // --- Register tiles and vectors (on buffers), accumulators in
  //     registers; parallel loops become OpenMP worksharing loops.
  if (options.vectorize) {
    cpu::MatvecKernelsOptions matvec;
    matvec.lanes = tile.lanes;
    matvec.parallel = threads > 1;
    pm.addNestedPass<func::FuncOp>(cpu::createMatvecKernels(matvec));
    pm.addNestedPass<func::FuncOp>(cpu::createCollapseContiguousLoops());
    cpu::VectorizeOptions vectorize;
    vectorize.contractionM = tile.rows;
    vectorize.contractionN = tile.columns;
    vectorize.vectorWidth = tile.lanes;
    vectorize.threads = threads;
    pm.addNestedPass<func::FuncOp>(cpu::createVectorize(vectorize));
    pm.addPass(createCanonicalizerPass());
    pm.addPass(createCSEPass());
    pm.addNestedPass<func::FuncOp>(cpu::createHoistVectorTransfers());
  }
  if (threads > 1) {
    pm.addPass(createForallToParallelLoopPass());
    ConvertSCFToOpenMPPassOptions openmp;
    openmp.numThreads = threads;
    pm.addPass(createConvertSCFToOpenMPPass(openmp));
    pm.addPass(createCanonicalizerPass()); // the empty alloca_scope
  }
  // One function per large loop nest: LLVM's loop passes and scheduler
  // cost more than linearly in a function's size.
  pm.addPass(cpu::createOutlineLoopNests());

  // --- LLVM: loops, vectors fully unrolled to one dimension (no stack
  //     buffers for n-d transfers, so no allocas inside loops), then every
  //     dialect to LLVM with the bare-pointer C ABI. Contract: the ABI.
  pm.addPass(abi::createEmptyArguments());
  pm.addNestedPass<func::FuncOp>(createConvertLinalgToLoopsPass());
  pm.addNestedPass<func::FuncOp>(vector::createLowerVectorMultiReductionPass());
  VectorTransferToSCFOptions toSCF;
  toSCF.enableFullUnroll(true);
  pm.addPass(createConvertVectorToSCFPass(toSCF));
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  if (options.dataParallel) {
    ConvertMPIToLLVMCallsOptions mpi;
    mpi.implementation = options.mpiABI;
    pm.addPass(createConvertMPIToLLVMCalls(mpi));
  }
  // Vector exp, tanh, log, ... as polynomials (LLVM would call libm per
  // lane).
  pm.addNestedPass<func::FuncOp>(cpu::createApproximateMath());
  math::MathExpandOpsPassOptions expand;
  expand.opMnemonics = {"rsqrt", "clampf", "fpowi"};
  pm.addPass(math::createMathExpandOpsPass(expand));
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  ConvertVectorToLLVMPassOptions toLLVM;
  toLLVM.vectorContractLowering = vector::VectorContractLowering::OuterProduct;
  toLLVM.vectorTransposeLowering = vector::VectorTransposeLowering::Shuffle1D;
  pm.addPass(createConvertVectorToLLVMPass(toLLVM));
  pm.addPass(createArithToLLVMConversionPass()); // masks are arith ops
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createConvertControlFlowToLLVMPass());
  ConvertFuncToLLVMPassOptions funcToLLVM;
  funcToLLVM.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcToLLVM));
  pm.addPass(createUBToLLVMConversionPass());
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  // Every function gets a debug-info scope, so LLVM keeps the ops'
  // locations as line tables (the lines of the source .mlir).
  if (options.debugInfo)
    pm.addPass(LLVM::createDIScopeForLLVMFuncOpPass());
  pm.addPass(abi::createVerifyABI());
  return success();
}

::tape::CompileOptions TapeToLLVMOptions::toCompileOptions() const {
  ::tape::CompileOptions o;
  o.strict = strict;
  o.verifyAssignments = verifyAssignments;
  o.vectorize = vectorize;
  o.packMatmuls = packMatmuls;
  o.fuseUpdates = fuseUpdates;
  o.vectorBits = vectorBits;
  o.checkNumerics = checkNumerics;
  o.threads = threads;
  o.blas = blas;
  o.blasMinFlops = blasMinFlops;
  o.reportCopies = reportCopies;
  o.debugInfo = debugInfo;
  o.dataParallel = dataParallel;
  o.mpiABI = mpiABI;
  return o;
}

void mlir::tape::registerTapePipelines() {
  PassPipelineRegistration<TapeToLLVMOptions>(
      "tape-to-llvm",
      "Compiles train steps in the tape dialect to the LLVM dialect: "
      "optimizers, verification, AD, state, linalg, bufferization with "
      "in-place state, kernels, the step ABI, LLVM",
      [](OpPassManager &pm, const TapeToLLVMOptions &options) {
        (void)buildTapeToLLVMPipeline(pm, options.toCompileOptions());
      });
  PassPipelineRegistration<TapeToLLVMOptions>(
      "tape-to-tensor",
      "The first stages of tape-to-llvm: optimizers, verification, AD and "
      "state, ending in plain tensor functions",
      [](OpPassManager &pm, const TapeToLLVMOptions &options) {
        buildTapeToTensorPipeline(pm, options.toCompileOptions());
      });
}
