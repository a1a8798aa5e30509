//===- NestingGuard.h - Bound the nesting of what an editor sends -*- C++ -*-===//
//
// MLIR's parser is recursive (tape/Support/NestingDepth.h), and the language
// server parses every document the editor sends it: a document nested a few
// hundred thousand brackets deep overflows the stack and kills the server.
// MlirLspServerMain has no hook between the editor's text and the parser,
// so the guard sits on the stream instead, as tape-opt's check sits before
// MlirOptMain: it reads the editor's messages (LSP's Content-Length
// framing) on their way to the server, and a document (didOpen, and didChange,
// which carries the whole text: the server asks for full sync) that nests
// deeper than kMaxNestingDepth reaches the server as blank lines, while the
// diagnostics the server publishes for it are replaced by the nesting error
// on its line. Every other message, and anything that is not a framed
// message (--help, --version), passes unchanged.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LSP_SERVER_NESTINGGUARD_H
#define TAPE_LSP_SERVER_NESTINGGUARD_H

#include "llvm/ADT/STLFunctionalExtras.h"

namespace tape {

/// Runs `server`, which serves LSP on stdin and stdout, behind the guard;
/// returns what `server` returns.
int serveBehindNestingGuard(llvm::function_ref<int()> server);

} // namespace tape

#endif // TAPE_LSP_SERVER_NESTINGGUARD_H
