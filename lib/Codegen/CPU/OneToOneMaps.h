//===- OneToOneMaps.h - Indexing maps that reach each element once -------===//
//
// An op whose output map reaches every element of its output exactly once
// over the iteration space writes each element once: an accumulation into
// zeros through such a map can write instead (tape-cpu-write-once-
// accumulations), and an elementwise op on such a result can be computed
// in the same loop (tape-cpu-fuse-into-write-once-producers).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_ONETOONEMAPS_H
#define TAPE_CODEGEN_CPU_ONETOONEMAPS_H

#include "mlir/IR/AffineMap.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/ADT/SmallVector.h"

namespace mlir::tape {

/// Whether `map` sends the iteration domain of `ranges` one to one onto a
/// tensor of `shape`: each loop dimension appears in exactly one result,
/// and each result is a sum of dimensions times constants that form a
/// mixed radix of the result's size (d2 * 2 + d4 with d4 < 2 and d2 < 12
/// covers 0 .. 23 once).
inline bool isOneToOne(AffineMap map, ArrayRef<int64_t> ranges,
                       ArrayRef<int64_t> shape) {
  if (map.getNumSymbols() != 0 || map.getNumResults() != shape.size())
    return false;
  SmallVector<int> uses(map.getNumDims(), 0);
  for (auto [expr, size] : llvm::zip(map.getResults(), shape)) {
    // The terms (coefficient, dimension) of the sum.
    SmallVector<std::pair<int64_t, unsigned>> terms;
    SmallVector<AffineExpr> pending{expr};
    while (!pending.empty()) {
      AffineExpr e = pending.pop_back_val();
      auto binary = dyn_cast<AffineBinaryOpExpr>(e);
      if (binary && binary.getKind() == AffineExprKind::Add) {
        pending.push_back(binary.getLHS());
        pending.push_back(binary.getRHS());
        continue;
      }
      if (auto dim = dyn_cast<AffineDimExpr>(e)) {
        terms.push_back({1, dim.getPosition()});
        continue;
      }
      if (!binary || binary.getKind() != AffineExprKind::Mul)
        return false;
      auto dim = dyn_cast<AffineDimExpr>(binary.getLHS());
      auto factor = dyn_cast<AffineConstantExpr>(binary.getRHS());
      if (!dim || !factor || factor.getValue() < 1)
        return false;
      terms.push_back({factor.getValue(), dim.getPosition()});
    }
    llvm::sort(terms);
    int64_t radix = 1;
    for (auto [factor, dim] : terms) {
      if (factor != radix || ranges[dim] < 1)
        return false;
      ++uses[dim];
      radix *= ranges[dim];
    }
    if (radix != size)
      return false;
  }
  return llvm::all_of(uses, [](int n) { return n == 1; });
}

} // namespace mlir::tape

#endif // TAPE_CODEGEN_CPU_ONETOONEMAPS_H
