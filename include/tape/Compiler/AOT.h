//===- AOT.h - Ahead of time: an object file and its C header ---*- C++ -*-===//
//
// What tape-compile does, as a library call: a module in the tape dialect
// to a relocatable object file and a C header that declares the state
// layout, state create/free functions (the initial values are in the
// object) and one function per public step and host function.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_COMPILER_AOT_H
#define TAPE_COMPILER_AOT_H

#include "tape/Compiler/Compiler.h"

namespace tape {

struct AOTOptions {
  /// Prefix of every generated C symbol; a C identifier.
  std::string prefix = "model";
  /// 'native' (the host's CPU and features) or an LLVM CPU name such as
  /// 'x86-64' for a portable object.
  std::string targetCpu = "native";
};

struct AOTArtifacts {
  std::string object; // the relocatable object file's bytes
  std::string header; // the C header's text
  std::vector<Diagnostic> warnings;
};

/// Compiles `source` for the target; `options.vectorBits` 0 sizes the
/// register tiles for the target CPU's vector registers.
Status compileToObject(const std::string &source, CompileOptions options,
                       const AOTOptions &aot, AOTArtifacts &out);

/// True for a valid C identifier.
bool isCIdentifier(const std::string &s);

} // namespace tape

#endif // TAPE_COMPILER_AOT_H
