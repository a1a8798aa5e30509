//===- RuleSupport.cpp - Shared pieces of the differentiation rules -------===//

#include "RuleSupport.h"

#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"

using namespace mlir;
using namespace mlir::tape;

Value mlir::tape::createFloatConstant(OpBuilder &b, Location loc, Type type,
                                      double value) {
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    auto elt = cast<FloatType>(tensor.getElementType());
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(tensor, FloatAttr::get(elt, value)));
  }
  return arith::ConstantOp::create(b, loc,
                                   FloatAttr::get(cast<FloatType>(type), value));
}

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
