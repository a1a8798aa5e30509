//===- TestDialect.cpp - A test-only dialect ------------------------------===//

#include "TestDialect.h"

#include "TestDialect.cpp.inc"

#define GET_OP_CLASSES
#include "TestOps.cpp.inc"

void tape_test::TapeTestDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "TestOps.cpp.inc"
      >();
}
