//===- GradientActivity.h - Which values a gradient flows through -*- C++ -*-//
//
// The activity analysis shared by tape-differentiate (to know which ops need
// a rule) and tape-verify-assignments (to explain disconnected gradients).
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_DIALECT_TAPE_ANALYSIS_GRADIENTACTIVITY_H
#define TAPE_DIALECT_TAPE_ANALYSIS_GRADIENTACTIVITY_H

#include "mlir/IR/Operation.h"
#include "mlir/IR/Value.h"
#include "llvm/ADT/DenseSet.h"

namespace mlir::tape {

class GradientOp;
class RecordOp;

/// Over a list of recorded ops (in program order, nested regions included):
/// a value is *varied* if it depends on a source through differentiable
/// ops, *useful* if a target depends on it, and *active* if both. Ops that
/// take a varied value but produce none cut the path: integer casts,
/// comparisons, tape.stop_gradient, and calls (host code is opaque to the
/// tape, like `.numpy()`).
class GradientActivity {
public:
  GradientActivity(ArrayRef<Operation *> ops, ArrayRef<Value> sources,
                   ArrayRef<Value> targets);

  bool isVaried(Value v) const { return varied.contains(v); }
  bool isActive(Value v) const {
    return varied.contains(v) && useful.contains(v);
  }
  bool isActive(Operation *op) const;

  /// Where gradient paths are cut, in program order.
  ArrayRef<Operation *> getCuts() const { return cuts; }

private:
  void propagateVaried(ArrayRef<Operation *> ops);

  llvm::DenseSet<Value> varied, useful;
  SmallVector<Operation *> cuts;
};

/// The ops of `block` without its terminator, in order.
SmallVector<Operation *> getOpsWithoutTerminator(Block &block);

/// The variable a resource value refers to: the symbol of its tape.handle,
/// or null when it comes from elsewhere (a block argument).
FlatSymbolRefAttr getVariableSymbol(Value resource);

/// Why one source of a gradient request gets no gradient, or that it does.
struct SourceConnection {
  bool connected = false;
  /// The values the source stands for inside the region (reads of the
  /// variable, or the watched tensor); empty when it is not read there.
  SmallVector<Value> values;
  /// Ops that cut a path from the source (when not connected).
  SmallVector<Operation *> cuts;
};

/// Analyses every source of `gradient` on its tape's (not yet
/// differentiated) region.
SmallVector<SourceConnection> analyzeGradientSources(GradientOp gradient);

} // namespace mlir::tape

#endif // TAPE_DIALECT_TAPE_ANALYSIS_GRADIENTACTIVITY_H
