//===- TapeDialect.cpp - The tape dialect ---------------------------------===//

#include "tape/Dialect/Tape/TapeDialect.h"
#include "tape/Dialect/Tape/TapeOps.h"

using namespace mlir;
using namespace mlir::tape;

#include "tape/Dialect/Tape/TapeDialect.cpp.inc"

void TapeDialect::initialize() {
  registerTypes();
  registerAttributes();
  addOperations<
#define GET_OP_LIST
#include "tape/Dialect/Tape/TapeOps.cpp.inc"
      >();
}

/// `tape.name` on an argument or result of a function (the ops whose
/// verifiers ask the dialect about these attributes): a non-empty string.
/// No other tape attribute belongs there.
static LogicalResult verifyValueName(Operation *op, NamedAttribute attribute,
                                     const char *what) {
  if (attribute.getName() != TapeDialect::NameAttrHelper::getNameStr())
    return op->emitOpError("has an unknown ")
           << what << " attribute '" << attribute.getName().getValue()
           << "'; the tape dialect defines only 'tape.name' there";
  auto name = dyn_cast<StringAttr>(attribute.getValue());
  if (!name || name.getValue().empty())
    return op->emitOpError("has a 'tape.name' ")
           << what << " attribute that is not a non-empty string: "
           << attribute.getValue();
  return success();
}

LogicalResult TapeDialect::verifyRegionArgAttribute(Operation *op,
                                                    unsigned regionIndex,
                                                    unsigned argIndex,
                                                    NamedAttribute attribute) {
  return verifyValueName(op, attribute, "argument");
}

LogicalResult
TapeDialect::verifyRegionResultAttribute(Operation *op, unsigned regionIndex,
                                         unsigned resultIndex,
                                         NamedAttribute attribute) {
  return verifyValueName(op, attribute, "result");
}
