//===- FuseIntoImageLoops.cpp - Elementwise consumers in image loops ------===//
//
// tape-cpu-convolutions-as-matmuls computes a convolution one image at a
// time: a loop whose iteration writes one image's slice of the result
// (tensor.insert_slice into its iteration argument). An elementwise op on
// that result (the ReLU after a convolution) then reads the whole batch back
// from memory. Computed in the loop, on the slice just written, it reads
// the image while it is still in cache. Upstream's consumer fusion
// (scf::tileAndFuseConsumer) does the rewrite: the consumer, cut to the
// slice, joins the loop, which yields its result too. See the pass
// description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "IdentityElementwise.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Tensor/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_FUSEINTOIMAGELOOPS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

/// A loop over the images of a batch: one tensor iteration argument, into
/// which each iteration inserts one entry of the leading dimension (the
/// induction variable's) and yields the result.
static bool isImageLoop(scf::ForOp loop) {
  if (loop.getNumRegionIterArgs() != 1 ||
      !isa<RankedTensorType>(loop.getRegionIterArgs()[0].getType()))
    return false;
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  auto insert = yield.getOperand(0).getDefiningOp<tensor::InsertSliceOp>();
  if (!insert || insert.getDest() != loop.getRegionIterArgs()[0] ||
      !insert.hasUnitStride())
    return false;
  SmallVector<OpFoldResult> offsets = insert.getMixedOffsets();
  SmallVector<OpFoldResult> sizes = insert.getMixedSizes();
  ArrayRef<int64_t> shape = insert.getDestType().getShape();
  if (offsets.empty() || offsets[0] != OpFoldResult(loop.getInductionVar()) ||
      getConstantIntValue(sizes[0]) != 1)
    return false;
  for (size_t i = 1; i < offsets.size(); ++i)
    if (getConstantIntValue(offsets[i]) != 0 ||
        getConstantIntValue(sizes[i]) != shape[i])
      return false;
  return true;
}

/// An elementwise generic on tensors (all loops parallel, identity maps)
/// whose body does not ask for its loop indices.
static bool isElementwise(linalg::GenericOp op) {
  return op.hasPureTensorSemantics() && tape::isIdentityElementwise(op) &&
         op.getBody()->getOps<linalg::IndexOp>().empty();
}

/// Makes the image loop's insertion keep the leading unit dimension
/// (upstream's consumer fusion slices the consumer like the inserted value,
/// so that value must have the consumer's rank): the image is expanded to
/// [1, ...] first.
static void insertWithUnitDim(RewriterBase &rewriter, scf::ForOp loop) {
  auto yield = cast<scf::YieldOp>(loop.getBody()->getTerminator());
  auto insert = yield.getOperand(0).getDefiningOp<tensor::InsertSliceOp>();
  RankedTensorType source = insert.getSourceType();
  RankedTensorType dest = insert.getDestType();
  if (source.getRank() == dest.getRank())
    return;
  SmallVector<int64_t> shape = {1};
  llvm::append_range(shape, source.getShape());
  SmallVector<ReassociationIndices> groups;
  for (int64_t i = 0; i < source.getRank(); ++i)
    groups.push_back(i == 0 ? ReassociationIndices{0, 1}
                            : ReassociationIndices{i + 1});
  rewriter.setInsertionPoint(insert);
  Value expanded = tensor::ExpandShapeOp::create(
      rewriter, insert.getLoc(),
      RankedTensorType::get(shape, source.getElementType()),
      insert.getSource(), groups);
  rewriter.replaceOpWithNewOp<tensor::InsertSliceOp>(
      insert, expanded, insert.getDest(), insert.getMixedOffsets(),
      insert.getMixedSizes(), insert.getMixedStrides());
}

namespace {
struct FuseIntoImageLoopsPass
    : public mlir::tape::cpu::impl::FuseIntoImageLoopsBase<
          FuseIntoImageLoopsPass> {
  void runOnOperation() override {
    // Image loops that are not a thread's piece of a convolution: fusing
    // through the scf.forall around a piece and the scf.for inside it
    // aborted inside upstream's consumer fusion (LLVM 22, not pursued), so
    // with threads the consumers stay outside.
    SmallVector<scf::ForOp> loops;
    getOperation().walk([&](scf::ForOp loop) {
      if (isImageLoop(loop) && !isa<scf::ForallOp>(loop->getParentOp()))
        loops.push_back(loop);
    });
    IRRewriter rewriter(&getContext());
    auto elementwiseUser = [](Operation *user) {
      auto consumer = dyn_cast<linalg::GenericOp>(user);
      return consumer && isElementwise(consumer);
    };
    for (scf::ForOp loop : loops) {
      if (llvm::none_of(loop->getResult(0).getUsers(), elementwiseUser))
        continue;
      insertWithUnitDim(rewriter, loop);
      // Each fusion replaces the loop by one with another result (`nest`
      // then holds the new loop); fuse the next consumer of the first
      // result until none is left.
      SmallVector<LoopLikeOpInterface> nest = {loop};
      bool fused = true;
      while (fused) {
        fused = false;
        for (Operation *user : nest.front()->getResult(0).getUsers()) {
          if (!elementwiseUser(user) ||
              user->getBlock() != nest.front()->getBlock())
            continue;
          if (failed(scf::tileAndFuseConsumer(rewriter, user, nest)))
            continue;
          // The loop's new results replaced the consumer's.
          if (user->use_empty())
            rewriter.eraseOp(user);
          fused = true;
          break;
        }
      }
      auto fusedLoop = cast<scf::ForOp>(nest.front());
      // The image goes back to being inserted without its unit dimension
      // (upstream's reshape folding), as tape-cpu-empty-tensors-as-slices
      // and bufferization expect it: the matmul then writes the image's
      // slice in place, and the consumer reads it from there.
      SmallVector<Operation *> inserts;
      fusedLoop->walk([&](tensor::InsertSliceOp insert) {
        if (insert.getSource().getDefiningOp<tensor::ExpandShapeOp>())
          inserts.push_back(insert);
      });
      RewritePatternSet patterns(&getContext());
      tensor::populateReassociativeReshapeFoldingPatterns(patterns);
      GreedyRewriteConfig config;
      config.setStrictness(GreedyRewriteStrictness::ExistingOps);
      (void)applyOpPatternsGreedily(inserts, std::move(patterns), config);
      // What the fusion left unused (the first insertion, slices it took).
      for (Operation &op : llvm::make_early_inc_range(
               llvm::reverse(*fusedLoop.getBody())))
        if (isOpTriviallyDead(&op))
          rewriter.eraseOp(&op);
    }
  }
};
} // namespace
