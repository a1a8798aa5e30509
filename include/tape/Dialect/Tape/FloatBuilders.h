//===- FloatBuilders.h - Elementwise float arithmetic in one call -*- C++ -*-//
//
// Short builders for the arithmetic that differentiation rules and the
// optimizer lowering write over and over; each works on float scalars and
// float tensors alike.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_DIALECT_TAPE_FLOATBUILDERS_H
#define TAPE_DIALECT_TAPE_FLOATBUILDERS_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/Builders.h"

namespace mlir::tape {

/// A constant of `type` (a float scalar or a ranked float tensor) with every
/// element equal to `value`.
inline Value createFloatConstant(OpBuilder &b, Location loc, Type type,
                                 double value) {
  if (auto tensor = dyn_cast<RankedTensorType>(type)) {
    auto elt = cast<FloatType>(tensor.getElementType());
    return arith::ConstantOp::create(
        b, loc, DenseElementsAttr::get(tensor, FloatAttr::get(elt, value)));
  }
  return arith::ConstantOp::create(b, loc,
                                   FloatAttr::get(cast<FloatType>(type), value));
}

} // namespace mlir::tape

namespace mlir::tape::fb {

inline Value mul(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::MulFOp::create(b, loc, x, y);
}
inline Value div(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::DivFOp::create(b, loc, x, y);
}
inline Value add(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::AddFOp::create(b, loc, x, y);
}
inline Value sub(OpBuilder &b, Location loc, Value x, Value y) {
  return arith::SubFOp::create(b, loc, x, y);
}
inline Value neg(OpBuilder &b, Location loc, Value x) {
  return arith::NegFOp::create(b, loc, x);
}
/// A constant of `like`'s type with every element `v`.
inline Value constantLike(OpBuilder &b, Location loc, Value like, double v) {
  return createFloatConstant(b, loc, like.getType(), v);
}

} // namespace mlir::tape::fb

#endif // TAPE_DIALECT_TAPE_FLOATBUILDERS_H
