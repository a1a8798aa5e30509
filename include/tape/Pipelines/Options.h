//===- Options.h - Every option of the compiler, in one place ---*- C++ -*-===//
//
// The one options struct of the compiler. It is mapped once to each place
// that exposes options: the registered `tape-to-llvm` pipeline
// (TapeToLLVMOptions in Pipelines.h), the tools' command-line flags
// (CompileFlags in tape/Compiler/Flags.h) and the C API's
// TapeCompileOptions (tape-c/Tape.h).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_PIPELINES_OPTIONS_H
#define TAPE_PIPELINES_OPTIONS_H

#include <cstdint>
#include <string>

namespace tape {

/// The MPI ABI of the library this build found ("OpenMPI" or "MPICH"),
/// or "OpenMPI" for a build without MPI.
const char *defaultMPIABI();

struct CompileOptions {
  /// Source name used in diagnostics.
  std::string sourceName = "<module>";
  /// Host-side updates and disconnected gradients become errors.
  bool strict = false;
  /// Run tape-verify-assignments (only tests that look at later stages of
  /// invalid programs turn it off).
  bool verifyAssignments = true;
  /// Tile and vectorize linalg ops (off: plain loops, for comparisons).
  bool vectorize = true;
  /// Packed, cache-blocked kernels for large matmuls (off only to measure
  /// them).
  bool packMatmuls = true;
  /// Gradient matmuls that feed a plain SGD update accumulate into the
  /// weight (off only to measure it).
  bool fuseUpdates = true;
  /// Large f32 matmuls call cblas_sgemm from a CBLAS library loaded into
  /// the process (OpenBLAS by default; $TAPE_BLAS_LIBRARY names another).
  bool blas = false;
  /// With blas: the smallest matmul (2 M N K flops) that calls BLAS.
  int64_t blasMinFlops = 1000000;
  /// Check every computed value for NaN/Inf: a call that produces one
  /// fails with an error naming the first op that did (and its location).
  bool checkNumerics = false;
  /// Vector register width of the target in bits (128, 256, 512); 0: the
  /// host's.
  int64_t vectorBits = 0;
  /// Threads the compiled code may use (BLAS calls included); 0: as many
  /// as the machine has cores; at most 4096.
  int64_t threads = 1;
  /// Remark on variables copied instead of updated in place.
  bool reportCopies = false;
  /// Line tables from the source's locations into the compiled code, so
  /// that a profiler attributes time to lines of the .mlir file.
  bool debugInfo = false;
  /// Data-parallel steps (tape-data-parallel): every process of an MPI job
  /// runs the step on its own batch, the gradients are averaged over the
  /// processes inside the step, the variables stay the same on all. The
  /// compiled code calls MPI (MPI_Init before the first call).
  bool dataParallel = false;
  /// The ABI of the MPI library the compiled code calls: "OpenMPI" or
  /// "MPICH" (also Intel MPI and MVAPICH). The default is the one this
  /// build found (TAPE_MPI_ABI), else OpenMPI (Debian's default MPI).
  std::string mpiABI = defaultMPIABI();
  /// Apply MLIR's --mlir-* command-line flags (IR printing, timing) to the
  /// pipeline: set by tools that register them (tape/Compiler/Flags.h),
  /// never by the embedding APIs.
  bool mlirCommandLine = false;
};

/// Why `options` cannot be compiled with (a value out of range, named as
/// the pipeline option spells it), or "" when they can. Every place that
/// takes options from a user checks them here.
std::string checkCompileOptions(const CompileOptions &options);

/// The width of the vector registers, in bits, of a CPU with the given
/// features (LLVM's names: "avx512f", "avx"): 512 with AVX-512, 256 with
/// AVX, else 128. Register tiles are sized from it.
int vectorBitsForFeatures(bool (*hasFeature)(const char *name, void *ctx),
                          void *ctx);

/// vectorBitsForFeatures of the host CPU.
int hostVectorBits();

/// `options.vectorBits`, or the host's when it is 0.
inline int targetVectorBits(const CompileOptions &options) {
  return options.vectorBits ? static_cast<int>(options.vectorBits)
                            : hostVectorBits();
}

} // namespace tape

#endif // TAPE_PIPELINES_OPTIONS_H
