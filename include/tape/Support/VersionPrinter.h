//===- VersionPrinter.h - --version for tape's tools ------------*- C++ -*-===//
//
// Every tool prints the same --version: its name with tape's version
// (tape/Version.h), then the LLVM and MLIR it was built against and the
// target it compiles for, as LLVM's own tools print them.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_SUPPORT_VERSIONPRINTER_H
#define TAPE_SUPPORT_VERSIONPRINTER_H

#include "llvm/ADT/StringRef.h"

namespace llvm {
class raw_ostream;
} // namespace llvm

namespace tape {

/// Writes `tool`'s version message to `os`:
///   tape-opt (tape) 0.2.0
///     LLVM and MLIR version 22.1.8
///     Default target: x86_64-pc-linux-gnu
///     Host CPU: znver4
void printVersion(llvm::raw_ostream &os, llvm::StringRef tool);

/// Makes --version print printVersion(tool) instead of LLVM's message; call
/// before the command line is parsed.
void setVersionPrinter(llvm::StringRef tool);

} // namespace tape

#endif // TAPE_SUPPORT_VERSIONPRINTER_H
