//===- AssignmentReport.h - Per-step variable report ------------*- C++ -*-===//
//
// Private to lib/Dialect/Tape/Transforms: the report of
// tape-verify-assignments (report=text|json).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LIB_DIALECT_TAPE_TRANSFORMS_ASSIGNMENTREPORT_H
#define TAPE_LIB_DIALECT_TAPE_TRANSFORMS_ASSIGNMENTREPORT_H

#include "mlir/IR/BuiltinOps.h"

namespace mlir::tape {

/// Writes, per step, every variable it touches: where it is read (inside a
/// tape or not), where it is written (in the step or in host code that
/// calls it) and whether each gradient request reaches it, as `format`
/// ("text" or "json") to `file` ("-": standard output). Fails, after an
/// error, when the file cannot be written.
LogicalResult writeAssignmentReport(ModuleOp module, StringRef format,
                                    StringRef file);

} // namespace mlir::tape

#endif // TAPE_LIB_DIALECT_TAPE_TRANSFORMS_ASSIGNMENTREPORT_H
