//===- WriteOnceAccumulations.cpp - Accumulations that visit once write ---===//
//
// An op that adds into a tensor of zeros (out[f(i)] += v(i)) through an
// output map that visits every element exactly once computes
// out[f(i)] = v(i): the fill and the read of each element are not needed.
// The adjoint of a max-pool whose windows tile the image (stride equal to
// the window) is such a scatter. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "OneToOneMaps.h"
#include "Zeros.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

#include "llvm/ADT/SetVector.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_WRITEONCEACCUMULATIONS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;
using mlir::tape::isOneToOne;
using mlir::tape::isZeros;

namespace {

/// Rewrites the results of `op` that add into zeros once per element to
/// write the values they added (0 + v is v, up to the sign of a zero).
/// Returns the zeros it no longer reads.
static SmallVector<Value> writeOnce(linalg::GenericOp op) {
  SmallVector<Value> dropped;
  if (!op.hasPureTensorSemantics() || op.hasDynamicShape())
    return dropped;
  SmallVector<int64_t> ranges = op.getStaticLoopRanges();
  auto yield = cast<linalg::YieldOp>(op.getBlock()->getTerminator());
  for (OpOperand &init : op.getDpsInitsMutable()) {
    auto type = cast<RankedTensorType>(init.get().getType());
    if (!isZeros(init.get()) || !type.getElementType().isFloat() ||
        !isOneToOne(op.getMatchingIndexingMap(&init), ranges,
                    type.getShape()))
      continue;
    // The body yields out + v (or a value computed from out only through
    // that sum), where v does not depend on out.
    BlockArgument out = op.getMatchingBlockArgument(&init);
    auto sum = yield.getOperand(init.getOperandNumber() -
                                op.getNumDpsInputs())
                   .getDefiningOp<arith::AddFOp>();
    if (!sum || !out.hasOneUse() || *out.getUsers().begin() != sum)
      continue;
    Value added = sum.getLhs() == out ? sum.getRhs() : sum.getLhs();
    if (added == out)
      continue;
    sum.getResult().replaceAllUsesWith(added);
    sum->erase();
    dropped.push_back(init.get());
    OpBuilder b(op);
    init.set(tensor::EmptyOp::create(b, op.getLoc(), type.getShape(),
                                     type.getElementType()));
  }
  return dropped;
}

struct TapeWriteOnceAccumulationsPass
    : public mlir::tape::cpu::impl::WriteOnceAccumulationsBase<
          TapeWriteOnceAccumulationsPass> {
  void runOnOperation() override {
    // The zeros a rewritten op no longer reads, erased once unused.
    llvm::SetVector<Operation *> zeros;
    SmallVector<Operation *> rewritten;
    getOperation().walk([&](linalg::GenericOp op) {
      SmallVector<Value> dropped = writeOnce(op);
      for (Value init : dropped)
        zeros.insert(init.getDefiningOp());
      if (!dropped.empty())
        rewritten.push_back(op);
    });
    // A result that no longer reads its output and that nothing uses is
    // no longer computed (upstream's patterns): elementwise fusion keeps
    // a fused producer's result while other users read it, and a GPT's
    // loss gradient kept three 256x512 results that accumulated into
    // zeros, unused once fused, written every step.
    RewritePatternSet patterns(&getContext());
    linalg::populateEraseUnusedOperandsAndResultsPatterns(patterns);
    if (failed(applyOpPatternsGreedily(rewritten, std::move(patterns))))
      return signalPassFailure();
    for (Operation *init : zeros)
      if (init->use_empty())
        init->erase();
  }
};

} // namespace
