//===- Checkpoint.cpp - Save and restore the whole training state ---------===//
//
// The format is tape/Support/CheckpointFormat.h's; this file moves it
// between files and states, through the runtime's .npz writer and reader
// (Npy.h).
//
//===----------------------------------------------------------------------===//

#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Files.h"
#include "tape/Runtime/Npy.h"
#include "tape/Support/CheckpointFormat.h"

#include "llvm/ADT/StringMap.h"

#include <cstring>

using namespace tape;

/// The largest checkpoint file opened (1 TiB, as a .npy): it is mapped,
/// not read, and each array is checked against the model before use.
static constexpr uint64_t kMaxCheckpointBytes = uint64_t(1) << 40;

Status tape::checkCheckpointable(const Model &model) {
  return checkpoint::checkCheckpointable(model.variables());
}

Status tape::saveCheckpoint(const std::string &path, const State &state) {
  const auto &vars = state.model().variables();
  if (Status s = checkpoint::checkCheckpointable(vars); !s)
    return Status::error(path + ": " + s.message);
  std::vector<std::string> names(vars.size());
  std::vector<std::pair<std::string, const Tensor *>> arrays;
  for (size_t i = 0; i < vars.size(); ++i) {
    std::string entry = checkpoint::entryName(vars[i]);
    arrays.push_back({entry.substr(0, entry.size() - 4), &state.variable(i)});
  }
  return writeNpz(path, arrays,
                  {{checkpoint::kMetadataEntry,
                    checkpoint::metadataJSON(vars, state.stepCount)}});
}

/// `message` of a reader that starts with `name: `, without it.
static std::string withoutName(const std::string &name,
                               const std::string &message) {
  llvm::StringRef m(message);
  return m.consume_front(name + ": ") ? m.str() : message;
}

/// A format version 1 checkpoint (TAPECKP1) of a model with state layout `vars`.
static Status readLegacy(llvm::StringRef bytes,
                         const std::vector<VariableSpec> &vars,
                         std::vector<Tensor> &values, uint64_t &steps) {
  size_t at;
  uint64_t count;
  if (Status s = checkpoint::legacy::check(bytes, vars, count, at); !s)
    return s;
  std::vector<Tensor> read(vars.size());
  for (size_t i = 0; i < vars.size(); ++i) {
    if (!Tensor::tryCreate(vars[i].spec, read[i]))
      return Status::error("out of memory reading variable '" + vars[i].name +
                           "'");
    size_t n = vars[i].spec.numBytes();
    std::memcpy(read[i].data(), bytes.data() + at, n);
    at += n;
  }
  values = std::move(read);
  steps = count;
  return Status::success();
}

/// A checkpoint archive of a model with state layout `vars`: every array a
/// variable's, every variable there with its exact dtype and shape, then
/// the metadata's fingerprint that of the layout. Messages leave out the
/// file's name.
static Status readArchive(const std::string &name, llvm::StringRef bytes,
                          const std::vector<VariableSpec> &vars,
                          std::vector<Tensor> &values, uint64_t &steps) {
  if (!bytes.starts_with("PK"))
    return Status::error(
        "neither a .npz archive (a checkpoint, format version 2) nor a "
        "TAPECKP1 file (format version 1)");
  std::unique_ptr<NpzReader> reader;
  if (Status s = NpzReader::openBytes(name, bytes, reader); !s)
    return Status::error(withoutName(name, s.message));
  if (!reader->hasMetadata())
    return Status::error(
        "a .npz archive without metadata.json: arrays, but no step count or "
        "layout (tape-run --init takes the variables of such an archive)");
  std::string text;
  if (Status s = reader->readMetadata(text); !s)
    return Status::error(withoutName(name, s.message));
  checkpoint::Metadata metadata;
  if (Status s = checkpoint::parseMetadata(text, metadata); !s)
    return s;

  // Every name before any data.
  llvm::StringMap<size_t> byName;
  for (size_t v = 0; v < vars.size(); ++v)
    byName.try_emplace(vars[v].name, v);
  std::vector<int64_t> arrayOf(vars.size(), -1);
  for (size_t i = 0; i < reader->size(); ++i) {
    auto it = byName.find(reader->arrayName(i));
    if (it == byName.end())
      return Status::error(withoutName(name, reader->describe(i)) +
                           ": names no variable of the model (a different "
                           "model?)");
    arrayOf[it->second] = int64_t(i);
  }
  for (size_t v = 0; v < vars.size(); ++v)
    if (arrayOf[v] < 0)
      return Status::error("no array for variable '" + vars[v].name +
                           "' (entry '" + checkpoint::entryName(vars[v]) +
                           "') (a different model?)");
  std::vector<Tensor> read(vars.size());
  for (size_t v = 0; v < vars.size(); ++v) {
    // The file's own dtype: a checkpoint is never converted.
    if (Status s = reader->read(size_t(arrayOf[v]), std::nullopt,
                                NpyReadOptions(), read[v], nullptr);
        !s)
      return Status::error(withoutName(name, s.message));
    if (read[v].spec() != vars[v].spec)
      return Status::error("variable '" + vars[v].name + "' is " +
                           read[v].spec().str() + " in the checkpoint, " +
                           vars[v].spec.str() +
                           " in the model (a different model?)");
  }
  std::string expected = checkpoint::fingerprint(vars);
  if (metadata.fingerprint != expected)
    return Status::error(
        "metadata.json's fingerprint " + metadata.fingerprint.substr(0, 16) +
        "... is not this model's " + expected.substr(0, 16) +
        "... (the arrays are this model's variables, but the state layout "
        "differs: another order of the same variables, or the metadata of "
        "another checkpoint)");
  values = std::move(read);
  steps = metadata.steps;
  return Status::success();
}

/// Either version, from its bytes.
static Status readValues(const std::string &name, llvm::StringRef bytes,
                         const std::vector<VariableSpec> &vars,
                         std::vector<Tensor> &values, uint64_t &steps) {
  Status s =
      bytes.starts_with(llvm::StringRef(checkpoint::legacy::kMagic, 8))
          ? readLegacy(bytes, vars, values, steps)
          : readArchive(name, bytes, vars, values, steps);
  if (!s)
    return Status::error(name + ": not a usable checkpoint: " + s.message);
  return s;
}

/// The checkpoint file `path`, mapped.
static Status readCheckpointFile(const std::string &path,
                                 std::unique_ptr<llvm::MemoryBuffer> &out) {
  return readRegularFile(path, "checkpoint", kMaxCheckpointBytes, out);
}

Status tape::loadCheckpoint(const std::string &path, State &state) {
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  if (Status s = readCheckpointFile(path, buffer); !s)
    return s;
  return parseCheckpoint(path, buffer->getBuffer(), state);
}

Status tape::parseCheckpoint(const std::string &name, llvm::StringRef bytes,
                             State &state) {
  std::vector<Tensor> values;
  uint64_t steps;
  if (Status s = readValues(name, bytes, state.model().variables(), values,
                            steps);
      !s)
    return Status::error(s.message + "; the state is unchanged");
  // Everything checked: only now touch the state.
  for (size_t i = 0; i < state.size(); ++i)
    std::memcpy(state.variable(i).data(), values[i].data(),
                values[i].spec().numBytes());
  state.stepCount = steps;
  return Status::success();
}

Status tape::readCheckpointValues(const std::string &path,
                                  const std::vector<VariableSpec> &vars,
                                  std::vector<Tensor> &values,
                                  uint64_t &steps) {
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  if (Status s = readCheckpointFile(path, buffer); !s)
    return s;
  return readValues(path, buffer->getBuffer(), vars, values, steps);
}
