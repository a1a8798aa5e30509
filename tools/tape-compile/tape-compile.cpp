//===- tape-compile.cpp - Ahead-of-time: object file + C header -----------===//
//
// A thin main over tape::compileAOT (tape/Compiler/AOT.h): reads the
// module, writes the object (or its assembly, LLVM IR or MLIR) for a target
// and the header. With --weights, the variables of a checkpoint (tape-run
// --checkpoint) or of a .npz archive (tape-run --save-vars, numpy.savez)
// are stored in the object in place of the module's initial values.
//
//===----------------------------------------------------------------------===//

#include "tape/Compiler/AOT.h"
#include "tape/Compiler/Flags.h"
#include "tape/Compiler/OutOfMemory.h"
#include "tape/Compiler/ToolReference.h"
#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Npy.h"
#include "tape/Support/VersionPrinter.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace tape;
namespace cl = llvm::cl;

static cl::OptionCategory category("tape-compile options");
static CompileFlags compileFlags;

static const ToolDescription tool{
    "tape-compile",
    "Compile a train step ahead of time: an object file and its C header",
    "<module.mlir>",
    "The object holds the compiled functions and the initial values; the\n"
    "header declares the state layout, <prefix>_state_create/free, one\n"
    "function per public step and host function, and\n"
    "<prefix>_state_load_checkpoint/save_checkpoint, which read and write\n"
    "tape-run's checkpoints (.npz archives) in plain C. The program needs\n"
    "no MLIR or tape library: link the object with the libraries the\n"
    "header's 'Link with:' line names (-lm at least); its 'Target:' line\n"
    "names the machine the object is for. To deploy a model trained with\n"
    "tape-run:\n"
    "\n"
    "  tape-run model.mlir --steps 1000 --input x.npy --checkpoint run.npz\n"
    "  tape-compile model.mlir --weights run.npz -o model.o --header model.h "
    "--prefix model\n"
    "  cc main.c model.o -lm\n"
    "\n"
    "With --shared (or -o model.so), the output is a shared library that\n"
    "tape-run runs as it runs the module, without compiling it again:\n"
    "\n"
    "  tape-compile model.mlir --shared -o model.so\n"
    "  tape-run model.so --steps 1000 --input x.npy\n"
    "\n"
    "--weights also takes a .npz archive of variables (tape-run --save-vars\n"
    "vars.npz, or numpy.savez of weights named as the module's variables),\n"
    "read as tape-run --init vars.npz reads it.\n"
    "\n"
    "The target is this machine's unless --mtriple, --mcpu or --mattr say\n"
    "otherwise (llc's names); --mcpu=help and --mattr=help list a target's\n"
    "CPUs and features. --emit shows what is compiled, and -o - writes it\n"
    "to stdout:\n"
    "\n"
    "  tape-compile model.mlir --mtriple aarch64-linux-gnu --mcpu neoverse-v1 "
    "-o model.o\n"
    "  tape-compile model.mlir --emit=asm -o - | less\n",
    {&category, &compileFlags.category()}};

static cl::opt<std::string> inputFile(cl::Positional, cl::desc(tool.arguments),
                                      cl::cat(category));
static cl::opt<std::string> outputFile(
    "o",
    cl::desc("File to write: the object file, or what --emit names ('-': "
             "stdout); with --shared, or a name ending in .so, the shared "
             "library"),
    cl::value_desc("file"), cl::cat(category));
static cl::opt<std::string> emit(
    "emit",
    cl::desc("What to write: obj (an object file, the default), asm (its "
             "assembly), llvm (the optimised LLVM IR it is generated from), "
             "mlir (the module in the LLVM dialect, as translated to LLVM "
             "IR; tape-opt --tape-to-llvm shows each stage)"),
    cl::value_desc("obj|asm|llvm|mlir"), cl::init("obj"), cl::cat(category));
static cl::opt<bool> shared(
    "shared",
    cl::desc("Write a shared library that tape-run (and Model::loadShared) "
             "runs without compiling: the object linked with the system's "
             "C compiler driver (cc, or $TAPE_CC), plus the model's "
             "metadata (state layout, functions, options). Implied by an "
             "output name ending in .so. Not with --check-numerics, --emit "
             "other than obj, or another machine's --mtriple"),
    cl::cat(category));
static cl::opt<std::string> headerFile("header",
                                       cl::desc("C header to write ('-': "
                                                "stdout)"),
                                       cl::value_desc("file.h"),
                                       cl::cat(category));
static cl::opt<std::string>
    prefix("prefix",
           cl::desc("Prefix of every generated C symbol (default: model)"),
           cl::value_desc("name"), cl::init("model"), cl::cat(category));
static cl::opt<std::string> targetTriple(
    "mtriple",
    cl::desc("Target triple to compile for, such as x86_64-linux-gnu or "
             "aarch64-linux-gnu (default: this machine's); 64-bit "
             "little-endian targets only"),
    cl::value_desc("triple"), cl::cat(category));
static cl::opt<std::string> targetCpu(
    "mcpu",
    cl::desc("CPU to compile for: 'native' (this machine's CPU and "
             "features, the default for this machine's triple), an LLVM CPU "
             "name such as 'x86-64' for a portable object (the default for "
             "another triple: 'generic'), or 'help' to list the target's "
             "CPUs"),
    cl::value_desc("cpu"), cl::cat(category));
static cl::alias targetCpuAlias("target-cpu", cl::desc("Alias for --mcpu"),
                                cl::aliasopt(targetCpu), cl::Hidden);
static cl::opt<std::string> targetFeatures(
    "mattr",
    cl::desc("CPU features to add (+name) or remove (-name), "
             "comma-separated, such as +avx2,-avx512f; 'help' lists the "
             "target's features"),
    cl::value_desc("+a,-b"), cl::cat(category));
static cl::opt<std::string> weightsFile(
    "weights",
    cl::desc("Store the trained state of a checkpoint written by tape-run "
             "--checkpoint (or the C API, or a program's "
             "<prefix>_state_save_checkpoint) in the object instead of the "
             "module's initial values: every variable, optimizer slots "
             "included, and the step count, so that <prefix>_state_create "
             "continues as tape-run --resume would. The checkpoint must be "
             "of this module (same variables, dtypes and shapes). A .npz "
             "archive that is not a checkpoint (tape-run --save-vars, "
             "numpy.savez; named *.npz) is read as tape-run --init file.npz "
             "reads it: each array sets the variable of its name (converted "
             "to its dtype, same shape), the others keep the module's "
             "initial values, and the step count is 0"),
    cl::value_desc("checkpoint|file.npz"), cl::cat(category));
static ReferencePageFlag referencePage(tool);

static int fail(const std::string &message) {
  llvm::errs() << "tape-compile: " << message << "\n";
  return 1;
}

/// Writes `contents` to `path` ('-': stdout; otherwise kept only when
/// complete). The contents are whole before this is called, so a pipe,
/// which cannot seek, takes them as well as a file.
static Status writeFile(const std::string &path, const std::string &contents,
                        llvm::sys::fs::OpenFlags flags) {
  std::error_code ec;
  llvm::ToolOutputFile file(path, ec, flags);
  if (ec)
    return Status::error("cannot write '" + path + "': " + ec.message());
  file.os() << contents;
  file.os().flush();
  if (file.os().has_error()) {
    std::string why = file.os().error().message();
    file.os().clear_error();
    return Status::error("cannot write '" + path + "': " + why);
  }
  file.keep();
  return Status::success();
}

/// --weights file.npz: the arrays set the variables of their names, as
/// tape-run --init file.npz does; an archive holds no step count (0).
static Status readArchiveWeights(const std::vector<VariableSpec> &layout,
                                 InitialState &out) {
  std::vector<std::pair<size_t, Tensor>> values;
  std::vector<std::string> notices;
  if (Status s = readNpzVariables(weightsFile, layout, NpyReadOptions(), values,
                                  &notices);
      !s)
    return s;
  for (const std::string &notice : notices)
    llvm::errs() << "tape-compile: note: " << notice << "\n";
  for (auto &[index, value] : values)
    out.values[index] = std::move(value);
  out.stepCount = 0;
  size_t total = layout.size();
  llvm::errs() << "tape-compile: note: " << weightsFile << " set "
               << values.size() << " of " << total << " variables"
               << (values.size() < total
                       ? "; the others keep the module's initial values"
                       : "")
               << "; step count 0 (a .npz holds none)\n";
  return Status::success();
}

/// --weights takes a .npz of variables when the file is named *.npz and
/// is not a checkpoint (an archive with metadata.json, or a TAPECKP1 file
/// of format version 1); anything else is read as a checkpoint, whose
/// reader says what is wrong with it.
static bool isVariablesArchive(const std::string &path) {
  if (!llvm::StringRef(path).ends_with(".npz"))
    return false;
  std::unique_ptr<NpzReader> reader;
  return !NpzReader::open(path, reader) || !reader->hasMetadata();
}

/// --emit's value.
static Status parseEmit(AOTOutput &out) {
  static const std::pair<const char *, AOTOutput> kinds[] = {
      {"obj", AOTOutput::Object},
      {"asm", AOTOutput::Assembly},
      {"llvm", AOTOutput::LLVMIR},
      {"mlir", AOTOutput::MLIR}};
  for (const auto &[name, kind] : kinds)
    if (emit == name) {
      out = kind;
      return Status::success();
    }
  return Status::error("--emit must be obj, asm, llvm or mlir, got '" + emit +
                       "'");
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  tape::exitOnOutOfMemory("tape-compile");
  tape::setVersionPrinter("tape-compile");
  cl::HideUnrelatedOptions(tool.categories);
  cl::ParseCommandLineOptions(argc, argv, toolOverview(tool));
  // --mcpu=help and --mattr=help list the target's names; nothing else is
  // needed for that.
  if (targetCpu == "help" || targetFeatures == "help") {
    std::string list;
    if (Status s = listTarget(targetTriple, targetFeatures == "help", list); !s)
      return fail(s.str());
    llvm::outs() << list;
    return 0;
  }
  if (inputFile.empty() || outputFile.empty())
    return fail(std::string(inputFile.empty() ? "no module to compile"
                                              : "no output file (-o)") +
                "; usage: tape-compile [options] " + tool.arguments +
                " -o <file> (tape-compile --help)");
  CompileOptions options;
  options.sourceName = inputFile;
  if (Status s = compileFlags.apply(options); !s)
    return fail(s.str());
  AOTOptions aot;
  if (Status s = parseEmit(aot.output); !s)
    return fail(s.str());
  bool toStdout = outputFile == "-";
  bool sharedLibrary =
      shared || (!toStdout && llvm::StringRef(outputFile).ends_with(".so"));
  if (sharedLibrary && options.checkNumerics)
    return fail("--check-numerics cannot be used with --shared: its checks "
                "call into tape-run's JIT runtime, which a shared library "
                "does not have; run the module itself (tape-run model.mlir "
                "--check-numerics) to find a NaN");
  if (sharedLibrary && aot.output != AOTOutput::Object)
    return fail("--shared links an object file: it cannot be used with "
                "--emit=" +
                emit);
  if (sharedLibrary && toStdout)
    return fail("--shared writes a shared library to a file (the linker "
                "needs one): name it with -o, not '-'");
  if (toStdout && headerFile == "-")
    return fail("-o - and --header - both write to stdout: send one of them "
                "to a file");
  auto buffer = llvm::MemoryBuffer::getFile(inputFile, /*IsText=*/true);
  if (!buffer)
    return fail("cannot read '" + inputFile +
                "': " + buffer.getError().message());
  aot.sharedMetadata = sharedLibrary;
  aot.prefix = prefix;
  aot.target = {targetTriple, targetCpu, targetFeatures};
  if (!weightsFile.empty())
    aot.initialState = [](const std::vector<VariableSpec> &layout,
                          InitialState &out) {
      out.source = weightsFile;
      Status s = isVariablesArchive(weightsFile)
                     ? readArchiveWeights(layout, out)
                     : readCheckpointValues(weightsFile, layout, out.values,
                                            out.stepCount);
      return s ? s : Status::error("--weights " + s.message);
    };
  AOTArtifacts artifacts;
  Status s = compileAOT((*buffer)->getBuffer().str(), options, aot, artifacts);
  for (const Diagnostic &d : artifacts.warnings)
    llvm::errs() << d.str() << "\n";
  if (!s)
    return fail(s.str());
  if (sharedLibrary) {
    if (Status w = linkSharedLibrary(artifacts.output, artifacts.linkLibraries,
                                     outputFile);
        !w)
      return fail(w.str());
  } else if (Status w = writeFile(outputFile, artifacts.output,
                                  aot.output == AOTOutput::Object
                                      ? llvm::sys::fs::OF_None
                                      : llvm::sys::fs::OF_Text);
             !w) {
    return fail(w.str());
  }
  if (!headerFile.empty())
    if (Status w =
            writeFile(headerFile, artifacts.header, llvm::sys::fs::OF_Text);
        !w)
      return fail(w.str());
  return 0;
}
