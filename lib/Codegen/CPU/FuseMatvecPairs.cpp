//===- FuseMatvecPairs.cpp - Both matrix-vector products in one pass ------===//
//
// A linear model's step reads its data matrix twice: the forward product
// z = X w, and, after elementwise work on z row by row, the gradient
// X^T dz. Both are memory-bound (two flops per element of X), so the step
// costs two passes over X. Cut into blocks of rows, the gradient of a block
// needs only that block's z: one loop over row blocks computes z, dz and
// the block's share of X^T dz while the block is in cache, and X streams
// through memory once. Upstream's tile-and-fuse does the rewrite; this
// pass finds the pairs and bounds what it fuses. See the pass description
// in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "MatmulLayout.h"

#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/SCF/Transforms/TileUsingInterface.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/Dominance.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Transforms/CSE.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_FUSEMATVECPAIRS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

/// A matmul on statically shaped f32 tensors with one output column.
bool isTensorMatvec(linalg::MatmulOp op) {
  if (!op.hasPureTensorSemantics() || op.getStaticLoopRanges()[1] != 1)
    return false;
  return llvm::all_of(op->getOperands(), [](Value v) {
    auto type = dyn_cast<RankedTensorType>(v.getType());
    return type && type.getRank() == 2 && type.hasStaticShape() &&
           type.getElementType().isF32();
  });
}

/// A gradient product g = X^T dz (X stored rows x features) and what it
/// may compute block by block: the ops between the forward product
/// z = X w and dz, each of whose results has one entry per row of X.
struct Pair {
  linalg::MatmulOp gradient;
  linalg::MatmulOp forward;
  llvm::SmallPtrSet<Operation *, 8> rowWise; // forward included
  int64_t rows = 0, features = 0;
};

/// Whether `op`'s loops are all parallel and its results are indexed by
/// the rows first, as [rows, ...].
bool isRowWise(linalg::LinalgOp op, int64_t rows) {
  if (!op.hasPureTensorSemantics() ||
      op.getNumParallelLoops() != op.getNumLoops() || op->getNumResults() == 0)
    return false;
  return llvm::all_of(op->getResultTypes(), [&](Type t) {
    auto type = dyn_cast<RankedTensorType>(t);
    return type && type.getRank() >= 1 && type.getDimSize(0) == rows;
  });
}

std::optional<Pair> matchPair(linalg::MatmulOp gradient) {
  if (!isTensorMatvec(gradient))
    return std::nullopt;
  std::optional<tape::MatmulLayout> layout = tape::getMatmulLayout(gradient);
  if (!layout || !layout->transA || layout->transB)
    return std::nullopt;
  Pair pair;
  pair.gradient = gradient;
  SmallVector<int64_t> ranges = gradient.getStaticLoopRanges();
  pair.features = ranges[0];
  pair.rows = ranges[2];
  Value x = gradient.getDpsInputs()[0];
  // Back from dz through row-wise ops to the forward product of the same X.
  SmallVector<Value> worklist = {gradient.getDpsInputs()[1]};
  while (!worklist.empty()) {
    auto op = worklist.pop_back_val().getDefiningOp<linalg::LinalgOp>();
    if (!op || pair.rowWise.contains(op))
      continue;
    if (auto matmul = dyn_cast<linalg::MatmulOp>(op.getOperation())) {
      std::optional<tape::MatmulLayout> l = tape::getMatmulLayout(matmul);
      if (!pair.forward && isTensorMatvec(matmul) && l && !l->transA &&
          !l->transB && matmul.getDpsInputs()[0] == x) {
        pair.forward = matmul;
        pair.rowWise.insert(matmul);
        // Its init (a bias broadcast) is computed block by block with it.
        if (auto init = matmul.getDpsInits()[0].getDefiningOp<linalg::LinalgOp>())
          if (isRowWise(init, pair.rows))
            pair.rowWise.insert(init);
      }
      continue;
    }
    if (!isRowWise(op, pair.rows))
      continue;
    pair.rowWise.insert(op);
    for (Value input : op.getDpsInputs())
      worklist.push_back(input);
  }
  if (!pair.forward || pair.forward->getBlock() != gradient->getBlock() ||
      !pair.forward->isBeforeInBlock(gradient))
    return std::nullopt;
  // What the loop reads from outside (computed before it) must not depend
  // on what it computes: a sum over all rows of z (a normalization) cannot
  // be taken a block at a time.
  SmallVector<Value> outside;
  for (Operation *op : pair.rowWise)
    for (Value operand : op->getOperands())
      if (!pair.rowWise.contains(operand.getDefiningOp()))
        outside.push_back(operand);
  llvm::SmallPtrSet<Operation *, 16> seen;
  while (!outside.empty()) {
    Operation *def = outside.pop_back_val().getDefiningOp();
    if (!def || !seen.insert(def).second)
      continue;
    if (pair.rowWise.contains(def))
      return std::nullopt;
    for (Value operand : def->getOperands())
      outside.push_back(operand);
  }
  return pair;
}

/// The largest divisor of `rows` whose block of the matrix (`features`
/// floats a row) fits in `bytes`; at least 1.
int64_t blockRows(int64_t rows, int64_t features, int64_t bytes) {
  int64_t most = std::max<int64_t>(1, bytes / (features * 4));
  for (int64_t t = std::min(most, rows); t > 1; --t)
    if (rows % t == 0)
      return t;
  return 1;
}

struct FuseMatvecPairsPass
    : public mlir::tape::cpu::impl::FuseMatvecPairsBase<FuseMatvecPairsPass> {
  using Base::Base;

  void runOnOperation() override {
    IRRewriter rewriter(&getContext());
    // One pair at a time, matched afresh after each rewrite (which erases
    // ops another pair may have held); each matmul is looked at once.
    llvm::DenseSet<Operation *> seen;
    while (true) {
      std::optional<Pair> next;
      getOperation().walk([&](linalg::MatmulOp op) {
        if (!seen.insert(op).second)
          return WalkResult::advance();
        next = matchPair(op);
        return next ? WalkResult::interrupt() : WalkResult::advance();
      });
      if (!next)
        return;
      Pair &pair = *next;
      int64_t block = blockRows(pair.rows, pair.features, blockBytes);
      if (pair.rows / block < 2)
        continue;
      // Above one thread, each thread first takes an equal share of the
      // rows, with a gradient of its own (summed after), then goes through
      // its share in blocks.
      if (threads > 1 && pair.rows % threads == 0 &&
          pair.rows / threads >= 2 * block) {
        FailureOr<Operation *> share =
            fuse(rewriter, pair, pair.rows / threads, /*perThread=*/true);
        if (failed(share))
          return signalPassFailure();
        // A thread's gradient is a strided slot of the [..., threads]
        // tensor the partial sums go to: it accumulates in a contiguous
        // copy (which the matrix-vector kernels write), stored at the end.
        auto tile = cast<linalg::MatmulOp>(*share);
        rewriter.setInsertionPoint(tile);
        Value slot = tile.getDpsInits()[0];
        Value own = bufferization::AllocTensorOp::create(
            rewriter, tile.getLoc(), cast<RankedTensorType>(slot.getType()),
            ValueRange{}, slot);
        rewriter.modifyOpInPlace(
            tile, [&] { tile.getDpsInitsMutable()[0].set(own); });
        std::optional<Pair> inner = matchPair(tile);
        if (!inner)
          continue;
        pair = std::move(*inner);
      }
      if (failed(fuse(rewriter, pair, block, /*perThread=*/false)))
        return signalPassFailure();
    }
  }

  /// Moves the ops between the forward product and the gradient that use
  /// what the loop will compute (the loss from `z`), and those that use
  /// theirs, to just after the gradient, in order: the loop that replaces
  /// the gradient returns the values they read. Nothing the loop reads
  /// depends on them (`matchPair` checked), so they may wait.
  static void moveDependentsAfter(Pair &pair) {
    Operation *gradient = pair.gradient;
    Block *block = gradient->getBlock();
    llvm::SmallPtrSet<Operation *, 16> dependent;
    SmallVector<Operation *> moved;
    for (Operation *op = pair.forward->getNextNode(); op != gradient;
         op = op->getNextNode()) {
      if (pair.rowWise.contains(op))
        continue;
      bool uses = false;
      op->walk([&](Operation *inner) {
        for (Value operand : inner->getOperands()) {
          Operation *def = operand.getDefiningOp();
          if (!def)
            continue;
          Operation *top = block->findAncestorOpInBlock(*def);
          uses |= top && (pair.rowWise.contains(top) || dependent.contains(top));
        }
      });
      if (uses) {
        dependent.insert(op);
        moved.push_back(op);
      }
    }
    Operation *after = gradient;
    for (Operation *op : moved) {
      op->moveAfter(after);
      after = op;
    }
  }

  /// Tiles the gradient's rows into blocks of `block` rows and fuses the
  /// pair's row-wise ops into the loop: an `scf.for` carrying the gradient,
  /// or with `perThread` an `scf.forall` whose iterations each compute a
  /// gradient of their own, summed after it. Returns the gradient's tile.
  FailureOr<Operation *> fuse(RewriterBase &rewriter, Pair &pair,
                              int64_t block, bool perThread) {
    moveDependentsAfter(pair);
    // The gradient accumulates into its init (an SGD update folded into it
    // accumulates into the weights) while the loop's forward products still
    // read the weights from before the step: the loop accumulates into a
    // copy, which is then written back (bufferization cannot update the
    // weights in place across the loop while they are read in it).
    Value init = pair.gradient.getDpsInits()[0];
    if (llvm::any_of(init.getUsers(), [&](Operation *user) {
          return pair.rowWise.contains(user);
        })) {
      rewriter.setInsertionPoint(pair.gradient);
      Value copy = bufferization::AllocTensorOp::create(
          rewriter, pair.gradient.getLoc(),
          cast<RankedTensorType>(init.getType()), ValueRange{}, init);
      rewriter.modifyOpInPlace(pair.gradient, [&] {
        pair.gradient.getDpsInitsMutable()[0].set(copy);
      });
    }
    // The gradient's row loop (its reduction) in blocks; nothing else.
    scf::SCFTilingOptions tiling;
    tiling.setLoopType(perThread ? scf::SCFTilingOptions::LoopType::ForallOp
                                 : scf::SCFTilingOptions::LoopType::ForOp);
    tiling.setReductionTilingStrategy(
        perThread ? ReductionTilingStrategy::PartialReductionOuterParallel
                  : ReductionTilingStrategy::FullReduction);
    tiling.setReductionDims({2});
    tiling.setTileSizes({rewriter.getIndexAttr(0), rewriter.getIndexAttr(0),
                         rewriter.getIndexAttr(block)});
    scf::SCFTileAndFuseOptions options;
    options.setTilingOptions(tiling);
    // Only the row-wise ops back to the forward product are computed in the
    // loop (what else dz reads is computed once, before it); a result also
    // used outside the loop is assembled from the blocks and returned by it.
    // The gradient's own init is never fused: it accumulates across blocks.
    Operation *gradient = pair.gradient;
    options.setFusionControlFn(
        [&](tensor::ExtractSliceOp slice, OpResult producer, bool isDestination)
            -> std::optional<scf::SCFTileAndFuseOptions::ControlFnResult> {
          Operation *op = producer.getOwner();
          if (!pair.rowWise.contains(op))
            return std::nullopt;
          if (isDestination && producer == pair.gradient.getDpsInits()[0])
            return std::nullopt;
          Operation *loop = slice->getParentOfType<LoopLikeOpInterface>();
          auto inLoop = [&](Operation *user) {
            return user == gradient || pair.rowWise.contains(user) ||
                   (loop && loop->isAncestor(user));
          };
          scf::SCFTileAndFuseOptions::ControlFnResult result;
          for (Value r : op->getResults())
            for (Operation *user : r.getUsers())
              result.yieldProducerReplacement |= !inLoop(user);
          return result;
        });
    rewriter.setInsertionPoint(gradient);
    FailureOr<scf::SCFTileAndFuseResult> fused =
        scf::tileConsumerAndFuseProducersUsingSCF(
            rewriter, cast<TilingInterface>(gradient), options);
    if (failed(fused)) {
      gradient->emitError(
          "tape-cpu-fuse-matvec-pairs: tiling the gradient's rows failed");
      return failure();
    }
    // Uses after the loop read what it returns; the slices of the
    // originals that fusion left in the loop are dead.
    Operation *loop = fused->loops.front();
    for (auto [original, replacement] : fused->replacements)
      rewriter.replaceUsesWithIf(original, replacement, [&](OpOperand &use) {
        return !loop->isAncestor(use.getOwner());
      });
    SmallVector<Operation *> deadSlices;
    loop->walk([&](tensor::ExtractSliceOp slice) {
      if (slice->use_empty())
        deadSlices.push_back(slice);
    });
    for (Operation *slice : deadSlices)
      rewriter.eraseOp(slice);
    // The originals are now unused (the loop returns what else used them),
    // and some use each other's replaced results: erase them, users first.
    SmallVector<Operation *> originals(pair.rowWise.begin(), pair.rowWise.end());
    originals.push_back(gradient);
    for (bool erased = true; erased;) {
      erased = false;
      for (Operation *&op : originals)
        if (op && op->use_empty()) {
          rewriter.eraseOp(op);
          op = nullptr;
          erased = true;
        }
    }
    if (llvm::any_of(originals, [](Operation *op) { return op; })) {
      loop->emitError("tape-cpu-fuse-matvec-pairs: an op fused into the row "
                      "loop is still used outside it");
      return failure();
    }
    // Each consumer of a fused result fused its own copy of the producer
    // (two consumers of `z`: two forward products per block): one is kept.
    DominanceInfo dominance;
    eliminateCommonSubExpressions(rewriter, dominance, loop);
    return fused->tiledAndFusedOps.front();
  }
};

} // namespace
