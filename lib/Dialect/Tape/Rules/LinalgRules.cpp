//===- LinalgRules.cpp - Dedicated rules for linalg ops -------------------===//
//
// Every linalg structured op differentiates through its generic form
// (tape-differentiate's reverse rule for linalg.generic); matmuls included:
// their adjoints are contraction generics that codegen makes matmuls again
// (tape-cpu-specialize-contractions), as fast as the dedicated rule they
// replaced (2026-12-02, models B, C, D within noise). The one exception:
//
//  * softmax (not a structured op, so the generic rule cannot see it):
//    dx = y * (dy - sum(dy * y)) along the softmax dimension, one
//    reduction instead of the exponentials of its decomposition.
//
//===----------------------------------------------------------------------===//

#include "RuleSupport.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::tape;
using namespace mlir::tape::rules;

namespace {

RankedTensorType tensorType(Value v) {
  return cast<RankedTensorType>(v.getType());
}

Value zerosOfShape(OpBuilder &b, Location loc, ArrayRef<int64_t> shape,
                   Type elementType) {
  Value zero = createFloatConstant(b, loc, elementType, 0.0);
  Value empty = tensor::EmptyOp::create(b, loc, shape, elementType);
  return linalg::FillOp::create(b, loc, zero, empty).getResult(0);
}

// y = softmax(x) along d: dx = y * (dy - sum_d(dy * y)); the init is
// overwritten and gets nothing.
LogicalResult softmaxRule(OpBuilder &b, Operation *op, ValueRange,
                          ValueRange z, ArrayRef<Value> dz,
                          SmallVectorImpl<Value> &out) {
  auto softmax = cast<linalg::SoftmaxOp>(op);
  Location loc = op->getLoc();
  RankedTensorType type = tensorType(z[0]);
  int64_t dim = softmax.getDimension();
  SmallVector<int64_t> reducedShape;
  for (auto [i, size] : llvm::enumerate(type.getShape()))
    if (int64_t(i) != dim)
      reducedShape.push_back(size);
  Value prod = mul(b, loc, dz[0], z[0]);
  Value init = zerosOfShape(b, loc, reducedShape, type.getElementType());
  Value sum =
      linalg::ReduceOp::create(
          b, loc, ValueRange{prod}, ValueRange{init}, {dim},
          [](OpBuilder &nb, Location nloc, ValueRange args) {
            linalg::YieldOp::create(
                nb, nloc, arith::AddFOp::create(nb, nloc, args[0], args[1])
                              .getResult());
          })
          .getResult(0);
  Value empty =
      tensor::EmptyOp::create(b, loc, type.getShape(), type.getElementType());
  Value spread =
      linalg::BroadcastOp::create(b, loc, sum, empty, {dim}).getResult()[0];
  out.append({mul(b, loc, z[0], sub(b, loc, dz[0], spread)), Value()});
  return success();
}

} // namespace

void mlir::tape::rules::registerLinalgRules(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, linalg::LinalgDialect *) {
    attachRule<linalg::SoftmaxOp, softmaxRule>(ctx);
  });
}
