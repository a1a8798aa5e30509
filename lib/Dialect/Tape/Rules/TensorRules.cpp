//===- TensorRules.cpp - Differentiation rules for tensor ops -------------===//
//
// Data movement: each rule moves the adjoint back to where the data came
// from, filling the rest with zeros. Index operands get no adjoint.
//
//===----------------------------------------------------------------------===//

#include "RuleSupport.h"

#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/IndexingUtils.h"
#include "mlir/IR/DialectRegistry.h"

using namespace mlir;
using namespace mlir::tape;
using namespace mlir::tape::rules;

namespace {

void padWithNulls(Operation *op, SmallVectorImpl<Value> &out) {
  out.resize(op->getNumOperands());
}

LogicalResult expandShapeRule(OpBuilder &b, Operation *op, ValueRange x,
                              ValueRange, ArrayRef<Value> dz,
                              SmallVectorImpl<Value> &out) {
  auto expand = cast<tensor::ExpandShapeOp>(op);
  out.push_back(tensor::CollapseShapeOp::create(
      b, op->getLoc(), x[0].getType(), dz[0],
      expand.getReassociationIndices()));
  padWithNulls(op, out);
  return success();
}

LogicalResult collapseShapeRule(OpBuilder &b, Operation *op, ValueRange x,
                                ValueRange, ArrayRef<Value> dz,
                                SmallVectorImpl<Value> &out) {
  auto collapse = cast<tensor::CollapseShapeOp>(op);
  out.push_back(tensor::ExpandShapeOp::create(
      b, op->getLoc(), x[0].getType(), dz[0],
      collapse.getReassociationIndices()));
  padWithNulls(op, out);
  return success();
}

// The slice's adjoint goes back into a zero tensor of the source's shape.
LogicalResult extractSliceRule(OpBuilder &b, Operation *op, ValueRange x,
                               ValueRange, ArrayRef<Value> dz,
                               SmallVectorImpl<Value> &out) {
  auto slice = cast<tensor::ExtractSliceOp>(op);
  Location loc = op->getLoc();
  Value zeros = createFloatConstant(b, loc, x[0].getType(), 0.0);
  out.push_back(tensor::InsertSliceOp::create(
      b, loc, dz[0], zeros, slice.getMixedOffsets(), slice.getMixedSizes(),
      slice.getMixedStrides()));
  padWithNulls(op, out);
  return success();
}

// d(source) is the slice of the adjoint; d(dest) is the adjoint with the
// overwritten slice zeroed.
LogicalResult insertSliceRule(OpBuilder &b, Operation *op, ValueRange x,
                              ValueRange, ArrayRef<Value> dz,
                              SmallVectorImpl<Value> &out) {
  auto insert = cast<tensor::InsertSliceOp>(op);
  Location loc = op->getLoc();
  auto sourceType = cast<RankedTensorType>(x[0].getType());
  Value dsource = tensor::ExtractSliceOp::create(
      b, loc, sourceType, dz[0], insert.getMixedOffsets(),
      insert.getMixedSizes(), insert.getMixedStrides());
  Value zeros = createFloatConstant(b, loc, sourceType, 0.0);
  Value ddest = tensor::InsertSliceOp::create(
      b, loc, zeros, dz[0], insert.getMixedOffsets(), insert.getMixedSizes(),
      insert.getMixedStrides());
  out.append({dsource, ddest});
  padWithNulls(op, out);
  return success();
}

LogicalResult extractRule(OpBuilder &b, Operation *op, ValueRange x,
                          ValueRange, ArrayRef<Value> dz,
                          SmallVectorImpl<Value> &out) {
  auto extract = cast<tensor::ExtractOp>(op);
  Location loc = op->getLoc();
  Value zeros = createFloatConstant(b, loc, x[0].getType(), 0.0);
  out.push_back(tensor::InsertOp::create(b, loc, dz[0], zeros,
                                         extract.getIndices()));
  padWithNulls(op, out);
  return success();
}

LogicalResult insertRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                         ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  auto insert = cast<tensor::InsertOp>(op);
  Location loc = op->getLoc();
  Value dscalar =
      tensor::ExtractOp::create(b, loc, dz[0], insert.getIndices());
  Value zero = createFloatConstant(b, loc, x[0].getType(), 0.0);
  Value ddest = tensor::InsertOp::create(b, loc, zero, dz[0],
                                         insert.getIndices());
  out.append({dscalar, ddest});
  padWithNulls(op, out);
  return success();
}

LogicalResult fromElementsRule(OpBuilder &b, Operation *op, ValueRange x,
                               ValueRange, ArrayRef<Value> dz,
                               SmallVectorImpl<Value> &out) {
  Location loc = op->getLoc();
  auto type = cast<RankedTensorType>(dz[0].getType());
  SmallVector<int64_t> strides = computeStrides(type.getShape());
  for (int64_t i = 0, e = x.size(); i < e; ++i) {
    SmallVector<Value> indices;
    for (int64_t pos : delinearize(i, strides))
      indices.push_back(arith::ConstantIndexOp::create(b, loc, pos));
    out.push_back(tensor::ExtractOp::create(b, loc, dz[0], indices));
  }
  return success();
}

// Each input gets its slice of the adjoint along the concatenated dimension.
LogicalResult concatRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                         ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  auto concat = cast<tensor::ConcatOp>(op);
  Location loc = op->getLoc();
  int64_t dim = concat.getDim();
  int64_t offset = 0;
  for (Value input : x) {
    auto type = cast<RankedTensorType>(input.getType());
    if (!type.hasStaticShape())
      return op->emitOpError("gradient rule needs static shapes");
    SmallVector<OpFoldResult> offsets(type.getRank(), b.getIndexAttr(0));
    offsets[dim] = b.getIndexAttr(offset);
    SmallVector<OpFoldResult> sizes, strides(type.getRank(),
                                             b.getIndexAttr(1));
    for (int64_t size : type.getShape())
      sizes.push_back(b.getIndexAttr(size));
    out.push_back(tensor::ExtractSliceOp::create(b, loc, type, dz[0], offsets,
                                                 sizes, strides));
    offset += type.getDimSize(dim);
  }
  return success();
}

LogicalResult emptyRule(OpBuilder &, Operation *op, ValueRange, ValueRange,
                        ArrayRef<Value>, SmallVectorImpl<Value> &out) {
  padWithNulls(op, out);
  return success();
}

} // namespace

void mlir::tape::rules::registerTensorRules(DialectRegistry &registry) {
  registry.addExtension(+[](MLIRContext *ctx, tensor::TensorDialect *) {
    attachRule<tensor::ExpandShapeOp, expandShapeRule>(ctx);
    attachRule<tensor::CollapseShapeOp, collapseShapeRule>(ctx);
    attachRule<tensor::ExtractSliceOp, extractSliceRule>(ctx);
    attachRule<tensor::InsertSliceOp, insertSliceRule>(ctx);
    attachRule<tensor::ExtractOp, extractRule>(ctx);
    attachRule<tensor::InsertOp, insertRule>(ctx);
    attachRule<tensor::FromElementsOp, fromElementsRule>(ctx);
    attachRule<tensor::ConcatOp, concatRule>(ctx);
    attachRule<tensor::EmptyOp, emptyRule>(ctx);
  });
}
