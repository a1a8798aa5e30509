//===- tape-run.cpp - JIT-compile a module and run its train step ---------===//
//
// Compiles a module in the tape dialect to native code in-process and runs
// N steps, printing the loss (and scalar variables) per step in the seed's
// format. Reads inputs and initial variables from .npy files (a dataset
// file larger than a step's input is cut into batches, optionally
// shuffled), writes variables to .npy/.npz, and checkpoints and resumes the
// whole state.
//
//===----------------------------------------------------------------------===//

#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Model.h"
#include "tape/Runtime/Npy.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <charconv>
#include <chrono>
#include <cstring>
#include <random>
#include <algorithm>
#include <sys/resource.h>
#include <unistd.h>

using namespace tape;
namespace cl = llvm::cl;

static cl::OptionCategory category("tape-run options");
static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<module.mlir>"),
                                      cl::cat(category));
static cl::opt<std::string>
    entry("entry",
          cl::desc("Function to run each step (default: the host function "
                   "that calls a step, or the only step)"),
          cl::cat(category));
static cl::opt<uint64_t> steps("steps", cl::desc("Number of steps to run"),
                               cl::init(1), cl::cat(category));
static cl::opt<uint64_t>
    untilStep("until-step",
              cl::desc("Run until the state has completed this many steps "
                       "(counting those of a resumed checkpoint) instead of "
                       "--steps more"),
              cl::init(0), cl::cat(category));
static cl::list<std::string>
    inputs("input",
           cl::desc("A .npy file per input of the entry, in order; a file "
                    "with N times the rows of the input is a dataset, cut "
                    "into batches"),
           cl::cat(category));
static cl::opt<int64_t>
    shuffleSeed("shuffle-seed",
                cl::desc("Shuffle dataset rows every epoch with this seed "
                         "(default: no shuffling)"),
                cl::init(-1), cl::cat(category));
static cl::list<std::string>
    initVars("init", cl::desc("name=file.npy: set a variable before running"),
             cl::cat(category));
static cl::opt<std::string>
    printVars("print-vars",
              cl::desc("Comma-separated variables to print after each step "
                       "(default: every scalar trainable variable; 'none' "
                       "for none)"),
              cl::cat(category));
static cl::opt<bool> quiet("quiet", cl::desc("Print nothing per step"),
                           cl::cat(category));
static cl::opt<bool>
    printOutputs("print-outputs",
                 cl::desc("After each call, print every element of every "
                          "output of the entry function"),
                 cl::cat(category));
static cl::opt<bool> dumpVars("dump-vars",
                              cl::desc("Print every variable after the run"),
                              cl::cat(category));
static cl::opt<std::string>
    saveVars("save-vars",
             cl::desc("Write the variables after the run: a .npz file, or a "
                      "folder of <name>.npy files"),
             cl::cat(category));
static cl::opt<std::string> checkpoint("checkpoint",
                                       cl::desc("Checkpoint file to write"),
                                       cl::cat(category));
static cl::opt<uint64_t>
    checkpointEvery("checkpoint-every",
                    cl::desc("Write the checkpoint every N steps (and at the "
                             "end)"),
                    cl::init(0), cl::cat(category));
static cl::opt<std::string> resume("resume",
                                   cl::desc("Checkpoint to resume from"),
                                   cl::cat(category));
static cl::opt<bool> strict("strict",
                            cl::desc("Treat host-side updates and "
                                     "disconnected gradients as errors"),
                            cl::cat(category));
static cl::opt<unsigned>
    precision("precision",
              cl::desc("Significant digits of printed values (default 6, as "
                       "the seed prints them); 0 prints the shortest text "
                       "that reads back as the same float"),
              cl::init(6), cl::cat(category));
static cl::opt<bool>
    stats("report-stats",
          cl::desc("Print, on stderr, the median time per call, the heap "
                   "allocations of the compiled code (first call, later "
                   "calls) and the peak memory"),
          cl::cat(category));
static cl::opt<bool> noVectorize("no-vectorize",
                                 cl::desc("Compile linalg ops to plain loops "
                                          "(for comparisons)"),
                                 cl::cat(category));
static cl::opt<bool> blas("blas",
                          cl::desc("Large f32 matmuls call cblas_sgemm "
                                   "(OpenBLAS, loaded at run time)"),
                          cl::cat(category));
static cl::opt<int> threads("num-threads",
                            cl::desc("Threads the compiled step may use "
                                     "(default 1; 0: one per core)"),
                            cl::init(1), cl::cat(category));
static cl::opt<int> vectorBits(
    "vector-bits",
    cl::desc("Size register tiles for this vector width (128, 256, 512) "
             "instead of the host's (for testing other targets' tiling)"),
    cl::init(0), cl::cat(category));
static cl::opt<bool> checkNumerics(
    "check-numerics",
    cl::desc("Fail at the first NaN or infinity a step computes, naming the "
             "op and its source location (slower: no fusion, a check per "
             "op)"),
    cl::cat(category));
static cl::opt<bool> noFoldTransposes(
    "no-fold-transposes",
    cl::desc("Materialize transposed matmul operands (for comparisons)"),
    cl::cat(category), cl::Hidden);
static cl::opt<bool> noPack("no-pack",
                            cl::desc("No packed matmul kernels (for "
                                     "comparisons)"),
                            cl::cat(category), cl::Hidden);
static cl::opt<bool> noFuseUpdates(
    "no-fuse-updates",
    cl::desc("Keep SGD updates apart from the gradient matmuls (for "
             "comparisons)"),
    cl::cat(category), cl::Hidden);
static cl::opt<bool> noProgress("no-progress",
                                cl::desc("Never show the progress line"),
                                cl::cat(category));

static int fail(const std::string &message) {
  llvm::errs() << "tape-run: " << message << "\n";
  return 1;
}

static int fail(const Status &status) { return fail(status.str()); }

/// Element `i` with --precision significant digits (%g: 1, 0.81, 0.0542),
/// or with 0 the shortest text that reads back as the same value of the
/// tensor's dtype (0.8100002).
static std::string format(const Tensor &t, int64_t i) {
  char buf[64];
  bool isFloat = t.spec().dtype == DType::F32 || t.spec().dtype == DType::F64;
  if (precision > 0 && isFloat) {
    int n = std::snprintf(buf, sizeof buf, "%.*g", int(precision),
                          t.elementAsDouble(i));
    return std::string(buf, n);
  }
  std::to_chars_result r;
  switch (t.spec().dtype) {
  case DType::F32:
    r = std::to_chars(buf, buf + sizeof buf, t.as<float>()[i]);
    break;
  case DType::F64:
    r = std::to_chars(buf, buf + sizeof buf, t.as<double>()[i]);
    break;
  case DType::I32:
    r = std::to_chars(buf, buf + sizeof buf, t.as<int32_t>()[i]);
    break;
  case DType::I64:
    r = std::to_chars(buf, buf + sizeof buf, t.as<int64_t>()[i]);
    break;
  }
  return std::string(buf, r.ptr);
}

static std::string label(std::string name) {
  if (!name.empty())
    name[0] = char(std::toupper(name[0]));
  return name;
}

/// One input of the entry: a constant tensor, or a dataset cut into
/// batches along its first dimension.
struct InputSource {
  Tensor data;
  Tensor batch;
  int64_t batches = 1;
  bool dataset = false;
};

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tape-run: JIT-compile a train step and run it\n\n"
      "  tape-run examples/seed/1_assign_sub.mlir --steps 3\n");

  CompileOptions options;
  options.strict = strict;
  options.vectorize = !noVectorize;
  options.blas = blas;
  options.foldTransposes = !noFoldTransposes;
  options.packMatmuls = !noPack;
  options.fuseUpdates = !noFuseUpdates;
  if (threads < 0)
    return fail("--num-threads must be 0 (one per core) or more");
  options.threads = threads;
  if (vectorBits != 0 && vectorBits != 128 && vectorBits != 256 &&
      vectorBits != 512)
    return fail("--vector-bits must be 128, 256 or 512");
  options.vectorBits = vectorBits;
  options.checkNumerics = checkNumerics;
  std::unique_ptr<Model> model;
  Status status = Model::compileFile(inputFile, options, model);
  if (!status)
    return fail(status);
  for (const Diagnostic &d : model->warnings())
    llvm::errs() << d.str() << "\n";

  // The entry: named, or the host function that calls a step, or the step.
  const FunctionSpec *fn = nullptr;
  if (!entry.empty()) {
    fn = model->findFunction(entry);
    if (!fn)
      return fail("no public function @" + entry + " in " + inputFile);
  } else {
    std::vector<const FunctionSpec *> hosts, stepFns;
    for (const FunctionSpec &f : model->functions())
      (f.isStep ? stepFns : hosts).push_back(&f);
    if (hosts.size() == 1)
      fn = hosts.front();
    else if (hosts.empty() && stepFns.size() == 1)
      fn = stepFns.front();
    else
      return fail("cannot choose the function to run; name it with --entry");
  }

  State state(*model);
  for (const std::string &spec : initVars) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos)
      return fail("--init expects name=file.npy, got '" + spec + "'");
    Tensor value;
    if (Status s = readNpy(spec.substr(eq + 1), value); !s)
      return fail(s);
    if (Status s = state.set(spec.substr(0, eq), value); !s)
      return fail(s);
  }
  if (!resume.empty())
    if (Status s = loadCheckpoint(resume, state); !s)
      return fail(s);

  // Inputs.
  if (inputs.size() != fn->inputs.size()) {
    std::string want;
    for (const TensorSpec &s : fn->inputs)
      want += " " + s.str();
    return fail("@" + fn->name + " takes " + std::to_string(fn->inputs.size()) +
                " inputs (" + (want.empty() ? " none" : want) + " ), got " +
                std::to_string(inputs.size()) + " --input files");
  }
  std::vector<InputSource> sources(inputs.size());
  int64_t datasetRows = -1;
  for (size_t i = 0; i < inputs.size(); ++i) {
    InputSource &src = sources[i];
    if (Status s = readNpy(inputs[i], src.data); !s)
      return fail(s);
    const TensorSpec &want = fn->inputs[i];
    const TensorSpec &got = src.data.spec();
    if (got == want) {
      src.batch = Tensor(want);
      std::memcpy(src.batch.data(), src.data.data(), want.numBytes());
      continue;
    }
    bool sameTail = got.dtype == want.dtype && !want.shape.empty() &&
                    got.shape.size() == want.shape.size() &&
                    std::equal(got.shape.begin() + 1, got.shape.end(),
                               want.shape.begin() + 1) &&
                    want.shape[0] > 0 && got.shape[0] % want.shape[0] == 0 &&
                    got.shape[0] > 0;
    if (!sameTail)
      return fail(inputs[i] + ": input #" + std::to_string(i) + " of @" +
                  fn->name + " must be " + want.str() +
                  " (or a dataset of such batches along the first dimension), "
                  "got " + got.str());
    if (datasetRows >= 0 && datasetRows != got.shape[0])
      return fail(inputs[i] + ": dataset files must have the same number of "
                  "rows; got " + std::to_string(got.shape[0]) + " and " +
                  std::to_string(datasetRows));
    datasetRows = got.shape[0];
    src.dataset = true;
    src.batches = got.shape[0] / want.shape[0];
    src.batch = Tensor(want);
  }

  std::vector<Tensor> outputs;
  for (const TensorSpec &s : fn->outputs)
    outputs.emplace_back(s);

  // What to print after each step.
  std::vector<int> printed;
  if (printVars.empty()) {
    for (size_t i = 0; i < model->variables().size(); ++i) {
      const VariableSpec &v = model->variables()[i];
      if (v.trainable && v.spec.numElements() == 1)
        printed.push_back(int(i));
    }
  } else if (printVars != "none") {
    llvm::SmallVector<llvm::StringRef> names;
    llvm::StringRef(printVars).split(names, ',');
    for (llvm::StringRef name : names) {
      int i = model->findVariable(name.trim().str());
      if (i < 0)
        return fail("--print-vars: no variable '" + name.trim().str() +
                    "' in the model");
      printed.push_back(i);
    }
  }
  bool scalarLoss = !outputs.empty() && outputs[0].spec().numElements() == 1;
  bool progress = !noProgress && ::isatty(STDERR_FILENO) && steps > 1;

  // Rows of the current epoch, in the order they are used.
  std::vector<int64_t> order;
  int64_t epoch = -1;
  auto start = std::chrono::steady_clock::now();
  auto lastProgress = start;
  uint64_t first = state.stepCount;
  if (untilStep.getNumOccurrences())
    steps = untilStep > first ? untilStep - first : 0;
  std::vector<double> callTimes;
  uint64_t firstAllocs = 0, laterAllocs = 0;
  for (uint64_t k = first; k < first + steps; ++k) {
    for (InputSource &src : sources) {
      if (!src.dataset)
        continue;
      int64_t rows = src.batch.spec().shape[0];
      int64_t e = int64_t(k) / src.batches;
      if (e != epoch) {
        epoch = e;
        order.resize(datasetRows);
        for (int64_t r = 0; r < datasetRows; ++r)
          order[r] = r;
        if (shuffleSeed >= 0) {
          // Fisher-Yates with a fixed generator: the same permutation on
          // every platform and on resume.
          std::mt19937_64 gen(uint64_t(shuffleSeed) * 1000003u + uint64_t(e));
          for (int64_t r = datasetRows - 1; r > 0; --r)
            std::swap(order[r], order[gen() % uint64_t(r + 1)]);
        }
      }
      size_t rowBytes = src.batch.spec().numBytes() / rows;
      int64_t b = int64_t(k) % src.batches;
      for (int64_t r = 0; r < rows; ++r)
        std::memcpy(static_cast<char *>(src.batch.data()) + r * rowBytes,
                    static_cast<const char *>(src.data.data()) +
                        order[b * rows + r] * rowBytes,
                    rowBytes);
    }
    std::vector<const Tensor *> in;
    for (InputSource &src : sources)
      in.push_back(&src.batch);
    std::vector<Tensor *> out;
    for (Tensor &t : outputs)
      out.push_back(&t);
    uint64_t allocsBefore = compiledCodeHeapAllocations();
    auto callStart = std::chrono::steady_clock::now();
    if (Status s = model->call(fn->name, state, in, out); !s)
      return fail(s);
    callTimes.push_back(std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - callStart)
                            .count());
    (k == first ? firstAllocs : laterAllocs) +=
        compiledCodeHeapAllocations() - allocsBefore;
    if (!fn->isStep)
      ++state.stepCount;

    if (printOutputs)
      for (size_t o = 0; o < outputs.size(); ++o) {
        llvm::outs() << "output #" << o << " " << outputs[o].spec().str()
                     << ":";
        for (int64_t j = 0; j < outputs[o].spec().numElements(); ++j)
          llvm::outs() << " " << format(outputs[o], j);
        llvm::outs() << "\n";
      }
    if (!quiet && !printOutputs) {
      std::string line;
      if (scalarLoss)
        line = "Loss: " + format(outputs[0], 0);
      for (int i : printed) {
        const Tensor &v = state.variable(i);
        if (!line.empty())
          line += ", ";
        line += label(model->variables()[i].name) + ": ";
        if (v.spec().numElements() == 1)
          line += format(v, 0);
        else
          line += v.spec().str();
      }
      if (line.empty())
        line = "step " + std::to_string(k + 1);
      if (progress)
        llvm::errs() << "\r\033[K";
      llvm::outs() << line << "\n";
      llvm::outs().flush();
    }
    if (!checkpoint.empty() && checkpointEvery &&
        (k + 1 - first) % checkpointEvery == 0)
      if (Status s = saveCheckpoint(checkpoint, state); !s)
        return fail(s);
    auto now = std::chrono::steady_clock::now();
    if (progress && now - lastProgress > std::chrono::milliseconds(500)) {
      lastProgress = now;
      double secs = std::chrono::duration<double>(now - start).count();
      llvm::errs() << "\r\033[Kstep " << (k + 1) << "/" << (first + steps)
                   << "  " << llvm::format("%.1f", (k + 1 - first) / secs)
                   << " steps/s";
      if (scalarLoss)
        llvm::errs() << "  loss " << format(outputs[0], 0);
    }
  }
  if (progress)
    llvm::errs() << "\r\033[K";

  if (!checkpoint.empty())
    if (Status s = saveCheckpoint(checkpoint, state); !s)
      return fail(s);
  if (stats && !callTimes.empty()) {
    std::vector<double> sorted = callTimes;
    std::sort(sorted.begin(), sorted.end());
    struct rusage usage;
    ::getrusage(RUSAGE_SELF, &usage);
    llvm::errs() << "calls: " << callTimes.size() << ", median "
                 << llvm::format("%.3f", sorted[sorted.size() / 2] * 1e6)
                 << " us/call, min "
                 << llvm::format("%.3f", sorted.front() * 1e6) << " us\n"
                 << "heap allocations by compiled code: " << firstAllocs
                 << " in the first call, " << laterAllocs << " in the "
                 << (callTimes.size() - 1) << " later calls\n"
                 << "peak resident memory: "
                 << llvm::format("%.1f", usage.ru_maxrss / 1024.0)
                 << " MiB\n";
  }
  if (dumpVars)
    for (size_t i = 0; i < state.size(); ++i) {
      const Tensor &v = state.variable(i);
      llvm::outs() << model->variables()[i].name << " " << v.spec().str()
                   << ":";
      int64_t n = v.spec().numElements();
      for (int64_t j = 0; j < std::min<int64_t>(n, 8); ++j)
        llvm::outs() << " " << format(v, j);
      if (n > 8)
        llvm::outs() << " ...";
      llvm::outs() << "\n";
    }
  if (!saveVars.empty()) {
    if (llvm::StringRef(saveVars).ends_with(".npz")) {
      std::vector<std::pair<std::string, const Tensor *>> entries;
      for (size_t i = 0; i < state.size(); ++i)
        entries.push_back({model->variables()[i].name, &state.variable(i)});
      if (Status s = writeNpz(saveVars, entries); !s)
        return fail(s);
    } else {
      for (size_t i = 0; i < state.size(); ++i)
        if (Status s = writeNpy(saveVars + "/" + model->variables()[i].name +
                                    ".npy",
                                state.variable(i));
            !s)
          return fail(s);
    }
  }
  return 0;
}
