//===- CheckpointC.h - Checkpoint functions in generated C -------*- C++ -*-===//
//
// The part of the AOT header that loads and saves checkpoints: plain C
// (libc, and POSIX's fsync where the program compiles with it) that reads
// and writes the checkpoint archives of tape/Support/CheckpointFormat.h,
// so that a checkpoint moves both ways between tape-run and a deployed
// program.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_LIB_COMPILER_CHECKPOINTC_H
#define TAPE_LIB_COMPILER_CHECKPOINTC_H

#include "tape/Runtime/Status.h"

#include <string>
#include <vector>

namespace tape {

/// What the checkpoint section needs included besides libc, with the
/// header's other includes (before any extern "C"): POSIX's fcntl.h and
/// unistd.h when the program is compiled with POSIX.
std::string checkpointIncludes(const std::string &guard);

/// The header's checkpoint section for a model with state layout `vars`:
/// the error codes and `<prefix>_checkpoint_error_message`, then
/// `<prefix>_state_load_checkpoint` and `<prefix>_state_save_checkpoint`.
/// `guard` is the prefix in capitals (the header's macro prefix). The
/// header declares `<prefix>_state`, `<prefix>_variables` and
/// `<GUARD>_NUM_VARIABLES` before it, and includes errno.h, stdint.h,
/// stdio.h, stdlib.h, string.h and time.h.
std::string checkpointFunctions(const std::vector<VariableSpec> &vars,
                                const std::string &prefix,
                                const std::string &guard);

} // namespace tape

#endif // TAPE_LIB_COMPILER_CHECKPOINTC_H
