//===- Checkpoint.cpp - Save and restore the whole training state ---------===//
//
// The bytes are tape/Support/CheckpointFormat.h's; this file moves them
// between files and states.
//
//===----------------------------------------------------------------------===//

#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Files.h"
#include "tape/Support/CheckpointFormat.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/Endian.h"

#include <cstring>

using namespace tape;

Status tape::checkCheckpointable(const Model &model) {
  return checkpoint::checkCheckpointable(model.variables());
}

Status tape::saveCheckpoint(const std::string &path, const State &state) {
  const auto &vars = state.model().variables();
  if (Status s = checkpoint::checkCheckpointable(vars); !s)
    return Status::error(path + ": " + s.message);
  std::string s = checkpoint::headerBytes(vars, state.stepCount);
  for (size_t i = 0; i < state.size(); ++i)
    s.append(static_cast<const char *>(state.variable(i).data()),
             state.variable(i).spec().numBytes());
  char crc[4];
  llvm::support::endian::write32le(
      crc, llvm::crc32(llvm::arrayRefFromStringRef(s)));
  s.append(crc, 4);
  return writeFileAtomically(path, s);
}

/// The checkpoint file `path` of a model with state layout `vars`, read
/// within a bound: a checkpoint of the model has an exact size; a larger
/// file is read (up to twice that and 1 MiB) only to say why it differs.
static Status readCheckpointFile(const std::string &path,
                                 const std::vector<VariableSpec> &vars,
                                 std::unique_ptr<llvm::MemoryBuffer> &out) {
  return readRegularFile(path, "checkpoint of this model",
                         2 * checkpoint::fileBytes(vars) + (1 << 20), out);
}

Status tape::loadCheckpoint(const std::string &path, State &state) {
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  if (Status s = readCheckpointFile(path, state.model().variables(), buffer);
      !s)
    return s;
  return parseCheckpoint(path, buffer->getBuffer(), state);
}

Status tape::parseCheckpoint(const std::string &name, llvm::StringRef bytes,
                             State &state) {
  uint64_t steps;
  size_t at;
  if (Status s =
          checkpoint::check(bytes, state.model().variables(), steps, at);
      !s)
    return Status::error(name + ": not a usable checkpoint: " + s.message +
                         "; the state is unchanged");
  // Everything checked: only now touch the state.
  for (size_t i = 0; i < state.size(); ++i) {
    size_t n = state.variable(i).spec().numBytes();
    std::memcpy(state.variable(i).data(), bytes.data() + at, n);
    at += n;
  }
  state.stepCount = steps;
  return Status::success();
}

Status tape::readCheckpointValues(const std::string &path,
                                  const std::vector<VariableSpec> &vars,
                                  std::vector<Tensor> &values,
                                  uint64_t &steps) {
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  if (Status s = readCheckpointFile(path, vars, buffer); !s)
    return s;
  llvm::StringRef bytes = buffer->getBuffer();
  size_t at;
  uint64_t stepCount;
  if (Status s = checkpoint::check(bytes, vars, stepCount, at); !s)
    return Status::error(path + ": not a usable checkpoint: " + s.message);
  std::vector<Tensor> read(vars.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!Tensor::tryCreate(vars[i].spec, read[i]))
      return Status::error(path + ": out of memory reading variable '" +
                           vars[i].name + "'");
    size_t n = vars[i].spec.numBytes();
    std::memcpy(read[i].data(), bytes.data() + at, n);
    at += n;
  }
  values = std::move(read);
  steps = stepCount;
  return Status::success();
}
