//===- tape-run.cpp - JIT-compile a module and run its train step ---------===//
//
// Compiles a module in the tape dialect to native code in-process and runs
// N steps, printing the loss (and scalar variables) per step in the seed's
// format. Reads inputs and initial variables from .npy files (a dataset
// file larger than a step's input is cut into batches, optionally
// shuffled), writes variables to .npy/.npz, and checkpoints and resumes the
// whole state. With --data-parallel (or a shared model compiled with it),
// it is one process of an MPI job (docs/DataParallel.md): its rows of each
// global batch, process 0 printing and writing.
//
//===----------------------------------------------------------------------===//

#include "tape/Compiler/Flags.h"
#include "tape/Compiler/OutOfMemory.h"
#include "tape/Compiler/ToolReference.h"
#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Dataset.h"
#include "tape/Runtime/Evaluate.h"
#include "tape/Runtime/Files.h"
#include "tape/Runtime/Model.h"
#include "tape/Runtime/Npy.h"
#include "tape/Support/VersionPrinter.h"
#include "tape/Runtime/Processes.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Format.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/raw_ostream.h"

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <map>
#include <csignal>
#include <sys/resource.h>
#include <unistd.h>

using namespace tape;
namespace cl = llvm::cl;

static cl::OptionCategory category("tape-run options");
static CompileFlags compileFlags;

static const ToolDescription tool{
    "tape-run",
    "JIT-compile a train step and run it",
    "<module.mlir | model.so from tape-compile --shared>",
    "Compiles the module in the tape dialect to native code in this\n"
    "process and runs its training function for --steps steps, printing\n"
    "the loss (and the scalar variables) after each:\n"
    "\n"
    "  tape-run examples/seed/1_assign_sub.mlir --steps 3\n"
    "\n"
    "Inputs come from .npy files or .npz arrays (an array with N times the\n"
    "rows of an input is a dataset, cut into batches), variables from and\n"
    "to .npy and .npz files, and the whole state, optimizer slots and the\n"
    "step count included, from and to checkpoints: .npz archives that\n"
    "numpy.load reads.\n"
    "\n"
    "  tape-run model.mlir --steps 100 --input x.npy --input labels.npy "
    "--checkpoint run.npz\n"
    "  tape-run model.mlir --resume run.npz --steps 50 --input x.npy "
    "--input labels.npy\n"
    "\n"
    "A shared library from tape-compile --shared (a name ending in .so)\n"
    "runs without compiling; every other option works the same, and\n"
    "compile options are refused (they were fixed by tape-compile):\n"
    "\n"
    "  tape-compile model.mlir --shared -o model.so\n"
    "  tape-run model.so --steps 3\n"
    "\n"
    "MLIR's debugging flags work as in tape-opt (tape-opt --help lists\n"
    "them): --mlir-timing, --mlir-print-ir-after-all, ...\n",
    {&category, &compileFlags.category()}};

static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc(tool.arguments),
                                      cl::cat(category));
static cl::opt<std::string>
    entry("entry",
          cl::desc("Function to run each step (default: the host function "
                   "that calls a step, or the only step)"),
          cl::value_desc("function"),
    cl::cat(category));
static cl::opt<uint64_t> steps("steps",
                               cl::desc("Number of steps to run (default 1)"),
                               cl::init(1), cl::value_desc("n"),
    cl::cat(category));
static cl::opt<uint64_t>
    untilStep("until-step",
              cl::desc("Run until the state has completed this many steps "
                       "(counting those of a resumed checkpoint) instead of "
                       "--steps more"),
              cl::init(0), cl::value_desc("n"),
    cl::cat(category));
static cl::list<std::string>
    inputs("input",
           cl::desc("A .npy file, or an array of a .npz archive "
                    "(file.npz:array), per input of the entry, in order; an "
                    "array with N times the rows of the input is a dataset, "
                    "cut into batches"),
           cl::value_desc("file.npy|file.npz:array"),
    cl::cat(category));
static cl::opt<int64_t>
    shuffleSeed("shuffle-seed",
                cl::desc("Shuffle dataset rows every epoch with this seed "
                         "(default: no shuffling)"),
                cl::init(-1), cl::value_desc("seed"),
    cl::cat(category));
static cl::opt<std::string> evalFunction(
    "eval",
    cl::desc("A function that only reads the variables (no step, no "
             "assignment) to evaluate on a dataset: the mean of its scalar "
             "outputs (the loss) and, for a classifier, the accuracy. "
             "Without --steps or --until-step, only evaluates"),
    cl::value_desc("function"),
    cl::cat(category));
static cl::list<std::string> evalInputs(
    "eval-input",
    cl::desc("A .npy file (or file.npz:array) per input of the --eval "
             "function (default: the "
             "--val-split rows of the --input files, else the --input "
             "files)"),
    cl::value_desc("file.npy|file.npz:array"),
    cl::cat(category));
static cl::opt<double> valSplit(
    "val-split",
    cl::desc("Keep this fraction of the --input datasets' rows (the last "
             "ones, as Keras' validation_split) out of training, for --eval"),
    cl::init(0.0), cl::value_desc("fraction"),
    cl::cat(category));
static cl::opt<uint64_t>
    evalEvery("eval-every",
              cl::desc("While training, run --eval every N steps (and after "
                       "the last)"),
              cl::init(0), cl::value_desc("n"),
    cl::cat(category));
static cl::opt<std::string> evalOutput(
    "eval-output",
    cl::desc("Write the --eval function's outputs that have a batch "
             "dimension, over all evaluated rows: the first one to a .npy "
             "file, or every one (as output0, output1, ...) to a .npz file"),
    cl::value_desc("file.npy|file.npz"),
    cl::cat(category));
static cl::list<std::string> setVars(
    "set",
    cl::desc("Set every element of a variable to a value before running "
             "(a hyper-parameter held in a variable, such as a learning "
             "rate, changed without recompiling)"),
    cl::value_desc("name=value"),
    cl::cat(category));
static cl::list<std::string> initVars(
    "init",
    cl::desc("Set variables before running: name=file.npy, "
             "name=file.npz:array, or file.npz (each array of the archive, "
             "e.g. one --save-vars wrote, sets the variable of its name; "
             "the others keep their values)"),
    cl::value_desc("name=file|file.npz"),
    cl::cat(category));
static cl::opt<std::string>
    printVars("print-vars",
              cl::desc("Comma-separated variables to print after each step "
                       "(default: every scalar trainable variable; 'none' "
                       "for none)"),
              cl::value_desc("names|none"),
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
             cl::value_desc("file.npz|folder"),
    cl::cat(category));
static cl::opt<double> uint8Scale(
    "uint8-scale",
    cl::desc("Multiply uint8 .npy data read into float inputs or variables "
             "by this (e.g. 0.00392156862745098 = 1/255 for raw pixels)"),
    cl::value_desc("factor"),
    cl::cat(category));
static cl::opt<std::string> logFile(
    "log",
    cl::desc("Append one JSON line per logged step to this file: step, "
             "epoch, every scalar output (loss first), seconds since the "
             "start, steps per second"),
    cl::value_desc("file"),
    cl::cat(category));
static cl::opt<unsigned> logEvery("log-every",
                                  cl::desc("Log every N steps (default 1)"),
                                  cl::init(1), cl::value_desc("n"),
    cl::cat(category));
static cl::opt<std::string> checkpoint(
    "checkpoint",
    cl::desc("Write the whole state (every variable, optimizer slots "
             "included, and the step count) to this checkpoint after the "
             "run (and every --checkpoint-every steps): a .npz archive, one "
             "array per variable and metadata.json, that numpy.load reads"),
                                       cl::value_desc("file"),
    cl::cat(category));
static cl::opt<uint64_t>
    checkpointEvery("checkpoint-every",
                    cl::desc("Write the checkpoint every N steps (and at the "
                             "end)"),
                    cl::init(0), cl::value_desc("n"),
    cl::cat(category));
static cl::opt<std::string> resume(
    "resume",
    cl::desc("Resume from this checkpoint (of tape-run --checkpoint, the C "
             "API or a compiled program; also the earlier TAPECKP1 format): "
             "every variable and the step count"),
                                   cl::value_desc("checkpoint"),
    cl::cat(category));
static cl::opt<unsigned>
    precision("precision",
              cl::desc("Significant digits of printed values (default 6, as "
                       "the seed prints them); 0 prints the shortest text "
                       "that reads back as the same float"),
              cl::init(6), cl::value_desc("digits"),
    cl::cat(category));
static cl::opt<bool>
    stats("report-stats",
          cl::desc("Print, on stderr, the median time per call, the heap "
                   "allocations of the compiled code (first call, later "
                   "calls) and the peak memory"),
          cl::cat(category));
static cl::opt<bool> noProgress("no-progress",
                                cl::desc("Never show the progress line"),
                                cl::cat(category));
static ReferencePageFlag referencePage(tool);
static cl::opt<double> stepTimeout(
    "step-timeout",
    cl::desc("In a data-parallel run: end the job when a step takes longer "
             "than this many seconds on a process (another process stopped "
             "answering; the first step's start waits at least 600 s for "
             "the others to compile); 0 for no limit (default 600)"),
    cl::value_desc("seconds"), cl::init(600), cl::cat(category));

/// The processes of a data-parallel run (null otherwise).
static std::unique_ptr<Processes> processes;

/// True for the process that prints and writes files: the only one, or
/// process 0 of a data-parallel run.
static bool lead() { return !processes || processes->rank() == 0; }

/// Fails this process; in a data-parallel run of several, the whole job
/// (the others may be waiting for this one in the step's all-reduce).
static int fail(const std::string &message) {
  bool several = processes && processes->count() > 1;
  // One write: the processes' lines must not interleave.
  llvm::errs() << ("tape-run: " +
                   (several ? "process " + std::to_string(processes->rank()) +
                                  ": "
                            : std::string()) +
                   message + "\n");
  if (several)
    processes->abort(1);
  processes.reset();
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

/// The function to train with: named, or the only training host function
/// (one that calls a step or assigns a variable), or (with none) the only
/// step. A function that only reads the variables is never chosen: it is
/// an evaluation (--eval).
static const FunctionSpec *chooseEntry(const Model &model, Status &status) {
  if (!entry.empty()) {
    if (const FunctionSpec *fn = model.findFunction(entry))
      return fn;
    status = Status::error("no public function @" + entry + " in " +
                           inputFile);
    return nullptr;
  }
  std::vector<const FunctionSpec *> hosts, stepFns;
  std::string all;
  for (const FunctionSpec &f : model.functions()) {
    if (f.trains)
      (f.isStep ? stepFns : hosts).push_back(&f);
    all += std::string(all.empty() ? "" : ", ") + "@" + f.name + " (" +
           (f.isStep ? "step" : f.trains ? "trains" : "reads only") + ")";
  }
  if (hosts.size() == 1)
    return hosts.front();
  if (hosts.empty() && stepFns.size() == 1)
    return stepFns.front();
  status = Status::error(
      "cannot choose the function to train with; name it with --entry (" +
      (all.empty() ? std::string("the module has no public function")
                   : "functions: " + all) +
      ")");
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
  if (!notice.empty() && lead())
    llvm::errs() << "tape-run: note: " << notice << "\n";
}

/// Reads an input or a variable: a .npy file, or `file.npz:array` (split
/// at the first ".npz:"), converted to `want` with a notice on stderr for
/// each conversion the reader makes.
static Status readNpyFor(const std::string &path, DType want, Tensor &out) {
  size_t at = path.find(".npz:");
  if (at == std::string::npos && llvm::StringRef(path).ends_with(".npz"))
    return Status::error(path + ": name one array of the archive: " + path +
                         ":<array>");
  std::string notice;
  if (Status s = at != std::string::npos
                     ? readNpzArray(path.substr(0, at + 4),
                                    path.substr(at + 5), want, readOptions(),
                                    out, &notice)
                     : readNpyAs(path, want, readOptions(), out, &notice);
      !s)
    return s;
  printNotice(notice);
  return Status::success();
}

/// --init file.npz: every array of the archive sets the variable of its
/// name (readNpzVariables: every name is checked before any data is read).
static Status initFromArchive(State &state, const std::string &path) {
  const Model &model = state.model();
  std::vector<std::pair<size_t, Tensor>> values;
  std::vector<std::string> notices;
  if (Status s = readNpzVariables(path, model.variables(), readOptions(),
                                  values, &notices);
      !s)
    return s;
  for (const std::string &notice : notices)
    printNotice(notice);
  for (const auto &[index, value] : values)
    if (Status s = state.set(model.variables()[index].name, value); !s)
      return Status::error(path + ": " + s.message);
  size_t total = model.variables().size();
  if (lead())
    llvm::errs() << "tape-run: note: " << path << " set " << values.size()
               << " of " << total << " variables"
               << (values.size() < total ? "; the others keep their values"
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
    if (Status s = loadCheckpoint(resume, state); !s)
      return s;
  // --set last: a hyper-parameter given on the command line wins over the
  // checkpoint's value.
  for (const std::string &spec : setVars) {
    size_t eq = spec.find('=');
    int i = eq == std::string::npos
                ? -1
                : state.model().findVariable(spec.substr(0, eq));
    if (eq == std::string::npos)
      return Status::error("--set expects name=value, got '" + spec + "'");
    if (i < 0)
      return Status::error("--set: no variable '" + spec.substr(0, eq) +
                           "' in the model");
    std::string text = spec.substr(eq + 1);
    double value;
    auto [end, ec] =
        std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc() || end != text.data() + text.size() ||
        !std::isfinite(value))
      return Status::error("--set " + spec.substr(0, eq) +
                           ": not a finite number: '" + text + "'");
    Tensor &v = state.variable(i);
    for (int64_t j = 0; j < v.spec().numElements(); ++j)
      switch (v.spec().dtype) {
      case DType::F32:
        v.as<float>()[j] = float(value);
        break;
      case DType::F64:
        v.as<double>()[j] = value;
        break;
      case DType::I32:
      case DType::I64:
        if (value != std::trunc(value) ||
            std::fabs(value) > (v.spec().dtype == DType::I32 ? 2147483647.0
                                                              : 9.2e18))
          return Status::error("--set " + spec.substr(0, eq) + ": " + text +
                               " is not a " + dtypeName(v.spec().dtype));
        if (v.spec().dtype == DType::I32)
          v.as<int32_t>()[j] = int32_t(value);
        else
          v.as<int64_t>()[j] = int64_t(value);
        break;
      }
  }
  return Status::success();
}

/// Reads `files` as the inputs of `fn` (each in the dtype its input
/// takes; a file read before in that dtype is shared, not read again).
using SourceCache =
    std::map<std::pair<std::string, DType>, std::shared_ptr<Tensor>>;
static Status readSources(const FunctionSpec &fn,
                          const std::vector<std::string> &files,
                          const char *flag, SourceCache &read,
                          std::vector<InputSource> &out) {
  if (files.size() != fn.inputs.size()) {
    std::string want;
    for (const TensorSpec &s : fn.inputs)
      want += " " + s.str();
    return Status::error("@" + fn.name + " takes " +
                         std::to_string(fn.inputs.size()) + " inputs (" +
                         (want.empty() ? " none" : want) + " ), got " +
                         std::to_string(files.size()) + " " + flag +
                         " files");
  }
  for (auto [i, file] : llvm::enumerate(files)) {
    std::shared_ptr<Tensor> &t = read[{file, fn.inputs[i].dtype}];
    if (!t) {
      auto fresh = std::make_shared<Tensor>();
      if (Status s = readNpyFor(file, fn.inputs[i].dtype, *fresh); !s)
        return s;
      t = std::move(fresh);
    }
    out.push_back({file, t});
  }
  return Status::success();
}

/// The rows of the --input datasets that --val-split keeps for
/// evaluation: the last floor(rows * fraction), as Keras'
/// validation_split (before any shuffling).
static Status splitRows(const FunctionSpec &fn,
                        const std::vector<InputSource> &sources,
                        RowRange &training, RowRange &validation) {
  if (valSplit == 0)
    return Status::success();
  for (size_t i = 0; i < sources.size(); ++i) {
    if (sources[i].data->spec() == fn.inputs[i])
      continue;
    int64_t rows = sources[i].data->spec().shape[0];
    int64_t kept = int64_t(double(rows) * valSplit);
    training = {0, rows - kept};
    validation = {rows - kept, rows};
    return Status::success();
  }
  return Status::error("--val-split needs a dataset among the --input files "
                       "(a file with more rows than @" + fn.name +
                       "'s batch)");
}

/// The note on rows a dataset leaves out of each epoch (drop_last).
static void noteDropped(const StepInputs &data, bool training) {
  if (data.droppedRows() && lead())
    llvm::errs() << "tape-run: note: the " << (training ? "" : "evaluation ")
                 << "datasets have " << data.rowsPerEpoch() << " rows, "
                 << data.batchesPerEpoch() << " full batches per epoch; "
                 << data.droppedRows() << " rows are left out of each epoch"
                 << " (drop_last"
                 << (training && shuffleSeed >= 0 ? ", other rows each epoch"
                                                  : "")
                 << ")\n";
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

/// One --log line: {"step": 12, "epoch": 0, "outputs": [0.42],
/// "variables": {"lr": 0.01}, "time_s": 1.5, "steps_per_s": 8.0}. The
/// variables are the scalar ones printed (--print-vars) or --set.
static std::string logLine(uint64_t step, int64_t epoch,
                           const std::vector<Tensor> &outputs,
                           const Model &model, const State &state,
                           const std::vector<int> &logged, double seconds,
                           double stepsPerSecond) {
  llvm::json::Array values;
  for (const Tensor &t : outputs)
    if (t.spec().numElements() == 1)
      values.push_back(t.elementAsDouble(0));
  llvm::json::Object variables;
  for (int i : logged)
    variables[model.variables()[i].name] =
        state.variable(i).elementAsDouble(0);
  llvm::json::Object line{{"step", int64_t(step)},
                          {"epoch", epoch},
                          {"outputs", std::move(values)},
                          {"variables", std::move(variables)},
                          {"time_s", seconds},
                          {"steps_per_s", stepsPerSecond}};
  std::string text;
  llvm::raw_string_ostream os(text);
  os << llvm::json::Value(std::move(line));
  return text;
}

/// Every output the run will write (--checkpoint, --save-vars,
/// --eval-output, --log) is checked before the first step, so a typo
/// costs nothing instead of the run.
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
  if (!evalOutput.empty()) {
    llvm::StringRef path(evalOutput);
    if (evalFunction.empty())
      return Status::error("--eval-output needs --eval");
    if (!path.ends_with(".npy") && !path.ends_with(".npz"))
      return Status::error("--eval-output " + evalOutput +
                           ": name a .npy or .npz file");
    if (Status s = checkWritableFile(evalOutput, "--eval-output"); !s)
      return s;
  }
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

/// --eval: the function and the data it runs on.
struct Evaluation {
  const FunctionSpec *fn = nullptr;
  StepInputs data;
};

/// Writes the batched outputs of the last evaluation (--eval-output).
static Status writeEvalOutputs(const FunctionSpec &fn,
                               BatchedOutputs &collected) {
  auto &results = collected.results();
  if (results.empty())
    return Status::error("--eval-output " + evalOutput + ": no output of @" +
                         fn.name + " has a batch dimension");
  if (llvm::StringRef(evalOutput).ends_with(".npy"))
    return writeNpy(evalOutput, results.front().second);
  std::vector<std::string> names;
  for (auto &r : results)
    names.push_back("output" + std::to_string(r.first));
  std::vector<std::pair<std::string, const Tensor *>> entries;
  for (size_t i = 0; i < results.size(); ++i)
    entries.push_back({names[i], &results[i].second});
  return writeNpz(evalOutput, entries);
}

/// Runs the --eval function over its data once: prints the metrics,
/// appends them to the log and, the last time, writes --eval-output.
static Status runEvaluation(const Model &model, State &state,
                            Evaluation &eval, int64_t epoch,
                            llvm::raw_ostream *log, bool last) {
  const FunctionSpec &fn = *eval.fn;
  BatchedOutputs collected;
  bool collect = last && !evalOutput.empty();
  if (collect)
    if (Status s = BatchedOutputs::create(fn, eval.data.batchRows(),
                                          eval.data.batchesPerEpoch(),
                                          collected);
        !s)
      return s;
  EvalMetrics m;
  std::function<Status(const std::vector<Tensor> &)> onBatch;
  if (collect)
    onBatch = [&](const std::vector<Tensor> &o) { return collected.add(o); };
  if (Status s = evaluate(model, state, fn, eval.data, m, onBatch); !s)
    return s;
  std::string text;
  bool named = false;
  for (size_t o = 0; o < m.outputMeans.size(); ++o) {
    if (std::isnan(m.outputMeans[o]) &&
        fn.outputs[o].numElements() != 1)
      continue;
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", int(precision ? precision : 9),
                  m.outputMeans[o]);
    text += std::string(text.empty() ? "" : ", ") +
            (named ? "output #" + std::to_string(o) : std::string("loss")) +
            " " + buf;
    named = true;
  }
  if (m.accuracy >= 0) {
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*g", int(precision ? precision : 9),
                  m.accuracy);
    text += std::string(text.empty() ? "" : ", ") + "accuracy " + buf;
  }
  if (!quiet)
    llvm::outs() << "Eval @" << fn.name << " after step " << state.stepCount
                 << ": " << (text.empty() ? "no scalar output" : text) << " ("
                 << m.batches * eval.data.batchRows() << " rows in "
                 << m.batches << " batches)\n";
  if (log) {
    llvm::json::Array means;
    for (double v : m.outputMeans)
      means.push_back(std::isnan(v) ? llvm::json::Value(nullptr)
                                    : llvm::json::Value(v));
    llvm::json::Object line{{"step", int64_t(state.stepCount)},
                            {"epoch", epoch},
                            {"eval", fn.name},
                            {"outputs", std::move(means)},
                            {"rows", m.batches * eval.data.batchRows()}};
    if (m.accuracy >= 0)
      line["accuracy"] = m.accuracy;
    *log << llvm::json::Value(std::move(line)) << "\n";
    log->flush();
  }
  if (collect)
    return writeEvalOutputs(fn, collected);
  return Status::success();
}

/// Datasets are memory-mapped: a file that another process truncates while
/// the run reads it raises SIGBUS on the next access to a vanished page.
/// That is reported as what it is, not as a crash.
static void onBusError(int) {
  static const char message[] =
      "tape-run: an input file changed (was truncated) while memory-mapped "
      "by this run; keep dataset files unchanged while training\n";
  (void)!::write(STDERR_FILENO, message, sizeof message - 1);
  ::_exit(1);
}

/// In a data-parallel run, mpirun ends the other processes with SIGTERM
/// when one fails: say so instead of vanishing.
static void onTerminate(int) {
  static const char message[] =
      "tape-run: terminated: another process of the data-parallel job "
      "failed, or the job was stopped\n";
  (void)!::write(STDERR_FILENO, message, sizeof message - 1);
  ::_exit(1);
}

/// Joins the MPI job of a data-parallel model (a job of one without
/// mpirun).
static Status startProcesses() {
  if (Status s = Processes::start(processes); !s)
    return s;
  struct sigaction terminate = {};
  terminate.sa_handler = onTerminate;
  ::sigaction(SIGTERM, &terminate, nullptr);
  return Status::success();
}

/// A failure every process of the job found at the same point (states that
/// differ): the lead process says it, all stop together.
static int failTogether(const Status &status) {
  if (lead())
    llvm::errs() << "tape-run: " << status.str() << "\n";
  processes.reset();
  return 1;
}

/// Processes::checkSameState under the --step-timeout clock.
static Status compareStates(const State &state, const std::string &what) {
  processes->armTimeout(what);
  Status same = processes->checkSameState(state);
  processes->disarmTimeout();
  return same;
}

/// "12:34" or "1:02:03".
static std::string clock(double seconds) {
  long s = long(seconds + 0.5);
  char buf[32];
  if (s >= 3600)
    std::snprintf(buf, sizeof buf, "%ld:%02ld:%02ld", s / 3600, s / 60 % 60,
                  s % 60);
  else
    std::snprintf(buf, sizeof buf, "%ld:%02ld", s / 60, s % 60);
  return buf;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  tape::exitOnOutOfMemory("tape-run");
  struct sigaction busError = {};
  busError.sa_handler = onBusError;
  ::sigaction(SIGBUS, &busError, nullptr);
  tape::setVersionPrinter("tape-run");
  cl::HideUnrelatedOptions(tool.categories);
  cl::ParseCommandLineOptions(argc, argv, toolOverview(tool));

  std::unique_ptr<Model> model;
  if (llvm::StringRef(inputFile).ends_with(".so")) {
    // Compiled already: its compile options were fixed by tape-compile.
    std::string flag = compileFlags.firstGiven();
    if (!flag.empty())
      return fail(flag + " is a compile option: '" + inputFile +
                  "' was compiled by tape-compile --shared, with the options "
                  "given there; give it to tape-compile, or run the .mlir");
    if (Status s = Model::loadShared(inputFile, model); !s)
      return fail(s);
    if (model->dataParallel())
      if (Status s = startProcesses(); !s)
        return fail(s);
  } else {
    CompileOptions options;
    if (Status s = compileFlags.apply(options); !s)
      return fail(s);
    // Every process compiles; the lead one reports.
    if (options.dataParallel)
      if (Status s = startProcesses(); !s)
        return fail(s);
    if (Status s = Model::compileFile(inputFile, options, model); !s)
      return fail(s);
  }
  if (lead())
    for (const Diagnostic &d : model->warnings())
      llvm::errs() << d.str() << "\n";
  // With --eval and no step count, the run only evaluates.
  bool train = !(!evalFunction.empty() && !steps.getNumOccurrences() &&
                 !untilStep.getNumOccurrences());
  Status status = Status::success();
  const FunctionSpec *fn = train ? chooseEntry(*model, status) : nullptr;
  if (train && !fn)
    return fail(status);
  Evaluation eval;
  if (!evalFunction.empty()) {
    eval.fn = model->findFunction(evalFunction);
    if (!eval.fn)
      return fail("--eval: no public function @" + evalFunction + " in " +
                  inputFile);
    if (eval.fn->trains)
      return fail("--eval: @" + evalFunction +
                  " is a training function (a step, or it calls one or "
                  "assigns a variable); evaluation takes one that only "
                  "reads the variables");
  } else if (evalEvery || valSplit != 0 || !evalInputs.empty()) {
    return fail("--eval-every, --val-split and --eval-input need --eval");
  }
  if (!(valSplit >= 0 && valSplit < 1))
    return fail("--val-split must be at least 0 and less than 1, got " +
                std::string(llvm::formatv("{0}", double(valSplit))));
  if (!train && !checkpoint.empty())
    return fail("--checkpoint: nothing trains when --eval runs alone (give "
                "--steps to train too)");
  // The lead process writes every file and evaluates.
  if (lead())
    if (Status s = checkOutputs(*model); !s)
      return fail(s);
  if (!lead())
    eval.fn = nullptr;
  std::unique_ptr<State> created;
  if (Status s = State::create(*model, created); !s)
    return fail(s);
  State &state = *created;
  if (Status s = initializeState(state); !s)
    return fail(s);
  // Data parallelism keeps the processes' variables the same; they must
  // start so. The others may still be compiling: the first comparison
  // waits at least 10 minutes, the steps --step-timeout.
  if (processes) {
    if (!(stepTimeout >= 0))
      return fail("--step-timeout must be 0 (no limit) or more seconds");
    processes->setTimeout(stepTimeout == 0 ? 0.0
                                           : std::max(600.0, double(stepTimeout)));
    if (Status s = compareStates(state, "the comparison of the initial "
                                        "states");
        !s)
      return failTogether(s);
    processes->setTimeout(stepTimeout);
  }

  // The data: the training function's --input files (less the --val-split
  // rows), and the evaluation's --eval-input files or those rows.
  SourceCache files;
  std::vector<InputSource> trainSources, evalSources;
  RowRange trainRows, evalRows;
  StepInputs stepInputs;
  if (train) {
    if (Status s = readSources(*fn, inputs, "--input", files, trainSources);
        !s)
      return fail(s);
    if (Status s = splitRows(*fn, trainSources, trainRows, evalRows); !s)
      return fail(s);
    Shard shard;
    if (processes)
      shard = {processes->rank(), processes->count()};
    if (Status s = StepInputs::create(*fn, trainSources, shuffleSeed,
                                      stepInputs, trainRows, shard);
        !s)
      return fail(s);
    noteDropped(stepInputs, /*training=*/true);
    if (processes && lead())
      llvm::errs() << "tape-run: note: data-parallel over "
                   << processes->count() << " processes"
                   << (stepInputs.hasDataset()
                           ? ": each step trains on " +
                                 std::to_string(stepInputs.globalBatchRows()) +
                                 " rows, " +
                                 std::to_string(stepInputs.batchRows()) +
                                 " on each process"
                           : std::string())
                   << "\n";
  }
  if (eval.fn) {
    bool own = !evalInputs.empty();
    if (Status s = readSources(*eval.fn, own ? evalInputs : inputs,
                               own ? "--eval-input" : "--input", files,
                               evalSources);
        !s)
      return fail(s);
    if (Status s = StepInputs::create(*eval.fn, evalSources, -1, eval.data,
                                      own ? RowRange() : evalRows);
        !s)
      return fail(s);
    noteDropped(eval.data, /*training=*/false);
  }

  std::unique_ptr<llvm::raw_fd_ostream> log;
  if (!logFile.empty() && lead()) {
    std::error_code ec;
    log = std::make_unique<llvm::raw_fd_ostream>(logFile, ec,
                                                 llvm::sys::fs::OF_Append);
    if (ec)
      return fail(Status::error(logFile + ": cannot open: " + ec.message()));
  }
  if (!train) {
    if (eval.fn)
      if (Status s = runEvaluation(*model, state, eval, 0, log.get(), true);
          !s)
        return fail(s);
    if (lead())
      if (Status s = reportVariables(*model, state); !s)
        return fail(s);
    processes.reset();
    return 0;
  }

  std::vector<int> reported;
  if (Status s = chooseReported(*model, reported); !s)
    return fail(s);
  std::vector<int> logged;
  for (int i : reported)
    if (model->variables()[i].spec.numElements() == 1)
      logged.push_back(i);
  for (const std::string &spec : setVars) {
    int i = model->findVariable(spec.substr(0, spec.find('=')));
    if (i >= 0 && model->variables()[i].spec.numElements() == 1 &&
        !llvm::is_contained(logged, i))
      logged.push_back(i);
  }
  std::vector<Tensor> outputs;
  for (const TensorSpec &s : fn->outputs)
    outputs.emplace_back(s);
  std::vector<Tensor *> out;
  for (Tensor &t : outputs)
    out.push_back(&t);

  bool scalarLoss = !outputs.empty() && outputs[0].spec().numElements() == 1;
  bool progress =
      lead() && !noProgress && ::isatty(STDERR_FILENO) && steps > 1;
  bool speak = lead() && !quiet;
  auto start = std::chrono::steady_clock::now();
  auto lastProgress = start;
  uint64_t first = state.stepCount;
  if (untilStep.getNumOccurrences())
    steps = untilStep > first ? untilStep - first : 0;
  std::vector<double> callTimes;
  uint64_t firstAllocs = 0, laterAllocs = 0;
  // The lead process evaluates and writes checkpoints while the others
  // wait in the next step: their clock starts one step later.
  bool leadBusy = false;
  for (uint64_t k = first; k < first + steps; ++k) {
    std::vector<const Tensor *> in = stepInputs.forStep(k);
    uint64_t allocsBefore = compiledCodeHeapAllocations();
    if (processes && (lead() || !leadBusy))
      processes->armTimeout("step " + std::to_string(k + 1));
    auto callStart = std::chrono::steady_clock::now();
    Status called = model->call(fn->name, state, in, out);
    if (processes)
      processes->disarmTimeout();
    if (Status s = std::move(called); !s) {
      // A failed call left the state as it was before it (check-numerics
      // restores it): keep that work in the checkpoint, then fail.
      if (!checkpoint.empty() && k > first && lead())
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

    if (log && (k + 1 - first) % logEvery == 0) {
      double seconds = std::chrono::duration<double>(
                           std::chrono::steady_clock::now() - start)
                           .count();
      *log << logLine(k + 1, stepInputs.epochOf(k), outputs, *model, state,
                      logged, seconds,
                      seconds > 0 ? (k + 1 - first) / seconds : 0.0)
           << "\n";
      log->flush();
    }
    if (printOutputs && lead())
      printOutputValues(outputs);
    if (speak && !printOutputs) {
      if (progress)
        llvm::errs() << "\r\033[K";
      llvm::outs() << stepLine(*model, state, outputs, reported, k) << "\n";
      llvm::outs().flush();
    }
    if (eval.fn && evalEvery && (k + 1 - first) % evalEvery == 0 &&
        k + 1 < first + steps)
      if (Status s = runEvaluation(*model, state, eval, stepInputs.epochOf(k),
                                   log.get(), false);
          !s)
        return fail(s);
    if (!checkpoint.empty() && checkpointEvery &&
        (k + 1 - first) % checkpointEvery == 0) {
      if (processes)
        if (Status s = compareStates(state, "the comparison of the states "
                                            "after step " +
                                                std::to_string(k + 1));
            !s)
          return failTogether(s);
      if (lead())
        if (Status s = saveCheckpoint(checkpoint, state); !s)
          return fail(s);
    }
    leadBusy = (!evalFunction.empty() && evalEvery &&
                (k + 1 - first) % evalEvery == 0) ||
               (!checkpoint.empty() && checkpointEvery &&
                (k + 1 - first) % checkpointEvery == 0);
    auto now = std::chrono::steady_clock::now();
    if (progress && now - lastProgress > std::chrono::milliseconds(500)) {
      lastProgress = now;
      double secs = std::chrono::duration<double>(now - start).count();
      double rate = (k + 1 - first) / secs;
      llvm::errs() << "\r\033[Kstep " << (k + 1) << "/" << (first + steps);
      if (stepInputs.hasDataset())
        llvm::errs() << "  epoch " << (stepInputs.epochOf(k) + 1) << "/"
                     << (stepInputs.epochOf(first + steps - 1) + 1);
      llvm::errs() << "  " << llvm::format("%.1f", rate) << " steps/s  "
                   << clock(secs) << " elapsed, ETA "
                   << clock(double(first + steps - k - 1) / rate);
      if (scalarLoss)
        llvm::errs() << "  loss " << format(outputs[0], 0);
    }
  }
  if (progress)
    llvm::errs() << "\r\033[K";

  if (processes) {
    if (Status s = compareStates(state, "the comparison of the final "
                                        "states");
        !s)
      return failTogether(s);
    if (lead())
      llvm::errs() << "tape-run: note: the variables of the "
                   << processes->count()
                   << " processes are bit-identical after step "
                   << state.stepCount << "\n";
  }
  if (!checkpoint.empty() && lead())
    if (Status s = saveCheckpoint(checkpoint, state); !s)
      return fail(s);
  if (eval.fn)
    if (Status s = runEvaluation(*model, state, eval,
                                 steps ? stepInputs.epochOf(first + steps - 1)
                                       : 0,
                                 log.get(), true);
        !s)
      return fail(s);
  if (stats && !callTimes.empty() && lead())
    printStats(callTimes, firstAllocs, laterAllocs);
  if (lead())
    if (Status s = reportVariables(*model, state); !s)
      return fail(s);
  processes.reset();
  return 0;
}
