//===- RuleSupport.h - Shared pieces of the differentiation rules -*- C++ -*-//
//
// Private to lib/Dialect/Tape/Rules: a model template that turns a plain
// function into a DifferentiableOpInterface external model, and small
// builders every rule needs.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LIB_DIALECT_TAPE_RULES_RULESUPPORT_H
#define TAPE_LIB_DIALECT_TAPE_RULES_RULESUPPORT_H

#include "tape/Dialect/Tape/DifferentiationRules.h"
#include "tape/Dialect/Tape/FloatBuilders.h"
#include "tape/Dialect/Tape/TapeInterfaces.h"

#include "mlir/Dialect/Arith/IR/Arith.h"

namespace mlir::tape::rules {

/// The signature of one rule; see DifferentiableOpInterface::buildAdjoints.
/// Every result adjoint is non-null (zeros where nothing used the result).
using RuleFn = LogicalResult (*)(OpBuilder &b, Operation *op,
                                 ValueRange operands, ValueRange results,
                                 ArrayRef<Value> resultAdjoints,
                                 SmallVectorImpl<Value> &operandAdjoints);

template <typename OpTy, RuleFn Fn>
struct FnRule
    : public DifferentiableOpInterface::ExternalModel<FnRule<OpTy, Fn>, OpTy> {
  LogicalResult buildAdjoints(Operation *op, OpBuilder &b, ValueRange operands,
                              ValueRange results,
                              ArrayRef<Value> resultAdjoints,
                              SmallVectorImpl<Value> &operandAdjoints) const {
    return Fn(b, op, operands, results, resultAdjoints, operandAdjoints);
  }
};

/// Attaches `Fn` as the rule of `OpTy`.
template <typename OpTy, RuleFn Fn>
void attachRule(MLIRContext *ctx) {
  OpTy::template attachInterface<FnRule<OpTy, Fn>>(*ctx);
}

// Elementwise arithmetic that works on float scalars and float tensors.
using fb::add;
using fb::constantLike;
using fb::div;
using fb::mul;
using fb::neg;
using fb::sub;

/// `cond ? x : 0`, elementwise.
inline Value selectOrZero(OpBuilder &b, Location loc, Value cond, Value x) {
  return arith::SelectOp::create(b, loc, cond, x, constantLike(b, loc, x, 0.0));
}

void registerArithRules(DialectRegistry &registry);
void registerMathRules(DialectRegistry &registry);
void registerLinalgRules(DialectRegistry &registry);
void registerTensorRules(DialectRegistry &registry);

} // namespace mlir::tape::rules

#endif // TAPE_LIB_DIALECT_TAPE_RULES_RULESUPPORT_H
