//===- Differentiate.cpp - Reverse-mode AD of recording regions -----------===//
//
// Replaces every tape.record and its tape.gradient requests with explicit
// forward and backward code. The forward region is inlined in place, so the
// forward pass runs once and the backward code reads its values directly
// ("store" strategy: the values stay alive as SSA values and bufferization
// decides where they live). Loops store their loop-carried values of every
// iteration; the reverse sweep itself is in ReverseMode.h.
//
// Soundness: a gradient is right or the pass fails. The activity analysis
// over-approximates (any op it does not know propagates), every active op
// needs a rule or a reversal here, and the constructs whose adjoint would
// be lost fail with a located error: a source read that cannot be hoisted
// out of a region that also assigns its variable, and a value on a gradient
// path that goes through variable state (assigned, then read back inside
// the region on the way to a target).
//
//===----------------------------------------------------------------------===//

#include "PrepareRecordings.h"
#include "ReverseMode.h"

#include "tape/Dialect/Tape/Analysis/GradientActivity.h"
#include "tape/Dialect/Tape/DifferentiationRules.h"
#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/Builders.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"
#include "mlir/Dialect/Affine/IR/AffineOps.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::tape {
#define GEN_PASS_DEF_TAPEDIFFERENTIATE
#include "tape/Dialect/Tape/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;
using ad::AdjointMap;

namespace {

/// Differentiates one tape.record: inlines it and expands its gradients.
class RecordDifferentiator {
public:
  explicit RecordDifferentiator(RecordOp record) : record(record) {}

  LogicalResult run() {
    SmallVector<GradientOp> gradients;
    for (Operation *user : record.getTape().getUsers()) {
      auto gradient = dyn_cast<GradientOp>(user);
      if (!gradient)
        return user->emitOpError("uses a gradient tape; only tape.gradient "
                                 "may use one");
      gradients.push_back(gradient);
    }

    // Inline the region in front of the record: the forward pass runs here,
    // once, and its values dominate every gradient request.
    Block &body = record.getBodyBlock();
    YieldOp yield = record.getYield();
    SmallVector<Value> targets(yield.getValues());
    recorded = getOpsWithoutTerminator(body);
    for (Operation *op : recorded)
      if (auto watch = dyn_cast<WatchOp>(op))
        watched.insert(watch.getValue());
    parentBlock = record->getBlock();
    parentBlock->getOperations().splice(Block::iterator(record),
                                        body.getOperations(), body.begin(),
                                        Block::iterator(yield));
    for (auto [result, value] : llvm::zip(record.getTargets(), targets))
      result.replaceAllUsesWith(value);

    // Loops store their loop-carried values before any analysis runs, so
    // that the analysis sees the final forward code. A loop that cannot be
    // stored is diagnosed only if a gradient path goes through it.
    IRRewriter rewriter(record.getContext());
    for (Operation *&op : recorded)
      if (auto forOp = dyn_cast<scf::ForOp>(op)) {
        FailureOr<ad::LoopTape> tape =
            ad::tapeLoop(forOp, rewriter, /*emitErrors=*/false);
        if (succeeded(tape)) {
          op = forOp;
          loopTapes[forOp] = *tape;
        }
      }

    for (GradientOp gradient : gradients)
      if (failed(expand(gradient)))
        return failure();

    for (Operation *op : recorded)
      if (isa<WatchOp>(op))
        op->erase();
    record->erase();
    return success();
  }

private:
  /// Replaces `gradient` with the backward code for its sources.
  LogicalResult expand(GradientOp gradient) {
    Location loc = gradient.getLoc();
    OpBuilder b(gradient, &created);

    // The values the sources stand for inside the region: the results of
    // every read of a source variable, or the watched tensor itself.
    SmallVector<SmallVector<Value>> sourceValues(gradient.getSources().size());
    SmallVector<Value> allSourceValues;
    for (auto [i, source] : llvm::enumerate(gradient.getSources())) {
      if (isa<ResourceType>(source.getType())) {
        for (Operation *op : recorded)
          op->walk([&](ReadOp read) {
            if (readsResource(read, source))
              sourceValues[i].push_back(read.getValue());
          });
      } else if (watched.contains(source)) {
        sourceValues[i].push_back(source);
      }
      allSourceValues.append(sourceValues[i]);
    }

    // The record's targets were already replaced by the inlined values.
    SmallVector<Value> targets(gradient.getTargets());
    GradientActivity activity(recorded, allSourceValues, targets);
    if (failed(checkSupported(gradient, activity, allSourceValues)))
      return failure();

    // Seed: d(sum of all target elements)/d(target) = 1.
    AdjointMap adjoints;
    for (Value target : targets)
      if (activity.isActive(target))
        adjoints[target] = addAdjoints(
            b, loc, adjoints.lookup(target),
            createFloatConstant(b, loc, target.getType(), 1.0));

    ad::ReverseSweep sweeper(activity, loc, created, loopTapes);
    IRMapping identity;
    if (failed(sweeper.sweep(b, recorded, adjoints, identity)))
      return failure();

    // Collect each source's gradient; warn about disconnected ones.
    SmallVector<Value> results;
    for (auto [i, source] : llvm::enumerate(gradient.getSources())) {
      Value grad;
      for (Value v : sourceValues[i])
        grad = addAdjoints(b, loc, grad, adjoints.lookup(v));
      Type type = gradient.getGradients()[i].getType();
      if (!grad) {
        grad = createFloatConstant(b, loc, type, 0.0);
        warnDisconnected(gradient, i, source, sourceValues[i], activity);
      }
      results.push_back(grad);
    }
    gradient.replaceAllUsesWith(results);
    gradient.erase();

    // Rules build adjoints for every operand; drop those that fed nothing
    // (operands that do not depend on a source), and the recomputed
    // forward values nothing used. Erasing an op erases its regions.
    DenseSet<Operation *> erased;
    SmallVector<Operation *> createdOps = created.take();
    for (Operation *op : llvm::reverse(createdOps)) {
      if (erased.contains(op) || !isOpTriviallyDead(op))
        continue;
      op->walk([&](Operation *nested) { erased.insert(nested); });
      op->erase();
    }
    return success();
  }

  /// The constructs whose adjoint the sweep could not deliver: a source
  /// read left inside a nested region (its region also assigns the
  /// variable), and a gradient path through variable state.
  LogicalResult checkSupported(GradientOp gradient,
                               const GradientActivity &activity,
                               ArrayRef<Value> sources) {
    for (Value v : sources) {
      auto read = v.getDefiningOp<ReadOp>();
      if (!read || read->getBlock() == parentBlock || !activity.isActive(v))
        continue;
      return read.emitOpError("is a gradient source inside a region that "
                              "also assigns the variable, so the read cannot "
                              "move out of it and its gradient cannot be "
                              "collected")
                 .attachNote(gradient.getLoc())
             << "gradient requested here; fix: read the variable before the "
                "loop or branch that assigns it";
    }
    // writes[op] = the variable an assignment of a varied value writes.
    SmallVector<std::pair<Operation *, FlatSymbolRefAttr>> writes;
    for (Operation *op : recorded)
      op->walk([&](Operation *w) {
        if (isa<AssignOp, AssignAddOp, AssignSubOp>(w) &&
            activity.isVaried(w->getOperand(1)))
          writes.push_back({w, getVariableSymbol(w->getOperand(0))});
      });
    for (auto [write, var] : writes) {
      Operation *writeTop = parentBlock->findAncestorOpInBlock(*write);
      for (Operation *op : recorded) {
        WalkResult found = op->walk([&](ReadOp read) {
          if (!activity.isUseful(read.getValue()) ||
              (var && getVariableSymbol(read.getResource()) != var))
            return WalkResult::advance();
          Operation *readTop = parentBlock->findAncestorOpInBlock(*read);
          bool after = read->getBlock() == write->getBlock()
                           ? write->isBeforeInBlock(read)
                           : !readTop->isBeforeInBlock(writeTop);
          if (!after)
            return WalkResult::advance();
          read.emitOpError("reads a variable that was assigned a value "
                           "depending on a gradient source earlier in the "
                           "recording region, and the read is on the way to "
                           "a target: the tape does not differentiate "
                           "through variable state")
                  .attachNote(write->getLoc())
              << "assigned here; fix: use the assigned value directly "
                 "instead of reading it back";
          return WalkResult::interrupt();
        });
        if (found.wasInterrupted())
          return failure();
      }
    }
    return success();
  }

  void warnDisconnected(GradientOp gradient, unsigned index, Value source,
                        ArrayRef<Value> values,
                        const GradientActivity &activity) {
    std::string name = "#" + std::to_string(index);
    if (FlatSymbolRefAttr sym = getVariableSymbol(source))
      name += " (@" + sym.getValue().str() + ")";
    InFlightDiagnostic diag = gradient.emitWarning("gradient source ")
                              << name
                              << " does not influence the targets; its "
                                 "gradient is zero";
    if (values.empty()) {
      diag.attachNote(record.getLoc())
          << (isa<ResourceType>(source.getType())
                  ? "the variable is not read inside this recording region; "
                    "move the tape.read inside it"
                  : "the tensor is not watched by this tape");
      return;
    }
    for (Operation *cut : activity.getCuts())
      diag.attachNote(cut->getLoc())
          << "the path is cut here by '" << cut->getName() << "'";
    if (activity.getCuts().empty())
      diag.attachNote(values.front().getLoc())
          << "the value read here is not used on the way to the targets";
  }

  RecordOp record;
  Block *parentBlock = nullptr;
  SmallVector<Operation *> recorded;
  DenseSet<Value> watched;
  ad::CreatedOps created;
  DenseMap<Operation *, ad::LoopTape> loopTapes;
};

struct TapeDifferentiatePass
    : public tape::impl::TapeDifferentiateBase<TapeDifferentiatePass> {
  void runOnOperation() override {
    // Post-order: inner tapes first, so an outer tape differentiates the
    // backward code of an inner one (higher-order derivatives).
    if (failed(prepareRecordings(getOperation())))
      return signalPassFailure();
    SmallVector<RecordOp> records;
    getOperation()->walk<WalkOrder::PostOrder>(
        [&](RecordOp record) { records.push_back(record); });
    for (RecordOp record : records)
      if (failed(RecordDifferentiator(record).run()))
        return signalPassFailure();
    // With every tape gone, stop_gradient is the identity.
    getOperation()->walk([](StopGradientOp op) {
      op.replaceAllUsesWith(op.getInput());
      op.erase();
    });
  }
};

} // namespace
