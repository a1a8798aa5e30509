//===- MatmulUpdate.h - An SGD-style update fed by one matmul -------------===//
//
// After bufferization a plain SGD step on a weight that a matmul's gradient
// feeds looks like
//
//   %g = memref.alloc()                        // the gradient, dW
//   linalg.fill ins(%zero) outs(%g)
//   linalg.matmul ins(%a, %b) outs(%g)         // dW = A B
//   ...                                        // nothing touches %w
//   linalg.generic ins(%w, %g) outs(%w)        // w = w - lr * dW
//
// A kernel that replaces the matmul can instead accumulate `alpha * A B`
// straight into `%w` (alpha = -lr), as a hand-written step does with
// sgemm's beta = 1: the gradient buffer and its second pass over memory
// disappear. The kernels that can do this (packed kernels, BLAS calls) use
// this matcher, and erase the fill, the update and the buffer once they
// have emitted the fused form.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_DIALECT_TAPE_TRANSFORMS_MATMULUPDATE_H
#define TAPE_DIALECT_TAPE_TRANSFORMS_MATMULUPDATE_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"

#include <optional>

namespace mlir::tape {

/// `target += alpha * A B` replaces `g = A B; target = target + alpha * g`.
struct MatmulUpdate {
  Value target;
  float alpha;
  memref::AllocOp gradient;
  linalg::FillOp fill;
  linalg::GenericOp update;
};

/// The update `op`'s result feeds, when the rewrite is sound: the gradient
/// buffer is a fresh allocation used only by a zero fill, `op` and the
/// update (in this order, in one block); the update is elementwise
/// `w = w + c * g`, `w = w - c * g` or `w = w -/+ g` with a constant `c`,
/// written in place; `op`'s operands do not alias `w`; and nothing between
/// `op` and the update uses `w`.
std::optional<MatmulUpdate> matchMatmulUpdate(linalg::MatmulOp op);

/// Erases the fill, the update and the gradient buffer; the caller has
/// replaced the matmul itself.
void eraseFusedUpdate(const MatmulUpdate &update);

} // namespace mlir::tape

#endif // TAPE_DIALECT_TAPE_TRANSFORMS_MATMULUPDATE_H
