//===- MaterializeOptimizers.cpp - apply_gradients to assignments ---------===//
//
// Rewrites tape.apply_gradients into reads, arithmetic and in-place
// assignments, creating the slot variables of stateful optimizers as
// ordinary non-trainable variables (so checkpoints contain them).
//
//===----------------------------------------------------------------------===//

#include "tape/Dialect/Tape/FloatBuilders.h"
#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/IR/SymbolTable.h"
#include "llvm/ADT/TypeSwitch.h"
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
using namespace mlir::tape::fb;

namespace {

class OptimizerLowering {
public:
  OptimizerLowering(ModuleOp module) : module(module), symbols(module) {}

  LogicalResult lower(ApplyGradientsOp op) {
    OpBuilder b(op);
    Location loc = op.getLoc();
    Attribute optimizer = op.getOptimizer();
    Value iterationsHandle;
    if (isa<AdamAttr>(optimizer)) {
      // One step count per optimizer (per apply_gradients op).
      auto i64 = RankedTensorType::get({}, b.getI64Type());
      VariableOp counter = createVariable(op, "adam_iterations", i64,
                                          /*after=*/nullptr);
      iterationsHandle = handleOf(b, loc, counter);
    }
    for (auto [g, resource] : llvm::zip(op.getGradients(), op.getVariables())) {
      auto variable = lookupVariable(op, resource);
      if (failed(variable))
        return failure();
      LogicalResult result =
          llvm::TypeSwitch<Attribute, LogicalResult>(optimizer)
              .Case([&](SGDAttr sgd) {
                double lr = sgd.getLearningRate().convertToDouble();
                Value d = mul(b, loc, constantLike(b, loc, g, lr), g);
                AssignSubOp::create(b, loc, resource, d);
                return success();
              })
              .Case([&](MomentumAttr m) {
                lowerMomentum(b, loc, m, g, resource, *variable, op);
                return success();
              })
              .Case([&](AdamAttr adam) {
                lowerAdam(b, loc, adam, g, resource, *variable, op,
                          iterationsHandle);
                return success();
              })
              .Default([&](Attribute) {
                return op.emitOpError("has no lowering for optimizer ")
                       << optimizer;
              });
      if (failed(result))
        return failure();
    }
    if (iterationsHandle) {
      auto i64 = RankedTensorType::get({}, b.getI64Type());
      Value one = arith::ConstantOp::create(
          b, loc, DenseElementsAttr::get(i64, b.getI64IntegerAttr(1)));
      AssignAddOp::create(b, loc, iterationsHandle, one);
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

  void lowerMomentum(OpBuilder &b, Location loc, MomentumAttr m, Value g,
                     Value resource, VariableOp variable, Operation *op) {
    double lr = m.getLearningRate().convertToDouble();
    double mu = m.getMomentum().convertToDouble();
    Value velocity = handleOf(b, loc, slot(op, variable, "momentum"));
    Value v = ReadOp::create(b, loc, velocity);
    Value lrg = mul(b, loc, constantLike(b, loc, g, lr), g);
    Value vNew = sub(b, loc, mul(b, loc, constantLike(b, loc, g, mu), v), lrg);
    AssignOp::create(b, loc, velocity, vNew);
    Value update = m.getNesterov()
                       ? sub(b, loc, mul(b, loc, constantLike(b, loc, g, mu), vNew),
                             lrg)
                       : vNew;
    AssignAddOp::create(b, loc, resource, update);
  }

  void lowerAdam(OpBuilder &b, Location loc, AdamAttr adam, Value g,
                 Value resource, VariableOp variable, Operation *op,
                 Value iterationsHandle) {
    double lr = adam.getLearningRate().convertToDouble();
    double beta1 = adam.getBeta1().convertToDouble();
    double beta2 = adam.getBeta2().convertToDouble();
    double epsilon = adam.getEpsilon().convertToDouble();
    auto type = cast<RankedTensorType>(g.getType());
    auto elt = cast<FloatType>(type.getElementType());

    // alpha = lr * sqrt(1 - beta2^t) / (1 - beta1^t), t = iterations + 1,
    // computed on scalars and splat to the variable's shape.
    Value iterations = ReadOp::create(b, loc, iterationsHandle);
    Value it = tensor::ExtractOp::create(b, loc, iterations, ValueRange{});
    Value one64 = arith::ConstantOp::create(b, loc, b.getI64IntegerAttr(1));
    Value t = arith::SIToFPOp::create(
        b, loc, elt, arith::AddIOp::create(b, loc, it, one64));
    auto scalar = [&](double v) {
      return arith::ConstantOp::create(b, loc, FloatAttr::get(elt, v));
    };
    Value one = scalar(1.0);
    Value b1t = math::PowFOp::create(b, loc, scalar(beta1), t);
    Value b2t = math::PowFOp::create(b, loc, scalar(beta2), t);
    Value alpha = arith::DivFOp::create(
        b, loc,
        mul(b, loc, scalar(lr),
            math::SqrtOp::create(b, loc, sub(b, loc, one, b2t))),
        sub(b, loc, one, b1t));
    Value empty = tensor::EmptyOp::create(b, loc, type.getShape(), elt);
    Value alphaT = linalg::FillOp::create(b, loc, alpha, empty).getResult(0);

    Value mHandle = handleOf(b, loc, slot(op, variable, "adam_m"));
    Value vHandle = handleOf(b, loc, slot(op, variable, "adam_v"));
    Value m = ReadOp::create(b, loc, mHandle);
    Value v = ReadOp::create(b, loc, vHandle);
    Value mNew = add(b, loc, m,
                     mul(b, loc, sub(b, loc, g, m),
                         constantLike(b, loc, g, 1.0 - beta1)));
    Value vNew = add(b, loc, v,
                     mul(b, loc, sub(b, loc, mul(b, loc, g, g), v),
                         constantLike(b, loc, g, 1.0 - beta2)));
    AssignOp::create(b, loc, mHandle, mNew);
    AssignOp::create(b, loc, vHandle, vNew);
    Value denom = add(b, loc, math::SqrtOp::create(b, loc, vNew),
                      constantLike(b, loc, g, epsilon));
    Value update = arith::DivFOp::create(b, loc, mul(b, loc, mNew, alphaT),
                                         denom);
    AssignSubOp::create(b, loc, resource, update);
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
