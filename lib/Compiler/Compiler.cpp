//===- Compiler.cpp - From tape IR text to the LLVM dialect ---------------===//

#include "tape/Compiler/Compiler.h"

#include <unistd.h>

#include "tape/Support/FileLocation.h"
#include "tape/Support/NestingDepth.h"

#include "tape/Dialect/Tape/TapeDialect.h"
#include "tape/Dialect/Tape/TapeOps.h"
#include "tape/InitTape.h"
#include "tape/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "llvm/ADT/StringExtras.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Support/Timing.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/OpenMP/OpenMPToLLVMIRTranslation.h"

#include <thread>

using namespace tape;

void tape::registerCompilerDialects(mlir::DialectRegistry &registry) {
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::tape::registerTapeDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::registerOpenMPDialectTranslation(registry);
}

static Diagnostic convert(mlir::Diagnostic &d, Diagnostic::Severity severity) {
  return {severity, formatFileLocation(d.getLocation()), d.str()};
}

static std::optional<TensorSpec> toSpec(mlir::Type type) {
  auto tensor = llvm::dyn_cast<mlir::RankedTensorType>(type);
  if (!tensor || !tensor.hasStaticShape())
    return std::nullopt;
  TensorSpec spec;
  spec.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  mlir::Type elt = tensor.getElementType();
  if (elt.isF32())
    spec.dtype = DType::F32;
  else if (elt.isF64())
    spec.dtype = DType::F64;
  else if (elt.isInteger(32))
    spec.dtype = DType::I32;
  else if (elt.isInteger(64))
    spec.dtype = DType::I64;
  else
    return std::nullopt;
  return spec;
}

/// Copies dense elements (splat or not) into `out`, whose spec matches.
static void fill(mlir::DenseElementsAttr attr, Tensor &out) {
  int64_t n = out.spec().numElements();
  switch (out.spec().dtype) {
  case DType::F32: {
    auto values = attr.getValues<float>();
    std::copy(values.begin(), values.end(), out.as<float>());
    break;
  }
  case DType::F64: {
    auto values = attr.getValues<double>();
    std::copy(values.begin(), values.end(), out.as<double>());
    break;
  }
  case DType::I32: {
    auto values = attr.getValues<int32_t>();
    std::copy(values.begin(), values.end(), out.as<int32_t>());
    break;
  }
  case DType::I64: {
    auto values = attr.getValues<int64_t>();
    std::copy(values.begin(), values.end(), out.as<int64_t>());
    break;
  }
  }
  (void)n;
}

/// The --mlir-* flags of a tool's command line: IR printing (on one
/// thread, so that the printed IR is whole and in order) and timing.
static void applyMLIRCommandLine(mlir::MLIRContext &context,
                                 mlir::PassManager &pm) {
  for (const auto &[name, flag] : llvm::cl::getRegisteredOptions())
    if (name.starts_with("mlir-print-ir") && flag->getNumOccurrences())
      context.disableMultithreading();
  (void)mlir::applyPassManagerCLOptions(pm);
  mlir::applyDefaultTimingPassManagerCLOptions(pm);
}

namespace {
/// Which functions train: a tape.step, or a function whose body writes a
/// variable (an op with a write effect on the variable resource: assign,
/// assign_add/sub, apply_gradients) or calls a training function. Calls
/// are followed through symbols; recursion counts what its cycle does.
class TrainingFunctions {
public:
  explicit TrainingFunctions(mlir::ModuleOp module) : symbols(module) {}

  bool trains(mlir::Operation *fn) {
    if (llvm::isa<mlir::tape::StepOp>(fn))
      return true;
    auto [it, inserted] = known.try_emplace(fn, false);
    if (!inserted)
      return it->second; // computed, or on the current call path
    bool result = false;
    fn->walk([&](mlir::Operation *op) {
      if (writesVariable(op) || callsTraining(op)) {
        result = true;
        return mlir::WalkResult::interrupt();
      }
      return mlir::WalkResult::advance();
    });
    known[fn] = result;
    return result;
  }

private:
  static bool writesVariable(mlir::Operation *op) {
    auto effects = llvm::dyn_cast<mlir::MemoryEffectOpInterface>(op);
    if (!effects)
      return false;
    llvm::SmallVector<mlir::MemoryEffects::EffectInstance> list;
    effects.getEffects(list);
    return llvm::any_of(list, [](const auto &e) {
      return llvm::isa<mlir::MemoryEffects::Write>(e.getEffect()) &&
             e.getResource() == mlir::tape::VariableResource::get();
    });
  }

  bool callsTraining(mlir::Operation *op) {
    auto call = llvm::dyn_cast<mlir::CallOpInterface>(op);
    if (!call)
      return false;
    auto callee = llvm::dyn_cast_if_present<mlir::SymbolRefAttr>(
        call.getCallableForCallee());
    mlir::Operation *target =
        callee ? symbols.lookup(callee.getRootReference()) : nullptr;
    return target && trains(target);
  }

  mlir::SymbolTable symbols;
  llvm::DenseMap<mlir::Operation *, bool> known;
};
} // namespace

namespace {
/// The SSA names the source text gives a function's arguments: a block
/// argument's location is where its `%name` is written (when the text
/// gives it no other), so the name is read from the text there.
class SourceNames {
public:
  SourceNames(llvm::StringRef text, llvm::StringRef name)
      : text(text), name(name) {}

  /// "x" for an argument written `%x` in the text, "" when its location
  /// is elsewhere or it is only a number (`%0`).
  std::string of(mlir::BlockArgument arg) {
    auto loc = llvm::dyn_cast<mlir::FileLineColLoc>(arg.getLoc());
    if (!loc || loc.getFilename() != name || loc.getLine() == 0 ||
        loc.getColumn() == 0)
      return "";
    if (lineStarts.empty()) {
      lineStarts.push_back(0);
      for (size_t i = 0; i < text.size(); ++i)
        if (text[i] == '\n')
          lineStarts.push_back(i + 1);
    }
    if (loc.getLine() > lineStarts.size())
      return "";
    size_t at = lineStarts[loc.getLine() - 1] + loc.getColumn() - 1;
    if (at >= text.size() || text[at] != '%')
      return "";
    size_t end = at + 1;
    auto isNameChar = [](char c) {
      return llvm::isAlnum(c) || c == '_' || c == '$' || c == '.' || c == '-';
    };
    while (end < text.size() && isNameChar(text[end]))
      ++end;
    llvm::StringRef id = text.slice(at + 1, end);
    if (id.empty() || llvm::all_of(id, llvm::isDigit))
      return "";
    return id.str();
  }

private:
  llvm::StringRef text, name;
  std::vector<size_t> lineStarts;
};
} // namespace

Status tape::lowerToLLVM(const std::string &source,
                         const CompileOptions &options, LoweredModule &out,
                         SourceKind kind) {
  mlir::DialectRegistry registry;
  registerCompilerDialects(registry);
  out.context = std::make_unique<mlir::MLIRContext>(registry);
  mlir::MLIRContext &context = *out.context;
  std::vector<Diagnostic> errors;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    using S = Diagnostic::Severity;
    bool isError = d.getSeverity() == mlir::DiagnosticSeverity::Error;
    auto &sink = isError ? errors : out.warnings;
    S severity = isError ? S::Error
                 : d.getSeverity() == mlir::DiagnosticSeverity::Warning
                     ? S::Warning
                     : S::Remark;
    sink.push_back(convert(d, severity));
    for (mlir::Diagnostic &note : d.getNotes())
      sink.push_back(convert(note, S::Note));
    return mlir::success();
  });

  context.printOpOnDiagnostic(false);
  if (std::string tooDeep = checkNestingDepth(source, options.sourceName);
      !tooDeep.empty())
    return Status::error("cannot parse " + options.sourceName + "\n" + tooDeep);
  mlir::ParserConfig config(&context, /*verifyAfterParse=*/false);
  out.module = mlir::parseSourceString<mlir::ModuleOp>(source, config,
                                                       options.sourceName);
  mlir::OwningOpRef<mlir::ModuleOp> &module = out.module;
  if (!module)
    return Status::error("cannot parse " + options.sourceName, errors);
  if (failed(mlir::verify(*module)))
    return Status::error(options.sourceName + " does not verify", errors);

  // The signatures, from the tape-level IR.
  LoweredModule &impl = out;
  TrainingFunctions training(*module);
  SourceNames sourceNames(source, options.sourceName);
  using mlir::tape::TapeDialect;
  auto addFunction = [&](mlir::FunctionOpInterface fn, bool isStep) {
    if (fn.isExternal() || fn.isPrivate())
      return Status::success();
    FunctionSpec f{fn.getName().str(), isStep, training.trains(fn), {}, {}};
    auto nameAttr = [](mlir::DictionaryAttr attrs) -> std::string {
      auto name = attrs ? attrs.getAs<mlir::StringAttr>(
                              TapeDialect::NameAttrHelper::getNameStr())
                        : nullptr;
      return name ? name.getValue().str() : "";
    };
    for (auto [i, t] : llvm::enumerate(fn.getArgumentTypes())) {
      std::optional<TensorSpec> spec = toSpec(t);
      if (!spec)
        return Status::error("function @" + f.name +
                             " takes a value that is not a statically "
                             "shaped f32/f64/i32/i64 tensor");
      f.inputs.push_back(*spec);
      std::string name = nameAttr(fn.getArgAttrDict(i));
      if (name.empty() && kind == SourceKind::Written)
        name = sourceNames.of(fn.getArgument(i));
      f.inputNames.push_back(std::move(name));
    }
    for (auto [i, t] : llvm::enumerate(fn.getResultTypes())) {
      std::optional<TensorSpec> spec = toSpec(t);
      if (!spec)
        return Status::error("function @" + f.name +
                             " returns a value that is not a statically "
                             "shaped f32/f64/i32/i64 tensor");
      f.outputs.push_back(*spec);
      f.outputNames.push_back(nameAttr(fn.getResultAttrDict(i)));
    }
    impl.functions.push_back(std::move(f));
    return Status::success();
  };
  for (mlir::Operation &op : module->getBody()->getOperations()) {
    Status s = Status::success();
    if (auto step = llvm::dyn_cast<mlir::tape::StepOp>(op))
      s = addFunction(step, true);
    else if (auto fn = llvm::dyn_cast<mlir::func::FuncOp>(op))
      s = addFunction(fn, false);
    if (!s)
      return s;
  }

  mlir::PassManager pm(&context);
  if (options.mlirCommandLine)
    applyMLIRCommandLine(context, pm);
  if (failed(mlir::tape::buildTapeToLLVMPipeline(pm, options)) ||
      failed(pm.run(*module)))
    return Status::error("cannot compile " + options.sourceName, errors);

  // What the pipeline handed on (tape-abi-verify checked it): the state
  // layout, optimizer slots included, and each function's workspace.
  mlir::Operation *top = module->getOperation();
  auto layout = top->getAttrOfType<mlir::ArrayAttr>(
      TapeDialect::StateAttrHelper::getNameStr());
  // The initial values are materialised below, in this process: a state
  // larger than the machine's memory is an error here, not an abort in an
  // allocation (tape-verify-sizes has bounded each size, so the sum cannot
  // overflow).
  uint64_t stateBytes = 0, largest = 0;
  std::string largestName;
  for (mlir::Attribute entry : layout) {
    auto dict = llvm::cast<mlir::DictionaryAttr>(entry);
    auto type = llvm::cast<mlir::RankedTensorType>(
        llvm::cast<mlir::TypeAttr>(dict.get("type")).getValue());
    uint64_t bytes = uint64_t(type.getNumElements()) *
                     ((type.getElementTypeBitWidth() + 7) / 8);
    stateBytes += bytes;
    if (bytes >= largest) {
      largest = bytes;
      largestName =
          llvm::cast<mlir::StringAttr>(dict.get("name")).getValue().str();
    }
  }
  uint64_t memory = uint64_t(::sysconf(_SC_PHYS_PAGES)) *
                    uint64_t(::sysconf(_SC_PAGESIZE));
  if (memory && stateBytes > memory)
    return Status::error(
        StatusCode::ResourceExhausted, options.sourceName + ": the variables need " +
        std::to_string(stateBytes) + " bytes (@" + largestName + " alone " +
        std::to_string(largest) + "), more than this machine's memory (" +
        std::to_string(memory) + " bytes)");
  for (mlir::Attribute entry : layout) {
    auto dict = llvm::cast<mlir::DictionaryAttr>(entry);
    std::string name =
        llvm::cast<mlir::StringAttr>(dict.get("name")).getValue().str();
    auto type = llvm::cast<mlir::RankedTensorType>(
        llvm::cast<mlir::TypeAttr>(dict.get("type")).getValue());
    std::optional<TensorSpec> spec = toSpec(type);
    if (!spec)
      return Status::error("variable @" + name +
                           " has a type the runtime does not support "
                           "(f32, f64, i32, i64 tensors)");
    bool trainable = llvm::cast<mlir::BoolAttr>(dict.get("trainable")).getValue();
    impl.variables.push_back({name, *spec, trainable});
    mlir::Attribute init = dict.get("initial_value");
    auto dense = llvm::dyn_cast<mlir::DenseElementsAttr>(init);
    if (!dense)
      dense = llvm::cast<mlir::tape::InitializerAttrInterface>(init)
                  .materialize(type);
    Tensor value;
    if (!Tensor::tryCreate(*spec, value))
      return Status::error(StatusCode::ResourceExhausted,
                           options.sourceName + ": out of memory: cannot "
                           "allocate the initial value of @" + name + " (" +
                           spec->str() + ")");
    fill(dense, value);
    impl.initial.push_back(std::move(value));
  }
  top->removeAttr(TapeDialect::StateAttrHelper::getNameStr());
  if (auto sites = top->getAttrOfType<mlir::ArrayAttr>(
          TapeDialect::NumericsSitesAttrHelper::getNameStr())) {
    for (mlir::Attribute site : sites)
      impl.numericsSites.push_back(
          llvm::cast<mlir::StringAttr>(site).getValue().str());
    top->removeAttr(TapeDialect::NumericsSitesAttrHelper::getNameStr());
  }
  for (auto fn : module->getOps<mlir::LLVM::LLVMFuncOp>()) {
    for (FunctionSpec &f : impl.functions)
      if (f.name == fn.getName())
        if (auto bytes = fn->getAttrOfType<mlir::IntegerAttr>(
                TapeDialect::WorkspaceBytesAttrHelper::getNameStr()))
          f.workspaceBytes = bytes.getInt();
    fn->removeAttr(TapeDialect::StepAttrHelper::getNameStr());
    fn->removeAttr(TapeDialect::LiftedAttrHelper::getNameStr());
    fn->removeAttr(TapeDialect::WorkspaceBytesAttrHelper::getNameStr());
  }
  return Status::success();
}

Status tape::renameDefinedFunctions(
    mlir::ModuleOp module,
    llvm::function_ref<std::string(llvm::StringRef, bool)> symbolFor) {
  llvm::SmallVector<mlir::LLVM::LLVMFuncOp> defined;
  for (auto fn : module.getOps<mlir::LLVM::LLVMFuncOp>())
    if (!fn.isExternal())
      defined.push_back(fn);
  for (mlir::LLVM::LLVMFuncOp fn : defined) {
    std::string name = symbolFor(fn.getName(), !fn.isPrivate() &&
                                     fn.getLinkage() != mlir::LLVM::Linkage::Internal);
    if (failed(mlir::SymbolTable::replaceAllSymbolUses(
            fn, mlir::StringAttr::get(module.getContext(), name), module)))
      return Status::error("cannot rename @" + fn.getName().str());
    fn.setSymName(name);
  }
  return Status::success();
}
