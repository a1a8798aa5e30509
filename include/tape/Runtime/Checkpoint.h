//===- Checkpoint.h - Save and restore the whole training state -*- C++ -*-===//
//
// A checkpoint holds every variable (optimizer slots, step counters and
// random-number counters included), the number of completed steps and a
// fingerprint of the state layout. It is a NumPy .npz archive: one array
// per variable, named as the variable, and a metadata.json entry, so
// numpy.load (and PyTorch through it) reads it as it is. Saving is atomic
// (a unique temporary, flushed, renamed, the folder flushed); loading
// checks everything before it touches the state. The format is defined in
// tape/Support/CheckpointFormat.h; checkpoints of the earlier format
// (version 1, TAPECKP1) are still loaded.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_RUNTIME_CHECKPOINT_H
#define TAPE_RUNTIME_CHECKPOINT_H

#include "tape/Runtime/Model.h"

#include "llvm/ADT/StringRef.h"

namespace tape {

/// Whether checkpoints of `model` can be written and read back: its
/// variables' names can name archive entries and their ranks fit the
/// format. Checked by saveCheckpoint, and by a tool before it starts
/// training.
Status checkCheckpointable(const Model &model);

/// Saves `state` to `path` (see checkCheckpointable).
Status saveCheckpoint(const std::string &path, const State &state);

/// Loads `path` into `state`. A truncated, corrupted or mismatched (other
/// model) checkpoint gives an error and leaves `state` unchanged. The
/// model must be the checkpoint's: every variable present with its exact
/// dtype and shape, no other array, and the fingerprint of the same state
/// layout.
Status loadCheckpoint(const std::string &path, State &state);

/// Loads a checkpoint's bytes (what loadCheckpoint read from a file, named
/// `name` in messages) into `state`, with the same checks.
Status parseCheckpoint(const std::string &name, llvm::StringRef bytes,
                       State &state);

/// Reads the checkpoint `path` of a model whose state layout is `vars`
/// into `values` (one tensor per variable, in order) and its step count
/// into `steps`, with loadCheckpoint's checks. What tape-compile --weights
/// bakes into an object, which has a layout but no State. On failure
/// `values` and `steps` are unchanged.
Status readCheckpointValues(const std::string &path,
                            const std::vector<VariableSpec> &vars,
                            std::vector<Tensor> &values, uint64_t &steps);

} // namespace tape

#endif // TAPE_RUNTIME_CHECKPOINT_H
