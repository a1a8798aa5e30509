//===- Model.cpp - Compile a module and run its steps ---------------------===//

#include "tape/Runtime/Model.h"
#include "tape/Compiler/Compiler.h"


#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>

using namespace tape;

struct Model::Impl {
  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::vector<VariableSpec> variables;
  std::vector<Tensor> initial;
  std::vector<FunctionSpec> functions;
  std::map<std::string, void (*)(void **)> entryPoints;
  std::vector<Diagnostic> warnings;
  std::vector<std::string> numericsSites;
  /// Compiled with check-numerics: calls keep the state to restore.
  bool checkNumerics = false;
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

/// The JIT's prefix for every compiled function (renameDefinedFunctions).
static constexpr llvm::StringLiteral kJITPrefix = "__tape_fn_";

static std::atomic<uint64_t> heapAllocations{0};

uint64_t tape::compiledCodeHeapAllocations() { return heapAllocations.load(); }

extern "C" {
static void *countingMalloc(size_t n) {
  ++heapAllocations;
  return std::malloc(n);
}
static void *countingAlignedAlloc(size_t alignment, size_t n) {
  ++heapAllocations;
  return std::aligned_alloc(alignment, n);
}
static void *countingCalloc(size_t count, size_t n) {
  ++heapAllocations;
  return std::calloc(count, n);
}
}

namespace {
/// The first non-finite value a checked call produced on this thread (calls
/// run on the caller's thread, so concurrent calls never mix theirs).
struct NumericsFailure {
  int32_t site = -1;
  double value = 0;
  int64_t index = 0;
};
thread_local NumericsFailure numericsFailure;

template <typename T>
void checkNumerics(const T *data, int64_t count, int32_t site) {
  if (numericsFailure.site >= 0)
    return; // the first one is what matters
  for (int64_t i = 0; i < count; ++i)
    if (!std::isfinite(data[i])) {
      numericsFailure = {site, double(data[i]), i};
      return;
    }
}
} // namespace

extern "C" {
static void checkNumericsF32(const float *p, int64_t n, int32_t site) {
  checkNumerics(p, n, site);
}
static void checkNumericsF64(const double *p, int64_t n, int32_t site) {
  checkNumerics(p, n, site);
}
static void checkScalarF32(float v, int32_t site) {
  checkNumerics(&v, 1, site);
}
static void checkScalarF64(double v, int32_t site) {
  checkNumerics(&v, 1, site);
}
}

static void initializeLLVM() {
  static std::once_flag once;
  std::call_once(once, [] {
    llvm::InitializeNativeTarget();
    llvm::InitializeNativeTargetAsmPrinter();
  });
}

/// Makes cblas_sgemm visible to the JIT (which resolves symbols in the
/// process) and sets the library's thread count where it has a setter.
static Status loadBlas(int threads) {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<std::string> candidates;
  if (const char *chosen = std::getenv("TAPE_BLAS_LIBRARY"))
    candidates.push_back(chosen);
  else
    candidates = {"libopenblas.so.0", "libopenblas.so"};
  std::string errors;
  bool loaded = false;
  for (const std::string &name : candidates) {
    std::string error;
    if (!llvm::sys::DynamicLibrary::LoadLibraryPermanently(name.c_str(),
                                                           &error)) {
      loaded = true;
      break;
    }
    errors += "\n  " + error;
  }
  if (!loaded)
    return Status::error("BLAS calls need a CBLAS library (OpenBLAS: "
                         "apt-get install libopenblas0), none could be "
                         "loaded:" + errors);
  if (!llvm::sys::DynamicLibrary::SearchForAddressOfSymbol("cblas_sgemm"))
    return Status::error("the BLAS library loaded has no cblas_sgemm");
  using SetThreads = void (*)(int);
  if (auto set = reinterpret_cast<SetThreads>(
          llvm::sys::DynamicLibrary::SearchForAddressOfSymbol(
              "openblas_set_num_threads")))
    set(threads > 0 ? threads : int(std::thread::hardware_concurrency()));
  return Status::success();
}

/// The packed kernels' threads come from LLVM's OpenMP runtime.
static Status loadOpenMP() {
  static std::mutex mutex;
  std::lock_guard<std::mutex> lock(mutex);
  std::string error;
  for (const char *name : {"libomp.so.5", "libomp.so"})
    if (!llvm::sys::DynamicLibrary::LoadLibraryPermanently(name, &error))
      return Status::success();
  return Status::error("threads need LLVM's OpenMP runtime (apt-get install "
                       "libomp-22-dev): " + error);
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
  if (options.blas)
    if (Status s = loadBlas(options.threads); !s)
      return s;
  if (options.threads != 1 && options.vectorize)
    if (Status s = loadOpenMP(); !s)
      return s;
  LoweredModule lowered;
  if (Status s = lowerToLLVM(source, options, lowered); !s)
    return s;
  std::unique_ptr<Model> result(new Model());
  Impl &impl = *result->impl;
  impl.variables = std::move(lowered.variables);
  impl.initial = std::move(lowered.initial);
  impl.functions = std::move(lowered.functions);
  impl.warnings = std::move(lowered.warnings);
  impl.numericsSites = std::move(lowered.numericsSites);
  impl.checkNumerics = options.checkNumerics;
  mlir::OwningOpRef<mlir::ModuleOp> &module = lowered.module;
  // Symbols of ours never take a C library function's name (a step named
  // @powf was called by the code's own powf calls): every function is
  // `__tape_fn_<name>` in the JIT.
  if (Status s = renameDefinedFunctions(
          *module,
          [](llvm::StringRef name, bool) { return (kJITPrefix + name).str(); });
      !s)
    return s;
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return Status::error("cannot target the host: " +
                         llvm::toString(builder.takeError()));
  auto tm = builder->createTargetMachine();
  if (!tm)
    return Status::error("cannot target the host: " +
                         llvm::toString(tm.takeError()));
  mlir::ExecutionEngineOptions engineOptions;
  auto transformer = mlir::makeOptimizingTransformer(kLLVMOptLevel, 0, tm->get());
  engineOptions.transformer = transformer;
  engineOptions.jitCodeGenOptLevel = llvm::CodeGenOptLevel::Aggressive;
  engineOptions.enableGDBNotificationListener = false;
  // LLVM's perf listener writes a jitdump file (~/.debug/jit/...) for
  // every JIT: only on request (docs/Performance.md, "Profiling").
  engineOptions.enablePerfNotificationListener =
      std::getenv("TAPE_PERF_JITDUMP") != nullptr;
  auto engine = mlir::ExecutionEngine::create(*module, engineOptions,
                                              std::move(*tm));
  if (!engine)
    return Status::error("cannot create the JIT: " +
                         llvm::toString(engine.takeError()));
  impl.engine = std::move(*engine);
  // The compiled code's allocations go through counters (see
  // compiledCodeHeapAllocations); registered before anything is looked up.
  impl.engine->registerSymbols([](llvm::orc::MangleAndInterner interner) {
    llvm::orc::SymbolMap map;
    auto add = [&](const char *name, void *fn) {
      map[interner(name)] = {llvm::orc::ExecutorAddr::fromPtr(fn),
                             llvm::JITSymbolFlags::Exported};
    };
    add("malloc", reinterpret_cast<void *>(&countingMalloc));
    add("aligned_alloc", reinterpret_cast<void *>(&countingAlignedAlloc));
    add("calloc", reinterpret_cast<void *>(&countingCalloc));
    add("__tape_check_numerics_f32",
        reinterpret_cast<void *>(&checkNumericsF32));
    add("__tape_check_numerics_f64",
        reinterpret_cast<void *>(&checkNumericsF64));
    add("__tape_check_scalar_f32", reinterpret_cast<void *>(&checkScalarF32));
    add("__tape_check_scalar_f64", reinterpret_cast<void *>(&checkScalarF64));
    return map;
  });
  impl.engine->initialize();
  for (const FunctionSpec &f : impl.functions) {
    auto fn = impl.engine->lookupPacked((kJITPrefix + f.name).str());
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

  // One call at a time per state: a second thread is refused, not let
  // into the same buffers (two threads on one state lost step counts).
  if (state.busy_.exchange(true, std::memory_order_acquire))
    return Status::error("@" + function +
                         ": the state is in use by another call; use one "
                         "state per thread, or one call at a time");
  struct Release {
    std::atomic<bool> &busy;
    ~Release() { busy.store(false, std::memory_order_release); }
  } release{state.busy_};
  if (impl->checkNumerics) {
    if (state.before_.empty())
      for (size_t i = 0; i < state.size(); ++i)
        state.before_.emplace_back(state.variable(i).spec());
    for (size_t i = 0; i < state.size(); ++i)
      std::memcpy(state.before_[i].data(), state.variable(i).data(),
                  state.variable(i).spec().numBytes());
  }

  std::vector<void *> pointers;
  pointers.reserve(state.size() + inputs.size() + outputs.size() + 1);
  for (size_t i = 0; i < state.size(); ++i)
    pointers.push_back(state.variable(i).data());
  for (const Tensor *t : inputs)
    pointers.push_back(const_cast<void *>(t->data()));
  for (Tensor *t : outputs)
    pointers.push_back(t->data());
  pointers.push_back(state.workspace());
  std::vector<void *> args;
  args.reserve(pointers.size());
  for (void *&p : pointers)
    args.push_back(&p);
  numericsFailure = NumericsFailure();
  impl->entryPoints.at(function)(args.data());
  if (numericsFailure.site >= 0) {
    NumericsFailure f = numericsFailure;
    numericsFailure = NumericsFailure();
    // The call failed: its updates are undone and it does not count.
    for (size_t i = 0; i < state.size(); ++i)
      std::memcpy(state.variable(i).data(), state.before_[i].data(),
                  state.variable(i).spec().numBytes());
    const char *kind = std::isnan(f.value) ? "NaN"
                       : f.value > 0       ? "+Inf"
                                           : "-Inf";
    std::string site = size_t(f.site) < impl->numericsSites.size()
                           ? impl->numericsSites[f.site]
                           : "site #" + std::to_string(f.site);
    return Status::error("check-numerics: @" + function + " produced " +
                         kind + " (element " + std::to_string(f.index) +
                         ") in " + site + "; the state is unchanged");
  }
  if (spec->trains)
    ++state.stepCount;
  return Status::success();
}

State::State(const Model &model) : model_(&model) {
  for (size_t i = 0; i < model.variables().size(); ++i) {
    Tensor t;
    model.initialValue(i, t);
    tensors.push_back(std::move(t));
  }
  // One workspace, as large as the largest function needs: calls on one
  // state never run at the same time.
  int64_t bytes = 64;
  for (const FunctionSpec &f : model.functions())
    bytes = std::max(bytes, f.workspaceBytes);
  workspace_ = Tensor(TensorSpec{DType::I32, {(bytes + 3) / 4}});
}

Status State::create(const Model &model, std::unique_ptr<State> &state) {
  std::unique_ptr<State> s(new State(model, Unallocated{}));
  auto outOfMemory = [&](const TensorSpec &spec) {
    return Status::error("out of memory: cannot allocate " + spec.str() +
                         " for a new state");
  };
  for (const Tensor &initial : model.impl->initial) {
    Tensor t;
    if (!Tensor::tryCreate(initial.spec(), t))
      return outOfMemory(initial.spec());
    std::memcpy(t.data(), initial.data(), initial.spec().numBytes());
    s->tensors.push_back(std::move(t));
  }
  int64_t bytes = 64;
  for (const FunctionSpec &f : model.functions())
    bytes = std::max(bytes, f.workspaceBytes);
  TensorSpec workspace{DType::I32, {(bytes + 3) / 4}};
  if (!Tensor::tryCreate(workspace, s->workspace_))
    return outOfMemory(workspace);
  state = std::move(s);
  return Status::success();
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
