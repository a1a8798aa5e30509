//===- LiftVariables.cpp - Variables become state passed to functions -----===//
//
// After differentiation and optimizer materialisation, turns the module's
// variables into explicit state: every function takes the current value of
// every variable as leading tensor arguments and returns the final values
// first. Loops and branches that assign variables carry them as
// loop-carried values and results. Assigned variables are returned through materialize_in_destination
// into their argument, so one-shot bufferization updates them in place and
// drop-equivalent-buffer-results removes those results.
//
//===----------------------------------------------------------------------===//

#include "tape/Conversion/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Interfaces/LoopLikeInterface.h"
#include "llvm/ADT/SetVector.h"
#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"

namespace mlir::tape {
#define GEN_PASS_DEF_CONVERTTAPETOFUNC
#include "tape/Conversion/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

namespace {

class VariableLifter {
public:
  explicit VariableLifter(ModuleOp module) : module(module) {}

  LogicalResult run() {
    for (VariableOp v : module.getOps<VariableOp>()) {
      index[v.getSymNameAttr()] = variables.size();
      variables.push_back(v);
      stateTypes.push_back(v.getValueType());
    }
    // Steps become functions first, so that every function is a func.func.
    for (StepOp step : llvm::make_early_inc_range(module.getOps<StepOp>()))
      convertStep(step);
    SmallVector<func::FuncOp> functions;
    for (auto fn : module.getOps<func::FuncOp>())
      if (!fn.isExternal())
        functions.push_back(fn);
    for (func::FuncOp fn : functions)
      lifted.insert(fn.getSymNameAttr());
    for (func::FuncOp fn : functions)
      if (failed(lift(fn)))
        return failure();
    // The state layout, then the variables themselves go away.
    Builder b(module.getContext());
    SmallVector<Attribute> layout;
    for (VariableOp v : variables)
      layout.push_back(b.getDictionaryAttr(
          {b.getNamedAttr("name", v.getSymNameAttr()),
           b.getNamedAttr("type", TypeAttr::get(v.getValueType())),
           b.getNamedAttr("trainable", b.getBoolAttr(v.getTrainable())),
           b.getNamedAttr("initial_value", v.getInitialValue())}));
    module->setAttr(TapeDialect::StateAttrHelper::getNameStr(),
                    b.getArrayAttr(layout));
    for (VariableOp v : variables)
      v.erase();
    return success();
  }

private:
  void convertStep(StepOp step) {
    OpBuilder b(step);
    auto fn = func::FuncOp::create(b, step.getLoc(), step.getSymName(),
                                   step.getFunctionType());
    fn->setAttr(TapeDialect::StepAttrHelper::getNameStr(), b.getUnitAttr());
    if (step.getSymVisibilityAttr())
      fn.setSymVisibilityAttr(step.getSymVisibilityAttr());
    if (auto argAttrs = step.getArgAttrsAttr())
      fn.setArgAttrsAttr(argAttrs);
    if (auto resAttrs = step.getResAttrsAttr())
      fn.setResAttrsAttr(resAttrs);
    fn.getBody().takeBody(step.getBody());
    for (Block &block : fn.getBody())
      if (auto ret = dyn_cast<ReturnOp>(block.getTerminator())) {
        OpBuilder rb(ret);
        func::ReturnOp::create(rb, ret.getLoc(), ret.getOperands());
        ret.erase();
      }
    step.erase();
  }

  FailureOr<unsigned> variableIndex(Operation *user, Value resource) {
    auto handle = resource.getDefiningOp<HandleOp>();
    if (!handle)
      return user->emitOpError("uses a resource that does not come from "
                               "tape.handle; it cannot be lifted to state");
    auto it = index.find(handle.getVariableAttr().getAttr());
    if (it == index.end())
      return user->emitOpError("uses unknown variable ")
             << handle.getVariableAttr();
    return it->second;
  }

  LogicalResult lift(func::FuncOp fn) {
    if (!fn.getBody().hasOneBlock())
      return fn.emitOpError("has several blocks; lift variables before "
                            "lowering structured control flow");
    Block &body = fn.getBody().front();
    unsigned n = variables.size();
    FunctionType type = fn.getFunctionType();
    fn->setAttr(TapeDialect::LiftedAttrHelper::getNameStr(),
                DenseI64ArrayAttr::get(fn.getContext(),
                                       {int64_t(type.getNumInputs()),
                                        int64_t(type.getNumResults())}));
    SmallVector<Type> inputs(stateTypes), results(stateTypes);
    llvm::append_range(inputs, type.getInputs());
    llvm::append_range(results, type.getResults());
    fn.setFunctionType(FunctionType::get(fn.getContext(), inputs, results));
    for (auto [i, t] : llvm::enumerate(stateTypes))
      body.insertArgument(i, t, fn.getLoc());
    if (auto argAttrs = fn.getArgAttrsAttr()) {
      SmallVector<Attribute> attrs(n, DictionaryAttr::get(fn.getContext()));
      llvm::append_range(attrs, argAttrs);
      fn.setArgAttrsAttr(ArrayAttr::get(fn.getContext(), attrs));
    }
    if (auto resAttrs = fn.getResAttrsAttr()) {
      SmallVector<Attribute> attrs(n, DictionaryAttr::get(fn.getContext()));
      llvm::append_range(attrs, resAttrs);
      fn.setResAttrsAttr(ArrayAttr::get(fn.getContext(), attrs));
    }

    SmallVector<Value> current(body.getArguments().take_front(n));
    if (failed(liftBlock(body, current, body.getArguments().take_front(n))))
      return failure();
    fn.walk([](HandleOp handle) {
      if (handle->use_empty())
        handle->erase();
    });
    return success();
  }

  /// Lifts the ops of `block` in order; `current` holds each variable's
  /// value at the point reached. Loops and branches that assign variables
  /// carry the state through their results (threadState); elsewhere a read
  /// nested in a region sees the value at the region's op.
  LogicalResult liftBlock(Block &block, SmallVectorImpl<Value> &current,
                          ValueRange stateArgs) {
    for (Operation &op : llvm::make_early_inc_range(block)) {
      if (op.getNumRegions() && assignsState(&op)) {
        if (failed(threadState(&op, current)))
          return failure();
        continue;
      }
      LogicalResult nested = success();
      op.walk([&](Operation *inner) {
        if (inner == &op)
          return WalkResult::advance();
        if (auto read = dyn_cast<ReadOp>(inner)) {
          FailureOr<unsigned> i = variableIndex(read, read.getResource());
          if (failed(i)) {
            nested = failure();
            return WalkResult::interrupt();
          }
          read.replaceAllUsesWith(current[*i]);
          read.erase();
          return WalkResult::skip();
        }
        return WalkResult::advance();
      });
      if (failed(nested) || failed(liftOp(&op, current, stateArgs)))
        return failure();
    }
    return success();
  }

  /// True if `op` assigns a variable (or calls a function that may).
  bool assignsState(Operation *op) {
    return op
        ->walk([&](Operation *inner) {
          return isa<AssignOp, AssignAddOp, AssignSubOp, ApplyGradientsOp>(
                     inner) ||
                         ((isa<CallOp, func::CallOp>(inner)) &&
                          callsLifted(inner))
                     ? WalkResult::interrupt()
                     : WalkResult::advance();
        })
        .wasInterrupted();
  }

  /// The variables `op` may assign, in state order.
  FailureOr<SmallVector<unsigned>> assignedVariables(Operation *op) {
    llvm::SmallSetVector<unsigned, 8> assigned;
    LogicalResult status = success();
    op->walk([&](Operation *inner) {
      if (isa<AssignOp, AssignAddOp, AssignSubOp>(inner)) {
        FailureOr<unsigned> i = variableIndex(inner, inner->getOperand(0));
        if (failed(i))
          status = failure();
        else
          assigned.insert(*i);
      } else if (isa<CallOp, func::CallOp>(inner) && callsLifted(inner)) {
        for (unsigned i = 0; i < variables.size(); ++i)
          assigned.insert(i);
      }
    });
    if (failed(status))
      return failure();
    SmallVector<unsigned> sorted(assigned.begin(), assigned.end());
    llvm::sort(sorted);
    return sorted;
  }

  /// Carries the variables a loop or branch assigns through it: scf.for
  /// and scf.while get one more loop-carried value per variable, scf.if
  /// one more result; inside, the state flows like any other value.
  LogicalResult threadState(Operation *op, SmallVectorImpl<Value> &current) {
    FailureOr<SmallVector<unsigned>> assigned = assignedVariables(op);
    if (failed(assigned))
      return failure();
    SmallVector<Value> inits;
    SmallVector<Type> types;
    for (unsigned i : *assigned) {
      inits.push_back(current[i]);
      types.push_back(stateTypes[i]);
    }
    auto liftInside = [&](Block &block, ValueRange state) {
      SmallVector<Value> inner(current.begin(), current.end());
      for (auto [i, v] : llvm::zip(*assigned, state))
        inner[i] = v;
      if (failed(liftBlock(block, inner, {})))
        return FailureOr<SmallVector<Value>>(failure());
      SmallVector<Value> out;
      for (unsigned i : *assigned)
        out.push_back(inner[i]);
      return FailureOr<SmallVector<Value>>(out);
    };
    IRRewriter rewriter(op->getContext());
    rewriter.setInsertionPoint(op);
    Location loc = op->getLoc();
    // A loop carries a private copy of the state it assigns: one-shot
    // bufferization cannot update a function argument in place through a
    // loop whose iterations yield new buffers (it reports a RaW conflict
    // instead of copying), so the copy is explicit; the final value is
    // materialized back into the state argument as usual.
    auto privateCopies = [&]() {
      SmallVector<Value> copies;
      for (Value v : inits)
        copies.push_back(bufferization::AllocTensorOp::create(
            rewriter, loc, cast<RankedTensorType>(v.getType()), ValueRange{},
            v));
      return copies;
    };

    if (auto forOp = dyn_cast<scf::ForOp>(op)) {
      inits = privateCopies();
      LogicalResult status = success();
      unsigned numOld = forOp.getNumResults();
      // The callback runs while the body is still the old loop's; it is
      // merged into the new loop afterwards.
      Block *body = forOp.getBody();
      auto newLoop =
          cast<LoopLikeOpInterface>(op).replaceWithAdditionalYields(
              rewriter, inits, /*replaceInitOperandUsesInLoop=*/false,
              [&](OpBuilder &, Location, ArrayRef<BlockArgument> args) {
                FailureOr<SmallVector<Value>> out = liftInside(
                    *body, ValueRange(SmallVector<Value>(args.begin(),
                                                         args.end())));
                if (failed(out)) {
                  status = failure();
                  return SmallVector<Value>(args.begin(), args.end());
                }
                return *out;
              });
      if (failed(newLoop) || failed(status))
        return failure();
      for (auto [k, i] : llvm::enumerate(*assigned))
        current[i] = (*newLoop)->getResult(numOld + k);
      return success();
    }

    if (auto ifOp = dyn_cast<scf::IfOp>(op)) {
      SmallVector<Type> resultTypes(ifOp.getResultTypes());
      unsigned numOld = resultTypes.size();
      llvm::append_range(resultTypes, types);
      auto newIf = scf::IfOp::create(rewriter, loc, resultTypes,
                                     ifOp.getCondition(),
                                     /*withElseRegion=*/false);
      newIf.getThenRegion().takeBody(ifOp.getThenRegion());
      if (!ifOp.getElseRegion().empty()) {
        newIf.getElseRegion().takeBody(ifOp.getElseRegion());
      } else {
        Block *block = rewriter.createBlock(&newIf.getElseRegion());
        rewriter.setInsertionPointToEnd(block);
        scf::YieldOp::create(rewriter, loc);
      }
      for (Region *region : {&newIf.getThenRegion(), &newIf.getElseRegion()}) {
        Block &block = region->front();
        FailureOr<SmallVector<Value>> out = liftInside(block, inits);
        if (failed(out))
          return failure();
        auto yield = cast<scf::YieldOp>(block.getTerminator());
        yield.getResultsMutable().append(*out);
      }
      ifOp.replaceAllUsesWith(newIf.getResults().take_front(numOld));
      ifOp.erase();
      for (auto [k, i] : llvm::enumerate(*assigned))
        current[i] = newIf.getResult(numOld + k);
      return success();
    }

    if (auto whileOp = dyn_cast<scf::WhileOp>(op)) {
      inits = privateCopies();
      SmallVector<Value> newInits(whileOp.getInits());
      llvm::append_range(newInits, inits);
      SmallVector<Type> resultTypes(whileOp.getResultTypes());
      unsigned numOld = resultTypes.size();
      llvm::append_range(resultTypes, types);
      auto newWhile =
          scf::WhileOp::create(rewriter, loc, resultTypes, newInits);
      newWhile.getBefore().takeBody(whileOp.getBefore());
      newWhile.getAfter().takeBody(whileOp.getAfter());
      for (Region *region : {&newWhile.getBefore(), &newWhile.getAfter()}) {
        Block &block = region->front();
        SmallVector<Value> args;
        for (Type t : types)
          args.push_back(block.addArgument(t, loc));
        FailureOr<SmallVector<Value>> out = liftInside(block, args);
        if (failed(out))
          return failure();
        Operation *term = block.getTerminator();
        if (auto cond = dyn_cast<scf::ConditionOp>(term))
          cond.getArgsMutable().append(*out);
        else
          cast<scf::YieldOp>(term).getResultsMutable().append(*out);
      }
      whileOp.replaceAllUsesWith(newWhile.getResults().take_front(numOld));
      whileOp.erase();
      for (auto [k, i] : llvm::enumerate(*assigned))
        current[i] = newWhile.getResult(numOld + k);
      return success();
    }

    return op->emitOpError("assigns variables inside this region, which "
                           "convert-tape-to-func supports in scf.for, scf.if "
                           "and scf.while only");
  }

  /// Whether `v` is a state argument, or a view of one (slices, reshapes,
  /// casts), whose variable the function assigns: `current` (the
  /// variables' values at the return) differs from the argument.
  static bool viewsOverwrittenState(Value v, ArrayRef<Value> current,
                                    ValueRange stateArgs) {
    while (Operation *def = v.getDefiningOp()) {
      if (!isa<tensor::ExtractSliceOp, tensor::CollapseShapeOp,
               tensor::ExpandShapeOp, tensor::CastOp, tensor::ReshapeOp>(def))
        return false;
      v = def->getOperand(0);
    }
    for (auto [value, arg] : llvm::zip(current, stateArgs))
      if (v == arg && value != arg)
        return true;
    return false;
  }

  bool callsLifted(Operation *op) {
    if (auto call = dyn_cast<CallOp>(op))
      return true;
    if (auto call = dyn_cast<func::CallOp>(op))
      return lifted.contains(call.getCalleeAttr().getAttr());
    return false;
  }

  LogicalResult liftOp(Operation *op, SmallVectorImpl<Value> &current,
                       ValueRange stateArgs) {
    OpBuilder b(op);
    Location loc = op->getLoc();
    if (auto read = dyn_cast<ReadOp>(op)) {
      FailureOr<unsigned> i = variableIndex(op, read.getResource());
      if (failed(i))
        return failure();
      read.replaceAllUsesWith(current[*i]);
      read.erase();
      return success();
    }
    if (isa<AssignOp, AssignAddOp, AssignSubOp>(op)) {
      FailureOr<unsigned> i = variableIndex(op, op->getOperand(0));
      if (failed(i))
        return failure();
      Value value = op->getOperand(1);
      bool isFloat = isa<FloatType>(getElementTypeOrSelf(value.getType()));
      if (isa<AssignAddOp>(op))
        value = isFloat ? Value(arith::AddFOp::create(b, loc, current[*i], value))
                        : Value(arith::AddIOp::create(b, loc, current[*i], value));
      else if (isa<AssignSubOp>(op))
        value = isFloat ? Value(arith::SubFOp::create(b, loc, current[*i], value))
                        : Value(arith::SubIOp::create(b, loc, current[*i], value));
      current[*i] = value;
      op->erase();
      return success();
    }
    if (isa<ApplyGradientsOp>(op))
      return op->emitOpError("must be rewritten by tape-materialize-optimizers "
                             "before convert-tape-to-func");
    if (isa<CallOp>(op) ||
        (isa<func::CallOp>(op) && callsLifted(op))) {
      auto callee = op->getAttrOfType<FlatSymbolRefAttr>("callee");
      SmallVector<Value> operands(current.begin(), current.end());
      llvm::append_range(operands, op->getOperands());
      SmallVector<Type> types(stateTypes);
      llvm::append_range(types, op->getResultTypes());
      auto call = func::CallOp::create(b, loc, callee, types, operands);
      for (unsigned i = 0; i < current.size(); ++i)
        current[i] = call.getResult(i);
      op->replaceAllUsesWith(call.getResults().drop_front(current.size()));
      op->erase();
      return success();
    }
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      // A loop the user wrote that starts from (a view of) a variable's
      // value, where the function overwrites the variable, carries a
      // private copy, as the loops that assign variables do (see
      // privateCopies): bufferization would otherwise work in the
      // variable's buffer and report a RaW conflict.
      ret->getParentOp()->walk([&](Operation *loop) {
        if (!isa<scf::ForOp, scf::WhileOp>(loop))
          return;
        auto inits = isa<scf::ForOp>(loop)
                         ? cast<scf::ForOp>(loop).getInitArgsMutable()
                         : cast<scf::WhileOp>(loop).getInitsMutable();
        OpBuilder at(loop);
        for (OpOperand &init : inits)
          if (isa<RankedTensorType>(init.get().getType()) &&
              viewsOverwrittenState(init.get(), current, stateArgs))
            init.set(bufferization::AllocTensorOp::create(
                at, loop->getLoc(),
                cast<RankedTensorType>(init.get().getType()), ValueRange{},
                init.get()));
      });
      SmallVector<Value> operands;
      DenseMap<Value, Value> materialized;
      for (auto [value, arg] : llvm::zip(current, stateArgs)) {
        if (value == arg) {
          operands.push_back(value);
          continue;
        }
        Value inPlace =
            bufferization::MaterializeInDestinationOp::create(b, loc, value,
                                                              arg)
                .getResult();
        materialized.try_emplace(value, inPlace);
        operands.push_back(inPlace);
      }
      // A returned value that is also a variable's new value is returned
      // from the variable's buffer, so that the result does not alias a
      // second, conflicting copy of it. A returned value that is (a view
      // of) a variable's old value, whose buffer the function overwrites
      // (a value read before an assignment, or before a call that
      // assigns), is returned as a copy made where it is defined, before
      // anything overwrites it.
      for (Value v : ret.getOperands()) {
        if (Value inPlace = materialized.lookup(v)) {
          operands.push_back(inPlace);
          continue;
        }
        if (viewsOverwrittenState(v, current, stateArgs)) {
          OpBuilder at(op->getContext());
          if (Operation *def = v.getDefiningOp())
            at.setInsertionPointAfter(def);
          else
            at.setInsertionPointToStart(cast<BlockArgument>(v).getOwner());
          v = bufferization::AllocTensorOp::create(
              at, loc, cast<RankedTensorType>(v.getType()), ValueRange{}, v);
        }
        operands.push_back(v);
      }
      func::ReturnOp::create(b, loc, operands);
      ret.erase();
      return success();
    }
    if (isa<RecordOp, GradientOp, WatchOp>(op))
      return op->emitOpError("must be removed by tape-differentiate before "
                             "convert-tape-to-func");
    return success();
  }

  ModuleOp module;
  SmallVector<VariableOp> variables;
  SmallVector<Type> stateTypes;
  DenseMap<StringAttr, unsigned> index;
  DenseSet<StringAttr> lifted;
};

struct TapeLiftVariablesPass
    : public tape::impl::ConvertTapeToFuncBase<TapeLiftVariablesPass> {
  void runOnOperation() override {
    if (failed(VariableLifter(getOperation()).run()))
      signalPassFailure();
  }
};

} // namespace
