//===- VersionPrinter.cpp - --version for tape's tools --------------------===//

#include "tape/Support/VersionPrinter.h"

#include "tape/Version.h"

#include "llvm/Config/llvm-config.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/raw_ostream.h"
#include "llvm/TargetParser/Host.h"

#include <string>

void tape::printVersion(llvm::raw_ostream &os, llvm::StringRef tool) {
  os << tool << " (tape) " << TAPE_VERSION_STRING << "\n"
     << "  LLVM and MLIR version " << LLVM_VERSION_STRING << "\n"
     << "  Default target: " << llvm::sys::getDefaultTargetTriple() << "\n"
     << "  Host CPU: " << llvm::sys::getHostCPUName() << "\n";
}

void tape::setVersionPrinter(llvm::StringRef tool) {
  llvm::cl::SetVersionPrinter(
      [name = tool.str()](llvm::raw_ostream &os) { printVersion(os, name); });
}
