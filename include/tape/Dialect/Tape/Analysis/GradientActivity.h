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
/// ops, *useful* if a target depends on it, and *active* if both.
///
/// The analysis is sound for every op, known or not: an op with a varied
/// operand (or a varied value captured by, or defined in, one of its
/// regions) has varied float results, so an op it does not know ends up on
/// the gradient path and `tape-differentiate` names it, instead of a silent
/// zero. Loop-carried block arguments are solved to a fixed point. Only
/// these ops *cut* a path (their float results are constant to the tape):
/// `tape.stop_gradient`, the piecewise-constant float ops (`math.floor`,
/// `ceil`, `round`, `roundeven`, `trunc`), and ops whose
/// results are not floats (integer casts, comparisons).
class GradientActivity {
public:
  GradientActivity(ArrayRef<Operation *> ops, ArrayRef<Value> sources,
                   ArrayRef<Value> targets);

  bool isVaried(Value v) const { return varied.contains(v); }
  bool isUseful(Value v) const { return useful.contains(v); }
  bool isActive(Value v) const {
    return varied.contains(v) && useful.contains(v);
  }
  bool isActive(Operation *op) const;

  /// Where gradient paths are cut, in program order.
  ArrayRef<Operation *> getCuts() const { return cuts; }

  /// Ops whose float results are constant to the tape although they take
  /// floats: stop_gradient and the piecewise-constant float ops.
  static bool cutsGradient(Operation *op);

private:
  /// Marks the varied values of `ops`; returns true if any value changed.
  bool propagateVaried(ArrayRef<Operation *> ops);
  bool visit(Operation *op);
  bool markVaried(Value v);
  void addCut(Operation *op);

  llvm::DenseSet<Value> varied, useful;
  llvm::DenseSet<Operation *> cutSet;
  SmallVector<Operation *> cuts;
};

/// The ops of `block` without its terminator, in order.
SmallVector<Operation *> getOpsWithoutTerminator(Block &block);

/// The variable a resource value refers to: the symbol of its tape.handle,
/// or null when it comes from elsewhere (a block argument).
FlatSymbolRefAttr getVariableSymbol(Value resource);

/// True if `read` (a tape.read) reads the variable `source` (a resource)
/// refers to: the same resource, or a handle of the same variable.
bool readsResource(Operation *read, Value source);

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
/// differentiated) region. A region that still calls functions (before
/// `tape-differentiate` inlines them) may read a source in a callee: its
/// sources count as connected, since nothing proves otherwise.
SmallVector<SourceConnection> analyzeGradientSources(GradientOp gradient);

} // namespace mlir::tape

#endif // TAPE_DIALECT_TAPE_ANALYSIS_GRADIENTACTIVITY_H
