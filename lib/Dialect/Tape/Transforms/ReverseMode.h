//===- ReverseMode.h - The reverse sweep of tape-differentiate --*- C++ -*-===//
//
// Private to lib/Dialect/Tape/Transforms. The engine that turns adjoints of
// results into adjoints of operands, op by op, backwards over a block:
// ops with a DifferentiableOpInterface rule call it; the ops whose backward
// code must differentiate their own regions are reversed here:
//
//  * scf.if (ReverseMode.cpp): an scf.if on the same condition whose
//    branches recompute the forward branch and sweep it.
//  * scf.for (ReverseMode.cpp): the forward loop stores its loop-carried
//    values of every iteration ("tapes" the loop); a reverse loop pops them,
//    recomputes the body and sweeps it. A loop inside a loop body is taped
//    where its body is recomputed, so nesting costs memory per level, not
//    per product of trip counts.
//  * every linalg structured op (ReverseLinalg.cpp): one rule for
//    linalg.generic, and named ops through their generic form.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LIB_DIALECT_TAPE_TRANSFORMS_REVERSEMODE_H
#define TAPE_LIB_DIALECT_TAPE_TRANSFORMS_REVERSEMODE_H

#include "tape/Dialect/Tape/Analysis/GradientActivity.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"

namespace mlir::tape::ad {

/// Adjoints of original (forward) values during one backward sweep.
using AdjointMap = DenseMap<Value, Value>;

/// Remembers the ops the backward code creates, so that the ones that feed
/// nothing can be erased afterwards.
struct CreatedOps : public RewriterBase::Listener {
  void notifyOperationInserted(Operation *op,
                               OpBuilder::InsertPoint) override {
    order.push_back(op);
    live.insert(op);
  }
  // Constant time: the generic rule erases a template per linalg op, and a
  // SetVector's removal scanned every op created so far (quadratic).
  void notifyOperationErased(Operation *op) override { live.erase(op); }
  /// The ops created and not erased, in the order they were created (an
  /// op at a reused address counts at its last insertion).
  SmallVector<Operation *> take() {
    SmallVector<Operation *> result;
    DenseSet<Operation *> seen;
    for (Operation *op : llvm::reverse(order))
      if (live.contains(op) && seen.insert(op).second)
        result.push_back(op);
    std::reverse(result.begin(), result.end());
    order.clear();
    live.clear();
    return result;
  }

private:
  SmallVector<Operation *> order;
  DenseSet<Operation *> live;
};

/// The stored loop-carried values of a forward scf.for: stack i holds, at
/// row k, the value iter_arg i had when iteration k started.
struct LoopTape {
  Value tripCount; // index
  unsigned numCarried; // the loop's own iter_args, before the stacks
  SmallVector<Value> stacks;
};

/// Adds the stacks to `forOp` (which is replaced by a loop with more
/// results; `forOp` is updated). Fails, with an error when `emitErrors`,
/// for loop-carried values that cannot be stored (dynamically shaped
/// tensors, non-scalar non-tensor types).
FailureOr<LoopTape> tapeLoop(scf::ForOp &forOp, RewriterBase &rewriter,
                             bool emitErrors);

/// Clones `op` under `mapping` (which then maps `op` to its copy), also
/// when `mapping` comes from the recomputation of an enclosing region.
Operation *cloneInto(OpBuilder &b, Operation &op, IRMapping &mapping);

/// The reverse sweep for one gradient request.
class ReverseSweep {
public:
  ReverseSweep(const GradientActivity &activity, Location requestLoc,
               CreatedOps &created,
               DenseMap<Operation *, LoopTape> &loopTapes)
      : activity(&activity), requestLoc(requestLoc), created(created),
        loopTapes(loopTapes) {}

  /// Walks `ops` backwards, turning the adjoints of their results into
  /// adjoints of their operands. `fwd` maps original values to the forward
  /// values the backward code may use (a recomputed copy inside loops and
  /// branches; the identity at top level).
  LogicalResult sweep(OpBuilder &b, ArrayRef<Operation *> ops,
                      AdjointMap &adjoints, IRMapping &fwd);

  /// adjoints[original] += adj, for active originals.
  void accumulate(OpBuilder &b, Location loc, AdjointMap &adjoints,
                  Value original, Value adj);

private:
  LogicalResult applyRule(OpBuilder &b, Operation *op,
                          ArrayRef<Value> resultAdjoints, AdjointMap &adjoints,
                          IRMapping &fwd);
  LogicalResult reverseExtract(OpBuilder &b, Operation *op, Value adjoint,
                               AdjointMap &adjoints, IRMapping &fwd);
  LogicalResult reversePad(OpBuilder &b, tensor::PadOp pad, Value adjoint,
                           AdjointMap &adjoints, IRMapping &fwd);
  LogicalResult reverseIf(OpBuilder &b, scf::IfOp ifOp,
                          ArrayRef<Value> resultAdjoints, AdjointMap &adjoints,
                          IRMapping &fwd);
  LogicalResult reverseFor(OpBuilder &b, scf::ForOp forOp,
                           ArrayRef<Value> resultAdjoints,
                           AdjointMap &adjoints, IRMapping &fwd);
  /// ReverseLinalg.cpp.
  LogicalResult reverseLinalg(OpBuilder &b, linalg::LinalgOp op,
                              ArrayRef<Value> resultAdjoints,
                              AdjointMap &adjoints, IRMapping &fwd);
  LogicalResult reverseGeneric(OpBuilder &b, linalg::LinalgOp original,
                               linalg::GenericOp generic,
                               ArrayRef<Value> resultAdjoints,
                               AdjointMap &adjoints, IRMapping &fwd);

  /// The varied float values that `op`'s regions read from outside.
  SmallVector<Value> variedCaptures(Operation *op);
  /// Recomputes `block` (minus its terminator) under `fwd`.
  void recompute(OpBuilder &b, Block &block, IRMapping &fwd);
  /// Emits "no gradient rule" for `op`, with the request as a note.
  InFlightDiagnostic emitNoRule(Operation *op, const Twine &why);

  const GradientActivity *activity;
  Location requestLoc;
  CreatedOps &created;
  DenseMap<Operation *, LoopTape> &loopTapes;
};

} // namespace mlir::tape::ad

#endif // TAPE_LIB_DIALECT_TAPE_TRANSFORMS_REVERSEMODE_H
