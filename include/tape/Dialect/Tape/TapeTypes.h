//===- TapeTypes.h - Types of the tape dialect ------------------*- C++ -*-===//

#ifndef TAPE_DIALECT_TAPE_TAPETYPES_H
#define TAPE_DIALECT_TAPE_TAPETYPES_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Types.h"

#define GET_TYPEDEF_CLASSES
#include "tape/Dialect/Tape/TapeTypes.h.inc"

#endif // TAPE_DIALECT_TAPE_TAPETYPES_H
