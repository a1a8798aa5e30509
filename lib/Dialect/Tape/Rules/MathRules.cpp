//===- MathRules.cpp - Differentiation rules for math ops -----------------===//

#include "RuleSupport.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::tape;
using namespace mlir::tape::rules;

namespace {

// d exp(x) = exp(x) dx: reuse the forward result.
LogicalResult expRule(OpBuilder &b, Operation *op, ValueRange, ValueRange z,
                      ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  out.push_back(mul(b, op->getLoc(), dz[0], z[0]));
  return success();
}

LogicalResult logRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                      ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  out.push_back(div(b, op->getLoc(), dz[0], x[0]));
  return success();
}

LogicalResult log1pRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                        ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  out.push_back(
      div(b, loc, dz[0], add(b, loc, x[0], constantLike(b, loc, x[0], 1.0))));
  return success();
}

// d tanh(x) = (1 - tanh(x)^2) dx.
LogicalResult tanhRule(OpBuilder &b, Operation *op, ValueRange, ValueRange z,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  Value one = constantLike(b, loc, z[0], 1.0);
  out.push_back(
      mul(b, loc, dz[0], sub(b, loc, one, mul(b, loc, z[0], z[0]))));
  return success();
}

// d sqrt(x) = dx / (2 sqrt(x)).
LogicalResult sqrtRule(OpBuilder &b, Operation *op, ValueRange, ValueRange z,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  Value half = constantLike(b, loc, z[0], 0.5);
  out.push_back(div(b, loc, mul(b, loc, dz[0], half), z[0]));
  return success();
}

// z = x^(-1/2): dz/dx = -z / (2x) = -z^3 / 2.
LogicalResult rsqrtRule(OpBuilder &b, Operation *op, ValueRange, ValueRange z,
                        ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  Value z3 = mul(b, loc, mul(b, loc, z[0], z[0]), z[0]);
  Value minusHalf = constantLike(b, loc, z[0], -0.5);
  out.push_back(mul(b, loc, dz[0], mul(b, loc, minusHalf, z3)));
  return success();
}

// z = x^y: dx = dz * y * x^(y-1), dy = dz * z * log(x). The x^(y-1) form
// stays finite at x = 0 for y >= 1, where z / x would not.
LogicalResult powfRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange z,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  Value one = constantLike(b, loc, x[1], 1.0);
  Value xPow = math::PowFOp::create(b, loc, x[0], sub(b, loc, x[1], one));
  out.push_back(mul(b, loc, dz[0], mul(b, loc, x[1], xPow)));
  out.push_back(
      mul(b, loc, dz[0], mul(b, loc, z[0], math::LogOp::create(b, loc, x[0]))));
  return success();
}

LogicalResult sinRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                      ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  out.push_back(mul(b, loc, dz[0], math::CosOp::create(b, loc, x[0])));
  return success();
}

LogicalResult cosRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                      ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  out.push_back(
      neg(b, loc, mul(b, loc, dz[0], math::SinOp::create(b, loc, x[0]))));
  return success();
}

// d |x| = sign(x) dx, with sign(0) = 0 (as TensorFlow).
LogicalResult absfRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                       ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  Value zero = constantLike(b, loc, x[0], 0.0);
  Value pos = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OGT, x[0],
                                    zero);
  Value negative = arith::CmpFOp::create(b, loc, arith::CmpFPredicate::OLT,
                                         x[0], zero);
  Value inner = selectOrZero(b, loc, negative, neg(b, loc, dz[0]));
  out.push_back(arith::SelectOp::create(b, loc, pos, dz[0], inner));
  return success();
}

} // namespace

void mlir::tape::rules::registerMathRules(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, math::MathDialect *) {
    attachRule<math::ExpOp, expRule>(ctx);
    attachRule<math::LogOp, logRule>(ctx);
    attachRule<math::Log1pOp, log1pRule>(ctx);
    attachRule<math::TanhOp, tanhRule>(ctx);
    attachRule<math::SqrtOp, sqrtRule>(ctx);
    attachRule<math::RsqrtOp, rsqrtRule>(ctx);
    attachRule<math::PowFOp, powfRule>(ctx);
    attachRule<math::SinOp, sinRule>(ctx);
    attachRule<math::CosOp, cosRule>(ctx);
    attachRule<math::AbsFOp, absfRule>(ctx);
  });
}
