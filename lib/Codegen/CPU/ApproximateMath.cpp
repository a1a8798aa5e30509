//===- ApproximateMath.cpp - Vector math as polynomials -------------------===//
//
// LLVM has no vector exp or tanh on x86: `llvm.exp.v16f32` becomes sixteen
// libm calls, and an LSTM step spent a third of its time in scalar expf,
// tanhf and expm1f. Upstream's polynomial approximations (the ones IREE and
// XLA use) stay in vector registers. Only vector ops are rewritten: scalar
// math keeps libm's correctly rounded-ish results.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Approximation.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_APPROXIMATEMATH
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

/// The math ops upstream approximates in float32 (by short name; upstream
/// asks with the full one, "math.exp").
bool approximated(StringRef name) {
  name.consume_front("math.");
  return llvm::is_contained({"exp", "expm1", "tanh", "log", "log1p", "log2",
                             "erf", "erfc", "atan", "atan2", "sin", "cos",
                             "cbrt", "asin", "acos"},
                            name);
}

struct ApproximateMathPass
    : public mlir::tape::cpu::impl::ApproximateMathBase<ApproximateMathPass> {
  void runOnOperation() override {
    SmallVector<Operation *> ops;
    getOperation().walk([&](Operation *op) {
      if (isa<math::MathDialect>(op->getDialect()) &&
          op->getNumResults() == 1 &&
          isa<VectorType>(op->getResult(0).getType()) &&
          getElementTypeOrSelf(op->getResult(0).getType()).isF32() &&
          approximated(op->getName().stripDialect()))
        ops.push_back(op);
    });
    if (ops.empty())
      return;
    RewritePatternSet patterns(&getContext());
    populateMathPolynomialApproximationPatterns(patterns, approximated);
    if (failed(applyOpPatternsGreedily(ops, std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
