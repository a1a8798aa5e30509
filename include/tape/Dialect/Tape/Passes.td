//===- Passes.td - Passes of the tape dialect --------------*- tablegen -*-===//

#ifndef TAPE_DIALECT_TAPE_PASSES_TD
#define TAPE_DIALECT_TAPE_PASSES_TD

include "mlir/Pass/PassBase.td"

#endif // TAPE_DIALECT_TAPE_PASSES_TD
