//===- LowerGatherScatter.cpp - tensor.gather/scatter to linalg and loops -===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_LOWERGATHERSCATTER
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

/// `v` (an element of an index tensor) as an index.
static Value asIndex(OpBuilder &b, Location loc, Value v) {
  if (v.getType().isIndex())
    return v;
  return arith::IndexCastOp::create(b, loc, b.getIndexType(), v);
}

/// The coordinates in the source (gather) or destination (scatter) of the
/// slice at batch position `batch`, element `inSlice` of the slice: the
/// gathered dimensions start at the coordinate the index tensor holds.
/// `inSlice` has an entry per slice dimension as the result lays it out
/// (the gathered dimensions are there with size 1 unless rank-reduced).
static SmallVector<Value> coordinates(OpBuilder &b, Location loc,
                                      Value indices, ValueRange batch,
                                      ArrayRef<int64_t> dims, int64_t rank,
                                      ValueRange inSlice, bool rankReduced) {
  SmallVector<Value> out;
  unsigned next = 0;
  for (int64_t d = 0; d < rank; ++d) {
    auto it = llvm::find(dims, d);
    if (it == dims.end()) {
      out.push_back(inSlice[next++]);
      continue;
    }
    SmallVector<Value> at(batch.begin(), batch.end());
    at.push_back(arith::ConstantIndexOp::create(b, loc, it - dims.begin()));
    Value start = asIndex(b, loc, tensor::ExtractOp::create(b, loc, indices, at));
    if (!rankReduced)
      start = arith::AddIOp::create(b, loc, start, inSlice[next++]);
    out.push_back(start);
  }
  return out;
}

static LogicalResult lowerGather(IRRewriter &rewriter, tensor::GatherOp op) {
  Location loc = op.getLoc();
  RankedTensorType resultType = op.getResultType();
  auto sourceType = cast<RankedTensorType>(op.getSource().getType());
  auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
  if (!resultType.hasStaticShape())
    return op.emitOpError("code generation needs a static result shape");
  int64_t batchRank = indicesType.getRank() - 1;
  bool rankReduced =
      resultType.getRank() - batchRank != sourceType.getRank();
  unsigned rank = resultType.getRank();
  MLIRContext *ctx = op.getContext();
  Value init = tensor::EmptyOp::create(rewriter, loc, resultType.getShape(),
                                       resultType.getElementType());
  auto generic = linalg::GenericOp::create(
      rewriter, loc, TypeRange{resultType}, ValueRange{}, ValueRange{init},
      ArrayRef<AffineMap>{AffineMap::getMultiDimIdentityMap(rank, ctx)},
      SmallVector<utils::IteratorType>(rank, utils::IteratorType::parallel),
      [&](OpBuilder &b, Location nloc, ValueRange) {
        SmallVector<Value> ivs;
        for (unsigned d = 0; d < rank; ++d)
          ivs.push_back(linalg::IndexOp::create(b, nloc, d));
        ValueRange batch = ValueRange(ivs).take_front(batchRank);
        ValueRange inSlice = ValueRange(ivs).drop_front(batchRank);
        SmallVector<Value> at =
            coordinates(b, nloc, op.getIndices(), batch, op.getGatherDims(),
                        sourceType.getRank(), inSlice, rankReduced);
        linalg::YieldOp::create(
            b, nloc,
            tensor::ExtractOp::create(b, nloc, op.getSource(), at).getResult());
      });
  rewriter.replaceOp(op, generic.getResults());
  return success();
}

static LogicalResult lowerScatter(IRRewriter &rewriter, tensor::ScatterOp op) {
  Location loc = op.getLoc();
  auto sourceType = cast<RankedTensorType>(op.getSource().getType());
  auto destType = cast<RankedTensorType>(op.getDest().getType());
  auto indicesType = cast<RankedTensorType>(op.getIndices().getType());
  if (!sourceType.hasStaticShape() || !indicesType.hasStaticShape())
    return op.emitOpError("code generation needs static shapes");
  int64_t batchRank = indicesType.getRank() - 1;
  ArrayRef<int64_t> dims = op.getScatterDims();
  bool rankReduced = sourceType.getRank() - batchRank != destType.getRank();
  // The slice as the source lays it out, and its sizes in the destination.
  auto slice = RankedTensorType::get(sourceType.getShape().drop_front(batchRank),
                                     sourceType.getElementType());
  SmallVector<Value> lbs, ubs, steps;
  for (int64_t d = 0; d < batchRank; ++d) {
    lbs.push_back(arith::ConstantIndexOp::create(rewriter, loc, 0));
    ubs.push_back(
        arith::ConstantIndexOp::create(rewriter, loc, indicesType.getDimSize(d)));
    steps.push_back(arith::ConstantIndexOp::create(rewriter, loc, 1));
  }
  scf::LoopNest nest = scf::buildLoopNest(
      rewriter, loc, lbs, ubs, steps, ValueRange{op.getDest()},
      [&](OpBuilder &b, Location nloc, ValueRange ivs,
          ValueRange acc) -> scf::ValueVector {
        // Source slice p.
        SmallVector<OpFoldResult> offsets(ivs.begin(), ivs.end()),
            sizes(batchRank, b.getIndexAttr(1)),
            strides(sourceType.getRank(), b.getIndexAttr(1));
        for (int64_t size : slice.getShape()) {
          offsets.push_back(b.getIndexAttr(0));
          sizes.push_back(b.getIndexAttr(size));
        }
        Value part = tensor::ExtractSliceOp::create(
            b, nloc, slice, op.getSource(), offsets, sizes, strides);
        // Where it goes in the destination.
        SmallVector<Value> zeros(slice.getRank(),
                                 arith::ConstantIndexOp::create(b, nloc, 0));
        SmallVector<Value> at =
            coordinates(b, nloc, op.getIndices(), ivs, dims,
                        destType.getRank(), zeros, rankReduced);
        SmallVector<OpFoldResult> dOffsets(at.begin(), at.end()), dSizes,
            dStrides(destType.getRank(), b.getIndexAttr(1));
        unsigned next = 0;
        for (int64_t d = 0; d < destType.getRank(); ++d) {
          if (llvm::is_contained(dims, d)) {
            dSizes.push_back(b.getIndexAttr(1));
            if (!rankReduced)
              ++next;
          } else {
            dSizes.push_back(b.getIndexAttr(slice.getDimSize(next++)));
          }
        }
        return {tensor::InsertSliceOp::create(b, nloc, part, acc[0], dOffsets,
                                              dSizes, dStrides)};
      });
  rewriter.replaceOp(op, nest.results);
  return success();
}

namespace {
struct LowerGatherScatterPass
    : public tape::cpu::impl::LowerGatherScatterBase<LowerGatherScatterPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<tensor::GatherOp, tensor::ScatterOp>(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (Operation *op : ops) {
      rewriter.setInsertionPoint(op);
      LogicalResult result =
          isa<tensor::GatherOp>(op)
              ? lowerGather(rewriter, cast<tensor::GatherOp>(op))
              : lowerScatter(rewriter, cast<tensor::ScatterOp>(op));
      if (failed(result))
        return signalPassFailure();
    }
  }
};
} // namespace
