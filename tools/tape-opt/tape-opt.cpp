//===- tape-opt.cpp - mlir-opt with the tape dialect and passes ----------===//
//
// Parses, verifies, transforms and prints IR with the tape dialect, its
// passes and pipelines, and every upstream dialect, extension and pass: a
// drop-in for mlir-opt with the same flags.
//
//===----------------------------------------------------------------------===//

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"
#include "tape/InitTape.h"

#ifdef TAPE_INCLUDE_TESTS
#include "TestDialect.h"
#include "TestPasses.h"
#endif

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  mlir::tape::registerTapePasses();
#ifdef TAPE_INCLUDE_TESTS
  tape_test::registerTestPasses();
#endif

  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::tape::registerTapeDialects(registry);
#ifdef TAPE_INCLUDE_TESTS
  tape_test::registerTestDialect(registry);
#endif

  return mlir::asMainReturnCode(mlir::MlirOptMain(
      argc, argv, "tape optimizer driver\n", registry));
}
