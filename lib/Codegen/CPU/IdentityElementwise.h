//===- IdentityElementwise.h - Elementwise ops without broadcasts ---------===//
//
// The passes that move an elementwise op into another loop (a scatter's, an
// image loop's) or merge neighbouring elementwise loops all start from the
// same kind of op: every loop parallel and every operand read or written
// at the iteration's own index.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_IDENTITYELEMENTWISE_H
#define TAPE_CODEGEN_CPU_IDENTITYELEMENTWISE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"

namespace mlir::tape {

/// Whether `op` has only parallel loops and the identity as every indexing
/// map (elementwise with no broadcast or transpose).
inline bool isIdentityElementwise(linalg::LinalgOp op) {
  return op.getNumParallelLoops() == op.getNumLoops() &&
         llvm::all_of(op.getIndexingMapsArray(),
                      [](AffineMap m) { return m.isIdentity(); });
}

} // namespace mlir::tape

#endif // TAPE_CODEGEN_CPU_IDENTITYELEMENTWISE_H
