//===- Model.cpp - Compile a module and run its steps ---------------------===//

#include "tape/Runtime/Model.h"

#include "tape/Dialect/Tape/TapeOps.h"
#include "tape/InitTape.h"
#include "tape/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

#include <cstring>
#include <map>
#include <mutex>

using namespace tape;

std::string Diagnostic::str() const {
  const char *kind = severity == Severity::Error     ? "error"
                     : severity == Severity::Warning ? "warning"
                     : severity == Severity::Note    ? "note"
                                                     : "remark";
  return (location.empty() ? "" : location + ": ") + kind + ": " + message;
}

std::string Status::str() const {
  std::string s = message;
  for (const Diagnostic &d : diagnostics)
    s += "\n" + d.str();
  return s;
}

struct Model::Impl {
  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::vector<VariableSpec> variables;
  std::vector<Tensor> initial;
  std::vector<FunctionSpec> functions;
  std::map<std::string, void (*)(void **)> entryPoints;
  std::vector<Diagnostic> warnings;
};

Model::Model() : impl(std::make_unique<Impl>()) {}
Model::~Model() = default;

const std::vector<VariableSpec> &Model::variables() const {
  return impl->variables;
}
const std::vector<FunctionSpec> &Model::functions() const {
  return impl->functions;
}
const std::vector<Diagnostic> &Model::warnings() const {
  return impl->warnings;
}

const FunctionSpec *Model::findFunction(const std::string &name) const {
  for (const FunctionSpec &f : impl->functions)
    if (f.name == name)
      return &f;
  return nullptr;
}

int Model::findVariable(const std::string &name) const {
  for (size_t i = 0; i < impl->variables.size(); ++i)
    if (impl->variables[i].name == name)
      return int(i);
  return -1;
}

void Model::initialValue(size_t index, Tensor &out) const {
  out = Tensor(impl->initial[index].spec());
  std::memcpy(out.data(), impl->initial[index].data(),
              out.spec().numBytes());
}

static std::string locationString(mlir::Location loc) {
  if (auto file = llvm::dyn_cast<mlir::FileLineColLoc>(loc))
    return (file.getFilename().getValue() + ":" + llvm::Twine(file.getLine()) +
            ":" + llvm::Twine(file.getColumn()))
        .str();
  if (auto named = llvm::dyn_cast<mlir::NameLoc>(loc))
    return locationString(named.getChildLoc());
  if (auto fused = llvm::dyn_cast<mlir::FusedLoc>(loc))
    if (!fused.getLocations().empty())
      return locationString(fused.getLocations().front());
  return "";
}

static Diagnostic convert(mlir::Diagnostic &d, Diagnostic::Severity severity) {
  return {severity, locationString(d.getLocation()), d.str()};
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

static void initializeLLVM() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

Status Model::compileFile(const std::string &path,
                          const CompileOptions &options,
                          std::unique_ptr<Model> &model) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return Status::error("cannot read '" + path +
                         "': " + buffer.getError().message());
  CompileOptions named = options;
  named.sourceName = path;
  return compile((*buffer)->getBuffer().str(), named, model);
}

Status Model::compile(const std::string &source,
                      const CompileOptions &options,
                      std::unique_ptr<Model> &model) {
  initializeLLVM();
  mlir::DialectRegistry registry;
  mlir::registerAllDialects(registry);
  mlir::registerAllExtensions(registry);
  mlir::tape::registerTapeDialects(registry);
  mlir::registerBuiltinDialectTranslation(registry);
  mlir::registerLLVMDialectTranslation(registry);
  mlir::MLIRContext context(registry);

  std::unique_ptr<Model> result(new Model());
  std::vector<Diagnostic> errors;
  mlir::ScopedDiagnosticHandler handler(&context, [&](mlir::Diagnostic &d) {
    using S = Diagnostic::Severity;
    bool isError = d.getSeverity() == mlir::DiagnosticSeverity::Error;
    auto &sink = isError ? errors : result->impl->warnings;
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
  mlir::ParserConfig config(&context, /*verifyAfterParse=*/false);
  mlir::OwningOpRef<mlir::ModuleOp> module =
      mlir::parseSourceString<mlir::ModuleOp>(source, config,
                                              options.sourceName);
  if (!module)
    return Status::error("cannot parse " + options.sourceName, errors);
  if (failed(mlir::verify(*module)))
    return Status::error(options.sourceName + " does not verify", errors);

  // The signatures, from the tape-level IR.
  Impl &impl = *result->impl;
  auto addFunction = [&](mlir::FunctionOpInterface fn, bool isStep) {
    if (fn.isExternal() || fn.isPrivate())
      return Status::success();
    FunctionSpec f{fn.getName().str(), isStep, {}, {}};
    for (mlir::Type t : fn.getArgumentTypes()) {
      std::optional<TensorSpec> spec = toSpec(t);
      if (!spec)
        return Status::error("function @" + f.name +
                             " takes a value that is not a statically "
                             "shaped f32/f64/i32/i64 tensor");
      f.inputs.push_back(*spec);
    }
    for (mlir::Type t : fn.getResultTypes()) {
      std::optional<TensorSpec> spec = toSpec(t);
      if (!spec)
        return Status::error("function @" + f.name +
                             " returns a value that is not a statically "
                             "shaped f32/f64/i32/i64 tensor");
      f.outputs.push_back(*spec);
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
  mlir::tape::TapeToLLVMOptions pipeline;
  pipeline.strict = options.strict;
  mlir::tape::buildTapeToLLVMPipeline(pm, pipeline);
  if (failed(pm.run(*module)))
    return Status::error("cannot compile " + options.sourceName, errors);

  // The state layout (optimizer slots included), as tape-lift-variables
  // recorded it.
  auto layout = (*module)->getAttrOfType<mlir::ArrayAttr>("tape.state");
  if (!layout)
    return Status::error("internal error: the pipeline left no state layout");
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
    Tensor value(*spec);
    fill(dense, value);
    impl.initial.push_back(std::move(value));
  }

  // The compiled ABI must be (state..., inputs..., outputs...).
  module->getOperation()->removeAttr("tape.state");
  for (auto fn : module->getOps<mlir::LLVM::LLVMFuncOp>()) {
    fn->removeAttr("tape.step");
    fn->removeAttr("tape.lifted");
    const FunctionSpec *spec = result->findFunction(fn.getName().str());
    if (!spec)
      continue;
    size_t expected =
        impl.variables.size() + spec->inputs.size() + spec->outputs.size();
    if (fn.getNumArguments() != expected)
      return Status::error("internal error: @" + spec->name + " compiled to " +
                           std::to_string(fn.getNumArguments()) +
                           " parameters, expected " + std::to_string(expected));
  }

  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return Status::error("cannot target the host: " +
                         llvm::toString(builder.takeError()));
  auto tm = builder->createTargetMachine();
  if (!tm)
    return Status::error("cannot target the host: " +
                         llvm::toString(tm.takeError()));
  mlir::ExecutionEngineOptions engineOptions;
  auto transformer = mlir::makeOptimizingTransformer(3, 0, tm->get());
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  engineOptions.enableGDBNotificationListener = false;
  auto engine = mlir::ExecutionEngine::create(*module, engineOptions,
                                              std::move(*tm));
  if (!engine)
    return Status::error("cannot create the JIT: " +
                         llvm::toString(engine.takeError()),
                         errors);
  impl.engine = std::move(*engine);
  impl.engine->initialize();
  for (const FunctionSpec &f : impl.functions) {
    auto fn = impl.engine->lookupPacked(f.name);
    if (!fn)
      return Status::error("cannot find compiled function @" + f.name + ": " +
                           llvm::toString(fn.takeError()));
    impl.entryPoints[f.name] = *fn;
  }
  model = std::move(result);
  return Status::success();
}

Status Model::call(const std::string &function, State &state,
                   const std::vector<const Tensor *> &inputs,
                   const std::vector<Tensor *> &outputs) const {
  const FunctionSpec *spec = findFunction(function);
  if (!spec)
    return Status::error("no function @" + function + " in the model");
  if (&state.model() != this)
    return Status::error("the state belongs to another model");
  if (inputs.size() != spec->inputs.size())
    return Status::error("@" + function + " takes " +
                         std::to_string(spec->inputs.size()) +
                         " inputs, got " + std::to_string(inputs.size()));
  if (outputs.size() != spec->outputs.size())
    return Status::error("@" + function + " returns " +
                         std::to_string(spec->outputs.size()) +
                         " outputs, got " + std::to_string(outputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i] || inputs[i]->spec() != spec->inputs[i])
      return Status::error("input #" + std::to_string(i) + " of @" + function +
                           " must be " + spec->inputs[i].str() + ", got " +
                           (inputs[i] ? inputs[i]->spec().str() : "null"));
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i] || outputs[i]->spec() != spec->outputs[i])
      return Status::error("output #" + std::to_string(i) + " of @" +
                           function + " must be " + spec->outputs[i].str() +
                           ", got " +
                           (outputs[i] ? outputs[i]->spec().str() : "null"));

  std::vector<void *> pointers;
  pointers.reserve(state.size() + inputs.size() + outputs.size());
  for (size_t i = 0; i < state.size(); ++i)
    pointers.push_back(state.variable(i).data());
  for (const Tensor *t : inputs)
    pointers.push_back(const_cast<void *>(t->data()));
  for (Tensor *t : outputs)
    pointers.push_back(t->data());
  std::vector<void *> args;
  args.reserve(pointers.size());
  for (void *&p : pointers)
    args.push_back(&p);
  impl->entryPoints.at(function)(args.data());
  if (spec->isStep)
    ++state.stepCount;
  return Status::success();
}

State::State(const Model &model) : model_(&model) {
  for (size_t i = 0; i < model.variables().size(); ++i) {
    Tensor t;
    model.initialValue(i, t);
    tensors.push_back(std::move(t));
  }
}

Status State::set(const std::string &name, const Tensor &value) {
  int i = model_->findVariable(name);
  if (i < 0)
    return Status::error("no variable '" + name + "' in the model");
  if (value.spec() != tensors[i].spec())
    return Status::error("variable '" + name + "' is " +
                         tensors[i].spec().str() + ", got " +
                         value.spec().str());
  std::memcpy(tensors[i].data(), value.data(), value.spec().numBytes());
  return Status::success();
}
