//===- VariableWrites.h - Which op writes which variable --------*- C++ -*-===//
//
// Private to lib/Dialect/Tape/Transforms: shared by tape-verify-assignments
// and its report.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LIB_DIALECT_TAPE_TRANSFORMS_VARIABLEWRITES_H
#define TAPE_LIB_DIALECT_TAPE_TRANSFORMS_VARIABLEWRITES_H

#include "tape/Dialect/Tape/Analysis/GradientActivity.h"
#include "tape/Dialect/Tape/TapeOps.h"

namespace mlir::tape {

/// The variable a resource refers to, or null.
inline StringAttr variableOf(Value resource) {
  if (FlatSymbolRefAttr sym = getVariableSymbol(resource))
    return sym.getAttr();
  return {};
}

/// An op that writes a variable: its resource and, for value-carrying
/// writes, the value written.
struct Write {
  Operation *op;
  Value resource;
  Value value;
};

inline std::optional<Write> asWrite(Operation *op) {
  if (auto a = dyn_cast<AssignOp>(op))
    return Write{op, a.getResource(), a.getValue()};
  if (auto a = dyn_cast<AssignAddOp>(op))
    return Write{op, a.getResource(), a.getValue()};
  if (auto a = dyn_cast<AssignSubOp>(op))
    return Write{op, a.getResource(), a.getValue()};
  return std::nullopt;
}

} // namespace mlir::tape

#endif // TAPE_LIB_DIALECT_TAPE_TRANSFORMS_VARIABLEWRITES_H
