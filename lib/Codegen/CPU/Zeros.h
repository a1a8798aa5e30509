//===- Zeros.h - Tensors known to hold only zeros -------------------------===//
//
// Gradients start at zero: several rewrites (an SGD update folded into its
// matmul, an accumulation that writes, cotangents of slices inserted into
// one tensor) look for a tensor of zeros as a destination or addend.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_ZEROS_H
#define TAPE_CODEGEN_CPU_ZEROS_H

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/Matchers.h"

namespace mlir::tape {

/// Whether `value` is all zeros: a zero (splat) float constant or a zero
/// `linalg.fill` on tensors.
inline bool isZeros(Value value) {
  if (auto fill = value.getDefiningOp<linalg::FillOp>())
    return matchPattern(fill.getInputs()[0], m_AnyZeroFloat());
  return matchPattern(value, m_AnyZeroFloat());
}

} // namespace mlir::tape

#endif // TAPE_CODEGEN_CPU_ZEROS_H
