//===- GradientActivity.cpp - Which values a gradient flows through -------===//

#include "tape/Dialect/Tape/Analysis/GradientActivity.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Transforms/RegionUtils.h"
#include "llvm/ADT/SetVector.h"

using namespace mlir;
using namespace mlir::tape;

static bool isFloatLike(Type type) {
  return isa<FloatType>(getElementTypeOrSelf(type));
}

SmallVector<Operation *> mlir::tape::getOpsWithoutTerminator(Block &block) {
  SmallVector<Operation *> ops;
  for (Operation &op : block.without_terminator())
    ops.push_back(&op);
  return ops;
}

FlatSymbolRefAttr mlir::tape::getVariableSymbol(Value resource) {
  if (auto handle = resource.getDefiningOp<HandleOp>())
    return handle.getVariableAttr();
  return {};
}

GradientActivity::GradientActivity(ArrayRef<Operation *> ops,
                                   ArrayRef<Value> sources,
                                   ArrayRef<Value> targets) {
  varied.insert(sources.begin(), sources.end());
  propagateVaried(ops);
  useful.insert(targets.begin(), targets.end());
  for (Operation *op : llvm::reverse(ops)) {
    if (!llvm::any_of(op->getResults(),
                      [&](Value r) { return useful.contains(r); }))
      continue;
    useful.insert(op->operand_begin(), op->operand_end());
    // Inside a useful op's regions everything counts as useful; captured
    // values are what the regions read from outside.
    op->walk([&](Operation *inner) {
      useful.insert(inner->result_begin(), inner->result_end());
      for (Region &r : inner->getRegions())
        for (Block &b : r)
          useful.insert(b.args_begin(), b.args_end());
    });
    if (op->getNumRegions()) {
      llvm::SetVector<Value> captured;
      getUsedValuesDefinedAbove(op->getRegions(), captured);
      useful.insert(captured.begin(), captured.end());
    }
  }
}

bool GradientActivity::isActive(Operation *op) const {
  return llvm::any_of(op->getResults(),
                      [&](Value r) { return isActive(r); });
}

void GradientActivity::propagateVaried(ArrayRef<Operation *> ops) {
  for (Operation *op : ops) {
    bool anyVaried = llvm::any_of(
        op->getOperands(), [&](Value v) { return varied.contains(v); });
    // Calls leave the differentiable code (host code, another step): the
    // tape cannot see through them.
    bool opaque = isa<StopGradientOp, CallOpInterface>(op);
    if (op->getNumRegions() && !opaque) {
      llvm::SetVector<Value> captured;
      getUsedValuesDefinedAbove(op->getRegions(), captured);
      anyVaried |= llvm::any_of(captured,
                                [&](Value v) { return varied.contains(v); });
      // Loop-carried values may become varied in any iteration: when the op
      // is varied at all, treat its float block arguments as varied.
      if (anyVaried)
        for (Region &region : op->getRegions())
          for (Block &block : region) {
            for (BlockArgument arg : block.getArguments())
              if (isFloatLike(arg.getType()))
                varied.insert(arg);
            propagateVaried(getOpsWithoutTerminator(block));
          }
    }
    if (!anyVaried)
      continue;
    bool producesVaried = false;
    if (!opaque)
      for (Value r : op->getResults())
        if (isFloatLike(r.getType())) {
          varied.insert(r);
          producesVaried = true;
        }
    if (!producesVaried && op->getNumResults())
      cuts.push_back(op);
  }
}

SmallVector<SourceConnection>
mlir::tape::analyzeGradientSources(GradientOp gradient) {
  RecordOp record = gradient.getRecord();
  SmallVector<Operation *> ops = getOpsWithoutTerminator(record.getBodyBlock());
  SmallVector<SourceConnection> result(gradient.getSources().size());
  SmallVector<Value> all;
  for (auto [i, source] : llvm::enumerate(gradient.getSources())) {
    if (isa<ResourceType>(source.getType())) {
      FlatSymbolRefAttr sym = getVariableSymbol(source);
      record.getBody().walk([&](ReadOp read) {
        if (read.getResource() == source ||
            (sym && getVariableSymbol(read.getResource()) == sym))
          result[i].values.push_back(read.getValue());
      });
    } else if (record.isWatched(source)) {
      result[i].values.push_back(source);
    }
    all.append(result[i].values);
  }
  SmallVector<Value> targets;
  for (Value target : gradient.getTargets())
    targets.push_back(record.getYield().getValues()[
        cast<OpResult>(target).getResultNumber() - 1]);
  // Per source, so that the cuts are those on that source's paths.
  for (SourceConnection &connection : result) {
    GradientActivity activity(ops, connection.values, targets);
    // Connected when some target depends on the source through
    // differentiable ops.
    connection.connected = llvm::any_of(
        targets, [&](Value t) { return activity.isVaried(t); });
    if (!connection.connected)
      connection.cuts.assign(activity.getCuts().begin(),
                             activity.getCuts().end());
  }
  return result;
}
