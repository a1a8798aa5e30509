//===- FuseElementwiseOps.cpp - Upstream fusion, minus one miscompile -----===//
//
// The patterns of upstream `linalg-fuse-elementwise-ops`, with a control
// function that refuses the fusion they get wrong: a producer whose body
// reads its own destination, fused into a consumer that visits each
// element of the producer's result more than once. The fused op keeps the
// producer's destination as an extra output and runs the producer's body
// at every iteration of the consumer's loops, so the read-modify-write
// repeats once per loop the consumer's map leaves out. AD's seed
// gradients (`out + 1` over a zero tensor) are such producers: fused into
// a max-pool adjoint, whose loops all reduce, the seed became 4 on a 2x2
// window; fused into a row-broadcast of a cross-entropy's adjoint, it
// became the vocabulary size. It also fuses what upstream's default
// leaves apart: a producer whose result has other uses (values AD keeps
// for the backward pass) into an elementwise consumer.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_FUSEELEMENTWISEOPS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

/// A producer whose result has other uses as well (a forward value AD keeps
/// for the backward pass, such as GELU's `x^3` and `tanh`) fuses into an
/// elementwise consumer that visits each of its elements once: the fused
/// op computes both and writes the producer's result as an extra output
/// (upstream keeps such results), so the consumer reads the value from a
/// register instead of from memory, and one loop replaces two. Nothing is
/// computed twice. Only for a producer whose loops are all parallel and
/// that does not read its destination, into a consumer whose loops are all
/// parallel (an extra output of a reduction would be indexed by a reduced
/// dimension).
static bool isSharedProducerFusable(linalg::LinalgOp producer,
                                    linalg::LinalgOp consumer,
                                    bool eachElementOnce,
                                    bool readsDestination) {
  return eachElementOnce && !readsDestination &&
         isa<linalg::GenericOp>(producer.getOperation()) &&
         isa<linalg::GenericOp>(consumer.getOperation()) &&
         producer.getNumLoops() == producer.getNumParallelLoops() &&
         consumer.getNumLoops() == consumer.getNumParallelLoops();
}

/// A producer that costs less to compute again than its result costs to
/// write and read back: an all-parallel generic with one result and at
/// most one input read at every point of its loops (others, such as a
/// row's maximum, are read along fewer of them), whose body is at most two
/// cheap arithmetic ops (GELU's `x * x`, `0.5 * x`, `1 + t`, a log-softmax's
/// `x - max`, a layer norm's `x - mean`). Fused into each
/// consumer it is computed where it is used, from its input, which that
/// code reads anyway or which takes the result's place: the value AD kept
/// for the backward pass is no longer written by the forward loop and
/// read by the backward one. `tanh`, `exp` and the like are not cheap:
/// they stay shared producers.
static bool isCheapToRecompute(linalg::LinalgOp producer) {
  auto generic = dyn_cast<linalg::GenericOp>(producer.getOperation());
  if (!generic || generic->getNumResults() != 1 ||
      generic.getNumLoops() != generic.getNumParallelLoops())
    return false;
  // Inputs read at every point of the loops; one read along fewer of
  // them (a row's maximum or mean, broadcast along the row) is small.
  int full = 0;
  for (OpOperand *input : generic.getDpsInputOperands())
    full += generic.getMatchingIndexingMap(input).getNumResults() ==
                generic.getNumLoops() &&
            generic.getNumLoops() > 0;
  if (full > 1)
    return false;
  int ops = 0;
  for (Operation &op : generic.getBody()->without_terminator()) {
    if (!isa<arith::AddFOp, arith::SubFOp, arith::MulFOp, arith::NegFOp,
             arith::MaximumFOp, arith::MinimumFOp, arith::SelectOp,
             arith::CmpFOp, arith::ConstantOp>(op))
      return false;
    ops += !isa<arith::ConstantOp>(op);
  }
  return ops <= 2;
}

/// Upstream's default (the producer has one use; a shared producer is
/// FuseSharedProducer's) unless the producer reads its destination and the consumer visits
/// each element of the producer's result more than once (its map for the
/// fused operand leaves out some of its loops: a reduction over them, or a
/// broadcast along them).
static bool isSoundToFuse(OpOperand *fusedOperand) {
  Operation *producer = fusedOperand->get().getDefiningOp();
  if (!producer)
    return false;
  auto producerOp = dyn_cast<linalg::LinalgOp>(producer);
  auto consumerOp = dyn_cast<linalg::LinalgOp>(fusedOperand->getOwner());
  if (!producerOp || !consumerOp)
    return producer->hasOneUse();
  bool readsDestination =
      llvm::any_of(producerOp.getDpsInitsMutable(), [&](OpOperand &init) {
        return producerOp.payloadUsesValueFromOperand(&init);
      });
  bool eachElementOnce =
      consumerOp.getMatchingIndexingMap(fusedOperand).isPermutation();
  if (!producer->hasOneUse()) // computed again, or FuseSharedProducer's
    return !readsDestination && eachElementOnce &&
           isCheapToRecompute(producerOp);
  return !readsDestination || eachElementOnce;
}

namespace {
/// Upstream's pattern, given a producer with other uses, leaves those uses
/// on the producer and so computes it twice; this one fuses it as
/// isSharedProducerFusable says and moves every other use to the fused op's
/// extra result. Only when those uses all come after the consumer, where
/// the fused op will be.
struct FuseSharedProducer : public OpRewritePattern<linalg::GenericOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::GenericOp consumer,
                                PatternRewriter &rewriter) const override {
    // A cheap consumer (`1 + tanh(u)`) is left to fuse into its own
    // consumers, every one of which computes it again: fused with its
    // producer first, it would have two results and be stored.
    if (isCheapToRecompute(consumer))
      return failure();
    DominanceInfo dominance;
    for (OpOperand &operand : consumer->getOpOperands()) {
      auto producer = operand.get().getDefiningOp<linalg::GenericOp>();
      if (!producer || producer->hasOneUse() ||
          !linalg::areElementwiseOpsFusable(&operand))
        continue;
      bool readsDestination =
          llvm::any_of(producer.getDpsInitsMutable(), [&](OpOperand &init) {
            return producer.payloadUsesValueFromOperand(&init);
          });
      bool eachElementOnce =
          consumer.getMatchingIndexingMap(&operand).isPermutation();
      // A cheap producer is computed again by every consumer instead
      // (isSoundToFuse lets upstream's pattern duplicate it).
      if (!isSharedProducerFusable(producer, consumer, eachElementOnce,
                                   readsDestination) ||
          (eachElementOnce && isCheapToRecompute(producer)))
        continue;
      bool othersAfterConsumer =
          llvm::all_of(producer->getUses(), [&](OpOperand &use) {
            return use.getOwner() == consumer.getOperation() ||
                   dominance.properlyDominates(consumer.getOperation(),
                                               use.getOwner());
          });
      if (!othersAfterConsumer)
        continue;
      FailureOr<linalg::ElementwiseOpFusionResult> fused =
          linalg::fuseElementwiseOps(rewriter, &operand);
      if (failed(fused))
        continue;
      Operation *fusedOp = fused->fusedOp;
      for (auto [original, replacement] : fused->replacements)
        rewriter.replaceUsesWithIf(original, replacement, [&](OpOperand &use) {
          Operation *user = use.getOwner();
          return user != consumer.getOperation() && user != fusedOp &&
                 !fusedOp->isProperAncestor(user);
        });
      rewriter.eraseOp(consumer);
      if (producer->use_empty())
        rewriter.eraseOp(producer);
      return success();
    }
    return failure();
  }
};
} // namespace

namespace {
/// A broadcast read only by generics (a layer norm's mean and scale along
/// the rows, its gain along the columns) becomes a generic itself, which
/// the patterns above then fuse into each of them (a broadcast is cheap to
/// recompute): each reads the small operand where it reads the broadcast
/// array. Upstream's fusion takes generic producers only, so the named
/// broadcast was written out in full and read back by every consumer (a
/// GPT layer norm's forward loop read three 256x128 broadcasts besides its
/// input). A broadcast into a matmul's init (a bias that the packed kernels
/// add in their first slice) stays named.
struct GeneralizeBroadcastForFusion
    : public OpRewritePattern<linalg::BroadcastOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(linalg::BroadcastOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.hasPureTensorSemantics() || op->use_empty())
      return failure();
    for (OpOperand &use : op->getResult(0).getUses()) {
      auto generic = dyn_cast<linalg::GenericOp>(use.getOwner());
      if (!generic || !generic.isDpsInput(&use))
        return failure();
    }
    return linalg::generalizeNamedOp(rewriter, op);
  }
};
} // namespace

/// Reshapes fold into generics only: folding one into a named op (a
/// matmul over an im2col tensor) makes the named op a generic again, and
/// the gather then fuses into it, undoing tape-cpu-convolutions-as-matmuls.
static bool isGenericReshapeFold(OpOperand *fusedOperand) {
  auto isNamed = [](Operation *op) {
    return op && isa<linalg::LinalgOp>(op) && !isa<linalg::GenericOp>(op);
  };
  return !isNamed(fusedOperand->getOwner()) &&
         !isNamed(fusedOperand->get().getDefiningOp()) &&
         isSoundToFuse(fusedOperand);
}

namespace {
struct FuseElementwiseOpsPass
    : public mlir::tape::cpu::impl::FuseElementwiseOpsBase<
          FuseElementwiseOpsPass> {
  void runOnOperation() override {
    MLIRContext *context = &getContext();
    RewritePatternSet patterns(context);
    linalg::populateElementwiseOpsFusionPatterns(patterns, isSoundToFuse);
    patterns.add<FuseSharedProducer, GeneralizeBroadcastForFusion>(context);
    linalg::populateFoldReshapeOpsByExpansionPatterns(patterns,
                                                     isGenericReshapeFold);
    affine::AffineApplyOp::getCanonicalizationPatterns(patterns, context);
    linalg::GenericOp::getCanonicalizationPatterns(patterns, context);
    tensor::ExpandShapeOp::getCanonicalizationPatterns(patterns, context);
    tensor::CollapseShapeOp::getCanonicalizationPatterns(patterns, context);
    context->getLoadedDialect<linalg::LinalgDialect>()
        ->getCanonicalizationPatterns(patterns);
    linalg::populateConstantFoldLinalgOperations(patterns, isSoundToFuse);
    (void)applyPatternsGreedily(
        getOperation(), std::move(patterns),
        GreedyRewriteConfig().setUseTopDownTraversal(true));
  }
};
} // namespace
