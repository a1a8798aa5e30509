//===- LinalgRules.cpp - Dedicated rules for linalg ops -------------------===//
//
// Every linalg structured op differentiates through its generic form
// (tape-differentiate's reverse rule for linalg.generic). The rules here
// are the exceptions, kept because they emit better code:
//
//  * matmul and batch_matmul: the adjoints are matmuls again (the packed
//    and BLAS kernels apply), reading transposed operands through
//    indexing maps instead of copying them;
//  * softmax (not a structured op): dx = y * (dy - sum(dy * y)) along the
//    softmax dimension, one reduction instead of the exponentials of its
//    decomposition.
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

/// True if every operand map of the matmul-like `op` reads a full matrix
/// (no broadcast operand): each input map has all dimensions but one.
bool hasMatrixOperands(linalg::LinalgOp op) {
  for (AffineMap map : op.getIndexingMapsArray())
    if (map.getNumResults() != map.getNumDims() - 1 ||
        !map.isProjectedPermutation())
      return false;
  return true;
}

// C = C0 + A B, over (batch,) m, n, k: dA = dC B^T, dB = A^T dC, dC0 = dC.
// The adjoint of input x is a contraction of dC with the other input over
// the dimension x does not index. Its iteration space is x's dimensions in
// x's layout (so that the result has x's shape and the identity map), then
// the contracted dimension; the operands' maps follow by renaming the
// forward dimensions, and whichever operand reads the result's rows is the
// left-hand side. Transposes are thereby indexing maps, never copies.
template <typename OpTy>
Value contractionAdjoint(OpBuilder &b, OpTy op, unsigned x, Value dz,
                         ValueRange inputs) {
  MLIRContext *ctx = op.getContext();
  Location loc = op.getLoc();
  SmallVector<AffineMap> maps = op.getIndexingMapsArray();
  unsigned numDims = maps[x].getNumDims();
  SmallVector<AffineExpr> rename(numDims);
  unsigned next = 0;
  for (AffineExpr e : maps[x].getResults())
    rename[cast<AffineDimExpr>(e).getPosition()] = getAffineDimExpr(next++, ctx);
  for (AffineExpr &e : rename)
    if (!e)
      e = getAffineDimExpr(next++, ctx);
  auto renamed = [&](AffineMap m) {
    return m.replaceDimsAndSymbols(rename, {}, numDims, 0);
  };
  AffineMap dzMap = renamed(maps[2]);
  AffineMap otherMap = renamed(maps[1 - x]);
  Value other = inputs[1 - x];
  // The result's row dimension: the one before its column.
  AffineExpr row = getAffineDimExpr(numDims - 3, ctx);
  bool dzIsLhs = llvm::is_contained(dzMap.getResults(), row);
  SmallVector<Value> operands = dzIsLhs ? SmallVector<Value>{dz, other}
                                        : SmallVector<Value>{other, dz};
  AffineMap outMap = AffineMap::getMultiDimIdentityMap(numDims - 1, ctx);
  outMap = AffineMap::get(numDims, 0, outMap.getResults(), ctx);
  SmallVector<Attribute> mapAttrs{
      AffineMapAttr::get(dzIsLhs ? dzMap : otherMap),
      AffineMapAttr::get(dzIsLhs ? otherMap : dzMap),
      AffineMapAttr::get(outMap)};
  RankedTensorType type = tensorType(inputs[x]);
  Value init = zerosOfShape(b, loc, type.getShape(), type.getElementType());
  auto adjoint = OpTy::create(b, loc, TypeRange{type}, operands,
                              ValueRange{init});
  // Default maps are implicit; say the others.
  SmallVector<AffineMap> defaults = OpTy::getDefaultIndexingMaps(ctx);
  bool isDefault = true;
  for (auto [attr, def] : llvm::zip(mapAttrs, defaults))
    isDefault &= cast<AffineMapAttr>(attr).getValue() == def;
  if (!isDefault)
    adjoint.setIndexingMapsAttr(b.getArrayAttr(mapAttrs));
  return adjoint.getResult(0);
}

template <typename OpTy>
struct ContractionRule
    : public DifferentiableOpInterface::ExternalModel<ContractionRule<OpTy>,
                                                      OpTy> {
  bool hasAdjointRule(Operation *op) const {
    return hasMatrixOperands(cast<linalg::LinalgOp>(op));
  }
  LogicalResult buildAdjoints(Operation *op, OpBuilder &b, ValueRange x,
                              ValueRange, ArrayRef<Value> dz,
                              SmallVectorImpl<Value> &out) const {
    auto contraction = cast<OpTy>(op);
    out.append({contractionAdjoint(b, contraction, 0, dz[0], x),
                contractionAdjoint(b, contraction, 1, dz[0], x), dz[0]});
    return success();
  }
};

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
    linalg::MatmulOp::attachInterface<ContractionRule<linalg::MatmulOp>>(*ctx);
    linalg::BatchMatmulOp::attachInterface<
        ContractionRule<linalg::BatchMatmulOp>>(*ctx);
    attachRule<linalg::SoftmaxOp, softmaxRule>(ctx);
  });
}
