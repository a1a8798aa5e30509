//===- Checkpoint.cpp - Save and restore the whole training state ---------===//
//
// Layout (little-endian):
//   "TAPECKP1" | u32 version | u64 completed steps | u32 variable count |
//   per variable: u32 name length, name, u32 dtype, u32 rank, i64 dims... |
//   per variable: raw data | u32 CRC-32 of everything before it
//
//===----------------------------------------------------------------------===//

#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Files.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CRC.h"

#include <cstring>

using namespace tape;

static constexpr char kMagic[] = "TAPECKP1";
static constexpr uint32_t kVersion = 1;
/// The format's limits, the same for saving and loading: whatever is saved
/// can be loaded.
static constexpr size_t kMaxNameBytes = 4096;
static constexpr size_t kMaxRank = 64;

/// The size of a checkpoint of `vars`.
static uint64_t checkpointBytes(const std::vector<VariableSpec> &vars) {
  uint64_t n = 8 + 4 + 8 + 4 + 4;
  for (const VariableSpec &v : vars)
    n += 4 + v.name.size() + 4 + 4 + 8 * v.spec.shape.size() +
         v.spec.numBytes();
  return n;
}

namespace {
template <typename T> void put(std::string &s, T v) {
  s.append(reinterpret_cast<const char *>(&v), sizeof(T));
}

/// Bounds-checked reading of the checkpoint bytes.
struct Reader {
  llvm::StringRef bytes;
  size_t pos = 0;
  template <typename T> bool get(T &v) {
    if (bytes.size() - pos < sizeof(T))
      return false;
    std::memcpy(&v, bytes.data() + pos, sizeof(T));
    pos += sizeof(T);
    return true;
  }
  bool take(size_t n, std::string &out) {
    if (bytes.size() - pos < n)
      return false;
    out = bytes.substr(pos, n).str();
    pos += n;
    return true;
  }
};
} // namespace

Status tape::checkCheckpointable(const Model &model) {
  for (const VariableSpec &v : model.variables())
    if (v.name.size() > kMaxNameBytes || v.spec.shape.size() > kMaxRank)
      return Status::error(
          "checkpoints cannot hold variable '" + v.name.substr(0, 64) +
          (v.name.size() > 64 ? "..." : "") + "': " +
          (v.name.size() > kMaxNameBytes
               ? "its name has " + std::to_string(v.name.size()) +
                     " bytes (at most " + std::to_string(kMaxNameBytes) + ")"
               : "its rank is " + std::to_string(v.spec.shape.size()) +
                     " (at most " + std::to_string(kMaxRank) + ")"));
  return Status::success();
}

Status tape::saveCheckpoint(const std::string &path, const State &state) {
  if (Status s = checkCheckpointable(state.model()); !s)
    return Status::error(path + ": " + s.message);
  std::string s(kMagic, 8);
  put<uint32_t>(s, kVersion);
  put<uint64_t>(s, state.stepCount);
  const auto &vars = state.model().variables();
  put<uint32_t>(s, uint32_t(vars.size()));
  for (const VariableSpec &v : vars) {
    put<uint32_t>(s, uint32_t(v.name.size()));
    s += v.name;
    put<uint32_t>(s, uint32_t(v.spec.dtype));
    put<uint32_t>(s, uint32_t(v.spec.shape.size()));
    for (int64_t d : v.spec.shape)
      put<int64_t>(s, d);
  }
  for (size_t i = 0; i < state.size(); ++i)
    s.append(static_cast<const char *>(state.variable(i).data()),
             state.variable(i).spec().numBytes());
  put<uint32_t>(s, llvm::crc32(llvm::arrayRefFromStringRef(s)));
  return writeFileAtomically(path, s);
}

Status tape::loadCheckpoint(const std::string &path, State &state) {
  // Bounded by the model: a checkpoint of it has an exact size; a larger
  // file is read (up to twice that and 1 MiB) only to say why it differs.
  uint64_t expected = checkpointBytes(state.model().variables());
  std::unique_ptr<llvm::MemoryBuffer> buffer;
  if (Status s = readRegularFile(path, "checkpoint of this model",
                                 2 * expected + (1 << 20), buffer);
      !s)
    return s;
  return parseCheckpoint(path, buffer->getBuffer(), state);
}

Status tape::parseCheckpoint(const std::string &name, llvm::StringRef bytes,
                             State &state) {
  const std::string &path = name;
  auto bad = [&](const std::string &why) {
    return Status::error(path + ": not a usable checkpoint: " + why +
                         "; the state is unchanged");
  };
  if (bytes.size() < 8 + 4 + 8 + 4 + 4 ||
      !bytes.starts_with(llvm::StringRef(kMagic, 8)))
    return bad("bad magic or truncated file");
  uint32_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
  llvm::StringRef body = bytes.drop_back(4);
  if (llvm::crc32(llvm::arrayRefFromStringRef(body)) != stored)
    return bad("checksum mismatch (truncated or corrupted)");

  Reader r{body, 8};
  uint32_t version, count;
  uint64_t steps;
  if (!r.get(version) || version != kVersion)
    return bad("unsupported version");
  if (!r.get(steps) || !r.get(count))
    return bad("truncated header");
  const auto &vars = state.model().variables();
  if (count != vars.size())
    return bad("it has " + std::to_string(count) + " variables, the model " +
               std::to_string(vars.size()) + " (a different model?)");
  for (const VariableSpec &v : vars) {
    uint32_t nameLen, dtype, rank;
    std::string name;
    if (!r.get(nameLen) || nameLen > kMaxNameBytes ||
        !r.take(nameLen, name) || !r.get(dtype) || !r.get(rank) ||
        rank > kMaxRank)
      return bad("truncated layout");
    TensorSpec spec;
    spec.dtype = DType(dtype);
    for (uint32_t i = 0; i < rank; ++i) {
      int64_t d;
      if (!r.get(d))
        return bad("truncated layout");
      spec.shape.push_back(d);
    }
    if (name != v.name || dtype > uint32_t(DType::I64) || spec != v.spec)
      return bad("variable '" + name + "' does not match the model's '" +
                 v.name + "' " + v.spec.str() + " (a different model?)");
  }
  size_t need = 0;
  for (const VariableSpec &v : vars)
    need += v.spec.numBytes();
  if (body.size() - r.pos != need)
    return bad("data size does not match the layout");
  // Everything checked: only now touch the state.
  for (size_t i = 0; i < state.size(); ++i) {
    size_t n = state.variable(i).spec().numBytes();
    std::memcpy(state.variable(i).data(), body.data() + r.pos, n);
    r.pos += n;
  }
  state.stepCount = steps;
  return Status::success();
}
