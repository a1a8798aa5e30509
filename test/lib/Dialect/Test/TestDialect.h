//===- TestDialect.h - A test-only dialect ----------------------*- C++ -*-===//

#ifndef TAPE_TEST_TESTDIALECT_H
#define TAPE_TEST_TESTDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "TestDialect.h.inc"

#define GET_OP_CLASSES
#include "TestOps.h.inc"

namespace tape_test {
/// Registers the test dialect and attaches its differentiation rule as an
/// external model, from outside the tape libraries.
void registerTestDialect(mlir::DialectRegistry &registry);
} // namespace tape_test

#endif // TAPE_TEST_TESTDIALECT_H
