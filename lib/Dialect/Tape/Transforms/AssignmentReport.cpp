//===- AssignmentReport.cpp - Per-step variable report --------------------===//

#include "AssignmentReport.h"
#include "VariableWrites.h"

#include "tape/Support/FileLocation.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/MapVector.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace mlir;
using namespace mlir::tape;

namespace {
/// What the report says about one variable in one step.
struct VariableUse {
  SmallVector<std::pair<Location, bool>> reads; // (where, inside a tape)
  struct WriteRecord {
    Location loc;
    StringRef op;
    bool host;
    StringRef function;
  };
  SmallVector<WriteRecord> writes;
  SmallVector<std::pair<Location, bool>> gradients; // (where, connected)
};


/// "file:line:col", or the printed location when it has no file.
std::string formatLocation(Location loc) {
  if (std::string s = ::tape::formatFileLocation(loc); !s.empty())
    return s;
  std::string s;
  llvm::raw_string_ostream os(s);
  loc.print(os);
  return s;
}
} // namespace

LogicalResult mlir::tape::writeAssignmentReport(ModuleOp module,
                                             StringRef format,
                                             StringRef reportFile) {
SymbolTable symbols(module);
  struct StepReport {
    StringAttr name;
    llvm::MapVector<StringAttr, VariableUse> variables;
  };
  SmallVector<StepReport> steps;
  for (StepOp step : module.getOps<StepOp>()) {
    StepReport r{step.getSymNameAttr(), {}};
    step.walk([&](Operation *op) {
      if (auto read = dyn_cast<ReadOp>(op)) {
        if (StringAttr var = variableOf(read.getResource()))
          r.variables[var].reads.push_back(
              {op->getLoc(), bool(op->getParentOfType<RecordOp>())});
      } else if (std::optional<Write> w = asWrite(op)) {
        if (StringAttr var = variableOf(w->resource))
          r.variables[var].writes.push_back(
              {op->getLoc(), op->getName().getStringRef(), false,
               step.getSymName()});
      } else if (auto apply = dyn_cast<ApplyGradientsOp>(op)) {
        for (Value v : apply.getVariables())
          if (StringAttr var = variableOf(v))
            r.variables[var].writes.push_back(
                {op->getLoc(), op->getName().getStringRef(), false,
                 step.getSymName()});
      } else if (auto g = dyn_cast<GradientOp>(op)) {
        SmallVector<SourceConnection> c = analyzeGradientSources(g);
        for (auto [i, s] : llvm::enumerate(g.getSources()))
          if (StringAttr var = variableOf(s))
            r.variables[var].gradients.push_back(
                {op->getLoc(), c[i].connected});
      }
    });
    // Host writes: host functions that call this step and write a
    // variable the step uses.
    for (auto fn : module.getOps<func::FuncOp>()) {
      bool calls = false;
      fn.walk([&](CallOp call) {
        calls |= call.getCallee() == step.getSymName();
      });
      if (!calls)
        continue;
      fn.walk([&](Operation *op) {
        if (std::optional<Write> w = asWrite(op))
          if (StringAttr var = variableOf(w->resource))
            if (r.variables.count(var))
              r.variables[var].writes.push_back(
                  {op->getLoc(), op->getName().getStringRef(), true,
                   fn.getSymName()});
      });
    }
    steps.push_back(std::move(r));
  }

  std::string error;
  std::unique_ptr<llvm::ToolOutputFile> file =
      openOutputFile(reportFile, &error);
  if (!file) {
    return module.emitError("tape-verify-assignments: cannot write the "
                            "report: ")
           << error;
  }
  llvm::raw_ostream &os = file->os();
  if (format == "json") {
    llvm::json::Array stepArray;
    for (StepReport &s : steps) {
      llvm::json::Array vars;
      for (auto &[var, use] : s.variables) {
        llvm::json::Array reads, writes, grads;
        for (auto [loc, inTape] : use.reads)
          reads.push_back(llvm::json::Object{{"loc", formatLocation(loc)},
                                             {"in_tape", inTape}});
        for (auto &w : use.writes)
          writes.push_back(llvm::json::Object{
              {"loc", formatLocation(w.loc)},
              {"op", w.op.str()},
              {"where", w.host ? "host" : "step"},
              {"function", w.function.str()}});
        for (auto [loc, connected] : use.gradients)
          grads.push_back(llvm::json::Object{{"loc", formatLocation(loc)},
                                             {"connected", connected}});
        auto v = symbols.lookup<VariableOp>(var);
        std::string type;
        llvm::raw_string_ostream ts(type);
        if (v)
          ts << v.getValueType();
        vars.push_back(llvm::json::Object{
            {"name", var.getValue().str()},
            {"type", type},
            {"trainable", v ? v.getTrainable() : false},
            {"reads", std::move(reads)},
            {"writes", std::move(writes)},
            {"gradients", std::move(grads)}});
      }
      stepArray.push_back(llvm::json::Object{
          {"step", s.name.getValue().str()}, {"variables", std::move(vars)}});
    }
    os << llvm::formatv("{0:2}", llvm::json::Value(llvm::json::Object{
                                     {"steps", std::move(stepArray)}}))
       << "\n";
  } else {
    for (StepReport &s : steps) {
      os << "step @" << s.name.getValue() << "\n";
      for (auto &[var, use] : s.variables) {
        auto v = symbols.lookup<VariableOp>(var);
        os << "  variable @" << var.getValue();
        if (v)
          os << " : " << v.getValueType()
             << (v.getTrainable() ? ", trainable" : ", not trainable");
        os << "\n    read:";
        if (use.reads.empty())
          os << " never";
        for (auto [loc, inTape] : use.reads)
          os << "\n      " << (inTape ? "in tape " : "outside tapes ")
             << "at " << formatLocation(loc);
        os << "\n    written:";
        if (use.writes.empty())
          os << " never";
        for (auto &w : use.writes)
          os << "\n      " << (w.host ? "in host code @" : "in the step @")
             << w.function << " by " << w.op << " at " << formatLocation(w.loc);
        os << "\n    gradient:";
        if (use.gradients.empty())
          os << " not requested";
        for (auto [loc, connected] : use.gradients)
          os << "\n      " << (connected ? "connected" : "DISCONNECTED")
             << " (tape.gradient at " << formatLocation(loc) << ")";
        os << "\n";
      }
    }
  }
  file->keep();
  return success();
}
