//===- ArithRules.cpp - Differentiation rules for arith ops ---------------===//
//
// Each rule works elementwise on float scalars and float tensors alike,
// since the arith ops it builds do.
//
//===----------------------------------------------------------------------===//

#include "RuleSupport.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::tape;
using namespace mlir::tape::rules;

namespace {

LogicalResult addfRule(OpBuilder &, Operation *, ValueRange, ValueRange,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  out.append({dz[0], dz[0]});
  return success();
}

LogicalResult subfRule(OpBuilder &b, Operation *op, ValueRange, ValueRange,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  out.append({dz[0], neg(b, op->getLoc(), dz[0])});
  return success();
}

LogicalResult mulfRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  out.append({mul(b, loc, dz[0], x[1]), mul(b, loc, dz[0], x[0])});
  return success();
}

// z = a / b: da = dz / b, db = -da * z.
LogicalResult divfRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange z,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  Value da = div(b, loc, dz[0], x[1]);
  out.append({da, neg(b, loc, mul(b, loc, da, z[0]))});
  return success();
}

// z = remf(a, b) = a - b trunc(a / b) (C's fmod): da = dz,
// db = -dz trunc(a / b); the quotient is piecewise constant.
LogicalResult remfRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  Value quotient = math::TruncOp::create(b, loc, div(b, loc, x[0], x[1]));
  out.append({dz[0], neg(b, loc, mul(b, loc, dz[0], quotient))});
  return success();
}

LogicalResult negfRule(OpBuilder &b, Operation *op, ValueRange, ValueRange,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  out.push_back(neg(b, op->getLoc(), dz[0]));
  return success();
}

/// max/min: the adjoint goes to the operand that was selected; on a tie it
/// goes to the left operand (the same choice as a select on `a >= b`).
template <arith::CmpFPredicate Pred>
LogicalResult extremumRule(OpBuilder &b, Operation *op, ValueRange x,
                           ValueRange, ArrayRef<Value> dz,
                           SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  Value lhsWins = arith::CmpFOp::create(b, loc, Pred, x[0], x[1]);
  Value zero = constantLike(b, loc, dz[0], 0.0);
  out.append({arith::SelectOp::create(b, loc, lhsWins, dz[0], zero),
              arith::SelectOp::create(b, loc, lhsWins, zero, dz[0])});
  return success();
}

LogicalResult selectRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                         ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  Value zero = constantLike(b, loc, dz[0], 0.0);
  out.append({Value(), arith::SelectOp::create(b, loc, x[0], dz[0], zero),
              arith::SelectOp::create(b, loc, x[0], zero, dz[0])});
  return success();
}

LogicalResult extfRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  out.push_back(
      arith::TruncFOp::create(b, op->getLoc(), x[0].getType(), dz[0]));
  return success();
}

LogicalResult truncfRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                         ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  out.push_back(arith::ExtFOp::create(b, op->getLoc(), x[0].getType(), dz[0]));
  return success();
}

/// Constants have no operands; the rule exists so that a constant on a path
/// (e.g. produced by a nested gradient) is not mistaken for a missing rule.
LogicalResult constantRule(OpBuilder &, Operation *, ValueRange, ValueRange,
                           ArrayRef<Value>, SmallVectorImpl<Value> &) {
  return success();
}

} // namespace

void mlir::tape::rules::registerArithRules(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, arith::ArithDialect *) {
    attachRule<arith::AddFOp, addfRule>(ctx);
    attachRule<arith::SubFOp, subfRule>(ctx);
    attachRule<arith::MulFOp, mulfRule>(ctx);
    attachRule<arith::DivFOp, divfRule>(ctx);
    attachRule<arith::NegFOp, negfRule>(ctx);
    attachRule<arith::RemFOp, remfRule>(ctx);
    attachRule<arith::MaximumFOp, extremumRule<arith::CmpFPredicate::OGE>>(ctx);
    attachRule<arith::MaxNumFOp, extremumRule<arith::CmpFPredicate::OGE>>(ctx);
    attachRule<arith::MinimumFOp, extremumRule<arith::CmpFPredicate::OLE>>(ctx);
    attachRule<arith::MinNumFOp, extremumRule<arith::CmpFPredicate::OLE>>(ctx);
    attachRule<arith::SelectOp, selectRule>(ctx);
    attachRule<arith::ExtFOp, extfRule>(ctx);
    attachRule<arith::TruncFOp, truncfRule>(ctx);
    attachRule<arith::ConstantOp, constantRule>(ctx);
  });
}
