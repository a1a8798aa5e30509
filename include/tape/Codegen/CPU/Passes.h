//===- Passes.h - CPU code generation passes --------------------*- C++ -*-===//
//
// Passes on upstream linalg, memref, vector and scf IR that make fast CPU
// code (packed matmul kernels, register tiles, vectors, threads, BLAS
// calls). They do not depend on the tape dialect.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_CODEGEN_CPU_PASSES_H
#define TAPE_CODEGEN_CPU_PASSES_H

#include "mlir/Pass/Pass.h"

namespace mlir::tape::cpu {

#define GEN_PASS_DECL
#include "tape/Codegen/CPU/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tape/Codegen/CPU/Passes.h.inc"

} // namespace mlir::tape::cpu

#endif // TAPE_CODEGEN_CPU_PASSES_H
