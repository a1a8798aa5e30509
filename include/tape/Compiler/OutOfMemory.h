//===- OutOfMemory.h - Tools end with a message when memory runs out -*- C++ -*-===//
//
// An allocation that fails inside LLVM, MLIR or the runtime (operator new,
// report_bad_alloc_error) aborts the process by default, with a crash
// report. The tools install this handler instead: one line on stderr and
// exit status 1, like any other error. (The library does not: an embedding
// process decides for itself; the compiler refuses a state larger than the
// machine's memory before allocating it, see Compiler.cpp.)
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_COMPILER_OUTOFMEMORY_H
#define TAPE_COMPILER_OUTOFMEMORY_H

namespace tape {

/// Makes running out of memory print "<tool>: out of memory (<reason>)"
/// and exit with status 1. Call once, after llvm::InitLLVM.
void exitOnOutOfMemory(const char *tool);

} // namespace tape

#endif // TAPE_COMPILER_OUTOFMEMORY_H
