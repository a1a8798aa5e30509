//===- InitTape.cpp - Register the tape dialect and passes ----------------===//

#include "tape/InitTape.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/InitAllPasses.h"
#include "tape/ABI/Passes.h"
#include "tape/Codegen/CPU/Passes.h"
#include "tape/Conversion/MPIMemoryEffects.h"
#include "tape/Conversion/Passes.h"
#include "tape/Dialect/Tape/DifferentiationRules.h"
#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeDialect.h"
#include "tape/Pipelines/Pipelines.h"

void mlir::tape::registerTapeDialects(DialectRegistry &registry) {
  registry.insert<TapeDialect>();
  registerDifferentiationRules(registry);
  registerMPIMemoryEffects(registry);
}

void mlir::tape::registerTapePasses() {
  registerTapeTransformsPasses();
  registerTapeConversionPasses();
  cpu::registerTapeCPUPasses();
  abi::registerTapeABIPasses();
  registerTapePipelines();
}

void mlir::tape::registerAllDialectsAndTape(DialectRegistry &registry) {
  registerAllDialects(registry);
  registerAllExtensions(registry);
  registerTapeDialects(registry);
}

void mlir::tape::registerAllPassesAndTape() {
  registerAllPasses();
  registerTapePasses();
}
