//===- Passes.h - Passes of the tape dialect --------------------*- C++ -*-===//

#ifndef TAPE_DIALECT_TAPE_PASSES_H
#define TAPE_DIALECT_TAPE_PASSES_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/Pass.h"

namespace mlir::tape {

#define GEN_PASS_DECL
#include "tape/Dialect/Tape/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "tape/Dialect/Tape/Passes.h.inc"

} // namespace mlir::tape

#endif // TAPE_DIALECT_TAPE_PASSES_H
