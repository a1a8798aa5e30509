//===- Flags.h - The compile options as command-line flags ------*- C++ -*-===//
//
// One definition of the flags that set tape::CompileOptions, shared by
// tape-run and tape-compile, so that both spell, document and range-check
// them the same way. MLIR's own --mlir-* debugging flags come with them and
// apply to the pipeline (CompileOptions::mlirCommandLine).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_COMPILER_FLAGS_H
#define TAPE_COMPILER_FLAGS_H

#include "tape/Pipelines/Options.h"
#include "tape/Runtime/Status.h"

#include "llvm/Support/CommandLine.h"

namespace tape {

class CompileFlags {
public:
  /// Registers the flags, in their own category ("Compile options", the
  /// same section of --help in every tool); construct before parsing the
  /// command line (at namespace scope in a tool).
  CompileFlags();

  /// The flags' category: a tool shows it with its own
  /// (cl::HideUnrelatedOptions({&toolCategory, &flags.category()})).
  llvm::cl::OptionCategory &category() { return flagCategory; }

  /// Writes what the flags say into `options`; fails, naming the flag, for
  /// a value out of range.
  Status apply(CompileOptions &options) const;

  /// The first of these flags given on the command line ("--blas"), or ""
  /// for none: a tool that takes no compile options (tape-run with a
  /// shared model, compiled already) refuses them.
  std::string firstGiven() const;

private:
  llvm::cl::OptionCategory flagCategory;
  bool mlirFlags;
  llvm::cl::opt<bool> strict, noVectorize, noPack, noFuseUpdates, blas,
      checkNumerics, reportCopies, debugInfo;
  llvm::cl::opt<int> threads, vectorBits;
  llvm::cl::opt<int64_t> blasMinFlops;
  llvm::cl::opt<bool> dataParallel;
  llvm::cl::opt<std::string> mpiABI;
};

} // namespace tape

#endif // TAPE_COMPILER_FLAGS_H
