//===- Model.cpp - Compile a module and run its steps ---------------------===//

#include "tape/Runtime/Model.h"
#include "tape/Compiler/AOT.h"
#include "tape/Compiler/Compiler.h"


#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/ExecutionEngine.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/BuiltinOps.h"
#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/Object/ELFObjectFile.h"
#include "llvm/Object/ObjectFile.h"
#include "llvm/Support/DynamicLibrary.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/TargetParser/Host.h"

#include <atomic>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>
#include <thread>
#include <tuple>

#include <dlfcn.h>

using namespace tape;

struct Model::Impl {
  /// The dlopen handle of a shared model: closed after everything else.
  std::shared_ptr<void> library;
  std::unique_ptr<mlir::ExecutionEngine> engine;
  std::vector<VariableSpec> variables;
  std::vector<Tensor> initial;
  std::vector<FunctionSpec> functions;
  /// The compiled code of functions[i], packed calling convention.
  std::vector<void (*)(void **)> entryPoints;
  std::vector<Diagnostic> warnings;
  std::vector<std::string> numericsSites;
  /// Compiled with check-numerics: calls keep the state to restore.
  bool checkNumerics = false;
  /// A shared library's step count at its initial values (trained
  /// weights, tape-compile --weights): new states start there.
  uint64_t initialStepCount = 0;
  /// Data-parallel: MPI_Initialized of the MPI library the code calls.
  int (*mpiInitialized)(int *) = nullptr;
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

bool Model::dataParallel() const { return impl->mpiInitialized != nullptr; }

/// A data-parallel model's code calls MPI: the MPI library must be in the
/// process (`lookup` finds its symbols), and its MPI_Initialized tells the
/// calls whether MPI_Init has run.
static Status findMPI(void *lookup, int (*&initialized)(int *)) {
  ::dlerror();
  initialized = reinterpret_cast<int (*)(int *)>(
      ::dlsym(lookup, "MPI_Initialized"));
  if (!initialized || !::dlsym(lookup, "MPI_Allreduce"))
    return Status::error(
        StatusCode::Unavailable,
        "the model is data-parallel: its steps call MPI, which this program "
        "does not link (build tape with MPI for tape-run: apt-get install "
        "libopenmpi-dev openmpi-bin; link a program of yours with -lmpi, or "
        "build it with mpicc)");
  return Status::success();
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
    return Status::error(StatusCode::Unavailable,
                         "BLAS calls need a CBLAS library (OpenBLAS: "
                         "apt-get install libopenblas0), none could be "
                         "loaded:" + errors);
  if (!llvm::sys::DynamicLibrary::SearchForAddressOfSymbol("cblas_sgemm"))
    return Status::error(StatusCode::Unavailable,
                         "the BLAS library loaded has no cblas_sgemm");
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
  return Status::error(StatusCode::Unavailable,
                       "threads need LLVM's OpenMP runtime (apt-get install "
                       "libomp-22-dev): " + error);
}

Status Model::compileFile(const std::string &path,
                          const CompileOptions &options,
                          std::unique_ptr<Model> &model) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/true);
  if (!buffer)
    return Status::error(statusCodeForErrno(buffer.getError().value()),
                         "cannot read '" + path +
                             "': " + buffer.getError().message());
  CompileOptions named = options;
  named.sourceName = path;
  return compile((*buffer)->getBuffer().str(), named, model);
}

Status Model::compileModule(mlir::ModuleOp module,
                            const CompileOptions &options,
                            std::unique_ptr<Model> &model) {
  if (!module)
    return Status::error(StatusCode::InvalidArgument, "a null module");
  // Text with every location, so that diagnostics point where the
  // module's own locations do. A module that does not verify is printed
  // in the generic form, and the parse below reports why.
  std::string text;
  llvm::raw_string_ostream os(text);
  module->print(os, mlir::OpPrintingFlags().enableDebugInfo(
                        /*enable=*/true, /*prettyForm=*/false));
  os.flush();
  return compileText(text, options, /*printed=*/true, model);
}

Status Model::compile(const std::string &source,
                      const CompileOptions &options,
                      std::unique_ptr<Model> &model) {
  return compileText(source, options, /*printed=*/false, model);
}

Status Model::compileText(const std::string &source,
                          const CompileOptions &options, bool printed,
                          std::unique_ptr<Model> &model) {
  initializeLLVM();
  if (options.blas)
    if (Status s = loadBlas(options.threads); !s)
      return s;
  if (options.threads != 1 && options.vectorize)
    if (Status s = loadOpenMP(); !s)
      return s;
  int (*mpiInitialized)(int *) = nullptr;
  if (options.dataParallel)
    if (Status s = findMPI(RTLD_DEFAULT, mpiInitialized); !s)
      return s;
  LoweredModule lowered;
  if (Status s = lowerToLLVM(
          source, options, lowered,
          printed ? SourceKind::Printed : SourceKind::Written); !s)
    return std::move(s).orCode(StatusCode::CompileError);
  std::unique_ptr<Model> result(new Model());
  Impl &impl = *result->impl;
  impl.mpiInitialized = mpiInitialized;
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
    return std::move(s).orCode(StatusCode::Internal);
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return Status::error(StatusCode::Internal,
                         "cannot target the host: " +
                         llvm::toString(builder.takeError()));
  auto tm = builder->createTargetMachine();
  if (!tm)
    return Status::error(StatusCode::Internal,
                         "cannot target the host: " +
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
    return Status::error(StatusCode::Internal,
                         "cannot create the JIT: " +
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
      return Status::error(StatusCode::Internal,
                         "cannot find compiled function @" + f.name + ": " +
                           llvm::toString(fn.takeError()));
    impl.entryPoints.push_back(*fn);
  }
  model = std::move(result);
  return Status::success();
}

//===----------------------------------------------------------------------===//
// Shared models (tape-compile --shared)
//===----------------------------------------------------------------------===//

static bool parseDType(llvm::StringRef name, DType &out) {
  for (DType d : {DType::F32, DType::F64, DType::I32, DType::I64})
    if (name == dtypeName(d)) {
      out = d;
      return true;
    }
  return false;
}

namespace {
/// Reads the metadata's JSON, remembering the first problem.
struct MetadataReader {
  std::string error;

  bool fail(const std::string &what) {
    if (error.empty())
      error = what;
    return false;
  }
  const llvm::json::Object *object(const llvm::json::Value *v,
                                   const std::string &what) {
    const llvm::json::Object *o = v ? v->getAsObject() : nullptr;
    if (!o)
      fail(what + " is not an object");
    return o;
  }
  const llvm::json::Array *array(const llvm::json::Object &o,
                                 llvm::StringRef key) {
    const llvm::json::Array *a = o.getArray(key);
    if (!a)
      fail("no array '" + key.str() + "'");
    return a;
  }
  bool string(const llvm::json::Object &o, llvm::StringRef key,
              std::string &out) {
    auto v = o.getString(key);
    if (!v)
      return fail("no string '" + key.str() + "'");
    out = v->str();
    return true;
  }
  bool integer(const llvm::json::Object &o, llvm::StringRef key,
               int64_t &out) {
    auto v = o.getInteger(key);
    if (!v)
      return fail("no integer '" + key.str() + "'");
    out = *v;
    return true;
  }
  bool boolean(const llvm::json::Object &o, llvm::StringRef key, bool &out) {
    auto v = o.getBoolean(key);
    if (!v)
      return fail("no boolean '" + key.str() + "'");
    out = *v;
    return true;
  }
  bool spec(const llvm::json::Object &o, TensorSpec &out,
            const std::string &what) {
    std::string dtype;
    if (!string(o, "dtype", dtype))
      return false;
    if (!parseDType(dtype, out.dtype))
      return fail(what + ": unknown dtype '" + dtype + "'");
    const llvm::json::Array *shape = array(o, "shape");
    if (!shape)
      return false;
    out.shape.clear();
    int64_t elements = 1;
    for (const llvm::json::Value &d : *shape) {
      auto n = d.getAsInteger();
      if (!n || *n < 0 || (*n && elements > (int64_t(1) << 40) / *n))
        return fail(what + ": a dimension that is not a size");
      elements *= *n;
      out.shape.push_back(*n);
    }
    return true;
  }
};
} // namespace

/// Checks the file before anything of it runs: an ELF shared library of
/// this host's kind, whole (every segment the loader maps is inside the
/// file; mapping past its end would crash on first touch), that exports
/// the metadata symbol.
static Status checkSharedFile(const std::string &path) {
  auto buffer = llvm::MemoryBuffer::getFile(path, /*IsText=*/false,
                                            /*RequiresNullTerminator=*/false);
  if (!buffer)
    return Status::error(statusCodeForErrno(buffer.getError().value()),
                         "cannot read '" + path +
                             "': " + buffer.getError().message());
  auto notOurs = [&](const std::string &why) {
    return Status::error(StatusCode::InvalidArgument,
                         "'" + path + "' is not a tape model: " + why +
                         " (tape-compile --shared builds one)");
  };
  auto object = llvm::object::ObjectFile::createObjectFile(
      (*buffer)->getMemBufferRef());
  if (!object)
    return notOurs("not a complete ELF shared library (" +
                   llvm::toString(object.takeError()) + ")");
  auto *elf = llvm::dyn_cast<llvm::object::ELF64LEObjectFile>(object->get());
  if (!elf)
    return notOurs("not a 64-bit little-endian ELF file");
  uint16_t type = elf->getELFFile().getHeader().e_type;
  if (type != llvm::ELF::ET_DYN)
    return notOurs("not a shared library (ELF type " +
                   std::to_string(type) + ")");
  uint64_t size = (*buffer)->getBufferSize();
  auto headers = elf->getELFFile().program_headers();
  if (!headers)
    return notOurs("truncated or corrupt (" +
                   llvm::toString(headers.takeError()) + ")");
  for (const auto &h : *headers)
    if ((h.p_type == llvm::ELF::PT_LOAD || h.p_type == llvm::ELF::PT_DYNAMIC) &&
        (h.p_offset > size || h.p_filesz > size - h.p_offset))
      return notOurs("truncated: a segment ends past the end of the file (" +
                     std::to_string(size) + " bytes)");
  for (const llvm::object::ELFSymbolRef &sym :
       elf->getDynamicSymbolIterators()) {
    auto name = sym.getName();
    if (!name) {
      llvm::consumeError(name.takeError());
      continue;
    }
    if (*name == kSharedModelSymbol)
      return Status::success();
  }
  return notOurs(std::string("it exports no ") + kSharedModelSymbol +
                 " symbol");
}

Status Model::loadShared(const std::string &path,
                         std::unique_ptr<Model> &model) {
  if (Status s = checkSharedFile(path); !s)
    return s;
  // A name without a slash would be looked up in the library path.
  std::string file =
      path.find('/') == std::string::npos ? "./" + path : path;
  void *handle = ::dlopen(file.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    const char *e = ::dlerror();
    return Status::error(StatusCode::Unavailable,
                         "cannot load '" + path + "': " +
                         (e ? e : "dlopen failed"));
  }
  std::unique_ptr<Model> result(new Model());
  Impl &impl = *result->impl;
  impl.library = std::shared_ptr<void>(handle, [](void *h) { ::dlclose(h); });
  // Unknown codes: the API's fallback for a damaged file (DataLoss).
  auto error = [&](const std::string &what,
                   StatusCode code = StatusCode::Unknown) {
    return Status::error(code, "'" + path + "': " + what);
  };
  auto symbol = [&](const std::string &name) {
    ::dlerror();
    return ::dlsym(handle, name.c_str());
  };
  const char *text = static_cast<const char *>(symbol(kSharedModelSymbol));
  if (!text)
    return error(std::string("no ") + kSharedModelSymbol + " symbol");
  auto parsed = llvm::json::parse(text);
  if (!parsed)
    return error("corrupt tape metadata: " +
                 llvm::toString(parsed.takeError()));
  MetadataReader r;
  const llvm::json::Object *root = r.object(&*parsed, "the metadata");
  if (!root)
    return error("corrupt tape metadata: " + r.error);
  std::string format;
  int64_t version = 0;
  if (!r.string(*root, "format", format) || format != kSharedModelFormat)
    return error(std::string("not a tape model (its metadata is not of "
                             "format '") +
                     kSharedModelFormat + "')",
                 StatusCode::InvalidArgument);
  if (!r.integer(*root, "version", version) || version != kSharedModelVersion)
    return error("a tape shared model of format version " +
                 std::to_string(version) + "; this runtime reads version " +
                 std::to_string(kSharedModelVersion) +
                     ": build it again with this tape-compile --shared",
                 StatusCode::FailedPrecondition);

  auto corrupt = [&] { return error("corrupt tape metadata: " + r.error); };
  const llvm::json::Object *options =
      r.object(root->get("options"), "'options'");
  bool checkNumerics = false;
  if (!options || !r.boolean(*options, "check_numerics", checkNumerics))
    return corrupt();
  if (checkNumerics)
    return error("built with check-numerics, which a shared model cannot "
                 "run (its checks call into the JIT runtime)",
                 StatusCode::FailedPrecondition);
  // Written since data parallelism; absent: not data-parallel.
  if (options->getBoolean("data_parallel").value_or(false))
    if (Status s = findMPI(handle, impl.mpiInitialized); !s)
      return error(s.message, StatusCode::Unavailable);
  int64_t stepCount = 0;
  if (!r.integer(*root, "initial_step_count", stepCount) || stepCount < 0)
    return corrupt();
  impl.initialStepCount = uint64_t(stepCount);

  const llvm::json::Array *variables = r.array(*root, "variables");
  if (!variables)
    return corrupt();
  for (const llvm::json::Value &value : *variables) {
    const llvm::json::Object *o = r.object(&value, "a variable");
    VariableSpec v;
    std::string initial;
    if (!o || !r.string(*o, "name", v.name) ||
        !r.spec(*o, v.spec, "variable '" + v.name + "'") ||
        !r.boolean(*o, "trainable", v.trainable) ||
        !r.string(*o, "initial", initial))
      return corrupt();
    Tensor t;
    if (!Tensor::tryCreate(v.spec, t))
      return error("out of memory: cannot allocate the initial value of '" +
                       v.name + "' (" + v.spec.str() + ")",
                   StatusCode::ResourceExhausted);
    size_t bytes = v.spec.numBytes();
    if (initial != "zero") {
      std::string name;
      if (!r.string(*o, "symbol", name))
        return corrupt();
      const void *data = symbol(name);
      if (!data)
        return error("no symbol " + name + " (the initial value of '" +
                     v.name + "')");
      if (initial == "full") {
        std::memcpy(t.data(), data, bytes);
      } else if (initial == "splat") {
        size_t element = dtypeSize(v.spec.dtype);
        for (size_t at = 0; at < bytes; at += element)
          std::memcpy(static_cast<char *>(t.data()) + at, data, element);
      } else {
        return error("variable '" + v.name + "': unknown initial kind '" +
                     initial + "'");
      }
    }
    impl.variables.push_back(std::move(v));
    impl.initial.push_back(std::move(t));
  }

  const llvm::json::Array *functions = r.array(*root, "functions");
  if (!functions)
    return corrupt();
  for (const llvm::json::Value &value : *functions) {
    const llvm::json::Object *o = r.object(&value, "a function");
    FunctionSpec f;
    std::string entry;
    if (!o || !r.string(*o, "name", f.name) ||
        !r.boolean(*o, "is_step", f.isStep) ||
        !r.boolean(*o, "trains", f.trains) ||
        !r.integer(*o, "workspace_bytes", f.workspaceBytes) ||
        !r.string(*o, "entry", entry))
      return corrupt();
    if (f.workspaceBytes < 0)
      return error("@" + f.name + ": a negative workspace size");
    for (auto [key, specs, names] :
         {std::make_tuple("inputs", &f.inputs, &f.inputNames),
          std::make_tuple("outputs", &f.outputs, &f.outputNames)}) {
      const llvm::json::Array *list = r.array(*o, key);
      if (!list)
        return corrupt();
      for (const llvm::json::Value &s : *list) {
        const llvm::json::Object *so = r.object(&s, "a tensor spec");
        TensorSpec spec;
        if (!so || !r.spec(*so, spec, "@" + f.name))
          return corrupt();
        specs->push_back(std::move(spec));
        // Optional: libraries from before names were recorded have none.
        auto name = so->getString("name");
        names->push_back(name ? name->str() : "");
      }
    }
    if (result->findFunction(f.name))
      return error("function @" + f.name + " twice in the metadata");
    auto fn = reinterpret_cast<void (*)(void **)>(symbol(entry));
    if (!fn)
      return error("no symbol " + entry + " (the entry point of @" + f.name +
                   ")");
    impl.entryPoints.push_back(fn);
    impl.functions.push_back(std::move(f));
  }
  // Code for the compiling machine's CPU may not run on another one.
  std::string targetCpu, cpu;
  if (r.string(*root, "target_cpu", targetCpu) && targetCpu == "native" &&
      r.string(*root, "cpu", cpu) && cpu != llvm::sys::getHostCPUName())
    impl.warnings.push_back(Diagnostic{
        Diagnostic::Severity::Warning, path,
        "compiled for this machine's CPU ('" + cpu + "'), running on '" +
            llvm::sys::getHostCPUName().str() +
            "': it may use instructions this one lacks (tape-compile "
            "--mcpu x86-64 makes a portable one)"});
  model = std::move(result);
  return Status::success();
}

Status Model::call(const std::string &function, State &state,
                   const std::vector<const Tensor *> &inputs,
                   const std::vector<Tensor *> &outputs) const {
  const FunctionSpec *spec = findFunction(function);
  if (!spec)
    return Status::error(StatusCode::NotFound,
                         "no function @" + function + " in the model");
  auto invalid = [](std::string message) {
    return Status::error(StatusCode::InvalidArgument, std::move(message));
  };
  if (inputs.size() != spec->inputs.size())
    return invalid("@" + function + " takes " +
                   std::to_string(spec->inputs.size()) + " inputs, got " +
                   std::to_string(inputs.size()));
  if (outputs.size() != spec->outputs.size())
    return invalid("@" + function + " returns " +
                   std::to_string(spec->outputs.size()) + " outputs, got " +
                   std::to_string(outputs.size()));
  for (size_t i = 0; i < inputs.size(); ++i)
    if (!inputs[i] || inputs[i]->spec() != spec->inputs[i])
      return invalid("input #" + std::to_string(i) + " of @" + function +
                     " must be " + spec->inputs[i].str() + ", got " +
                     (inputs[i] ? inputs[i]->spec().str() : "null"));
  for (size_t i = 0; i < outputs.size(); ++i)
    if (!outputs[i] || outputs[i]->spec() != spec->outputs[i])
      return invalid("output #" + std::to_string(i) + " of @" + function +
                     " must be " + spec->outputs[i].str() + ", got " +
                     (outputs[i] ? outputs[i]->spec().str() : "null"));
  llvm::SmallVector<const void *, 8> in;
  llvm::SmallVector<void *, 8> out;
  for (const Tensor *t : inputs)
    in.push_back(t->data());
  for (Tensor *t : outputs)
    out.push_back(t->data());
  return callBuffers(*spec, state, in.data(), out.data());
}

Status Model::callBuffers(const FunctionSpec &spec, State &state,
                          const void *const *inputs,
                          void *const *outputs) const {
  const std::string &function = spec.name;
  if (&state.model() != this)
    return Status::error(StatusCode::InvalidArgument,
                         "the state belongs to another model");
  // `spec` must be one of ours (its position gives the entry point).
  size_t index = 0;
  while (index < impl->functions.size() && &impl->functions[index] != &spec)
    ++index;
  if (index == impl->functions.size())
    return Status::error(StatusCode::InvalidArgument,
                         "@" + function + " is not a function of this model");

  // Only training functions hold the all-reduces.
  if (impl->mpiInitialized && spec.trains) {
    int started = 0;
    impl->mpiInitialized(&started);
    if (!started)
      return Status::error(StatusCode::FailedPrecondition,
                           "@" + function +
                           ": the model is data-parallel and MPI is not "
                           "started: call MPI_Init first (run under "
                           "mpirun)");
  }
  // One call at a time per state: a second thread is refused, not let
  // into the same buffers (two threads on one state lost step counts).
  if (state.busy_.exchange(true, std::memory_order_acquire))
    return Status::error(StatusCode::FailedPrecondition,
                         "@" + function +
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

  // The packed calling convention: a pointer to each argument, and each
  // argument a bare buffer pointer (state, inputs, outputs, workspace).
  llvm::SmallVector<void *, 32> pointers;
  pointers.reserve(state.size() + spec.inputs.size() + spec.outputs.size() +
                   1);
  for (size_t i = 0; i < state.size(); ++i)
    pointers.push_back(state.variable(i).data());
  for (size_t i = 0; i < spec.inputs.size(); ++i)
    pointers.push_back(const_cast<void *>(inputs[i]));
  for (size_t i = 0; i < spec.outputs.size(); ++i)
    pointers.push_back(outputs[i]);
  pointers.push_back(state.workspace());
  llvm::SmallVector<void *, 32> args;
  args.reserve(pointers.size());
  for (void *&p : pointers)
    args.push_back(&p);
  numericsFailure = NumericsFailure();
  impl->entryPoints[index](args.data());
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
    return Status::error(StatusCode::NumericalError,
                         "check-numerics: @" + function + " produced " +
                             kind + " (element " + std::to_string(f.index) +
                             ") in " + site + "; the state is unchanged");
  }
  if (spec.trains)
    ++state.stepCount;
  return Status::success();
}

State::State(const Model &model) : model_(&model) {
  stepCount = model.impl->initialStepCount;
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
  s->stepCount = model.impl->initialStepCount;
  auto outOfMemory = [&](const TensorSpec &spec) {
    return Status::error(StatusCode::ResourceExhausted,
                         "out of memory: cannot allocate " + spec.str() +
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
    return Status::error(StatusCode::NotFound,
                         "no variable '" + name + "' in the model");
  if (value.spec() != tensors[i].spec())
    return Status::error(StatusCode::InvalidArgument,
                         "variable '" + name + "' is " +
                         tensors[i].spec().str() + ", got " +
                         value.spec().str());
  std::memcpy(tensors[i].data(), value.data(), value.spec().numBytes());
  return Status::success();
}
