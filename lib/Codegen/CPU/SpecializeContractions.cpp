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
/// indexing maps; nullptr if `op` is not that.
linalg::MatmulOp matchMatmul(RewriterBase &rewriter, linalg::GenericOp op) {
  if (op.getNumDpsInputs() != 2 || op.getNumDpsInits() != 1 ||
      op.getNumLoops() != 3 || !op.hasPureTensorSemantics() ||
      !linalg::isaContractionOpInterface(op))
    return nullptr;
  FailureOr<linalg::ContractionDimensions> dims =
      linalg::inferContractionDims(op);
  if (failed(dims) || !dims->batch.empty() || dims->m.size() != 1 ||
      dims->n.size() != 1 || dims->k.size() != 1)
    return nullptr;
  // Rows and columns as the result is laid out.
  AffineMap out = op.getMatchingIndexingMap(op.getDpsInitOperand(0));
  if (out.getNumResults() != 2)
    return nullptr;
  std::optional<unsigned> row = dimOf(out.getResult(0));
  std::optional<unsigned> col = dimOf(out.getResult(1));
  unsigned k = dims->k[0];
  if (!row || !col)
    return nullptr;
  // In the matmul: d0 = row, d1 = column, d2 = k.
  MLIRContext *ctx = op.getContext();
  SmallVector<AffineExpr> rename(3);
  rename[*row] = getAffineDimExpr(0, ctx);
  rename[*col] = getAffineDimExpr(1, ctx);
  rename[k] = getAffineDimExpr(2, ctx);
  Value lhs, rhs;
  AffineMap lhsMap, rhsMap;
  for (OpOperand *input : op.getDpsInputOperands()) {
    AffineMap map = op.getMatchingIndexingMap(input);
    if (map.getNumResults() != 2)
      return nullptr;
    AffineMap renamed = map.replaceDimsAndSymbols(rename, {}, 3, 0);
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
  AffineMap outMap = AffineMap::get(
      3, 0, {getAffineDimExpr(0, ctx), getAffineDimExpr(1, ctx)}, ctx);
  rewriter.setInsertionPoint(op);
  auto matmul = linalg::MatmulOp::create(rewriter, op.getLoc(),
                                         op.getResultTypes(),
                                         ValueRange{lhs, rhs},
                                         op.getDpsInits());
  SmallVector<AffineMap> maps{lhsMap, rhsMap, outMap};
  if (maps != linalg::MatmulOp::getDefaultIndexingMaps(ctx))
    matmul.setIndexingMapsAttr(rewriter.getAffineMapArrayAttr(maps));
  return matmul;
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
      if (linalg::MatmulOp matmul = matchMatmul(rewriter, op)) {
        rewriter.replaceOp(op, matmul.getResults());
        continue;
      }
      rewriter.setInsertionPoint(op);
      (void)linalg::specializeGenericOp(rewriter, op);
    }
  }
};

} // namespace
