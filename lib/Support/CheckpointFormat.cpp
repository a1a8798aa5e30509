//===- CheckpointFormat.cpp - The checkpoint file format ------------------===//

#include "tape/Support/CheckpointFormat.h"
#include "tape/Support/FileNames.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CRC.h"
#include "llvm/Support/Endian.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/SHA256.h"

#include <cstring>

using namespace tape;
using namespace tape::checkpoint;
using namespace tape::checkpoint::legacy;
namespace endian = llvm::support::endian;

namespace {
void put32(std::string &s, uint32_t v) {
  char b[4];
  endian::write32le(b, v);
  s.append(b, 4);
}

void put64(std::string &s, uint64_t v) {
  char b[8];
  endian::write64le(b, v);
  s.append(b, 8);
}

/// Bounds-checked reading of the checkpoint bytes.
struct Reader {
  llvm::StringRef bytes;
  size_t pos = 0;
  bool get32(uint32_t &v) {
    if (bytes.size() - pos < 4)
      return false;
    v = endian::read32le(bytes.data() + pos);
    pos += 4;
    return true;
  }
  bool get64(uint64_t &v) {
    if (bytes.size() - pos < 8)
      return false;
    v = endian::read64le(bytes.data() + pos);
    pos += 8;
    return true;
  }
  bool take(size_t n, llvm::StringRef &out) {
    if (bytes.size() - pos < n)
      return false;
    out = bytes.substr(pos, n);
    pos += n;
    return true;
  }
};
} // namespace

Status checkpoint::checkCheckpointable(const std::vector<VariableSpec> &vars) {
  for (const VariableSpec &v : vars) {
    std::string shown = v.name.substr(0, 64) + (v.name.size() > 64 ? "..." : "");
    std::string entry;
    if (Status s = fileNameForSymbol(v.name, entry); !s)
      return Status::error(
          "checkpoints cannot hold variable '" + shown +
          "': its name cannot name an archive entry (" +
          (v.name.empty() ? std::string("it is empty")
                          : std::to_string(entry.size()) +
                                " bytes encoded, at most " +
                                std::to_string(kMaxFileNameBytes)) +
          "); rename it");
    if (v.spec.shape.size() > kMaxRank)
      return Status::error("checkpoints cannot hold variable '" + shown +
                           "': its rank is " +
                           std::to_string(v.spec.shape.size()) +
                           " (at most " + std::to_string(kMaxRank) + ")");
  }
  return Status::success();
}

std::string checkpoint::entryName(const VariableSpec &v) {
  std::string name;
  (void)fileNameForSymbol(v.name, name);
  return name + ".npy";
}

std::string checkpoint::fingerprint(const std::vector<VariableSpec> &vars) {
  std::string layout = layoutBytes(vars);
  auto hash = llvm::SHA256::hash(llvm::arrayRefFromStringRef(layout));
  return llvm::toHex(hash, /*LowerCase=*/true);
}

/// `s` as a JSON string: JSON strings are UTF-8, and a name from the IR
/// need not be; its bytes stay exact in the entry name.
static std::string jsonText(const std::string &s) {
  return llvm::json::isUTF8(s) ? s : llvm::json::fixUTF8(s);
}

checkpoint::MetadataText
checkpoint::metadataText(const std::vector<VariableSpec> &vars) {
  std::string text;
  size_t stepsAt = 0;
  {
    llvm::raw_string_ostream os(text);
    llvm::json::OStream j(os);
    j.object([&] {
      j.attribute("format", kFormatName);
      j.attribute("version", kFormatVersion);
      // The step count's digits go here.
      j.attributeBegin("step_count");
      j.rawValue([&](llvm::raw_ostream &out) { stepsAt = out.tell(); });
      j.attributeEnd();
      j.attribute("fingerprint", fingerprint(vars));
      j.attributeArray("variables", [&] {
        for (const VariableSpec &v : vars)
          j.object([&] {
            j.attribute("name", jsonText(v.name));
            j.attribute("entry", entryName(v));
            j.attribute("dtype", dtypeName(v.spec.dtype));
            j.attributeArray("shape", [&] {
              for (int64_t d : v.spec.shape)
                j.value(d);
            });
            j.attribute("trainable", v.trainable);
          });
      });
    });
  }
  return {text.substr(0, stepsAt), text.substr(stepsAt)};
}

std::string checkpoint::metadataJSON(const std::vector<VariableSpec> &vars,
                                     uint64_t steps) {
  MetadataText parts = metadataText(vars);
  return parts.prefix + std::to_string(steps) + parts.suffix;
}

Status checkpoint::parseMetadata(llvm::StringRef text, Metadata &out) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed)
    return Status::error("metadata.json is not JSON: " +
                         llvm::toString(parsed.takeError()));
  const llvm::json::Object *root = parsed->getAsObject();
  if (!root)
    return Status::error("metadata.json is not a JSON object");
  std::optional<llvm::StringRef> format = root->getString("format");
  if (!format || *format != kFormatName)
    return Status::error("metadata.json does not say \"format\": \"" +
                         std::string(kFormatName) +
                         "\" (not a tape checkpoint)");
  std::optional<int64_t> version = root->getInteger("version");
  if (!version)
    return Status::error("metadata.json has no integer \"version\"");
  if (*version != kFormatVersion)
    return Status::error(
        "checkpoint format version " + std::to_string(*version) +
        (*version > kFormatVersion ? ", written by a newer tape" : "") +
        "; this tape reads version " + std::to_string(kFormatVersion) +
        " (and version 1 files)");
  const llvm::json::Value *steps = root->get("step_count");
  std::optional<uint64_t> count =
      steps ? steps->getAsUINT64() : std::optional<uint64_t>();
  if (!count)
    return Status::error("metadata.json has no \"step_count\" (an integer "
                         "from 0 to 2^64-1)");
  std::optional<llvm::StringRef> print = root->getString("fingerprint");
  if (!print)
    return Status::error("metadata.json has no \"fingerprint\" string");
  out.steps = *count;
  out.fingerprint = print->str();
  return Status::success();
}

std::string checkpoint::layoutBytes(const std::vector<VariableSpec> &vars) {
  std::string s;
  put32(s, uint32_t(vars.size()));
  for (const VariableSpec &v : vars) {
    put32(s, uint32_t(v.name.size()));
    s += v.name;
    put32(s, uint32_t(v.spec.dtype));
    put32(s, uint32_t(v.spec.shape.size()));
    for (int64_t d : v.spec.shape)
      put64(s, uint64_t(d));
  }
  return s;
}

uint64_t checkpoint::legacy::fileBytes(const std::vector<VariableSpec> &vars) {
  uint64_t n = kPreambleBytes + 4 + 4;
  for (const VariableSpec &v : vars)
    n += 4 + v.name.size() + 4 + 4 + 8 * v.spec.shape.size() +
         v.spec.numBytes();
  return n;
}

Status checkpoint::legacy::check(llvm::StringRef bytes,
                         const std::vector<VariableSpec> &vars,
                         uint64_t &steps, size_t &dataOffset) {
  if (bytes.size() < kPreambleBytes + 4 + 4 ||
      !bytes.starts_with(llvm::StringRef(kMagic, 8)))
    return Status::error("bad magic or truncated file");
  uint32_t stored = endian::read32le(bytes.data() + bytes.size() - 4);
  llvm::StringRef body = bytes.drop_back(4);
  if (llvm::crc32(llvm::arrayRefFromStringRef(body)) != stored)
    return Status::error("checksum mismatch (truncated or corrupted)");

  Reader r{body, 8};
  uint32_t version, count;
  uint64_t stepCount;
  if (!r.get32(version) || version != kVersion)
    return Status::error("unsupported version");
  if (!r.get64(stepCount) || !r.get32(count))
    return Status::error("truncated header");
  if (count != vars.size())
    return Status::error("it has " + std::to_string(count) +
                         " variables, the model " +
                         std::to_string(vars.size()) + " (a different model?)");
  for (const VariableSpec &v : vars) {
    uint32_t nameLen, dtype, rank;
    llvm::StringRef name;
    if (!r.get32(nameLen) || nameLen > kMaxNameBytes ||
        !r.take(nameLen, name) || !r.get32(dtype) || !r.get32(rank) ||
        rank > kMaxRank)
      return Status::error("truncated layout");
    TensorSpec spec;
    spec.dtype = DType(dtype);
    for (uint32_t i = 0; i < rank; ++i) {
      uint64_t d;
      if (!r.get64(d))
        return Status::error("truncated layout");
      spec.shape.push_back(int64_t(d));
    }
    if (name != v.name)
      return Status::error("variable #" + std::to_string(&v - vars.data()) +
                           " is '" + name.str() + "' in the checkpoint, '" +
                           v.name + "' in the model (a different model?)");
    if (dtype > uint32_t(DType::I64))
      return Status::error("variable '" + v.name + "' has dtype code " +
                           std::to_string(dtype) +
                           " in the checkpoint, which no dtype has");
    if (spec != v.spec)
      return Status::error("variable '" + v.name + "' is " + spec.str() +
                           " in the checkpoint, " + v.spec.str() +
                           " in the model (a different model?)");
  }
  size_t need = 0;
  for (const VariableSpec &v : vars)
    need += v.spec.numBytes();
  if (body.size() - r.pos != need)
    return Status::error("data size does not match the layout");
  steps = stepCount;
  dataOffset = r.pos;
  return Status::success();
}
