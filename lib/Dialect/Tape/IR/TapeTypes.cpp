//===- TapeTypes.cpp - Types of the tape dialect --------------------------===//

#include "tape/Dialect/Tape/TapeTypes.h"
#include "tape/Dialect/Tape/TapeDialect.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/DialectImplementation.h"
#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace mlir::tape;

#define GET_TYPEDEF_CLASSES
#include "tape/Dialect/Tape/TapeTypes.cpp.inc"

LogicalResult
ResourceType::verify(function_ref<InFlightDiagnostic()> emitError,
                     RankedTensorType valueType) {
  if (!valueType.hasStaticShape())
    return emitError() << "variable value type must have a static shape, got "
                       << valueType;
  if (!valueType.getElementType().isIntOrFloat())
    return emitError()
           << "variable element type must be an integer or float, got "
           << valueType.getElementType();
  return success();
}

void TapeDialect::registerTypes() {
  addTypes<
#define GET_TYPEDEF_LIST
#include "tape/Dialect/Tape/TapeTypes.cpp.inc"
      >();
}
