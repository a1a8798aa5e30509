//===- Flags.cpp - The compile options as command-line flags --------------===//

#include "tape/Compiler/Flags.h"

#include "tape/InitTape.h"

#include "mlir/IR/AsmState.h"
#include "mlir/InitAllPasses.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"

using namespace tape;
namespace cl = llvm::cl;

/// MLIR's debugging flags (--mlir-print-ir-after-all, --mlir-timing,
/// --mlir-print-debuginfo, ...), as tape-opt has them; constructed before
/// the command line is parsed, with the tool's own flags. The passes are
/// registered so that --mlir-print-ir-after=<pass> knows their names.
static bool registerMLIRFlags() {
  mlir::registerAllPasses();
  mlir::tape::registerTapePasses();
  mlir::registerPassManagerCLOptions();
  mlir::registerMLIRContextCLOptions();
  mlir::registerAsmPrinterCLOptions();
  mlir::registerDefaultTimingManagerCLOptions();
  return true;
}

CompileFlags::CompileFlags(cl::OptionCategory &category)
    : mlirFlags(registerMLIRFlags()),
      strict("strict",
             cl::desc("Treat host-side updates and disconnected gradients "
                      "as errors"),
             cl::cat(category)),
      noVectorize("no-vectorize",
                  cl::desc("Compile linalg ops to plain loops (for "
                           "comparisons)"),
                  cl::cat(category)),
      noPack("no-pack",
             cl::desc("No packed matmul kernels (for comparisons)"),
             cl::cat(category), cl::Hidden),
      noFuseUpdates("no-fuse-updates",
                    cl::desc("Keep SGD updates apart from the gradient "
                             "matmuls (for comparisons)"),
                    cl::cat(category), cl::Hidden),
      blas("blas",
           cl::desc("Large f32 matmuls call cblas_sgemm (OpenBLAS: loaded at "
                    "run time by tape-run, -lopenblas for an AOT object)"),
           cl::cat(category)),
      checkNumerics(
          "check-numerics",
          cl::desc("Fail at the first NaN or infinity a step computes, naming "
                   "the op and its source location (slower: no fusion, a "
                   "check per op)"),
          cl::cat(category)),
      reportCopies("report-copies",
                   cl::desc("Remark on variables copied into their buffer "
                            "instead of updated in place"),
                   cl::cat(category), cl::Hidden),
      debugInfo("g",
                cl::desc("Line tables from the .mlir source into the "
                         "compiled code, so that profilers (perf) report "
                         "time per source line"),
                cl::cat(category)),
      threads("num-threads",
              cl::desc("Threads the compiled step may use: 1 (the default), "
                       "more (OpenMP: an AOT object links -lomp), or 0 for "
                       "one per core of the compiling machine"),
              cl::init(1), cl::cat(category)),
      vectorBits("vector-bits",
                 cl::desc("Size register tiles for this vector width (128, "
                          "256, 512) instead of the target's"),
                 cl::init(0), cl::cat(category)),
      blasMinFlops("blas-min-flops",
                   cl::desc("With --blas: the smallest matmul (2 M N K "
                            "flops) that calls BLAS"),
                   cl::init(1000000), cl::cat(category), cl::Hidden),
      dataParallel("data-parallel",
                   cl::desc("Data-parallel training under mpirun: each "
                            "process trains on its rows, the gradients are "
                            "averaged inside the step (MPI), the variables "
                            "stay the same on every process"),
                   cl::cat(category)),
      mpiABI("mpi-abi",
             cl::desc("With --data-parallel: the ABI of the MPI library "
                      "the code calls, OpenMPI or MPICH (default: this "
                      "build's)"),
             cl::init(defaultMPIABI()), cl::cat(category), cl::Hidden) {}

Status CompileFlags::apply(CompileOptions &options) const {
  CompileOptions result = options;
  result.strict = strict;
  result.vectorize = !noVectorize;
  result.packMatmuls = !noPack;
  result.fuseUpdates = !noFuseUpdates;
  result.blas = blas;
  result.blasMinFlops = blasMinFlops;
  result.checkNumerics = checkNumerics;
  result.mlirCommandLine = true;
  result.reportCopies = reportCopies;
  result.debugInfo = debugInfo;
  result.threads = threads;
  result.dataParallel = dataParallel;
  result.mpiABI = mpiABI;
  if (vectorBits)
    result.vectorBits = vectorBits;
  std::string invalid = checkCompileOptions(result);
  if (!invalid.empty())
    return Status::error(invalid);
  options = result;
  return Status::success();
}

std::string CompileFlags::firstGiven() const {
  const llvm::cl::Option *flags[] = {
      &strict,      &noVectorize, &noPack,  &noFuseUpdates, &blas,
      &checkNumerics, &reportCopies, &debugInfo, &threads,  &vectorBits,
      &blasMinFlops, &dataParallel, &mpiABI};
  for (const llvm::cl::Option *flag : flags)
    if (flag->getNumOccurrences())
      return "--" + flag->ArgStr.str();
  // MLIR's flags act on the pipeline, which a compiled library has run.
  for (const auto &[name, flag] : llvm::cl::getRegisteredOptions())
    if (name.starts_with("mlir-") && flag->getNumOccurrences())
      return "--" + name.str();
  return "";
}
