//===- RuleSupport.cpp - Shared pieces of the differentiation rules -------===//

#include "RuleSupport.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::tape;

Value mlir::tape::addAdjoints(OpBuilder &b, Location loc, Value lhs,
                              Value rhs) {
  if (!lhs)
    return rhs;
  if (!rhs)
    return lhs;
  return arith::AddFOp::create(b, loc, lhs, rhs);
}

void mlir::tape::registerDifferentiationRules(DialectRegistry &registry) {
  rules::registerArithRules(registry);
  rules::registerMathRules(registry);
  rules::registerLinalgRules(registry);
  rules::registerTensorRules(registry);
}
