//===- PrepareRecordings.h - Recording regions in AD form -------*- C++ -*-===//
//
// Private to lib/Dialect/Tape/Transforms: shared by tape-prepare-recordings
// and tape-differentiate (which runs it first, so that it is sound alone).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LIB_DIALECT_TAPE_TRANSFORMS_PREPARERECORDINGS_H
#define TAPE_LIB_DIALECT_TAPE_TRANSFORMS_PREPARERECORDINGS_H

#include "mlir/IR/BuiltinOps.h"

namespace mlir::tape {

/// Puts every recording region of `module` in the form reverse-mode AD
/// expects: calls inlined (so the tape sees the callee's ops and reads),
/// variable reads hoisted out of nested regions where no write to the
/// variable can come between, TOSA lowered to linalg. Fails with a located
/// error for calls it cannot inline.
LogicalResult prepareRecordings(ModuleOp module);

} // namespace mlir::tape

#endif // TAPE_LIB_DIALECT_TAPE_TRANSFORMS_PREPARERECORDINGS_H
