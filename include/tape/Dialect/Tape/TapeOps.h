//===- TapeOps.h - Operations of the tape dialect ---------------*- C++ -*-===//

#ifndef TAPE_DIALECT_TAPE_TAPEOPS_H
#define TAPE_DIALECT_TAPE_TAPEOPS_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/ControlFlowInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "mlir/Interfaces/InferTypeOpInterface.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "tape/Dialect/Tape/TapeAttributes.h"
#include "tape/Dialect/Tape/TapeDialect.h"
#include "tape/Dialect/Tape/TapeInterfaces.h"
#include "tape/Dialect/Tape/TapeTypes.h"

namespace mlir::tape {
/// The state of all variables, as a side-effect resource: reads and
/// assignments are ordered against each other through it.
struct VariableResource : public SideEffects::Resource::Base<VariableResource> {
  llvm::StringRef getName() final { return "tape::Variable"; }
};

/// Verifies that a variable is declared at module scope, not inside a
/// function, where it would be re-created on every call.
LogicalResult verifyDeclaredAtModuleScope(Operation *op);

template <typename ConcreteType>
class DeclaredAtModuleScope
    : public OpTrait::TraitBase<ConcreteType, DeclaredAtModuleScope> {
public:
  static LogicalResult verifyTrait(Operation *op) {
    return verifyDeclaredAtModuleScope(op);
  }
};
} // namespace mlir::tape

#define GET_OP_CLASSES
#include "tape/Dialect/Tape/TapeOps.h.inc"

#endif // TAPE_DIALECT_TAPE_TAPEOPS_H
