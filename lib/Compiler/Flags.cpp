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

CompileFlags::CompileFlags()
    : flagCategory("Compile options",
                   "How the module is compiled (the same in tape-run and "
                   "tape-compile)"),
      mlirFlags(registerMLIRFlags()),
      strict("strict",
             cl::desc("Treat host-side updates and disconnected gradients "
                      "as errors"),
             cl::cat(flagCategory)),
      noVectorize("no-vectorize",
                  cl::desc("Compile linalg ops to plain loops (for "
                           "comparisons)"),
                  cl::cat(flagCategory)),
      noPack("no-pack",
             cl::desc("No packed matmul kernels (for comparisons)"),
             cl::cat(flagCategory), cl::Hidden),
      noFuseUpdates("no-fuse-updates",
                    cl::desc("Keep SGD updates apart from the gradient "
                             "matmuls (for comparisons)"),
                    cl::cat(flagCategory), cl::Hidden),
      blas("blas",
           cl::desc("Large f32 matmuls call cblas_sgemm (OpenBLAS: loaded at "
                    "run time by tape-run, -lopenblas for an AOT object)"),
           cl::cat(flagCategory)),
      checkNumerics(
          "check-numerics",
          cl::desc("Fail at the first NaN or infinity a step computes, naming "
                   "the op and its source location (slower: no fusion, a "
                   "check per op)"),
          cl::cat(flagCategory)),
      reportCopies("report-copies",
                   cl::desc("Remark on variables copied into their buffer "
                            "instead of updated in place"),
                   cl::cat(flagCategory), cl::Hidden),
      debugInfo("g",
                cl::desc("Line tables from the .mlir source into the "
                         "compiled code, so that profilers (perf) report "
                         "time per source line"),
                cl::cat(flagCategory)),
      threads("num-threads",
              cl::desc("Threads the compiled step may use: 1 (the default), "
                       "more (OpenMP: an AOT object links -lomp), or 0 for "
                       "one per core of the compiling machine"),
              cl::value_desc("n"), cl::init(1), cl::cat(flagCategory)),
      vectorBits("vector-bits",
                 cl::desc("Size register tiles for this vector width (128, "
                          "256, 512) instead of the target's"),
                 cl::value_desc("bits"), cl::init(0), cl::cat(flagCategory)),
      blasMinFlops("blas-min-flops",
                   cl::desc("With --blas: the smallest matmul (2 M N K "
                            "flops) that calls BLAS (default 1000000)"),
                   cl::value_desc("flops"), cl::init(1000000),
                   cl::cat(flagCategory), cl::Hidden),
      dataParallel("data-parallel",
                   cl::desc("Data-parallel training under mpirun: each "
                            "process trains on its rows, the gradients are "
                            "averaged inside the step (MPI), the variables "
                            "stay the same on every process"),
                   cl::cat(flagCategory)),
      mpiABI("mpi-abi",
             cl::desc("With --data-parallel: the ABI of the MPI library "
                      "the code calls, OpenMPI or MPICH (default: this "
                      "build's)"),
             cl::value_desc("abi"), cl::init(defaultMPIABI()),
             cl::cat(flagCategory), cl::Hidden) {}

Status CompileFlags::apply(CompileOptions &options) const {
  // The ranges, each naming its flag (checkCompileOptions says the same
  // for callers of the library, which have no flags).
  if (threads < 0)
    return Status::error("--num-threads must be 0 (one per core) or more, "
                         "got " + std::to_string(threads));
  if (vectorBits != 0 && vectorBits != 128 && vectorBits != 256 &&
      vectorBits != 512)
    return Status::error("--vector-bits must be 128, 256 or 512 (or 0, the "
                         "target's), got " + std::to_string(vectorBits));
  if (blasMinFlops < 0)
    return Status::error("--blas-min-flops must be 0 or more, got " +
                         std::to_string(blasMinFlops));
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
