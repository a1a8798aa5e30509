//===- Passes.h - Passes that make the step ABI -----------------*- C++ -*-===//
//
// After bufferization: the passes that give a compiled step its calling
// convention `void f(state..., inputs..., outputs..., workspace)`, and the
// verifier of that contract.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_ABI_PASSES_H
#define TAPE_ABI_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::tape::abi {

#define GEN_PASS_DECL
#include "tape/ABI/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tape/ABI/Passes.h.inc"

} // namespace mlir::tape::abi

#endif // TAPE_ABI_PASSES_H
