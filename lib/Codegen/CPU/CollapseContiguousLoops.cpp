//===- CollapseContiguousLoops.cpp - One loop over contiguous dimensions --===//
//
// A ReLU over a [64, 64, 24, 24] buffer is four loops whose innermost runs
// 24 iterations: tape-cpu-vectorize covers it with vectors of the largest
// divisor of 24 (12 lanes) or with 16 + 8, never with full vectors only. The
// buffer is contiguous, so the op is the same as one loop over 2359296
// elements. Neighbouring loops that every operand walks contiguously (both
// indexed in the same order, the inner one with the unit step of the outer
// one's stride) become one, on collapsed views of the operands; upstream's
// collapseOpIterationDims does the rewrite.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_COLLAPSECONTIGUOUSLOOPS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

/// True if loops `d` and `d + 1` of `op` can be one loop: the same kind of
/// loop, and in every operand either both absent or adjacent results, in
/// that order, of a memref whose two dimensions are contiguous (the outer
/// stride is the inner stride times the inner size).
static bool canMerge(linalg::GenericOp op, unsigned d) {
  SmallVector<utils::IteratorType> iterators = op.getIteratorTypesArray();
  if (iterators[d] != iterators[d + 1])
    return false;
  ReassociationIndices pair{static_cast<int64_t>(d),
                            static_cast<int64_t>(d + 1)};
  for (OpOperand &operand : op->getOpOperands()) {
    AffineMap map = op.getMatchingIndexingMap(&operand);
    if (!linalg::isDimSequencePreserved(map, pair))
      return false;
    std::optional<unsigned> position =
        map.getResultPosition(getAffineDimExpr(d, op.getContext()));
    if (!position)
      continue;
    auto type = cast<MemRefType>(operand.get().getType());
    SmallVector<ReassociationIndices> reassociation;
    for (int64_t r = 0, e = type.getRank(); r < e; ++r) {
      if (r == static_cast<int64_t>(*position) + 1)
        reassociation.back().push_back(r);
      else
        reassociation.push_back({r});
    }
    if (!memref::CollapseShapeOp::isGuaranteedCollapsible(type, reassociation))
      return false;
  }
  return true;
}

/// The runs of two or more neighbouring loops of `op` that can be one loop
/// each, outermost first (what collapseOpIterationDims folds; empty if no
/// two loops can merge).
static SmallVector<ReassociationIndices> mergeableLoops(linalg::GenericOp op) {
  SmallVector<ReassociationIndices> runs;
  for (unsigned d = 1, e = op.getNumLoops(); d < e; ++d) {
    if (!canMerge(op, d - 1))
      continue;
    if (runs.empty() || runs.back().back() != static_cast<int64_t>(d - 1))
      runs.push_back({static_cast<int64_t>(d - 1)});
    runs.back().push_back(d);
  }
  return runs;
}

/// Ops worth collapsing and safe to hand to the rewrite: statically shaped
/// generics on memrefs whose maps are projected permutations (no windows:
/// tape-cpu-vectorize keeps a window's own loops), with no linalg.index
/// (the collapsed loop would have to split its counter again on every
/// iteration) and no contraction (tape-cpu-vectorize gives those register
/// tiles by their m, n and k).
static bool isCandidate(linalg::GenericOp op) {
  if (!op.hasPureBufferSemantics() || op.hasDynamicShape() ||
      op.getNumLoops() < 2 || linalg::isaContractionOpInterface(op) ||
      !op.getBody()->getOps<linalg::IndexOp>().empty())
    return false;
  if (!llvm::all_of(op.getIndexingMapsArray(), [](AffineMap map) {
        return map.isProjectedPermutation(/*allowZeroInResults=*/false);
      }))
    return false;
  return llvm::all_of(op->getOperands(), [](Value v) {
    return isa<MemRefType>(v.getType());
  });
}

namespace {
struct TapeCollapseContiguousLoopsPass
    : public mlir::tape::cpu::impl::CollapseContiguousLoopsBase<
          TapeCollapseContiguousLoopsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> ops;
    getOperation().walk([&](linalg::GenericOp op) {
      if (isCandidate(op))
        ops.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : ops) {
      SmallVector<ReassociationIndices> runs = mergeableLoops(op);
      if (runs.empty())
        continue;
      rewriter.setInsertionPoint(op);
      FailureOr<linalg::CollapseResult> collapsed =
          linalg::collapseOpIterationDims(op, runs, rewriter);
      if (failed(collapsed))
        continue;
      // On buffers the op has no results: nothing to replace.
      rewriter.eraseOp(op);
    }
  }
};
} // namespace
