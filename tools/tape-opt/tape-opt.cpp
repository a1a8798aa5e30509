//===- tape-opt.cpp - mlir-opt with the tape dialect and passes ----------===//
//
// Parses, verifies, transforms and prints IR with the tape dialect, its
// passes and pipelines, and every upstream dialect, extension and pass: a
// drop-in for mlir-opt with the same flags. The input's nesting depth is
// bounded before it reaches the (recursive) parser: see NestingDepth.h.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Support/FileUtilities.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "tape/InitTape.h"
#include "tape/Support/NestingDepth.h"
#include "tape/Support/VersionPrinter.h"

#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

#ifdef TAPE_INCLUDE_TESTS
#include "TestDialect.h"
#include "TestPasses.h"
#endif

int main(int argc, char **argv) {
  // Crash reports with a stack trace, as MlirOptMain's own driver sets up.
  llvm::InitLLVM init(argc, argv);
  tape::setVersionPrinter("tape-opt");
  mlir::tape::registerAllPassesAndTape();
#ifdef TAPE_INCLUDE_TESTS
  tape_test::registerTestPasses();
#endif

  mlir::DialectRegistry registry;
  mlir::tape::registerAllDialectsAndTape(registry);
#ifdef TAPE_INCLUDE_TESTS
  tape_test::registerTestDialect(registry);
#endif

  auto [inputFilename, outputFilename] = mlir::registerAndParseCLIOptions(
      argc, argv, "tape optimizer driver\n", registry);
  mlir::MlirOptMainConfig config = mlir::MlirOptMainConfig::createFromCLOptions();
  if (config.shouldShowDialects() || config.shouldListPasses())
    return mlir::asMainReturnCode(
        mlir::MlirOptMain(argc, argv, inputFilename, outputFilename, registry));

  std::string error;
  std::unique_ptr<llvm::MemoryBuffer> input =
      mlir::openInputFile(inputFilename, &error);
  if (!input) {
    llvm::errs() << error << "\n";
    return 1;
  }
  std::string tooDeep = tape::checkNestingDepth(
      input->getBuffer(), inputFilename == "-" ? "<stdin>" : inputFilename);
  if (!tooDeep.empty()) {
    llvm::errs() << tooDeep << "\n";
    return 1;
  }
  std::unique_ptr<llvm::ToolOutputFile> output =
      mlir::openOutputFile(outputFilename, &error);
  if (!output) {
    llvm::errs() << error << "\n";
    return 1;
  }
  if (mlir::failed(
          mlir::MlirOptMain(output->os(), std::move(input), registry, config)))
    return 1;
  output->keep();
  return 0;
}
