//===- TapeDialect.h - The tape dialect -------------------------*- C++ -*-===//

#ifndef TAPE_DIALECT_TAPE_TAPEDIALECT_H
#define TAPE_DIALECT_TAPE_TAPEDIALECT_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Dialect.h"

#include "tape/Dialect/Tape/TapeDialect.h.inc"

#endif // TAPE_DIALECT_TAPE_TAPEDIALECT_H
