//===- Passes.h - Passes of the tape dialect --------------------*- C++ -*-===//
//
// The passes that transform tape ops: optimizers, recording regions, the
// verifier of assignments and reverse-mode AD. Lowering out of the dialect
// is in tape/Conversion, code generation in tape/Codegen, the step ABI in
// tape/ABI.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_DIALECT_TAPE_PASSES_H
#define TAPE_DIALECT_TAPE_PASSES_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::tape {

#define GEN_PASS_DECL
#include "tape/Dialect/Tape/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tape/Dialect/Tape/Passes.h.inc"

} // namespace mlir::tape

#endif // TAPE_DIALECT_TAPE_PASSES_H
