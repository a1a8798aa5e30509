//===- UnitStride.h - Loops that walk along an operand's last index -------===//
//
// im2col reads `x[n, c, oh + kh, ow + kw]` and col2im adds into it: maps
// that are not projected permutations, which upstream vectorization
// refuses. Whether consecutive iterations of a loop reach consecutive
// elements is what both the convolution rewrite (to lay columns out) and
// the vectorizer (to run such ops along that loop) need to know.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_UNITSTRIDE_H
#define TAPE_CODEGEN_CPU_UNITSTRIDE_H

#include "mlir/IR/AffineMap.h"

#include <optional>

namespace mlir::tape {

/// How far apart consecutive iterations of loop `dim` are in an operand
/// indexed by `map`: `dim` in the last index only, with a constant positive
/// coefficient (`ow + kw`: 1, `2 * ow + kw`: 2). None otherwise.
inline std::optional<int64_t> innermostStride(AffineMap map, unsigned dim) {
  if (map.getNumResults() == 0)
    return std::nullopt;
  ArrayRef<AffineExpr> results = map.getResults();
  if (llvm::any_of(results.drop_back(),
                   [&](AffineExpr e) { return e.isFunctionOfDim(dim); }))
    return std::nullopt;
  MLIRContext *ctx = map.getContext();
  // The last index at dim = value, every other loop at 0 (affine: the
  // differences do not depend on the other loops).
  auto at = [&](int64_t value) -> std::optional<int64_t> {
    SmallVector<AffineExpr> point(map.getNumDims(),
                                  getAffineConstantExpr(0, ctx));
    point[dim] = getAffineConstantExpr(value, ctx);
    auto c = dyn_cast<AffineConstantExpr>(results.back().replaceDims(point));
    return c ? std::optional<int64_t>(c.getValue()) : std::nullopt;
  };
  std::optional<int64_t> zero = at(0), one = at(1), two = at(2);
  if (!zero || !one || !two || *one - *zero <= 0 ||
      *two - *one != *one - *zero)
    return std::nullopt;
  return *one - *zero;
}

/// True if consecutive iterations of loop `dim` reach consecutive elements
/// of an operand indexed by `map` (`ow` or `ow + kw`, not `2 * ow`).
inline bool isUnitStrideInnermost(AffineMap map, unsigned dim) {
  return innermostStride(map, dim) == 1;
}

} // namespace mlir::tape

#endif // TAPE_CODEGEN_CPU_UNITSTRIDE_H
