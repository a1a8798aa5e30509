//===- Threads.h - Whether code already runs on one of several threads ----===//
//
// The kernels spread their own loops over threads (tape-cpu-vectorize,
// tape-cpu-pack-matmuls, tape-cpu-matvec-kernels). Code inside a loop
// that is itself spread over threads (the pieces of a convolution that
// tape-cpu-convolutions-as-matmuls hands one per thread) runs on one
// thread already: forking again would nest parallel regions, which buy
// nothing once every thread is busy and cost a fork and join each.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_THREADS_H
#define TAPE_CODEGEN_CPU_THREADS_H

#include "mlir/Dialect/SCF/IR/SCF.h"

namespace mlir::tape {

/// Whether `op` is inside an `scf.forall` or `scf.parallel` (or, with
/// `orItself`, is one).
inline bool isInsideParallelLoop(Operation *op, bool orItself = false) {
  for (Operation *parent = orItself ? op : op->getParentOp(); parent;
       parent = parent->getParentOp())
    if (isa<scf::ForallOp, scf::ParallelOp>(parent))
      return true;
  return false;
}

} // namespace mlir::tape

#endif // TAPE_CODEGEN_CPU_THREADS_H
