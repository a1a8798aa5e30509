//===- VerifyAssignments.cpp - Updates stay in-graph ----------------------===//
//
// Checks, on tape-level IR, that every variable update a train step
// computes is applied to the variable inside the compiled step, and names
// what loses or disconnects one. See the pass description in Passes.td.
//
//===----------------------------------------------------------------------===//

#include "AssignmentReport.h"
#include "VariableWrites.h"

#include "tape/Dialect/Tape/Analysis/GradientActivity.h"
#include "tape/Dialect/Tape/Passes.h"
#include "tape/Dialect/Tape/TapeOps.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/Matchers.h"
#include "mlir/Interfaces/CallInterfaces.h"
#include "mlir/Interfaces/FunctionInterfaces.h"
#include "llvm/ADT/MapVector.h"

namespace mlir::tape {
#define GEN_PASS_DEF_TAPEVERIFYASSIGNMENTS
#include "tape/Dialect/Tape/Passes.h.inc"
} // namespace mlir::tape

using namespace mlir;
using namespace mlir::tape;

namespace {

/// Values computed from `seeds` inside their function, following SSA uses
/// out of nested regions through their terminators. A tape.gradient is not
/// followed: a gradient is not "computed from the variable's value" in the
/// sense of an update.
DenseSet<Value> derivedFrom(ArrayRef<Value> seeds) {
  DenseSet<Value> seen(seeds.begin(), seeds.end());
  SmallVector<Value> worklist(seeds.begin(), seeds.end());
  auto push = [&](Value v) {
    if (seen.insert(v).second)
      worklist.push_back(v);
  };
  while (!worklist.empty()) {
    Value v = worklist.pop_back_val();
    for (OpOperand &use : v.getUses()) {
      Operation *user = use.getOwner();
      if (isa<GradientOp>(user))
        continue;
      for (Value r : user->getResults())
        push(r);
      if (user->hasTrait<OpTrait::IsTerminator>()) {
        Operation *parent = user->getParentOp();
        if (!parent || isa<FunctionOpInterface>(parent))
          continue;
        // A yielded value flows to its own result (after a record's tape
        // token); other terminators, to every result.
        unsigned index = use.getOperandNumber();
        if (auto record = dyn_cast<RecordOp>(parent))
          push(record.getTargets()[index]);
        else if (parent->getNumResults() == user->getNumOperands())
          push(parent->getResult(index));
        else
          for (Value r : parent->getResults())
            push(r);
      }
    }
  }
  return seen;
}

struct TapeVerifyAssignmentsPass
    : public tape::impl::TapeVerifyAssignmentsBase<TapeVerifyAssignmentsPass> {
  using Base::Base;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (!report.empty() && report != "text" && report != "json") {
      module.emitError("tape-verify-assignments: unknown report format '")
          << report << "'; expected 'text' or 'json'";
      return signalPassFailure();
    }
    symbols = SymbolTable(module);

    // Which results of each step carry a gradient of which variable.
    for (StepOp step : module.getOps<StepOp>())
      collectReturnedGradients(step);

    for (Operation &op : module.getBody()->getOperations()) {
      auto fn = dyn_cast<FunctionOpInterface>(&op);
      if (!fn || fn.isExternal())
        continue;
      checkLostUpdates(fn);
      checkHostUpdates(fn);
      checkWrites(fn);
      fn->walk([&](GradientOp g) { checkDisconnected(fn, g); });
      fn->walk([&](RecordOp r) { checkReadAfterAssign(r); });
      if (lintHyperparameters)
        lintConstants(fn);
    }
    if (!report.empty() &&
        failed(writeAssignmentReport(module, report, reportFile)))
      failedAny = true;
    if (failedAny)
      signalPassFailure();
  }

private:
  InFlightDiagnostic emitHazard(Location loc, bool error) {
    if (error) {
      failedAny = true;
      return emitError(loc);
    }
    return emitWarning(loc);
  }

  /// Seeds of "gradient of variable V" in `fn`: the results of tape.gradient
  /// for V's handle, and the results of calls to steps that return one.
  llvm::MapVector<StringAttr, SmallVector<Value>>
  gradientSeeds(FunctionOpInterface fn) {
    llvm::MapVector<StringAttr, SmallVector<Value>> seeds;
    fn->walk([&](Operation *op) {
      if (auto g = dyn_cast<GradientOp>(op)) {
        for (auto [source, result] :
             llvm::zip(g.getSources(), g.getGradients()))
          if (StringAttr var = variableOf(source))
            seeds[var].push_back(result);
      } else if (auto call = dyn_cast<CallOp>(op)) {
        auto it = returnedGradients.find(call.getCalleeAttr().getAttr());
        if (it == returnedGradients.end())
          return;
        for (auto [index, var] : it->second)
          seeds[var].push_back(call.getResult(index));
      }
    });
    return seeds;
  }

  void collectReturnedGradients(StepOp step) {
    auto seeds = gradientSeeds(step);
    step.walk([&](ReturnOp ret) {
      for (auto &[var, values] : seeds) {
        DenseSet<Value> derived = derivedFrom(values);
        for (auto [i, operand] : llvm::enumerate(ret.getOperands()))
          if (derived.contains(operand)) {
            returnedGradients[step.getSymNameAttr()].push_back({i, var});
            gradientOrigin[{step.getSymNameAttr(), var}] = values.front();
          }
      }
    });
  }

  SmallVector<Value> readsOf(FunctionOpInterface fn, StringAttr var) {
    SmallVector<Value> reads;
    fn->walk([&](ReadOp read) {
      if (variableOf(read.getResource()) == var)
        reads.push_back(read.getValue());
    });
    return reads;
  }

  SmallVector<Write> writesOf(FunctionOpInterface fn, StringAttr var) {
    SmallVector<Write> writes;
    fn->walk([&](Operation *op) {
      if (std::optional<Write> w = asWrite(op))
        if (variableOf(w->resource) == var)
          writes.push_back(*w);
    });
    return writes;
  }

  Type valueTypeOf(StringAttr var) {
    if (auto v = symbols->lookup<VariableOp>(var))
      return v.getValueType();
    return {};
  }

  /// Assignments of non-trainable variables: optimizer slots, counters,
  /// running statistics.
  SmallVector<Write> stateWritesOf(FunctionOpInterface fn) {
    SmallVector<Write> writes;
    fn->walk([&](Operation *op) {
      if (std::optional<Write> w = asWrite(op))
        if (StringAttr var = variableOf(w->resource))
          if (auto v = symbols->lookup<VariableOp>(var); v && !v.getTrainable())
            writes.push_back(*w);
    });
    return writes;
  }

  /// 1. Lost update: a value computed from a read of V and V's gradient
  /// that never reaches an assignment to V, or to optimizer state (an
  /// Adadelta slot with weight decay is computed from both, and is
  /// assigned to the slot, not to V).
  void checkLostUpdates(FunctionOpInterface fn) {
    SmallVector<Write> stateWrites = stateWritesOf(fn);
    for (auto &[var, gradients] : gradientSeeds(fn)) {
      SmallVector<Value> reads = readsOf(fn, var);
      if (reads.empty())
        continue;
      DenseSet<Value> fromRead = derivedFrom(reads);
      DenseSet<Value> fromGradient = derivedFrom(gradients);
      Type type = valueTypeOf(var);
      auto isCandidate = [&](Value v) {
        return fromRead.contains(v) && fromGradient.contains(v) &&
               v.getType() == type;
      };
      SmallVector<Write> writes = writesOf(fn, var);
      llvm::append_range(writes, stateWrites);
      DenseSet<Operation *> reported;
      for (Value v : fromRead) {
        if (!isCandidate(v) || !v.getDefiningOp())
          continue;
        // Report the last value of a chain of updates, not each step of it.
        bool extended = llvm::any_of(v.getUsers(), [&](Operation *user) {
          return llvm::any_of(user->getResults(), isCandidate);
        });
        if (extended)
          continue;
        DenseSet<Value> flows = derivedFrom({v});
        if (llvm::any_of(writes, [&](const Write &w) {
              return flows.contains(w.value);
            }))
          continue;
        Operation *def = v.getDefiningOp();
        if (!reported.insert(def).second)
          continue;
        failedAny = true;
        InFlightDiagnostic diag =
            def->emitError("lost update: the updated value of @")
            << var.getValue()
            << " is computed here from the variable and its gradient but "
               "never assigned back, so @"
            << var.getValue()
            << " keeps its old value (the Python rebinding `w = w - lr * g`)";
        for (Value v2 : flows)
          for (Operation *user : v2.getUsers())
            if (isa<ReturnOp, func::ReturnOp, CallOpInterface>(user))
              diag.attachNote(user->getLoc())
                  << "the value leaves here without being assigned";
        diag.attachNote(gradients.front().getLoc())
            << "fix: assign it back with 'tape.assign' to @" << var.getValue()
            << ", or apply the step with 'tape.assign_sub' or "
               "'tape.apply_gradients'";
      }
    }
  }

  /// 2. Host-side update: host code assigns V from a gradient a step
  /// returned.
  void checkHostUpdates(FunctionOpInterface fn) {
    if (isa<StepOp>(fn))
      return;
    llvm::MapVector<StringAttr, SmallVector<Value>> seeds;
    SmallVector<std::pair<StringAttr, CallOp>> callsFor;
    fn->walk([&](CallOp call) {
      auto it = returnedGradients.find(call.getCalleeAttr().getAttr());
      if (it == returnedGradients.end())
        return;
      for (auto [index, var] : it->second) {
        seeds[var].push_back(call.getResult(index));
        callsFor.push_back({var, call});
      }
    });
    for (auto &[var, values] : seeds) {
      DenseSet<Value> derived = derivedFrom(values);
      for (const Write &w : writesOf(fn, var)) {
        if (!derived.contains(w.value))
          continue;
        CallOp call = llvm::find_if(callsFor, [&](auto &p) {
                        return p.first == var;
                      })->second;
        StringAttr step = call.getCalleeAttr().getAttr();
        InFlightDiagnostic diag = emitHazard(w.op->getLoc(), strict);
        diag << "host-side update: @" << var.getValue()
             << " is updated in host code from a gradient that step @"
             << step.getValue()
             << " returns; this runs correctly (the next call reads the new "
                "value), but the update is not compiled with the step, not "
                "fused with it, and costs a round trip per step";
        diag.attachNote(call.getLoc()) << "the gradient comes from this call";
        auto origin = gradientOrigin.find({step, var});
        if (origin != gradientOrigin.end())
          diag.attachNote(origin->second.getLoc())
              << "fix: move the update into the step after this "
                 "tape.gradient ('tape.assign_sub' or 'tape.apply_gradients') "
                 "and stop returning the gradient";
      }
    }
  }

  /// 4 and 5. Writes to non-variables, and an assign whose value nobody
  /// reads before the next assign.
  void checkWrites(FunctionOpInterface fn) {
    DenseMap<StringAttr, Operation *> lastAssign;
    fn->walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (std::optional<Write> w = asWrite(op)) {
        Value r = w->resource;
        if (!isa<BlockArgument>(r) && !r.getDefiningOp<HandleOp>()) {
          failedAny = true;
          op->emitError("assigns to a resource that is not a variable: it "
                        "comes from '")
                  .append(r.getDefiningOp()->getName(),
                          "', not from tape.handle")
                  .attachNote(r.getLoc())
              << "fix: take the variable's handle with 'tape.handle @name'";
          return;
        }
      }
      if (isa<CallOpInterface>(op)) {
        lastAssign.clear(); // the callee may read anything
        return;
      }
      auto touch = [&](Value resource) {
        if (StringAttr var = variableOf(resource))
          lastAssign.erase(var);
      };
      if (auto read = dyn_cast<ReadOp>(op))
        return touch(read.getResource());
      if (auto apply = dyn_cast<ApplyGradientsOp>(op)) {
        for (Value v : apply.getVariables())
          touch(v);
        return;
      }
      if (isa<AssignAddOp, AssignSubOp>(op))
        return touch(op->getOperand(0));
      auto assign = dyn_cast<AssignOp>(op);
      if (!assign)
        return;
      StringAttr var = variableOf(assign.getResource());
      if (!var)
        return;
      Operation *&previous = lastAssign[var];
      if (previous && previous->getBlock() == op->getBlock())
        op->emitWarning("overwrites @")
                .append(var.getValue(),
                        " before anything reads the value assigned to it "
                        "before: one of the two assignments is lost")
                .attachNote(previous->getLoc())
            << "the earlier assignment";
      previous = op;
    });
  }

  /// 3. Disconnected gradient.
  void checkDisconnected(FunctionOpInterface fn, GradientOp gradient) {
    SmallVector<SourceConnection> connections =
        analyzeGradientSources(gradient);
    bool none = llvm::none_of(connections,
                              [](auto &c) { return c.connected; });
    RecordOp record = gradient.getRecord();
    for (auto [i, source] : llvm::enumerate(gradient.getSources())) {
      const SourceConnection &c = connections[i];
      if (c.connected)
        continue;
      StringAttr var = variableOf(source);
      InFlightDiagnostic diag = emitHazard(gradient.getLoc(), strict);
      diag << "disconnected gradient: source #" << i;
      if (var)
        diag << " (@" << var.getValue() << ")";
      diag << " does not influence the targets, so its gradient is zero";
      if (none)
        diag << "; no source receives a gradient (TensorFlow: \"No gradients "
                "provided for any variable\")";
      if (c.values.empty() && var) {
        SmallVector<Value> reads = readsOf(fn, var);
        if (reads.empty()) {
          diag.attachNote(record.getLoc())
              << "@" << var.getValue() << " is never read in this function";
        } else {
          Operation *read = reads.front().getDefiningOp();
          bool before = read->getBlock() == record->getBlock() &&
                        read->isBeforeInBlock(record);
          diag.attachNote(read->getLoc())
              << "@" << var.getValue() << " is read here, "
              << (before ? "before" : "outside")
              << " the recording region: the tape sees that value as a "
                 "constant; fix: move the tape.read inside the tape.record";
        }
        continue;
      }
      for (Operation *cut : c.cuts) {
        Diagnostic &note = diag.attachNote(cut->getLoc());
        if (auto call = dyn_cast<CallOpInterface>(cut))
          note << "the path leaves the differentiable code through this '"
               << cut->getName()
               << "' (like `.numpy()`): the tape cannot see through it";
        else if (isa<StopGradientOp>(cut))
          note << "the path is cut here by tape.stop_gradient";
        else
          note << "the path goes through '" << cut->getName()
               << "', which is not differentiable (its result is not a float)";
      }
      if (c.cuts.empty() && !c.values.empty())
        diag.attachNote(c.values.front().getLoc())
            << "the value read here does not reach the targets";
    }
  }

  /// 5b. A read of V after an assign to V inside one recording region,
  /// where V is a source of a gradient on that tape.
  void checkReadAfterAssign(RecordOp record) {
    DenseSet<StringAttr> sources;
    for (Operation *user : record.getTape().getUsers())
      if (auto g = dyn_cast<GradientOp>(user))
        for (Value s : g.getSources())
          if (StringAttr var = variableOf(s))
            sources.insert(var);
    DenseMap<StringAttr, Operation *> assigned;
    record.getBody().walk<WalkOrder::PreOrder>([&](Operation *op) {
      if (std::optional<Write> w = asWrite(op)) {
        if (StringAttr var = variableOf(w->resource))
          assigned.try_emplace(var, op);
        return;
      }
      auto read = dyn_cast<ReadOp>(op);
      if (!read)
        return;
      StringAttr var = variableOf(read.getResource());
      auto it = assigned.find(var);
      if (!var || it == assigned.end() || !sources.contains(var))
        return;
      read.emitWarning("reads @")
              .append(var.getValue(),
                      " after it was assigned in the same recording region: "
                      "its gradient mixes the value before and after the "
                      "assignment")
              .attachNote(it->second->getLoc())
          << "assigned here; fix: read it before the assignment, or assign "
             "after the tape";
    });
  }

  /// Optimizer hyper-parameters that are compile-time constants.
  void lintConstants(FunctionOpInterface fn) {
    auto advise = [](InFlightDiagnostic &diag) {
      diag << ": changing it needs a recompilation, like a Python float "
              "baked into a tf.function trace; to change it between calls, "
              "keep it in a non-trainable variable and read it in the step";
    };
    fn->walk([&](Operation *op) {
      if (auto apply = dyn_cast<ApplyGradientsOp>(op)) {
        InFlightDiagnostic diag = op->emitWarning(
            "the optimizer's hyper-parameters are compile-time constants");
        advise(diag);
        return;
      }
      std::optional<Write> w = asWrite(op);
      if (!w || !isa<AssignAddOp, AssignSubOp>(op))
        return;
      Operation *def = w->value.getDefiningOp();
      if (!def || !isa<arith::MulFOp>(def))
        return;
      for (Value operand : def->getOperands())
        if (matchPattern(operand, m_Constant())) {
          InFlightDiagnostic diag = def->emitWarning(
              "this step size is a compile-time constant");
          advise(diag);
          return;
        }
    });
  }

  std::optional<SymbolTable> symbols;
  /// Step name -> (result index, variable) pairs of returned gradients.
  DenseMap<StringAttr, SmallVector<std::pair<unsigned, StringAttr>>>
      returnedGradients;
  /// (step, variable) -> the tape.gradient result it returns.
  DenseMap<std::pair<StringAttr, StringAttr>, Value> gradientOrigin;
  bool failedAny = false;
};

} // namespace
