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
