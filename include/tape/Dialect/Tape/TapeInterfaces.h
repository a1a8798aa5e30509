//===- TapeInterfaces.h - Interfaces of the tape dialect --------*- C++ -*-===//

#ifndef TAPE_DIALECT_TAPE_TAPEINTERFACES_H
#define TAPE_DIALECT_TAPE_TAPEINTERFACES_H

#include "mlir/IR/Builders.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/OpDefinition.h"

#include "tape/Dialect/Tape/TapeAttrInterfaces.h.inc"
#include "tape/Dialect/Tape/TapeOpInterfaces.h.inc"

#endif // TAPE_DIALECT_TAPE_TAPEINTERFACES_H
