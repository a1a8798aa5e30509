//===- FuseIntoImageLoops.cpp - Elementwise consumers into slice loops ----===//
//
// A convolution runs as a loop over images (or over threads' shares of
// them) that inserts each image's result into the whole tensor; the
// activation after it then reads the whole tensor back from memory. Fused
// into the loop (upstream's consumer fusion), it reads each image's slice
// while that is still in cache. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/ReshapeOpsUtils.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_FUSEINTOIMAGELOOPS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

/// Whether `loop` is an image loop: its body computes a matmul, and every
/// result is built by inserting slices into its iteration argument (what
/// consumer fusion needs to see).
static bool isImageLoop(LoopLikeOpInterface loop) {
  bool computesMatmul = false;
  loop->walk([&](linalg::MatmulOp) { computesMatmul = true; });
  if (!computesMatmul)
    return false;
  if (auto forOp = dyn_cast<scf::ForOp>(loop.getOperation())) {
    if (forOp.getNumResults() == 0)
      return false;
    for (Value yielded : forOp.getYieldedValues())
      if (!yielded.getDefiningOp<tensor::InsertSliceOp>())
        return false;
    return true;
  }
  if (auto forall = dyn_cast<scf::ForallOp>(loop.getOperation()))
    return forall.getNumResults() > 0 &&
           llvm::all_of(forall.getTerminator().getYieldingOps(),
                        [](Operation &op) {
                          return isa<tensor::ParallelInsertSliceOp>(op);
                        });
  return false;
}

static bool isMovableEmpty(Value value);

/// An elementwise op (all loops parallel, every map a permutation) that
/// reads a result of `loop` and whose other operands exist before it (or
/// are empty tensors that can be created there).
static bool isFusibleConsumer(linalg::GenericOp op, Operation *loop,
                              DominanceInfo &dominance) {
  if (!op.hasPureTensorSemantics() || op.hasDynamicShape() ||
      op.getNumParallelLoops() != op.getNumLoops() ||
      !llvm::all_of(op.getIndexingMapsArray(),
                    [](AffineMap map) { return map.isPermutation(); }))
    return false;
  // Its destinations are fresh (sharing none with the loop's own).
  for (Value init : op.getDpsInits())
    if (!init.getDefiningOp<tensor::EmptyOp>() || !init.hasOneUse())
      return false;
  bool readsLoop = false;
  for (OpOperand &operand : op->getOpOperands()) {
    if (operand.get().getDefiningOp() == loop) {
      // Only as an input: an init the loop built would be overwritten.
      if (op.isDpsInit(&operand))
        return false;
      readsLoop = true;
      continue;
    }
    if (!dominance.properlyDominates(operand.get(), loop) &&
        !isMovableEmpty(operand.get()))
      return false;
  }
  return readsLoop;
}

/// A statically shaped `tensor.empty`, which may be created anywhere.
static bool isMovableEmpty(Value value) {
  auto empty = value.getDefiningOp<tensor::EmptyOp>();
  return empty && empty->getNumOperands() == 0;
}

/// Makes a rank-reducing insertion `insert_slice %x into %d[i, 0, ..]
/// [1, ..]` insert `%x` expanded to the slice's full rank (unit dimensions
/// back), which consumer fusion needs to read the slice's shape from it.
template <typename InsertOp>
static void insertAtFullRank(IRRewriter &rewriter, InsertOp insert) {
  RankedTensorType sliceType = insert.getSourceType();
  auto fullType = RankedTensorType::get(
      llvm::to_vector(insert.getStaticSizes()), sliceType.getElementType());
  if (sliceType.getRank() == fullType.getRank() ||
      !fullType.hasStaticShape())
    return;
  std::optional<SmallVector<ReassociationIndices>> groups =
      getReassociationIndicesForReshape(sliceType, fullType);
  if (!groups)
    return;
  rewriter.setInsertionPoint(insert);
  Value expanded = tensor::ExpandShapeOp::create(
      rewriter, insert.getLoc(), fullType, insert.getSource(), *groups);
  rewriter.modifyOpInPlace(insert,
                           [&] { insert.getSourceMutable().assign(expanded); });
}

struct TapeFuseIntoImageLoopsPass
    : public mlir::tape::cpu::impl::FuseIntoImageLoopsBase<
          TapeFuseIntoImageLoopsPass> {
  void runOnOperation() override {
    func::FuncOp fn = getOperation();
    if (fn.isExternal())
      return;
    IRRewriter rewriter(&getContext());
    SmallVector<LoopLikeOpInterface> loops;
    for (Operation &op : fn.getBody().front())
      if (auto loop = dyn_cast<LoopLikeOpInterface>(op))
        if (isa<scf::ForOp, scf::ForallOp>(op) && isImageLoop(loop))
          loops.push_back(loop);
    for (LoopLikeOpInterface loop : loops) {
      if (auto forOp = dyn_cast<scf::ForOp>(loop.getOperation()))
        for (Value yielded : forOp.getYieldedValues())
          insertAtFullRank(rewriter,
                           yielded.getDefiningOp<tensor::InsertSliceOp>());
      if (auto forall = dyn_cast<scf::ForallOp>(loop.getOperation()))
        for (Operation &op : forall.getTerminator().getYieldingOps())
          insertAtFullRank(rewriter, cast<tensor::ParallelInsertSliceOp>(op));
      // Consumers fused one at a time, each into the loop the last fusion
      // left (which yields one result more).
      bool fused = true;
      while (fused) {
        fused = false;
        DominanceInfo dominance(fn);
        linalg::GenericOp consumer;
        for (Operation *user : loop->getUsers())
          if (auto generic = dyn_cast<linalg::GenericOp>(user))
            if (isFusibleConsumer(generic, loop, dominance)) {
              consumer = generic;
              break;
            }
        if (!consumer)
          break;
        // Its empty destinations (created after the loop) move before it.
        for (Value operand : consumer->getOperands())
          if (!dominance.properlyDominates(operand, loop))
            operand.getDefiningOp()->moveBefore(loop);
        SmallVector<LoopLikeOpInterface> nest{loop};
        rewriter.setInsertionPoint(consumer);
        FailureOr<scf::SCFFuseConsumerOfSliceResult> result =
            scf::tileAndFuseConsumer(rewriter, consumer, nest);
        if (failed(result) || result->tiledOps.empty())
          break;
        // Its uses now read the loop's new result; the op itself is left.
        if (!consumer->use_empty())
          break;
        rewriter.eraseOp(consumer);
        loop = nest.front();
        fused = true;
      }
    }
  }
};

} // namespace
