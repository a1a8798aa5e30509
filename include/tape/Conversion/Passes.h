//===- Passes.h - Conversions to and from the tape dialect ------*- C++ -*-===//

#ifndef TAPE_CONVERSION_PASSES_H
#define TAPE_CONVERSION_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/MLProgram/IR/MLProgram.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"
#include "tape/Dialect/Tape/TapeDialect.h"

namespace mlir::tape {

#define GEN_PASS_DECL
#include "tape/Conversion/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tape/Conversion/Passes.h.inc"

} // namespace mlir::tape

#endif // TAPE_CONVERSION_PASSES_H
