//===- MaterializeOptimizers.cpp - apply_gradients to assignments ---------===//
//
// Rewrites tape.apply_gradients into reads, arithmetic and in-place
// assignments, creating the slot variables of stateful optimizers as
// ordinary non-trainable variables (so checkpoints contain them), and
// tape.clip_by_global_norm into reductions and arithmetic.
//
//===----------------------------------------------------------------------===//

#include "tape/Dialect/Tape/FloatBuilders.h"
#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/IR/SymbolTable.h"

#include <map>
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
  /// is a slot like the others (`<w>__<kind>_step`, i64, as torch.optim
  /// keeps `state["step"]` per parameter), incremented with each update of
  /// the variable: two updates of one variable (two apply_gradients, or two
  /// steps that update it) advance the moments and the count together.
  LogicalResult lower(ApplyGradientsOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    auto optimizer = cast<OptimizerAttrInterface>(op.getOptimizer());
    auto i64 = RankedTensorType::get({}, b.getI64Type());
    // "adam_step" for #tape.adam.
    StringRef kind = op.getOptimizer().getAbstractAttribute().getName();
    kind.consume_front("tape.");
    std::string stepSlot = (kind + "_step").str();
    for (auto [g, resource] : llvm::zip(op.getGradients(), op.getVariables())) {
      FailureOr<VariableOp> variable = lookupVariable(op, resource);
      if (failed(variable))
        return failure();
      SmallVector<Value> slotHandles, slots, newSlots;
      for (StringRef name : optimizer.getSlotNames()) {
        slotHandles.push_back(handleOf(
            b, loc, slot(op, *variable, name, variable->getValueType())));
        slots.push_back(ReadOp::create(b, loc, slotHandles.back()));
      }
      Value stepsHandle, steps;
      if (optimizer.needsStepCount()) {
        stepsHandle = handleOf(b, loc, slot(op, *variable, stepSlot, i64));
        steps = ReadOp::create(b, loc, stepsHandle);
      }
      Value value = ReadOp::create(b, loc, resource);
      Value updated =
          optimizer.buildUpdate(b, loc, value, g, slots, steps,
                                op.getLearningRate(), newSlots);
      for (auto [handle, v] : llvm::zip(slotHandles, newSlots))
        AssignOp::create(b, loc, handle, v);
      AssignOp::create(b, loc, resource, updated);
      if (stepsHandle) {
        Value one = arith::ConstantOp::create(
            b, loc, DenseElementsAttr::get(i64, b.getI64IntegerAttr(1)));
        AssignAddOp::create(b, loc, stepsHandle, one);
      }
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

  /// The slot `suffix` of `variable`: a zero-initialised, non-trainable
  /// variable `@<variable>__<suffix>`, declared after the variable and the
  /// slots it already has, created on first use and shared by every later
  /// update of the variable. Only slots this pass created are shared: a
  /// user's variable that happens to carry the name is left alone (the slot
  /// is renamed instead).
  VariableOp slot(Operation *user, VariableOp variable, StringRef suffix,
                  RankedTensorType type) {
    VariableOp &entry = slotVariables[{variable.getOperation(), suffix.str()}];
    if (entry)
      return entry;
    Operation *last = variable;
    std::string prefix = (variable.getSymName() + "__").str();
    while (auto next = dyn_cast_or_null<VariableOp>(last->getNextNode())) {
      if (!next.getSymName().starts_with(prefix))
        break;
      last = next;
    }
    OpBuilder b(module.getContext());
    b.setInsertionPointAfter(last);
    entry = VariableOp::create(
        b, user->getLoc(), b.getStringAttr(prefix + suffix), StringAttr(),
        TypeAttr::get(type), ZerosAttr::get(b.getContext()),
        b.getBoolAttr(false));
    symbols.insert(entry); // renames on a clash
    return entry;
  }

  static Value handleOf(OpBuilder &b, Location loc, VariableOp variable) {
    return HandleOp::create(b, loc, ResourceType::get(variable.getValueType()),
                            variable.getSymName());
  }

  ModuleOp module;
  SymbolTable symbols;
  std::map<std::pair<Operation *, std::string>, VariableOp> slotVariables;
};

/// PyTorch's clip_grad_norm_: per-gradient norms n_i = sqrt(sum g_i^2),
/// the global norm n = sqrt(sum n_i^2), each gradient times
/// min(1, max_norm / (n + 1e-6)).
void lowerClipByGlobalNorm(ClipByGlobalNormOp op) {
  OpBuilder b(op);
  Location loc = op.getLoc();
  Type element = getElementTypeOrSelf(op.getNorm().getType());
  Value zero = arith::ConstantOp::create(b, loc, b.getFloatAttr(element, 0.0));
  auto allDims = [](int64_t rank) {
    return llvm::to_vector(llvm::seq<int64_t>(0, rank));
  };
  Value sumOfSquares;
  for (Value g : op.getGradients()) {
    auto type = cast<RankedTensorType>(g.getType());
    Value squares = fb::mul(b, loc, g, g);
    Value sum = squares;
    if (type.getRank() > 0) {
      Value empty = tensor::EmptyOp::create(b, loc, ArrayRef<int64_t>{}, element);
      Value init = linalg::FillOp::create(b, loc, zero, empty).getResult(0);
      sum = linalg::ReduceOp::create(
                b, loc, ValueRange{squares}, ValueRange{init},
                allDims(type.getRank()),
                [](OpBuilder &nb, Location nl, ValueRange args) {
                  linalg::YieldOp::create(
                      nb, nl, ValueRange{arith::AddFOp::create(nb, nl, args[0], args[1])});
                })
                .getResult(0);
    }
    Value norm = math::SqrtOp::create(b, loc, sum);
    Value square = fb::mul(b, loc, norm, norm);
    sumOfSquares = sumOfSquares ? fb::add(b, loc, sumOfSquares, square) : square;
  }
  Value total = math::SqrtOp::create(b, loc, sumOfSquares);
  double maxNorm = op.getMaxNorm().convertToDouble();
  Value coefficient =
      fb::div(b, loc, fb::constantLike(b, loc, total, maxNorm),
              fb::add(b, loc, total, fb::constantLike(b, loc, total, 1e-6)));
  coefficient = arith::MinimumFOp::create(b, loc, coefficient,
                                          fb::constantLike(b, loc, total, 1.0));
  SmallVector<Value> results;
  for (Value g : op.getGradients()) {
    auto type = cast<RankedTensorType>(g.getType());
    Value factor = coefficient;
    if (type.getRank() > 0) {
      Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), element);
      factor = linalg::BroadcastOp::create(b, loc, coefficient, empty,
                                           allDims(type.getRank()))
                   .getResult()[0];
    }
    results.push_back(fb::mul(b, loc, g, factor));
  }
  results.push_back(total);
  op->replaceAllUsesWith(results);
  op.erase();
}

struct TapeMaterializeOptimizersPass
    : public tape::impl::TapeMaterializeOptimizersBase<
          TapeMaterializeOptimizersPass> {
  void runOnOperation() override {
    SmallVector<ClipByGlobalNormOp> clips;
    getOperation().walk([&](ClipByGlobalNormOp op) { clips.push_back(op); });
    for (ClipByGlobalNormOp op : clips)
      lowerClipByGlobalNorm(op);
    OptimizerLowering lowering(getOperation());
    SmallVector<ApplyGradientsOp> ops;
    getOperation().walk([&](ApplyGradientsOp op) { ops.push_back(op); });
    for (ApplyGradientsOp op : ops)
      if (failed(lowering.lower(op)))
        return signalPassFailure();
  }
};

} // namespace
