//===- AOT.h - Ahead of time: an object file and its C header ---*- C++ -*-===//
//
// What tape-compile does, as a library call: a module in the tape dialect
// to a relocatable object file (or its assembly, LLVM IR or the MLIR that
// is translated to LLVM IR) for a target, and a C header that declares the
// state layout, state create/free functions (the initial values are in the
// object: the module's, or trained ones such as a checkpoint's), functions
// that load and save checkpoints in plain C, and one function per public
// step and host function.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_COMPILER_AOT_H
#define TAPE_COMPILER_AOT_H

#include "tape/Compiler/Compiler.h"
#include "tape/Compiler/Target.h"

#include <functional>

namespace tape {

/// Values that replace a module's initial values in the object: trained
/// weights, with the step count they were reached at.
struct InitialState {
  /// One tensor per variable, in the state layout's order (optimizer slots
  /// included), each with the variable's dtype and shape. The callback
  /// (AOTOptions::initialState) gets them holding the module's initial
  /// values and replaces those it has values for.
  std::vector<Tensor> values;
  /// Steps completed: a state created from the object starts counting
  /// here, as a state loaded from the same checkpoint would (0 for values
  /// that come with no step count, such as a .npz archive's).
  uint64_t stepCount = 0;
  /// Where the values come from (a file name), for the header's comment.
  std::string source;
};

/// What compileAOT writes.
enum class AOTOutput {
  Object,   // a relocatable object file
  Assembly, // its assembly text
  LLVMIR,   // the optimised LLVM IR it is generated from, as text
  MLIR,     // the module in the LLVM dialect, as translated to LLVM IR
};

struct AOTOptions {
  /// Prefix of every generated C symbol; a C identifier.
  std::string prefix = "model";
  /// The triple, CPU and features to compile for (default: this machine,
  /// its CPU and features).
  TargetChoice target;
  AOTOutput output = AOTOutput::Object;
  /// When set, called with the compiled module's state layout once it is
  /// known; what it returns is stored in the object instead of the
  /// module's initial values (tape-compile --weights reads a checkpoint or
  /// a .npz archive of variables).
  /// The values are checked against the layout again before use.
  std::function<Status(const std::vector<VariableSpec> &layout,
                       InitialState &out)>
      initialState;
  /// Also store what Model::loadShared needs to run the object from a
  /// shared library (tape-compile --shared): the `tape_model_metadata`
  /// symbol (JSON: format version, state layout, functions, options; see
  /// kSharedModelVersion) and one `<prefix>_<fn>_packed(void **args)`
  /// entry point per public function, calling `<prefix>_<fn>_raw` with
  /// `*args[i]` as its i-th argument.
  bool sharedMetadata = false;
};

/// The metadata's format name and version (tape_model_metadata's "format"
/// and "version"); the loader refuses any other.
constexpr const char *kSharedModelFormat = "tape-shared-model";
constexpr int kSharedModelVersion = 1;
/// The symbol that holds a shared model's metadata (a NUL-terminated
/// JSON text).
constexpr const char *kSharedModelSymbol = "tape_model_metadata";

struct AOTArtifacts {
  /// The object file's bytes, or the text of the other outputs.
  std::string output;
  std::string header; // the C header's text
  /// The target compiled for (CompileTarget::describe).
  std::string target;
  std::vector<Diagnostic> warnings;
  /// What a link of the object needs, e.g. {"-lm"} (the header's "Link
  /// with:" line).
  std::vector<std::string> linkLibraries;
};

/// Compiles `source` for the target; `options.vectorBits` 0 sizes the
/// register tiles for the target CPU's vector registers.
Status compileAOT(const std::string &source, CompileOptions options,
                  const AOTOptions &aot, AOTArtifacts &out);

/// Links `object` (bytes) into the shared library `path` with the
/// system's C compiler driver ($TAPE_CC, else the first of cc, clang,
/// gcc on PATH) and `libraries`; an error names what is missing.
Status linkSharedLibrary(const std::string &object,
                         const std::vector<std::string> &libraries,
                         const std::string &path);

/// True for a valid C identifier.
bool isCIdentifier(const std::string &s);

} // namespace tape

#endif // TAPE_COMPILER_AOT_H
