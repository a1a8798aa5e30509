//===- Checkpoint.cpp - Save and restore the whole training state ---------===//
//
// Layout (little-endian):
//   "TAPECKP1" | u32 version | u64 completed steps | u32 variable count |
//   per variable: u32 name length, name, u32 dtype, u32 rank, i64 dims... |
//   per variable: raw data | u32 CRC-32 of everything before it
//
//===----------------------------------------------------------------------===//

#include "tape/Runtime/Checkpoint.h"
#include "tape/Runtime/Npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CRC.h"

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace tape;

static constexpr char kMagic[] = "TAPECKP1";
static constexpr uint32_t kVersion = 1;

namespace {
template <typename T> void put(std::string &s, T v) {
  s.append(reinterpret_cast<const char *>(&v), sizeof(T));
}

/// Bounds-checked reading of the checkpoint bytes.
struct Reader {
  const std::string &bytes;
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
    out = bytes.substr(pos, n);
    pos += n;
    return true;
  }
};
} // namespace

Status tape::saveCheckpoint(const std::string &path, const State &state) {
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
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return Status::error(path + ": cannot open: " + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  std::string bytes = ss.str();
  auto bad = [&](const std::string &why) {
    return Status::error(path + ": not a usable checkpoint: " + why +
                         "; the state is unchanged");
  };
  if (bytes.size() < 8 + 4 + 8 + 4 + 4 || bytes.compare(0, 8, kMagic, 8) != 0)
    return bad("bad magic or truncated file");
  uint32_t stored;
  std::memcpy(&stored, bytes.data() + bytes.size() - 4, 4);
  std::string body = bytes.substr(0, bytes.size() - 4);
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
    if (!r.get(nameLen) || nameLen > 4096 || !r.take(nameLen, name) ||
        !r.get(dtype) || !r.get(rank) || rank > 64)
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
