//===- TensorRules.cpp - Differentiation rules for tensor ops -------------===//
//
// Data movement: each rule moves the adjoint back to where the data came
// from, filling the rest with zeros. Index operands get no adjoint.
//
//===----------------------------------------------------------------------===//

#include "RuleSupport.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
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


/// The slice of `t` at batch position `batch` (leading dimensions), rank
/// reduced to `tail`.
Value batchSlice(OpBuilder &b, Location loc, Value t, ValueRange batch,
                 RankedTensorType tail) {
  auto type = cast<RankedTensorType>(t.getType());
  SmallVector<OpFoldResult> offsets(batch.begin(), batch.end()),
      sizes(batch.size(), b.getIndexAttr(1)),
      strides(type.getRank(), b.getIndexAttr(1));
  for (int64_t d = batch.size(); d < type.getRank(); ++d) {
    offsets.push_back(b.getIndexAttr(0));
    sizes.push_back(b.getIndexAttr(type.getDimSize(d)));
  }
  return tensor::ExtractSliceOp::create(b, loc, tail, t, offsets, sizes,
                                        strides);
}

// y[p] = x[idx(p)] (whole slices along the gather dimensions): dx is a
// scatter-accumulate, dx[idx(p)] += dy[p] for every batch position p in
// order, so that rows gathered twice add up. A loop nest over the batch
// dimensions updates the slice in place.
LogicalResult gatherRule(OpBuilder &b, Operation *op, ValueRange x, ValueRange,
                         ArrayRef<Value> dz, SmallVectorImpl<Value> &out) {
  auto gather = cast<tensor::GatherOp>(op);
  Location loc = op->getLoc();
  auto sourceType = cast<RankedTensorType>(x[0].getType());
  auto indicesType = cast<RankedTensorType>(x[1].getType());
  auto resultType = cast<RankedTensorType>(dz[0].getType());
  if (!sourceType.hasStaticShape() || !indicesType.hasStaticShape())
    return op->emitOpError("gradient rule needs static shapes");
  int64_t batchRank = indicesType.getRank() - 1;
  ArrayRef<int64_t> dims = gather.getGatherDims();
  auto tail = RankedTensorType::get(resultType.getShape().drop_front(batchRank),
                                    resultType.getElementType());
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < batchRank; ++d) {
    lbs.push_back(arith::ConstantIndexOp::create(b, loc, 0));
    ubs.push_back(
        arith::ConstantIndexOp::create(b, loc, indicesType.getDimSize(d)));
    steps.push_back(arith::ConstantIndexOp::create(b, loc, 1));
  }
  Value zeros = createFloatConstant(b, loc, sourceType, 0.0);
  scf::LoopNest nest = scf::buildLoopNest(
      b, loc, lbs, ubs, steps, ValueRange{zeros},
      [&](OpBuilder &nb, Location nloc, ValueRange ivs,
          ValueRange acc) -> scf::ValueVector {
        SmallVector<OpFoldResult> offsets(sourceType.getRank(),
                                          nb.getIndexAttr(0));
        SmallVector<OpFoldResult> sizes, strides(sourceType.getRank(),
                                                 nb.getIndexAttr(1));
        for (int64_t size : sourceType.getShape())
          sizes.push_back(nb.getIndexAttr(size));
        for (auto [k, dim] : llvm::enumerate(dims)) {
          SmallVector<Value> at(ivs.begin(), ivs.end());
          at.push_back(arith::ConstantIndexOp::create(nb, nloc, k));
          Value i = tensor::ExtractOp::create(nb, nloc, x[1], at);
          if (!i.getType().isIndex())
            i = arith::IndexCastOp::create(nb, nloc, nb.getIndexType(), i);
          offsets[dim] = i;
          sizes[dim] = nb.getIndexAttr(1);
        }
        Value old = tensor::ExtractSliceOp::create(nb, nloc, tail, acc[0],
                                                   offsets, sizes, strides);
        Value sum = add(nb, nloc, old, batchSlice(nb, nloc, dz[0], ivs, tail));
        return {tensor::InsertSliceOp::create(nb, nloc, sum, acc[0], offsets,
                                              sizes, strides)};
      });
  out.append({nest.results[0], Value()});
  return success();
}

// out = dest with the slices at idx(p) replaced by source[p] (unique
// indices): dsource[p] = dout[idx(p)] (a gather), ddest = dout with those
// slices zeroed (a scatter of zeros).
LogicalResult scatterRule(OpBuilder &b, Operation *op, ValueRange x,
                          ValueRange, ArrayRef<Value> dz,
                          SmallVectorImpl<Value> &out) {
  auto scatter = cast<tensor::ScatterOp>(op);
  Location loc = op->getLoc();
  auto dims = b.getDenseI64ArrayAttr(scatter.getScatterDims());
  Value dsource = tensor::GatherOp::create(b, loc, x[0].getType(), dz[0],
                                           x[2], dims, b.getUnitAttr());
  Value zeros = createFloatConstant(b, loc, x[0].getType(), 0.0);
  Value ddest = tensor::ScatterOp::create(b, loc, dz[0].getType(), zeros,
                                          dz[0], x[2], dims, b.getUnitAttr());
  out.append({dsource, ddest, Value()});
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
    attachRule<tensor::GatherOp, gatherRule>(ctx);
    attachRule<tensor::ScatterOp, scatterRule>(ctx);
  });
}
