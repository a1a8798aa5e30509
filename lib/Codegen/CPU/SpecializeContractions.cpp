//===- SpecializeContractions.cpp - Generic contractions to named ops -----===//
//
// The kernels (packed, matrix-vector, BLAS) match linalg.matmul. A matmul
// that arrives as a linalg.generic (a frontend's, or an adjoint the generic
// AD rule built) would miss them and get only register tiles. Upstream's
// specialization recognizes the canonical forms; this pass hands it every
// contraction and recognizes, itself, the matmuls upstream leaves: either
// operand transposed, the operands in either order, the result transposed
// (C^T = B^T A^T). Nothing but contractions is touched: elementwise
// generics stay generic, so that loop fusion still sees them.
//
//===----------------------------------------------------------------------===//

#include "tape/Codegen/CPU/Passes.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Linalg/Transforms/Transforms.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/Verifier.h"

namespace mlir::tape::cpu {
#define GEN_PASS_DEF_SPECIALIZECONTRACTIONS
#include "tape/Codegen/CPU/Passes.h.inc"
} // namespace mlir::tape::cpu

using namespace mlir;

namespace {

/// The dimension `e` names, if it is a plain dimension.
std::optional<unsigned> dimOf(AffineExpr e) {
  if (auto d = dyn_cast<AffineDimExpr>(e))
    return d.getPosition();
  return std::nullopt;
}

/// True if every operand of `op` has the same element type: no widening
/// inside the body, which the kernels do not do.
bool hasOneElementType(linalg::GenericOp op) {
  Type element = getElementTypeOrSelf(op.getDpsInits()[0].getType());
  return llvm::all_of(op->getOperandTypes(), [&](Type t) {
    return getElementTypeOrSelf(t) == element;
  });
}

/// `C(m, n) += A B` over one m, one n and one k dimension, each input
/// indexed by its two dimensions in either order, as `linalg.matmul` with
/// indexing maps; with one batch dimension leading every operand, the same
/// as `linalg.batch_matmul`. Null if `op` is neither.
linalg::LinalgOp matchMatmul(RewriterBase &rewriter, linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      !op.hasPureTensorSemantics())
    return nullptr;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || dims->batch.size() > 1 || dims->m.size() != 1 ||
      dims->n.size() != 1 || dims->k.size() != 1)
    return nullptr;
  unsigned batched = dims->batch.size();
  unsigned rank = 2 + batched, loops = 3 + batched;
  if (op.getNumLoops() != loops)
    return nullptr;
  // The batch dimension, if any, leads every operand.
  auto leadsWithBatch = [&](AffineMap map) {
    return map.getNumResults() == rank &&
           (!batched || dimOf(map.getResult(0)) == dims->batch[0]);
  };
  // Rows and columns as the result is laid out.
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (!leadsWithBatch(out))
    return nullptr;
  std::optional<unsigned> row = dimOf(out.getResult(batched));
  std::optional<unsigned> col = dimOf(out.getResult(batched + 1));
  unsigned k = dims->k[0];
  if (!row || !col)
    return nullptr;
  // In the named op: (batch,) row, column, k.
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineExpr> rename(loops);
  if (batched)
    rename[dims->batch[0]] = getAffineDimExpr(0, ctx);
  rename[*row] = getAffineDimExpr(batched, ctx);
  rename[*col] = getAffineDimExpr(batched + 1, ctx);
  rename[k] = getAffineDimExpr(batched + 2, ctx);
  Value lhs, rhs;
  AffineMap lhsMap, rhsMap;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (!leadsWithBatch(map))
      return nullptr;
    AffineMap renamed = map.replaceDimsAndSymbols(rename, {}, loops, 0);
    bool readsRows = map.isFunctionOfDim(*row) && map.isFunctionOfDim(k);
    bool readsCols = map.isFunctionOfDim(*col) && map.isFunctionOfDim(k);
    if (readsRows && !lhs) {
      lhs = input->get();
      lhsMap = renamed;
    } else if (readsCols && !rhs) {
      rhs = input->get();
      rhsMap = renamed;
    } else {
      return nullptr;
    }
  }
  if (!lhs || !rhs)
    return nullptr;
  SmallVector<AffineExpr> outExprs;
  for (unsigned d = 0; d < rank; ++d)
    outExprs.push_back(getAffineDimExpr(d, ctx));
  SmallVector<AffineMap> maps{lhsMap, rhsMap,
                              AffineMap::get(loops, 0, outExprs, ctx)};
  rewriter.setInsertionPoint(op);
  auto create = [&](auto opTag) -> linalg::LinalgOp {
    using OpTy = decltype(opTag);
    auto named = OpTy::create(rewriter, op.getLoc(), op.getResultTypes(),
                              ValueRange{lhs, rhs}, op.getDpsInits());
    if (maps != OpTy::getDefaultIndexingMaps(ctx))
      named.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
    return named;
  };
  return batched ? create(linalg::BatchMatmulOp()) : create(linalg::MatmulOp());
}

/// Upstream's specialization of `op`, if it gives a valid op (it has
/// turned transposed batch contractions into batch matmuls whose shapes
/// do not verify): tried on a copy, so that `op` stays when it does not.
void specializeUpstream(RewriterBase &rewriter, linalg::GenericOp op) {
  rewriter.setInsertionPoint(op);
  auto copy = cast<linalg::GenericOp>(rewriter.clone(*op));
  FailureOr<linalg::LinalgOp> named = linalg::specializeGenericOp(rewriter, copy);
  if (failed(named)) {
    rewriter.eraseOp(copy);
    return;
  }
  if (*named == copy || failed(mlir::verify(*named))) {
    rewriter.eraseOp(*named);
    return;
  }
  rewriter.replaceOp(op, named->getOperation()->getResults());
}

struct SpecializeContractionsPass
    : public mlir::tape::cpu::impl::SpecializeContractionsBase<
          SpecializeContractionsPass> {
  void runOnOperation() override {
    SmallVector<linalg::GenericOp> contractions;
    getOperation().walk([&](linalg::GenericOp op) {
      if (linalg::isaContractionOpInterface(op) && hasOneElementType(op))
        contractions.push_back(op);
    });
    IRRewriter rewriter(&getContext());
    for (linalg::GenericOp op : contractions) {
      if (linalg::LinalgOp named = matchMatmul(rewriter, op)) {
        rewriter.replaceOp(op, named->getResults());
        continue;
      }
      specializeUpstream(rewriter, op);
    }
  }
};

} // namespace
