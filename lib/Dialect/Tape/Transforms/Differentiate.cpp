//===- Differentiate.cpp - Reverse-mode AD of recording regions -----------===//
//
// Replaces every tape.record and its tape.gradient requests with explicit
// forward and backward code. The forward region is inlined in place, so the
// forward pass runs once and the backward code reads its values directly
// (the "store everything" strategy: the values stay alive as SSA values and
// bufferization decides where they live).
//
//===----------------------------------------------------------------------===//

#include "tape/Dialect/Tape/DifferentiationRules.h"
#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/IR/Builders.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

namespace mlir::tape {
#define GEN_PASS_DEF_TAPEDIFFERENTIATE
#include "tape/Dialect/Tape/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

/// The variable a resource value refers to: the symbol of its tape.handle,
/// or null when the resource comes from elsewhere (a block argument).
static FlatSymbolRefAttr getVariableSymbol(Value resource) {
  if (auto handle = resource.getDefiningOp<HandleOp>())
    return handle.getVariableAttr();
  return {};
}

/// True if `read` reads the variable that `source` refers to.
static bool readsSource(ReadOp read, Value source) {
  if (read.getResource() == source)
    return true;
  FlatSymbolRefAttr a = getVariableSymbol(read.getResource());
  return a && a == getVariableSymbol(source);
}

static bool isFloatLike(Type type) {
  return isa<FloatType>(getElementTypeOrSelf(type));
}

namespace {

/// Which recorded values depend on the sources (varied) and which the
/// targets depend on (useful). Only ops that are both need a rule.
class ActivityAnalysis {
public:
  ActivityAnalysis(ArrayRef<Operation *> ops, ArrayRef<Value> sourceValues,
                   ArrayRef<Value> targets) {
    varied.insert(sourceValues.begin(), sourceValues.end());
    for (Operation *op : ops) {
      bool anyVaried = llvm::any_of(op->getOperands(), [&](Value v) {
        return varied.contains(v);
      });
      if (!anyVaried && op->getNumRegions()) {
        llvm::SetVector<Value> captured;
        getUsedValuesDefinedAbove(op->getRegions(), captured);
        anyVaried = llvm::any_of(captured,
                                 [&](Value v) { return varied.contains(v); });
      }
      if (!anyVaried)
        continue;
      bool producesVaried = false;
      if (!isa<StopGradientOp>(op))
        for (Value r : op->getResults())
          if (isFloatLike(r.getType())) {
            varied.insert(r);
            producesVaried = true;
          }
      if (!producesVaried && op->getNumResults())
        cuts.push_back(op);
    }
    useful.insert(targets.begin(), targets.end());
    for (Operation *op : llvm::reverse(ops)) {
      if (!llvm::any_of(op->getResults(),
                        [&](Value r) { return useful.contains(r); }))
        continue;
      useful.insert(op->operand_begin(), op->operand_end());
      if (op->getNumRegions()) {
        llvm::SetVector<Value> captured;
        getUsedValuesDefinedAbove(op->getRegions(), captured);
        useful.insert(captured.begin(), captured.end());
      }
    }
  }

  bool isActive(Value v) const {
    return varied.contains(v) && useful.contains(v);
  }
  bool isActive(Operation *op) const {
    return llvm::any_of(op->getResults(),
                        [&](Value r) { return isActive(r); });
  }

  /// Ops that take a varied value and produce no varied value: where a
  /// gradient path is cut (stop_gradient, casts to integers, comparisons).
  SmallVector<Operation *> cuts;

private:
  DenseSet<Value> varied, useful;
};

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
    for (Operation &op : body.without_terminator())
      recorded.push_back(&op);
    for (Operation &op : body.without_terminator())
      if (auto watch = dyn_cast<WatchOp>(op))
        watched.insert(watch.getValue());
    Block *parent = record->getBlock();
    parent->getOperations().splice(Block::iterator(record),
                                   body.getOperations(), body.begin(),
                                   Block::iterator(yield));
    for (auto [result, value] : llvm::zip(record.getTargets(), targets))
      result.replaceAllUsesWith(value);

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
            if (readsSource(read, source))
              sourceValues[i].push_back(read.getValue());
          });
      } else if (watched.contains(source)) {
        sourceValues[i].push_back(source);
      }
      allSourceValues.append(sourceValues[i]);
    }

    // The record's targets were already replaced by the inlined values.
    SmallVector<Value> targets(gradient.getTargets());
    ActivityAnalysis activity(recorded, allSourceValues, targets);

    // Seed: d(sum of all target elements)/d(target) = 1.
    DenseMap<Value, Value> adjoints;
    for (Value target : targets)
      if (activity.isActive(target))
        adjoints[target] = addAdjoints(
            b, loc, adjoints.lookup(target),
            createFloatConstant(b, loc, target.getType(), 1.0));

    for (Operation *op : llvm::reverse(recorded)) {
      if (!activity.isActive(op) || isa<ReadOp>(op))
        continue;
      SmallVector<Value> resultAdjoints;
      bool any = false;
      for (Value r : op->getResults()) {
        resultAdjoints.push_back(adjoints.lookup(r));
        any |= bool(resultAdjoints.back());
      }
      if (!any)
        continue;
      auto rule = dyn_cast<DifferentiableOpInterface>(op);
      if (!rule)
        return op->emitOpError("no gradient rule for '")
                   .append(op->getName(), "'; it is on the path from a "
                                          "gradient source to a target")
                   .attachNote(gradient.getLoc())
               << "gradient requested here";
      // Rules see a zero adjoint, never a null one, for results that
      // nothing downstream uses.
      for (auto [r, adj] : llvm::zip(op->getResults(), resultAdjoints))
        if (!adj && isFloatLike(r.getType()))
          adj = createFloatConstant(b, loc, r.getType(), 0.0);
      SmallVector<Value> operandAdjoints;
      if (failed(rule.buildAdjoints(b, op->getOperands(), op->getResults(),
                                    resultAdjoints, operandAdjoints)))
        return failure();
      if (operandAdjoints.size() != op->getNumOperands())
        return op->emitOpError("gradient rule returned ")
               << operandAdjoints.size() << " adjoints for "
               << op->getNumOperands() << " operands";
      for (auto [operand, adj] : llvm::zip(op->getOperands(), operandAdjoints))
        if (adj && activity.isActive(operand))
          adjoints[operand] =
              addAdjoints(b, loc, adjoints.lookup(operand), adj);
    }

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
    // (operands that do not depend on a source).
    for (Operation *op : llvm::reverse(created.ops))
      if (isOpTriviallyDead(op))
        op->erase();
    created.ops.clear();
    return success();
  }

  /// Remembers the ops the backward code creates.
  struct CreatedOps : public OpBuilder::Listener {
    void notifyOperationInserted(Operation *op,
                                 OpBuilder::InsertPoint) override {
      ops.push_back(op);
    }
    SmallVector<Operation *> ops;
  };
  CreatedOps created;

  void warnDisconnected(GradientOp gradient, unsigned index, Value source,
                        ArrayRef<Value> values,
                        const ActivityAnalysis &activity) {
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
    for (Operation *cut : activity.cuts)
      diag.attachNote(cut->getLoc())
          << "the path is cut here by '" << cut->getName() << "'";
    if (activity.cuts.empty())
      diag.attachNote(values.front().getLoc())
          << "the value read here is not used on the way to the targets";
  }

  RecordOp record;
  SmallVector<Operation *> recorded;
  DenseSet<Value> watched;
};

struct TapeDifferentiatePass
    : public tape::impl::TapeDifferentiateBase<TapeDifferentiatePass> {
  void runOnOperation() override {
    // Post-order: inner tapes first, so an outer tape differentiates the
    // backward code of an inner one (higher-order derivatives).
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
