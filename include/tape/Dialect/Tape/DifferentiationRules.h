//===- DifferentiationRules.h - Rules for upstream ops ----------*- C++ -*-===//
//
// The reverse-mode rules of upstream ops, attached as external models of
// DifferentiableOpInterface, and the helpers rules share.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_DIALECT_TAPE_DIFFERENTIATIONRULES_H
#define TAPE_DIALECT_TAPE_DIFFERENTIATIONRULES_H

#include "tape/Dialect/Tape/FloatBuilders.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/Value.h"

namespace mlir {
class DialectRegistry;
namespace tape {

/// Attaches the rules for arith, math, linalg and tensor ops.
void registerDifferentiationRules(DialectRegistry &registry);

/// `lhs + rhs`, or the non-null one when the other is null.
Value addAdjoints(OpBuilder &b, Location loc, Value lhs, Value rhs);

} // namespace tape
} // namespace mlir

#endif // TAPE_DIALECT_TAPE_DIFFERENTIATIONRULES_H
