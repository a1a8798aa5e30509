//===- tape-compile.cpp - Ahead-of-time: object file + C header -----------===//
//
// A thin main over tape::compileToObject (tape/Compiler/AOT.h): reads the
// module, writes the object and the header. With --weights, the variables
// of a checkpoint (tape-run --checkpoint) or of a .npz archive (tape-run
// --save-vars, numpy.savez) are stored in the object in place of the
// module's initial values.
//
//===----------------------------------------------------------------------===//

#include "tape/Compiler/AOT.h"
#include "tape/Compiler/Flags.h"
#include "tape/Compiler/OutOfMemory.h"
#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Npy.h"

#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/MemoryBuffer.h"
#include "llvm/Support/ToolOutputFile.h"

using namespace tape;
namespace cl = llvm::cl;

static cl::OptionCategory category("tape-compile options");
static cl::opt<std::string> inputFile(cl::Positional, cl::Required,
                                      cl::desc("<module.mlir>"),
                                      cl::cat(category));
static cl::opt<std::string>
    outputFile("o", cl::Required,
               cl::desc("Object file to write (with --shared, or a name "
                        "ending in .so: the shared library)"),
               cl::value_desc("file.o"), cl::cat(category));
static cl::opt<bool> shared(
    "shared",
    cl::desc("Write a shared library that tape-run (and Model::loadShared) "
             "runs without compiling: the object linked with the system's "
             "C compiler driver (cc, or $TAPE_CC), plus the model's "
             "metadata (state layout, functions, options). Implied by an "
             "output name ending in .so. Not with --check-numerics"),
    cl::cat(category));
static cl::opt<std::string> headerFile("header",
                                       cl::desc("C header to write"),
                                       cl::value_desc("file.h"),
                                       cl::cat(category));
static cl::opt<std::string>
    prefix("prefix",
           cl::desc("Prefix of every generated C symbol (default: model)"),
           cl::init("model"), cl::cat(category));
static cl::opt<std::string>
    targetCpu("target-cpu",
              cl::desc("CPU to generate code for: 'native' (the default, the "
                       "host's CPU and features) or an LLVM CPU name such as "
                       "'x86-64' for a portable object"),
              cl::init("native"), cl::cat(category));
static cl::opt<std::string> weightsFile(
    "weights",
    cl::desc("Store the trained state of a checkpoint written by tape-run "
             "--checkpoint (or the C API, or a program's "
             "<prefix>_state_save_checkpoint) in the object instead of the "
             "module's initial values: every variable, optimizer slots "
             "included, and the step count, so that <prefix>_state_create "
             "continues as tape-run --resume would. The checkpoint must be "
             "of this module (same variables, dtypes and shapes). A file "
             "named *.npz (tape-run --save-vars, numpy.savez) is read as "
             "tape-run --init file.npz reads it: each array sets the "
             "variable of its name (converted to its dtype, same shape), "
             "the others keep the module's initial values, and the step "
             "count is 0"),
    cl::value_desc("checkpoint|file.npz"), cl::cat(category));
static CompileFlags compileFlags(category);

static int fail(const std::string &message) {
  llvm::errs() << "tape-compile: " << message << "\n";
  return 1;
}

/// Writes `contents` to `path` (kept only when complete).
static Status writeFile(const std::string &path, const std::string &contents,
                        llvm::sys::fs::OpenFlags flags) {
  std::error_code ec;
  llvm::ToolOutputFile file(path, ec, flags);
  if (ec)
    return Status::error("cannot write '" + path + "': " + ec.message());
  file.os() << contents;
  file.os().flush();
  if (file.os().has_error())
    return Status::error("cannot write '" + path + "'");
  file.keep();
  return Status::success();
}

/// --weights file.npz: the arrays set the variables of their names, as
/// tape-run --init file.npz does; an archive holds no step count (0).
static Status readArchiveWeights(const std::vector<VariableSpec> &layout,
                                 InitialState &out) {
  std::vector<std::pair<size_t, Tensor>> values;
  std::vector<std::string> notices;
  if (Status s = readNpzVariables(weightsFile, layout, NpyReadOptions(),
                                  values, &notices);
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
/// of format version 1); anything else is read as a checkpoint, whose reader says
/// what is wrong with it.
static bool isVariablesArchive(const std::string &path) {
  if (!llvm::StringRef(path).ends_with(".npz"))
    return false;
  std::unique_ptr<NpzReader> reader;
  return !NpzReader::open(path, reader) || !reader->hasMetadata();
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  tape::exitOnOutOfMemory("tape-compile");
  cl::HideUnrelatedOptions(category);
  cl::ParseCommandLineOptions(
      argc, argv,
      "tape-compile: train step -> object file + C header\n\n"
      "The object holds the compiled functions and the initial values; the\n"
      "header declares the state layout, <prefix>_state_create/free, one\n"
      "function per public step and host function, and\n"
      "<prefix>_state_load_checkpoint/save_checkpoint, which read and write\n"
      "tape-run's checkpoints in plain C. The program needs no MLIR or\n"
      "tape library: link the object with the libraries the header's\n"
      "'Link with:' line names (-lm at least). To deploy a model trained\n"
      "with tape-run:\n\n"
      "  tape-run model.mlir --steps 1000 --input x.npy --checkpoint run.ckpt\n"
      "  tape-compile model.mlir --weights run.ckpt -o model.o \\\n"
      "      --header model.h --prefix model\n"
      "  cc main.c model.o -lm\n\n"
      "With --shared (or -o model.so), the output is a shared library that\n"
      "tape-run runs as it runs the module, without compiling it again:\n\n"
      "  tape-compile model.mlir --shared -o model.so\n"
      "  tape-run model.so --steps 1000 --input x.npy\n\n"
      "--weights also takes a .npz archive of variables (tape-run\n"
      "--save-vars vars.npz, or numpy.savez of weights named as the\n"
      "module's variables), read as tape-run --init vars.npz reads it.\n");
  CompileOptions options;
  options.sourceName = inputFile;
  if (Status s = compileFlags.apply(options); !s)
    return fail(s.str());
  auto buffer = llvm::MemoryBuffer::getFile(inputFile, /*IsText=*/true);
  if (!buffer)
    return fail("cannot read '" + inputFile +
                "': " + buffer.getError().message());
  bool sharedLibrary =
      shared || llvm::StringRef(outputFile).ends_with(".so");
  if (sharedLibrary && options.checkNumerics)
    return fail("--check-numerics cannot be used with --shared: its checks "
                "call into tape-run's JIT runtime, which a shared library "
                "does not have; run the module itself (tape-run model.mlir "
                "--check-numerics) to find a NaN");
  AOTOptions aot;
  aot.sharedMetadata = sharedLibrary;
  aot.prefix = prefix;
  aot.targetCpu = targetCpu;
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
  Status s = compileToObject((*buffer)->getBuffer().str(), options, aot,
                             artifacts);
  for (const Diagnostic &d : artifacts.warnings)
    llvm::errs() << d.str() << "\n";
  if (!s)
    return fail(s.str());
  if (sharedLibrary) {
    if (Status w = linkSharedLibrary(artifacts.object,
                                     artifacts.linkLibraries, outputFile);
        !w)
      return fail(w.str());
  } else if (Status w = writeFile(outputFile, artifacts.object,
                                  llvm::sys::fs::OF_None);
             !w) {
    return fail(w.str());
  }
  if (!headerFile.empty())
    if (Status w = writeFile(headerFile, artifacts.header,
                             llvm::sys::fs::OF_Text);
        !w)
      return fail(w.str());
  return 0;
}
