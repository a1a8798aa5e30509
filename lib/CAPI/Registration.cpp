//===- Registration.cpp - The tape dialect and passes for MLIR's C API ----===//

#include "tape-c/Tape.h"

#include "tape/Compiler/Compiler.h"
#include "tape/Dialect/Tape/TapeDialect.h"
#include "tape/InitTape.h"

#include "mlir/CAPI/IR.h"
#include "mlir/CAPI/Registration.h"
#include "mlir/CAPI/Support.h"

#include <mutex>

// MLIR_DEFINE_CAPI_DIALECT_REGISTRATION inserts the dialect alone; the
// handle inserts its differentiation rules with it, so that a context
// registered through it can run tape-differentiate.
static void insertTapeDialect(MlirDialectRegistry registry) {
  mlir::tape::registerTapeDialects(*unwrap(registry));
}

static MlirDialect loadTapeDialect(MlirContext context) {
  return wrap(unwrap(context)->getOrLoadDialect<mlir::tape::TapeDialect>());
}

static MlirStringRef tapeDialectNamespace() {
  return wrap(mlir::tape::TapeDialect::getDialectNamespace());
}

MlirDialectHandle mlirGetDialectHandle__tape__() {
  static MlirDialectRegistrationHooks hooks = {
      insertTapeDialect, loadTapeDialect, tapeDialectNamespace};
  return MlirDialectHandle{&hooks};
}

void tapeRegisterAllDialects(MlirDialectRegistry registry) {
  if (registry.ptr)
    tape::registerCompilerDialects(*unwrap(registry));
}

void tapeRegisterPasses(void) {
  static std::once_flag once;
  std::call_once(once, [] { mlir::tape::registerTapePasses(); });
}
