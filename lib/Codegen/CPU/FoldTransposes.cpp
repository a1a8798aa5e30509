//===- FoldTransposes.cpp - Transposed matmul operands as indexing maps ---===//
//
// The backward pass of a matmul multiplies by transposed operands. Reading
// the original operand through a permuted indexing map costs nothing, while
// a materialized transpose is a full copy (and a cache-unfriendly one).
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_FOLDTRANSPOSES
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

/// [1, 0], or [0, 2, 1] for a batch.
static bool isInnerSwap(ArrayRef<int64_t> perm) {
  size_t r = perm.size();
  if (r < 2 || r > 3 || perm[r - 1] != int64_t(r) - 2 ||
      perm[r - 2] != int64_t(r) - 1)
    return false;
  return r == 2 || perm[0] == 0;
}

/// Rewrites one transposed input of a matmul-like op (MatmulOp or
/// BatchMatmulOp: both take user-defined indexing maps) at a time; the
/// greedy driver repeats it for the other input.
template <typename OpTy>
struct FoldTransposeIntoMatmul : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics())
      return failure();
    SmallVector<AffineMap> maps = op.getIndexingMapsArray();
    for (OpOperand *input : op.getDpsInputOperands()) {
      auto transpose = input->get().template getDefiningOp<linalg::TransposeOp>();
      if (!transpose)
        continue;
      // transpose: result[i_0, ..., i_r] = input[j] with j[perm[k]] = i_k.
      // The matmul reads result at map(d) = (e_0, ..., e_r), so it reads
      // the transpose's input at e permuted by perm.
      AffineMap map = maps[input->getOperandNumber()];
      ArrayRef<int64_t> perm = transpose.getPermutation();
      // Only the transposes matmul's verifier accepts as maps: the two
      // innermost dimensions swap, a batch dimension stays first.
      if (!isInnerSwap(perm))
        continue;
      SmallVector<AffineExpr> permuted(map.getNumResults());
      for (auto [k, p] : llvm::enumerate(perm))
        permuted[p] = map.getResult(k);
      maps[input->getOperandNumber()] =
          AffineMap::get(map.getNumDims(), 0, permuted, op.getContext());

      SmallVector<Value> inputs(op.getDpsInputs());
      inputs[input->getOperandNumber()] = transpose.getInput();
      auto folded = OpTy::create(rewriter, op.getLoc(), op->getResultTypes(),
                                 inputs, op.getDpsInits());
      SmallVector<Attribute> mapAttrs;
      for (AffineMap m : maps)
        mapAttrs.push_back(AffineMapAttr::get(m));
      folded.setIndexingMapsAttr(rewriter.getArrayAttr(mapAttrs));
      rewriter.replaceOp(op, folded->getResults());
      return success();
    }
    return failure();
  }
};

struct TapeFoldTransposesPass
    : public mlir::tape::cpu::impl::FoldTransposesBase<TapeFoldTransposesPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<FoldTransposeIntoMatmul<linalg::MatmulOp>,
                 FoldTransposeIntoMatmul<linalg::BatchMatmulOp>>(
        &getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
