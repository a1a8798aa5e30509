//===- AccumulateIntoMatmuls.cpp - w +- c (A B) as one matmul into w ------===//

#include "tape/Codegen/CPU/Passes.h"

#include "Zeros.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_ACCUMULATEINTOMATMULS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;
using mlir::tape::isZeros;

/// The splat float value of `v`, if it is a splat constant.
static std::optional<double> splatValue(Value v) {
  DenseFPElementsAttr attr;
  if (!matchPattern(v, m_Constant(&attr)) || !attr.isSplat())
    return std::nullopt;
  return attr.getSplatValue<APFloat>().convertToDouble();
}

namespace {

/// `w +- c * matmul(A, B, zeros)` (or without `c`) -> `matmul(A', B', w)`.
template <typename OpTy>
struct AccumulateIntoMatmul : public OpRewritePattern<OpTy> {
  using OpRewritePattern<OpTy>::OpRewritePattern;

  LogicalResult matchAndRewrite(OpTy op,
                                PatternRewriter &rewriter) const override {
    bool subtract = std::is_same_v<OpTy, arith::SubFOp>;
    // For a sum either side may be the product; for a difference only the
    // right-hand side.
    for (unsigned side : subtract ? SmallVector<unsigned>{1}
                                  : SmallVector<unsigned>{1, 0}) {
      Value acc = op->getOperand(1 - side);
      Value term = op->getOperand(side);
      double scale = subtract ? -1.0 : 1.0;
      Operation *scaling = nullptr;
      if (auto mul = term.getDefiningOp<arith::MulFOp>(); mul && mul->hasOneUse()) {
        for (unsigned k = 0; k < 2; ++k)
          if (std::optional<double> c = splatValue(mul->getOperand(k))) {
            scale *= *c;
            term = mul->getOperand(1 - k);
            scaling = mul;
            break;
          }
        if (!scaling)
          continue;
      }
      auto matmul = term.getDefiningOp<linalg::MatmulOp>();
      if (!matmul || !matmul->hasOneUse() || !matmul.hasPureTensorSemantics() ||
          !isZeros(matmul.getDpsInits()[0]) ||
          acc.getType() != matmul.getResult(0).getType())
        continue;
      // Scale the smaller operand (the scaling fuses into its producer).
      auto elements = [](Value v) {
        auto type = cast<ShapedType>(v.getType());
        return type.hasStaticShape() ? type.getNumElements() : INT64_MAX;
      };
      SmallVector<Value> inputs(matmul.getDpsInputs());
      unsigned k = elements(inputs[1]) < elements(inputs[0]) ? 1 : 0;
      if (scale != 1.0) {
        Value factor = arith::ConstantOp::create(
            rewriter, op.getLoc(),
            DenseElementsAttr::get(
                cast<ShapedType>(inputs[k].getType()),
                rewriter.getFloatAttr(getElementTypeOrSelf(inputs[k]), scale)));
        inputs[k] = arith::MulFOp::create(rewriter, op.getLoc(), inputs[k],
                                          factor);
      }
      auto fused = linalg::MatmulOp::create(
          rewriter, matmul.getLoc(), TypeRange{acc.getType()}, inputs,
          ValueRange{acc});
      if (matmul.hasUserDefinedMaps())
        fused.setIndexingMapsAttr(matmul.getIndexingMaps());
      rewriter.replaceOp(op, fused.getResult(0));
      if (scaling)
        rewriter.eraseOp(scaling);
      rewriter.eraseOp(matmul);
      return success();
    }
    return failure();
  }
};

struct AccumulateIntoMatmulsPass
    : public tape::cpu::impl::AccumulateIntoMatmulsBase<
          AccumulateIntoMatmulsPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<AccumulateIntoMatmul<arith::AddFOp>,
                 AccumulateIntoMatmul<arith::SubFOp>>(&getContext());
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      signalPassFailure();
  }
};

} // namespace
