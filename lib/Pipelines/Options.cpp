//===- Options.cpp - Checks and target facts for CompileOptions -----------===//

#include "tape/Pipelines/Options.h"

#include "llvm/ADT/StringMap.h"
#include "llvm/TargetParser/Host.h"

const char *tape::defaultMPIABI() {
#ifdef TAPE_MPI_ABI
  return TAPE_MPI_ABI;
#else
  return "OpenMPI";
#endif
}

std::string tape::checkCompileOptions(const CompileOptions &options) {
  if (options.threads < 0)
    return "the number of threads must be 0 (one per core) or more";
  if (options.threads > 4096)
    return "the number of threads must be at most 4096";
  if (options.vectorBits != 0 && options.vectorBits != 128 &&
      options.vectorBits != 256 && options.vectorBits != 512)
    return "the vector width must be 0 (the target's), 128, 256 or 512 bits";
  if (options.blasMinFlops < 0)
    return "the smallest BLAS matmul (blas-min-flops) must be 0 or more";
  if (options.mpiABI != "OpenMPI" && options.mpiABI != "MPICH")
    return "the MPI ABI (mpi-abi) must be OpenMPI or MPICH, not '" +
           options.mpiABI + "'";
  return "";
}

int tape::vectorBitsForFeatures(bool (*hasFeature)(const char *, void *),
                                  void *ctx) {
  if (hasFeature("avx512f", ctx))
    return 512;
  if (hasFeature("avx", ctx))
    return 256;
  return 128;
}

int tape::hostVectorBits() {
  llvm::StringMap<bool> features = llvm::sys::getHostCPUFeatures();
  return vectorBitsForFeatures(
      [](const char *name, void *ctx) {
        return static_cast<llvm::StringMap<bool> *>(ctx)->lookup(name);
      },
      &features);
}

