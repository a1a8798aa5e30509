//===- MaterializeOptimizers.cpp - apply_gradients to assignments ---------===//
//
// Rewrites tape.apply_gradients into reads, arithmetic and in-place
// assignments, creating the slot variables of stateful optimizers as
// ordinary non-trainable variables (so checkpoints contain them).
//
//===----------------------------------------------------------------------===//

#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/IR/SymbolTable.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

namespace mlir::tape {
#define GEN_PASS_DEF_TAPEMATERIALIZEOPTIMIZERS
#include "tape/Dialect/Tape/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

namespace {

class OptimizerLowering {
public:
  OptimizerLowering(ModuleOp module) : module(module), symbols(module) {}

  /// Per variable: its slots (created on first use, then shared by later
  /// updates of it), their values and the variable's read, the optimizer's
  /// update (OptimizerAttrInterface::buildUpdate), then assignments of the
  /// slots and the variable. The step count, when the optimizer keeps one,
  /// is one variable per apply_gradients, incremented after its updates.
  LogicalResult lower(ApplyGradientsOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto optimizer = cast<OptimizerAttrInterface>(op.getOptimizer());
    auto i64 = RankedTensorType::get({}, b.getI64Type());
    Value stepsHandle, steps;
    if (optimizer.needsStepCount()) {
      // "adam_iterations" for #tape.adam, as Keras names it.
      StringRef kind = op.getOptimizer().getAbstractAttribute().getName();
      kind.consume_front("tape.");
      VariableOp counter = createVariable(op, (kind + "_iterations").str(),
                                          i64, /*after=*/nullptr);
      stepsHandle = handleOf(b, loc, counter);
      steps = ReadOp::create(b, loc, stepsHandle);
    }
    for (auto [g, resource] : llvm::zip(op.getGradients(), op.getVariables())) {
      FailureOr<VariableOp> variable = lookupVariable(op, resource);
      if (failed(variable))
        return failure();
      SmallVector<Value> slotHandles, slots, newSlots;
      for (StringRef name : optimizer.getSlotNames()) {
        slotHandles.push_back(handleOf(b, loc, slot(op, *variable, name)));
        slots.push_back(ReadOp::create(b, loc, slotHandles.back()));
      }
      Value value = ReadOp::create(b, loc, resource);
      Value updated =
          optimizer.buildUpdate(b, loc, value, g, slots, steps, newSlots);
      for (auto [handle, v] : llvm::zip(slotHandles, newSlots))
        AssignOp::create(b, loc, handle, v);
      AssignOp::create(b, loc, resource, updated);
    }
    if (stepsHandle) {
      Value one = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(i64, b.getI64IntegerAttr(1)));
      AssignAddOp::create(b, loc, stepsHandle, one);
    }
    op.erase();
    return success();
  }

private:
  FailureOr<VariableOp> lookupVariable(Operation *op, Value resource) {
    auto handle = resource.getDefiningOp<HandleOp>();
    if (!handle)
      return op->emitOpError("updates a resource that does not come from "
                             "tape.handle; its slots cannot be named");
    auto variable = symbols.lookup<VariableOp>(handle.getVariable());
    if (!variable)
      return op->emitOpError("updates unknown variable ")
             << handle.getVariableAttr();
    return variable;
  }

  /// A new zero-initialised, non-trainable variable, declared after `after`
  /// (or before the op's function), with a unique name based on `name`.
  VariableOp createVariable(Operation *user, StringRef name,
                            RankedTensorType type, VariableOp after) {
    if (auto existing = symbols.lookup<VariableOp>(name))
      if (after && existing.getValueType() == type)
        return existing; // the slot of this variable, shared by updates
    OpBuilder b(module.getContext());
    if (after) {
      // After the variable and the slots it already has, in creation order.
      Operation *last = after;
      std::string prefix = (after.getSymName() + "__").str();
      while (auto next = dyn_cast_or_null<VariableOp>(last->getNextNode())) {
        if (!next.getSymName().starts_with(prefix))
          break;
        last = next;
      }
      b.setInsertionPointAfter(last);
    }
    else
      b.setInsertionPoint(user->getParentWithTrait<OpTrait::IsIsolatedFromAbove>());
    auto variable = VariableOp::create(
        b, user->getLoc(), b.getStringAttr(name), StringAttr(),
        TypeAttr::get(type), ZerosAttr::get(b.getContext()),
        b.getBoolAttr(false));
    symbols.insert(variable); // renames on a clash
    return variable;
  }

  VariableOp slot(Operation *user, VariableOp variable, StringRef suffix) {
    std::string name = (variable.getSymName() + "__" + suffix).str();
    return createVariable(user, name, variable.getValueType(), variable);
  }

  static Value handleOf(OpBuilder &b, Location loc, VariableOp variable) {
    return HandleOp::create(b, loc, ResourceType::get(variable.getValueType()),
                            variable.getSymName());
  }

  ModuleOp module;
  SymbolTable symbols;
};

struct TapeMaterializeOptimizersPass
    : public tape::impl::TapeMaterializeOptimizersBase<
          TapeMaterializeOptimizersPass> {
  void runOnOperation() override {
    OptimizerLowering lowering(getOperation());
    SmallVector<ApplyGradientsOp> ops;
    getOperation().walk([&](ApplyGradientsOp op) { ops.push_back(op); });
    for (ApplyGradientsOp op : ops)
      if (failed(lowering.lower(op)))
        return signalPassFailure();
  }
};

} // namespace
