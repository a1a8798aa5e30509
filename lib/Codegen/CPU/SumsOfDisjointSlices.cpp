//===- SumsOfDisjointSlices.cpp - Adding slices of zeros inserts them -----===//
//
// Reverse-mode AD gives each slice of a tensor that the forward pass
// extracted a cotangent that is zeros with the slice's cotangent inserted,
// and adds those up: a GPT's q, k and v cut from one projection cost three
// zero tensors of the projection's size, three partial writes and a pass
// adding them. Where one addend is zeros outside a slice in which the other
// is zero, the sum is that slice inserted into the other. See the pass
// description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "Zeros.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_SUMSOFDISJOINTSLICES
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;
using mlir::tape::isZeros;

namespace {

/// The static box [offset, offset + size) per dimension of a unit-stride
/// insertion, if it has one.
static std::optional<SmallVector<std::pair<int64_t, int64_t>>>
boxOf(tensor::InsertSliceOp insert) {
  if (!insert.hasUnitStride())
    return std::nullopt;
  SmallVector<std::pair<int64_t, int64_t>> box;
  for (auto [offset, size] :
       llvm::zip(insert.getStaticOffsets(), insert.getStaticSizes())) {
    if (ShapedType::isDynamic(offset) || ShapedType::isDynamic(size))
      return std::nullopt;
    box.push_back({offset, offset + size});
  }
  return box;
}

static bool disjoint(ArrayRef<std::pair<int64_t, int64_t>> a,
                     ArrayRef<std::pair<int64_t, int64_t>> b) {
  for (auto [x, y] : llvm::zip(a, b))
    if (x.second <= y.first || y.second <= x.first)
      return true;
  return false;
}

/// Whether `value` is certainly zero inside `box`: zeros, or slices
/// inserted into zeros, none of which overlaps `box`.
static bool isZeroIn(Value value, ArrayRef<std::pair<int64_t, int64_t>> box) {
  while (auto insert = value.getDefiningOp<tensor::InsertSliceOp>()) {
    std::optional<SmallVector<std::pair<int64_t, int64_t>>> other =
        boxOf(insert);
    if (!other || !disjoint(*other, box))
      return false;
    value = insert.getDest();
  }
  return isZeros(value);
}

/// a + insert_slice(x into zeros at S) = insert_slice(x into a at S) when
/// `a` is zero in S (either addend may be the insertion).
struct SumOfDisjointSlice : OpRewritePattern<arith::AddFOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(arith::AddFOp sum,
                                PatternRewriter &rewriter) const override {
    if (!isa<RankedTensorType>(sum.getType()))
      return failure();
    for (auto [slice, other] : {std::pair(sum.getRhs(), sum.getLhs()),
                                std::pair(sum.getLhs(), sum.getRhs())}) {
      auto insert = slice.getDefiningOp<tensor::InsertSliceOp>();
      if (!insert || !isZeros(insert.getDest()))
        continue;
      std::optional<SmallVector<std::pair<int64_t, int64_t>>> box =
          boxOf(insert);
      if (!box || !isZeroIn(other, *box))
        continue;
      rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
          sum, insert.getSource(), other, insert.getMixedOffsets(),
          insert.getMixedSizes(), insert.getMixedStrides());
      return success();
    }
    return failure();
  }
};

/// An insertion chain whose disjoint slices cover all of its zeros
/// starts from an empty tensor: nothing of the zeros is left to read.
struct CoveredZeros : OpRewritePattern<tensor::InsertSliceOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(tensor::InsertSliceOp last,
                                PatternRewriter &rewriter) const override {
    // Only from the last insertion of a chain.
    for (Operation *user : last->getUsers())
      if (auto next = dyn_cast<tensor::InsertSliceOp>(user))
        if (next.getDest() == last.getResult())
          return failure();
    auto type = last.getDestType();
    if (!type.hasStaticShape())
      return failure();
    SmallVector<SmallVector<std::pair<int64_t, int64_t>>> boxes;
    Value value = last.getResult();
    tensor::InsertSliceOp first;
    int64_t covered = 0;
    while (auto insert = value.getDefiningOp<tensor::InsertSliceOp>()) {
      std::optional<SmallVector<std::pair<int64_t, int64_t>>> box =
          boxOf(insert);
      if (!box || (insert != last && !insert->hasOneUse()))
        return failure();
      for (const auto &other : boxes)
        if (!disjoint(*box, other))
          return failure();
      int64_t volume = 1;
      for (auto [lo, hi] : *box)
        volume *= hi - lo;
      covered += volume;
      boxes.push_back(*box);
      first = insert;
      value = insert.getDest();
    }
    if (!first || !isZeros(value) || covered != type.getNumElements())
      return failure();
    rewriter.setInsertionPoint(first);
    Value empty = tensor::EmptyOp::create(rewriter, first.getLoc(),
                                          type.getShape(),
                                          type.getElementType());
    rewriter.modifyOpInPlace(first,
                             [&] { first.getDestMutable().assign(empty); });
    return success();
  }
};

struct TapeSumsOfDisjointSlicesPass
    : public mlir::tape::cpu::impl::SumsOfDisjointSlicesBase<
          TapeSumsOfDisjointSlicesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<SumOfDisjointSlice, CoveredZeros>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
