//===- GradientActivity.cpp - Which values a gradient flows through -------===//

#include "tape/Dialect/Tape/Analysis/GradientActivity.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
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

bool mlir::tape::readsResource(Operation *op, Value source) {
  auto read = dyn_cast<ReadOp>(op);
  if (!read)
    return false;
  if (read.getResource() == source)
    return true;
  FlatSymbolRefAttr a = getVariableSymbol(read.getResource());
  return a && a == getVariableSymbol(source);
}

bool GradientActivity::cutsGradient(Operation *op) {
  return isa<StopGradientOp, math::FloorOp, math::CeilOp, math::RoundOp,
             math::RoundEvenOp, math::TruncOp>(op);
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

bool GradientActivity::markVaried(Value v) { return varied.insert(v).second; }

void GradientActivity::addCut(Operation *op) {
  if (cutSet.insert(op).second)
    cuts.push_back(op);
}

bool GradientActivity::propagateVaried(ArrayRef<Operation *> ops) {
  bool changed = false;
  for (Operation *op : ops)
    changed |= visit(op);
  return changed;
}

bool GradientActivity::visit(Operation *op) {
  bool changed = false;
  bool anyVaried = llvm::any_of(op->getOperands(),
                                [&](Value v) { return varied.contains(v); });
  if (op->getNumRegions()) {
    llvm::SetVector<Value> captured;
    getUsedValuesDefinedAbove(op->getRegions(), captured);
    anyVaried |= llvm::any_of(captured,
                              [&](Value v) { return varied.contains(v); });
    // Whatever the op is, its float block arguments may carry a varied
    // value (an operand, a loop-carried value) once anything it touches is
    // varied; a second round reaches the fixed point, since the first
    // marks every float argument.
    for (bool argsMarked = false;;) {
      if (anyVaried && !argsMarked) {
        for (Region &region : op->getRegions())
          for (Block &block : region)
            for (BlockArgument arg : block.getArguments())
              if (isFloatLike(arg.getType()))
                changed |= markVaried(arg);
        argsMarked = true;
      }
      bool inner = false;
      for (Region &region : op->getRegions())
        for (Block &block : region)
          inner |= propagateVaried(getOpsWithoutTerminator(block));
      changed |= inner;
      // A value varied inside (a source read there) varies the results.
      bool insideVaried = false;
      op->walk([&](Operation *nested) {
        if (nested != op)
          insideVaried |= llvm::any_of(nested->getResults(), [&](Value r) {
            return varied.contains(r);
          });
      });
      anyVaried |= insideVaried;
      if (!anyVaried || argsMarked)
        break;
    }
  }
  if (!anyVaried)
    return changed;
  if (cutsGradient(op)) {
    addCut(op);
    return changed;
  }
  bool producesVaried = false;
  for (Value r : op->getResults())
    if (isFloatLike(r.getType())) {
      changed |= markVaried(r);
      producesVaried = true;
    }
  if (!producesVaried && op->getNumResults())
    addCut(op);
  return changed;
}

SmallVector<SourceConnection>
mlir::tape::analyzeGradientSources(GradientOp gradient) {
  RecordOp record = gradient.getRecord();
  SmallVector<Operation *> ops = getOpsWithoutTerminator(record.getBodyBlock());
  SmallVector<SourceConnection> result(gradient.getSources().size());
  for (auto [i, source] : llvm::enumerate(gradient.getSources())) {
    if (isa<ResourceType>(source.getType())) {
      record.getBody().walk([&](ReadOp read) {
        if (readsResource(read, source))
          result[i].values.push_back(read.getValue());
      });
    } else if (record.isWatched(source)) {
      result[i].values.push_back(source);
    }
  }
  // A callee with a body may read a source: nothing is proven before it
  // is inlined. (A call without one is an op like any other.)
  bool calls = record.getBody()
                   .walk([](CallOpInterface call) {
                     auto callable = dyn_cast_or_null<CallableOpInterface>(
                         call.resolveCallable());
                     Region *body =
                         callable ? callable.getCallableRegion() : nullptr;
                     return body && !body->empty() ? WalkResult::interrupt()
                                                   : WalkResult::advance();
                   })
                   .wasInterrupted();
  SmallVector<Value> targets;
  for (Value target : gradient.getTargets())
    targets.push_back(record.getYield().getValues()[
        cast<OpResult>(target).getResultNumber() - 1]);
  // Per source, so that the cuts are those on that source's paths.
  for (SourceConnection &connection : result) {
    if (calls) {
      connection.connected = true;
      continue;
    }
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
