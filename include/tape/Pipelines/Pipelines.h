//===- Pipelines.h - The tape-to-llvm pipeline ------------------*- C++ -*-===//

#ifndef TAPE_PIPELINES_PIPELINES_H
#define TAPE_PIPELINES_PIPELINES_H

#include "mlir/Pass/PassOptions.h"

namespace mlir {
class OpPassManager;
namespace tape {

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
      llvm::cl::desc("Tile and vectorize linalg ops (tape-vectorize); off "
                     "gives plain loops"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> foldTransposes{
      *this, "fold-transposes",
      llvm::cl::desc("Read transposed matmul operands through indexing maps "
                     "(tape-fold-transposes; off only to measure it)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> packMatmuls{
      *this, "pack-matmuls",
      llvm::cl::desc("Packed, cache-blocked kernels for large matmuls "
                     "(tape-pack-matmuls; off only to measure it)"),
      llvm::cl::init(true)};
  PassOptions::Option<bool> fuseUpdates{
      *this, "fuse-updates",
      llvm::cl::desc("Gradient matmuls that feed a plain SGD update "
                     "accumulate into the weight (the fuse-updates option "
                     "of tape-pack-matmuls and tape-lower-matmul-to-blas; "
                     "off only to measure it)"),
      llvm::cl::init(true)};
  PassOptions::Option<int64_t> vectorBits{
      *this, "vector-bits",
      llvm::cl::desc("Width of the target's vector registers (128, 256, "
                     "512): sizes the register tiles; 0 asks the host CPU"),
      llvm::cl::init(0)};
  PassOptions::Option<bool> checkNumerics{
      *this, "check-numerics",
      llvm::cl::desc("Check every computed value for NaN and infinity "
                     "(tape-check-numerics; turns elementwise fusion off)"),
      llvm::cl::init(false)};
  PassOptions::Option<int64_t> threads{
      *this, "threads",
      llvm::cl::desc("Threads for the packed matmul kernels (OpenMP; the "
                     "program links libomp when above 1)"),
      llvm::cl::init(1)};
  PassOptions::Option<bool> blas{
      *this, "blas",
      llvm::cl::desc("Large f32 matmuls call cblas_sgemm "
                     "(tape-lower-matmul-to-blas); the program must be "
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
};

/// Tape dialect to LLVM dialect, every stage an ordinary pass:
/// optimizers -> AD -> verification -> state lifting -> linalg ->
/// bufferization with in-place state -> loops -> LLVM (bare-pointer ABI:
/// `void f(state buffers..., inputs..., outputs..., workspace)`).
void buildTapeToLLVMPipeline(OpPassManager &pm,
                             const TapeToLLVMOptions &options);

/// The stages up to and including tape-lift-variables: what turns a train
/// step into ordinary tensor functions.
void buildTapeToTensorPipeline(OpPassManager &pm,
                               const TapeToLLVMOptions &options);

/// The vector register width of the host CPU in bits: 512 with AVX-512,
/// 256 with AVX, else 128.
int64_t hostVectorBits();

/// Registers `tape-to-llvm` (and `tape-to-tensor`) with the pass registry.
void registerTapePipelines();

} // namespace tape
} // namespace mlir

#endif // TAPE_PIPELINES_PIPELINES_H
