//===- Pipelines.h - The tape-to-llvm pipeline ------------------*- C++ -*-===//
//
// From the tape dialect to the LLVM dialect, one straight list of stages
// (lib/Pipelines/TapeToLLVM.cpp; docs/Architecture.md says what each
// takes and hands on):
//
//   0     frontend    TOSA to linalg, tensor and arith
//   1-4   tape        optimizers, recordings, verification, AD
//   5     tensor      convert-tape-to-func; contract: tape-verify-tensor-contract
//   6     codegen     linalg on tensors (updates into matmuls, fusion, inits)
//   7     ABI         bufferization, state in place, results to out-params
//   8     codegen     kernels on buffers (BLAS or packed; loop fusion)
//   9     ABI         the workspace, then deallocation
//   10    codegen     vectors, register tiles, OpenMP
//   11    LLVM        everything to LLVM; contract: tape-abi-verify
//
// The result's public functions have the bare-pointer ABI
// `void f(state..., inputs..., outputs..., workspace)`.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_PIPELINES_PIPELINES_H
#define TAPE_PIPELINES_PIPELINES_H

#include "tape/Pipelines/Options.h"

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace tape {

/// The options of the registered `tape-to-llvm` and `tape-to-tensor`
/// pipelines (tape-opt): the command-line face of tape::CompileOptions.
struct TapeToLLVMOptions : public PassPipelineOptions<TapeToLLVMOptions> {
  PassOptions::Option<bool> strict{
      *this, "strict",
      llvm::cl::desc("Treat host-side updates and disconnected gradients as "
                     "errors"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> verifyAssignments{
      *this, "verify-assignments",
      llvm::cl::desc("Run tape-verify-assignments (the default)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> vectorize{
      *this, "vectorize",
      llvm::cl::desc("Tile and vectorize linalg ops (tape-cpu-vectorize); "
                     "off gives plain loops"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> packMatmuls{
      *this, "pack-matmuls",
      llvm::cl::desc("Packed, cache-blocked kernels for large matmuls "
                     "(tape-cpu-pack-matmuls; off only to measure it)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseUpdates{
      *this, "fuse-updates",
      llvm::cl::desc("Gradient matmuls that feed a plain SGD update "
                     "accumulate into the weight (off only to measure it)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("Width of the target's vector registers (128, 256, "
                     "512): sizes the register tiles; 0 asks the host CPU"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> checkNumerics{
      *this, "check-numerics",
      llvm::cl::desc("Check every computed value for NaN and infinity "
                     "(tape-abi-check-numerics; turns elementwise fusion "
                     "off)"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> threads{
      *this, "threads",
      llvm::cl::desc("Threads for the kernels (OpenMP; the program links "
                     "libomp when above 1)"),
      llvm::cl::init(1)};
  PassOptions::Option<bool> blas{
      *this, "blas",
      llvm::cl::desc("Large f32 matmuls call cblas_sgemm "
                     "(tape-cpu-lower-matmul-to-blas); the program must be "
                     "linked with a CBLAS library such as OpenBLAS"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> blasMinFlops{
      *this, "blas-min-flops",
      llvm::cl::desc("With blas: the smallest matmul (2 M N K) that calls "
                     "BLAS"),
      llvm::cl::init(1000000)};
  PassOptions::Option<bool> reportCopies{
      *this, "report-copies",
      llvm::cl::desc("Remark on variables copied instead of updated in place"),
      llvm::cl::init(false)};
  PassOptions::Option<bool> debugInfo{
      *this, "debug-info",
      llvm::cl::desc("Line tables from the source's locations (for "
                     "profilers)"),
      llvm::cl::init(false)};

  PassOptions::Option<bool> dataParallel{
      *this, "data-parallel",
      llvm::cl::desc("Data-parallel steps over MPI processes "
                     "(tape-data-parallel): gradients averaged inside the "
                     "step; the program links MPI"),
      llvm::cl::init(false)};
  PassOptions::Option<std::string> mpiABI{
      *this, "mpi-abi",
      llvm::cl::desc("With data-parallel: the MPI library's ABI, OpenMPI or "
                     "MPICH"),
      llvm::cl::init(::tape::defaultMPIABI())};

  /// The same options as the one struct the rest of the compiler uses.
  ::tape::CompileOptions toCompileOptions() const;
};

/// Tape dialect to LLVM dialect: every stage above. Fails (after emitting
/// an error) for options out of range.
LogicalResult buildTapeToLLVMPipeline(OpPassManager &pm,
                                      const ::tape::CompileOptions &options);

/// The tape and tensor stages: what turns a train step into ordinary
/// tensor functions that take and return the state.
void buildTapeToTensorPipeline(OpPassManager &pm,
                               const ::tape::CompileOptions &options);

/// Registers `tape-to-llvm` and `tape-to-tensor` with the pass registry.
void registerTapePipelines();

} // namespace tape
} // namespace mlir

#endif // TAPE_PIPELINES_PIPELINES_H
