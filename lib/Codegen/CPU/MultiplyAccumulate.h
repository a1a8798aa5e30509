//===- MultiplyAccumulate.h - Bodies that are `out + a * b` ---------------===//
//
// The contractions the codegen turns into matmuls (convolutions, batched
// products) are recognized by their body, whatever their maps.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_MULTIPLYACCUMULATE_H
#define TAPE_CODEGEN_CPU_MULTIPLYACCUMULATE_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::tape {

/// True if the body of `op` (two inputs, one init) is `out + in0 * in1`,
/// the operands of either operation in either order.
inline bool isMultiplyAccumulate(linalg::LinalgOp op) {
  Block *body = op.getBlock();
  if (body->getNumArguments() != 3 || body->getOperations().size() != 3)
    return false;
  auto yield = cast<linalg::YieldOp>(body->getTerminator());
  auto add = yield.getOperand(0).getDefiningOp<arith::AddFOp>();
  if (!add)
    return false;
  Value out = body->getArgument(2);
  Value product = add.getLhs() == out ? add.getRhs() : add.getLhs();
  if ((add.getLhs() != out && add.getRhs() != out) || product == out)
    return false;
  auto mul = product.getDefiningOp<arith::MulFOp>();
  if (!mul)
    return false;
  Value a = body->getArgument(0), b = body->getArgument(1);
  return (mul.getLhs() == a && mul.getRhs() == b) ||
         (mul.getLhs() == b && mul.getRhs() == a);
}

/// Builds the body `out + in0 * in1` (for linalg::GenericOp::create) of the
/// matmuls the contractions become.
inline void buildMultiplyAccumulate(OpBuilder &b, Location loc,
                                    ValueRange args) {
  Value product = arith::MulFOp::create(b, loc, args[0], args[1]);
  linalg::YieldOp::create(
      b, loc, ValueRange{arith::AddFOp::create(b, loc, args[2], product)});
}

/// The loop dimensions `map` uses, in the order its results first use them.
inline SmallVector<unsigned> dimsOf(AffineMap map) {
  SmallVector<unsigned> dims;
  for (AffineExpr result : map.getResults())
    result.walk([&](AffineExpr e) {
      if (auto dim = dyn_cast<AffineDimExpr>(e))
        if (!llvm::is_contained(dims, dim.getPosition()))
          dims.push_back(dim.getPosition());
    });
  return dims;
}

} // namespace mlir::tape

#endif // TAPE_CODEGEN_CPU_MULTIPLYACCUMULATE_H
