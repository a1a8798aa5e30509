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

#include "tape/Compiler/Flags.h"
#include "tape/Compiler/OutOfMemory.h"
#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Dataset.h"
#include "tape/Runtime/Files.h"
#include "tape/Runtime/Model.h"
#include "tape/Runtime/Npy.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <charconv>
#include <chrono>
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
           cl::desc("A .npy file, or an array of a .npz archive "
                    "(file.npz:array), per input of the entry, in order; an "
                    "array with N times the rows of the input is a dataset, "
                    "cut into batches"),
           cl::cat(category));
static cl::opt<int64_t>
    shuffleSeed("shuffle-seed",
                cl::desc("Shuffle dataset rows every epoch with this seed "
                         "(default: no shuffling)"),
                cl::init(-1), cl::cat(category));
static cl::list<std::string> initVars(
    "init",
    cl::desc("Set variables before running: name=file.npy, "
             "name=file.npz:array, or file.npz (each array of the archive, "
             "e.g. one --save-vars wrote, sets the variable of its name; "
             "the others keep their values)"),
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
             cl::desc("Write the variables after the run: a .npz file, or an "
                      "existing folder of <name>.npy files (bytes of a name "
                      "other than letters, digits, _ - . written as %XX)"),
             cl::cat(category));
static cl::opt<double> uint8Scale(
    "uint8-scale",
    cl::desc("Multiply uint8 .npy data read into float inputs or variables "
             "by this (e.g. 0.00392156862745098 = 1/255 for raw pixels)"),
    cl::cat(category));
static cl::opt<std::string> logFile(
    "log",
    cl::desc("Append one JSON line per logged step to this file: step, "
             "epoch, every scalar output (loss first), seconds since the "
             "start, steps per second"),
    cl::cat(category));
static cl::opt<unsigned> logEvery("log-every",
                                  cl::desc("Log every N steps (default 1)"),
                                  cl::init(1), cl::cat(category));
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
static cl::opt<bool> noProgress("no-progress",
                                cl::desc("Never show the progress line"),
                                cl::cat(category));
static CompileFlags compileFlags(category);

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

/// The function to run: named, or the only host function, or (with no
/// host function) the only step.
static const FunctionSpec *chooseEntry(const Model &model, Status &status) {
  if (!entry.empty()) {
    if (const FunctionSpec *fn = model.findFunction(entry))
      return fn;
    status = Status::error("no public function @" + entry + " in " +
                           inputFile);
    return nullptr;
  }
  std::vector<const FunctionSpec *> hosts, stepFns;
  for (const FunctionSpec &f : model.functions())
    (f.isStep ? stepFns : hosts).push_back(&f);
  if (hosts.size() == 1)
    return hosts.front();
  if (hosts.empty() && stepFns.size() == 1)
    return stepFns.front();
  status = Status::error("cannot choose the function to run; name it with "
                         "--entry");
  return nullptr;
}

/// How .npy data is read into inputs and variables (--uint8-scale).
static NpyReadOptions readOptions() {
  NpyReadOptions options;
  if (uint8Scale.getNumOccurrences())
    options.uint8Scale = uint8Scale;
  return options;
}

/// A notice of the reader (float64 data into float32, integers into
/// floats) on stderr.
static void printNotice(const std::string &notice) {
  if (!notice.empty())
    llvm::errs() << "tape-run: note: " << notice << "\n";
}

/// The first few of `names`, comma-separated, and how many more there are.
static std::string someNames(const std::vector<std::string> &names) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < 5; ++i)
    text += (i ? ", " : "") + names[i];
  if (names.size() > 5)
    text += " and " + std::to_string(names.size() - 5) + " more";
  return text.empty() ? "none" : text;
}

/// Array `array` of the .npz archive `archive` as a tensor of `want`.
static Status readArchiveArray(const std::string &archive,
                               const std::string &array, DType want,
                               Tensor &out) {
  std::unique_ptr<NpzReader> reader;
  if (Status s = NpzReader::open(archive, reader); !s)
    return s;
  int64_t i = reader->find(array);
  if (i < 0) {
    std::vector<std::string> names;
    for (size_t k = 0; k < reader->size(); ++k)
      names.push_back(reader->arrayName(k));
    return Status::error(archive + ": no array '" + array +
                         "' in the archive (arrays: " + someNames(names) +
                         ")");
  }
  std::string notice;
  if (Status s = reader->read(size_t(i), want, readOptions(), out, &notice);
      !s)
    return s;
  printNotice(notice);
  return Status::success();
}

/// Reads an input or a variable: a .npy file, or `file.npz:array` (split
/// at the first ".npz:"), converted to `want` with a notice on stderr for
/// each conversion the reader makes.
static Status readNpyFor(const std::string &path, DType want, Tensor &out) {
  size_t at = path.find(".npz:");
  if (at != std::string::npos)
    return readArchiveArray(path.substr(0, at + 4), path.substr(at + 5), want,
                            out);
  if (llvm::StringRef(path).ends_with(".npz"))
    return Status::error(path + ": name one array of the archive: " + path +
                         ":<array>");
  std::string notice;
  if (Status s = readNpyAs(path, want, readOptions(), out, &notice); !s)
    return s;
  printNotice(notice);
  return Status::success();
}

/// --init file.npz: every array of the archive sets the variable of its
/// name. Every name is checked before any data is read.
static Status initFromArchive(State &state, const std::string &path) {
  const Model &model = state.model();
  std::unique_ptr<NpzReader> reader;
  if (Status s = NpzReader::open(path, reader); !s)
    return s;
  std::vector<int> targets;
  for (size_t i = 0; i < reader->size(); ++i) {
    targets.push_back(model.findVariable(reader->arrayName(i)));
    if (targets.back() >= 0)
      continue;
    std::vector<std::string> names;
    for (const VariableSpec &v : model.variables())
      names.push_back(v.name);
    return Status::error(reader->describe(i) +
                         ": names no variable of the model (variables: " +
                         someNames(names) + ")");
  }
  for (size_t i = 0; i < reader->size(); ++i) {
    const VariableSpec &v = model.variables()[targets[i]];
    Tensor value;
    std::string notice;
    if (Status s = reader->read(i, v.spec.dtype, readOptions(), value,
                                &notice);
        !s)
      return s;
    printNotice(notice);
    if (Status s = state.set(v.name, value); !s)
      return Status::error(reader->describe(i) + ": " + s.message);
  }
  size_t total = model.variables().size();
  llvm::errs() << "tape-run: note: " << path << " set " << reader->size()
               << " of " << total << " variables"
               << (reader->size() < total ? "; the others keep their values"
                                          : "")
               << "\n";
  return Status::success();
}

/// --init and --resume.
static Status initializeState(State &state) {
  for (const std::string &spec : initVars) {
    size_t eq = spec.find('=');
    bool named = eq != std::string::npos &&
                 state.model().findVariable(spec.substr(0, eq)) >= 0;
    // A whole archive: file.npz (a path may hold a '=' when no variable
    // has the name before it and the file exists).
    if (!named && llvm::StringRef(spec).ends_with(".npz") &&
        (eq == std::string::npos || llvm::sys::fs::exists(spec))) {
      if (Status s = initFromArchive(state, spec); !s)
        return s;
      continue;
    }
    if (eq == std::string::npos)
      return Status::error("--init expects name=file.npy, "
                           "name=file.npz:array or file.npz, got '" +
                           spec + "'");
    int i = state.model().findVariable(spec.substr(0, eq));
    if (i < 0)
      return Status::error("no variable '" + spec.substr(0, eq) +
                           "' in the model");
    Tensor value;
    if (Status s = readNpyFor(spec.substr(eq + 1),
                              state.model().variables()[i].spec.dtype, value);
        !s)
      return s;
    if (Status s = state.set(spec.substr(0, eq), value); !s)
      return s;
  }
  if (!resume.empty())
    return loadCheckpoint(resume, state);
  return Status::success();
}

/// The --input files as the entry's inputs.
static Status readInputs(const FunctionSpec &fn, StepInputs &out) {
  if (inputs.size() != fn.inputs.size()) {
    std::string want;
    for (const TensorSpec &s : fn.inputs)
      want += " " + s.str();
    return Status::error("@" + fn.name + " takes " +
                         std::to_string(fn.inputs.size()) + " inputs (" +
                         (want.empty() ? " none" : want) + " ), got " +
                         std::to_string(inputs.size()) + " --input files");
  }
  std::vector<std::pair<std::string, Tensor>> sources;
  for (auto [i, file] : llvm::enumerate(inputs)) {
    Tensor t;
    if (Status s = readNpyFor(file, fn.inputs[i].dtype, t); !s)
      return s;
    sources.push_back({file, std::move(t)});
  }
  if (Status s = StepInputs::create(fn, std::move(sources), shuffleSeed, out);
      !s)
    return s;
  if (out.droppedRows())
    llvm::errs() << "tape-run: note: the datasets have " << out.rowsPerEpoch()
                 << " rows, " << out.batchesPerEpoch()
                 << " full batches per epoch; " << out.droppedRows()
                 << " rows are left out of each epoch (drop_last"
                 << (shuffleSeed >= 0 ? ", other rows each epoch" : "")
                 << ")\n";
  return Status::success();
}

/// The variables --print-vars names (default: every scalar trainable one).
static Status chooseReported(const Model &model, std::vector<int> &out) {
  if (printVars.empty()) {
    for (size_t i = 0; i < model.variables().size(); ++i) {
      const VariableSpec &v = model.variables()[i];
      if (v.trainable && v.spec.numElements() == 1)
        out.push_back(int(i));
    }
    return Status::success();
  }
  if (printVars == "none")
    return Status::success();
  llvm::SmallVector<llvm::StringRef> names;
  llvm::StringRef(printVars).split(names, ',');
  for (llvm::StringRef name : names) {
    int i = model.findVariable(name.trim().str());
    if (i < 0)
      return Status::error("--print-vars: no variable '" + name.trim().str() +
                           "' in the model");
    out.push_back(i);
  }
  return Status::success();
}

/// The line printed after a step: the loss (a scalar first output) and
/// the reported variables.
static std::string stepLine(const Model &model, const State &state,
                            const std::vector<Tensor> &outputs,
                            const std::vector<int> &reported, uint64_t k) {
  std::string line;
  if (!outputs.empty() && outputs[0].spec().numElements() == 1)
    line = "Loss: " + format(outputs[0], 0);
  for (int i : reported) {
    const Tensor &v = state.variable(i);
    if (!line.empty())
      line += ", ";
    line += label(model.variables()[i].name) + ": ";
    line += v.spec().numElements() == 1 ? format(v, 0) : v.spec().str();
  }
  return line.empty() ? "step " + std::to_string(k + 1) : line;
}

static void printOutputValues(const std::vector<Tensor> &outputs) {
  for (size_t o = 0; o < outputs.size(); ++o) {
    llvm::outs() << "output #" << o << " " << outputs[o].spec().str() << ":";
    for (int64_t j = 0; j < outputs[o].spec().numElements(); ++j)
      llvm::outs() << " " << format(outputs[o], j);
    llvm::outs() << "\n";
  }
}

/// --report-stats.
static void printStats(const std::vector<double> &callTimes,
                       uint64_t firstAllocs, uint64_t laterAllocs) {
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
               << llvm::format("%.1f", usage.ru_maxrss / 1024.0) << " MiB\n";
}

/// --dump-vars and --save-vars.
static Status reportVariables(const Model &model, const State &state) {
  if (dumpVars)
    for (size_t i = 0; i < state.size(); ++i) {
      const Tensor &v = state.variable(i);
      llvm::outs() << model.variables()[i].name << " " << v.spec().str()
                   << ":";
      int64_t n = v.spec().numElements();
      for (int64_t j = 0; j < std::min<int64_t>(n, 8); ++j)
        llvm::outs() << " " << format(v, j);
      if (n > 8)
        llvm::outs() << " ...";
      llvm::outs() << "\n";
    }
  if (saveVars.empty())
    return Status::success();
  // Files are named by fileNameForSymbol: a variable's name never chooses
  // the folder (checkOutputs has checked every name before training).
  std::vector<std::string> names(state.size());
  for (size_t i = 0; i < state.size(); ++i)
    if (Status s = fileNameForSymbol(model.variables()[i].name, names[i]); !s)
      return s;
  if (llvm::StringRef(saveVars).ends_with(".npz")) {
    std::vector<std::pair<std::string, const Tensor *>> entries;
    for (size_t i = 0; i < state.size(); ++i)
      entries.push_back({names[i], &state.variable(i)});
    return writeNpz(saveVars, entries);
  }
  for (size_t i = 0; i < state.size(); ++i)
    if (Status s = writeNpy(saveVars + "/" + names[i] + ".npy",
                            state.variable(i));
        !s)
      return s;
  return Status::success();
}

/// One --log line: {"step": 12, "epoch": 0, "outputs": [0.42], "time_s":
/// 1.5, "steps_per_s": 8.0}.
static std::string logLine(uint64_t step, int64_t epoch,
                           const std::vector<Tensor> &outputs, double seconds,
                           double stepsPerSecond) {
  llvm::json::Array values;
  for (const Tensor &t : outputs)
    if (t.spec().numElements() == 1)
      values.push_back(t.elementAsDouble(0));
  llvm::json::Object line{{"step", int64_t(step)},
                          {"epoch", epoch},
                          {"outputs", std::move(values)},
                          {"time_s", seconds},
                          {"steps_per_s", stepsPerSecond}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(line));
  return text;
}

/// Every output the run will write (--checkpoint, --save-vars) is checked
/// before the first step, so a typo costs nothing instead of the run.
static Status checkOutputs(const Model &model) {
  if (!checkpoint.empty()) {
    if (Status s = checkCheckpointable(model); !s)
      return Status::error("--checkpoint " + checkpoint + ": " + s.message);
    if (Status s = checkWritableFile(checkpoint, "--checkpoint"); !s)
      return s;
  }
  if (!logFile.empty())
    if (Status s = checkWritableFile(logFile, "--log"); !s)
      return s;
  if (logEvery == 0)
    return Status::error("--log-every must be at least 1");
  if (saveVars.empty())
    return Status::success();
  for (const VariableSpec &v : model.variables()) {
    std::string name;
    if (Status s = fileNameForSymbol(v.name, name); !s)
      return Status::error("--save-vars " + saveVars + ": " + s.message);
  }
  if (llvm::StringRef(saveVars).ends_with(".npz"))
    return checkWritableFile(saveVars, "--save-vars");
  return checkWritableFolder(saveVars, "--save-vars");
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  tape::exitOnOutOfMemory("tape-run");
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tape-run: JIT-compile a train step and run it\n\n"
      "  tape-run examples/seed/1_assign_sub.mlir --steps 3\n");

  CompileOptions options;
  if (Status s = compileFlags.apply(options); !s)
    return fail(s);
  std::unique_ptr<Model> model;
  if (Status s = Model::compileFile(inputFile, options, model); !s)
    return fail(s);
  for (const Diagnostic &d : model->warnings())
    llvm::errs() << d.str() << "\n";
  Status status = Status::success();
  const FunctionSpec *fn = chooseEntry(*model, status);
  if (!fn)
    return fail(status);
  if (Status s = checkOutputs(*model); !s)
    return fail(s);
  std::unique_ptr<State> created;
  if (Status s = State::create(*model, created); !s)
    return fail(s);
  State &state = *created;
  if (Status s = initializeState(state); !s)
    return fail(s);
  StepInputs stepInputs;
  if (Status s = readInputs(*fn, stepInputs); !s)
    return fail(s);
  std::vector<int> reported;
  if (Status s = chooseReported(*model, reported); !s)
    return fail(s);
  std::vector<Tensor> outputs;
  for (const TensorSpec &s : fn->outputs)
    outputs.emplace_back(s);
  std::vector<Tensor *> out;
  for (Tensor &t : outputs)
    out.push_back(&t);

  std::unique_ptr<llvm::raw_fd_ostream> log;
  if (!logFile.empty()) {
    std::error_code ec;
    log = std::make_unique<llvm::raw_fd_ostream>(logFile, ec,
                                                 llvm::sys::fs::OF_Append);
    if (ec)
      return fail(Status::error(logFile + ": cannot open: " + ec.message()));
  }
  bool scalarLoss = !outputs.empty() && outputs[0].spec().numElements() == 1;
  bool progress = !noProgress && ::isatty(STDERR_FILENO) && steps > 1;
  auto start = std::chrono::steady_clock::now();
  auto lastProgress = start;
  uint64_t first = state.stepCount;
  if (untilStep.getNumOccurrences())
    steps = untilStep > first ? untilStep - first : 0;
  std::vector<double> callTimes;
  uint64_t firstAllocs = 0, laterAllocs = 0;
  for (uint64_t k = first; k < first + steps; ++k) {
    std::vector<const Tensor *> in = stepInputs.forStep(k);
    uint64_t allocsBefore = compiledCodeHeapAllocations();
    auto callStart = std::chrono::steady_clock::now();
    if (Status s = model->call(fn->name, state, in, out); !s) {
      // A failed call left the state as it was before it (check-numerics
      // restores it): keep that work in the checkpoint, then fail.
      if (!checkpoint.empty() && k > first)
        if (Status saved = saveCheckpoint(checkpoint, state); saved)
          s.message += "\n(the state after step " +
                       std::to_string(state.stepCount) + " is saved in " +
                       checkpoint + ")";
      return fail(s);
    }
    callTimes.push_back(std::chrono::duration<double>(
                            std::chrono::steady_clock::now() - callStart)
                            .count());
    (k == first ? firstAllocs : laterAllocs) +=
        compiledCodeHeapAllocations() - allocsBefore;
    if (!fn->isStep)
      ++state.stepCount;

    if (log && (k + 1 - first) % logEvery == 0) {
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      *log << logLine(k + 1, stepInputs.epochOf(k), outputs, seconds,
                      seconds > 0 ? (k + 1 - first) / seconds : 0.0)
           << "\n";
      log->flush();
    }
    if (printOutputs)
      printOutputValues(outputs);
    if (!quiet && !printOutputs) {
      if (progress)
        llvm::errs() << "\r\033[K";
      llvm::outs() << stepLine(*model, state, outputs, reported, k) << "\n";
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
  if (stats && !callTimes.empty())
    printStats(callTimes, firstAllocs, laterAllocs);
  if (Status s = reportVariables(*model, state); !s)
    return fail(s);
  return 0;
}
