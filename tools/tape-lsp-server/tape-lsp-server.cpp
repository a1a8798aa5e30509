//===- tape-lsp-server.cpp - Language server for tape IR ------------------===//
//
// MLIR's language server (upstream MlirLspServerMain: diagnostics, hover,
// go-to-definition, references, completion over JSON-RPC on stdin and
// stdout) with the dialects tape-opt reads: the tape dialect and every
// upstream dialect and extension. As tape-opt bounds the nesting of its
// input before parsing, the server gets no document nested deeper than the
// parser's stack allows (NestingGuard.h). docs/EditorSupport.md wires it
// into an editor.
//
//===----------------------------------------------------------------------===//

#include "NestingGuard.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-lsp-server/MlirLspServerMain.h"
#include "tape/InitTape.h"
#include "tape/Support/VersionPrinter.h"

int main(int argc, char **argv) {
  tape::setVersionPrinter("tape-lsp-server");
  mlir::DialectRegistry registry;
  mlir::tape::registerAllDialectsAndTape(registry);
  return tape::serveBehindNestingGuard([&] {
    return mlir::succeeded(mlir::MlirLspServerMain(argc, argv, registry)) ? 0
                                                                          : 1;
  });
}
