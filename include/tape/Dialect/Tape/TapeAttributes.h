//===- TapeAttributes.h - Attributes of the tape dialect --------*- C++ -*-===//

#ifndef TAPE_DIALECT_TAPE_TAPEATTRIBUTES_H
#define TAPE_DIALECT_TAPE_TAPEATTRIBUTES_H

#include "mlir/IR/Attributes.h"
#include "mlir/IR/BuiltinAttributes.h"
#include "tape/Dialect/Tape/TapeInterfaces.h"

#define GET_ATTRDEF_CLASSES
#include "tape/Dialect/Tape/TapeAttributes.h.inc"

#endif // TAPE_DIALECT_TAPE_TAPEATTRIBUTES_H
