//===- Compiler.cpp - From tape IR text to the LLVM dialect ---------------===//

#include "tape/Runtime/Compiler.h"

#include "tape/Dialect/Tape/TapeOps.h"
#include "tape/InitTape.h"
#include "tape/Pipelines/Pipelines.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Verifier.h"
#include "mlir/InitAllDialects.h"
#include "mlir/InitAllExtensions.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Pass/PassManager.h"
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

Status tape::lowerToLLVM(const std::string &source,
                         const CompileOptions &options, LoweredModule &out) {
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
  pipeline.vectorize = options.vectorize;
  pipeline.blas = options.blas;
  pipeline.foldTransposes = options.foldTransposes;
  pipeline.packMatmuls = options.packMatmuls;
  pipeline.fuseUpdates = options.fuseUpdates;
  pipeline.vectorBits = options.vectorBits;
  pipeline.checkNumerics = options.checkNumerics;
  pipeline.threads = options.threads > 0
                         ? options.threads
                         : std::max(1u, std::thread::hardware_concurrency());
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

  if (auto sites =
          (*module)->getAttrOfType<mlir::ArrayAttr>("tape.numerics_sites")) {
    for (mlir::Attribute site : sites)
      impl.numericsSites.push_back(
          llvm::cast<mlir::StringAttr>(site).getValue().str());
    module->getOperation()->removeAttr("tape.numerics_sites");
  }

  // The compiled ABI must be (state..., inputs..., outputs...).
  module->getOperation()->removeAttr("tape.state");
  for (auto fn : module->getOps<mlir::LLVM::LLVMFuncOp>()) {
    fn->removeAttr("tape.step");
    fn->removeAttr("tape.lifted");
    const FunctionSpec *spec = nullptr;
    for (const FunctionSpec &f : impl.functions)
      if (f.name == fn.getName())
        spec = &f;
    if (!spec)
      continue;
    auto workspace = fn->getAttrOfType<mlir::IntegerAttr>("tape.workspace_bytes");
    if (!workspace)
      return Status::error("internal error: @" + spec->name +
                           " has no workspace size");
    const_cast<FunctionSpec *>(spec)->workspaceBytes = workspace.getInt();
    fn->removeAttr("tape.workspace_bytes");
    size_t expected = impl.variables.size() + spec->inputs.size() +
                      spec->outputs.size() + 1;
    if (fn.getNumArguments() != expected)
      return Status::error("internal error: @" + spec->name + " compiled to " +
                           std::to_string(fn.getNumArguments()) +
                           " parameters, expected " + std::to_string(expected));
  }
  return Status::success();
}
