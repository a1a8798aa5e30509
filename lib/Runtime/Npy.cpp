//===- Npy.cpp - NumPy .npy and .npz files --------------------------------===//

#include "tape/Runtime/Npy.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CRC.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

using namespace tape;

static Status fail(const std::string &name, const std::string &what) {
  return Status::error(name + ": " + what);
}

static const char *descrOf(DType d) {
  switch (d) {
  case DType::F32:
    return "<f4";
  case DType::F64:
    return "<f8";
  case DType::I32:
    return "<i4";
  case DType::I64:
    return "<i8";
  }
  return "";
}

/// The value of `key` in a Python dict literal, as text.
static bool dictValue(const std::string &header, const std::string &key,
                      std::string &value) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos)
    return false;
  size_t colon = header.find(':', k);
  if (colon == std::string::npos)
    return false;
  size_t start = header.find_first_not_of(' ', colon + 1);
  if (start == std::string::npos)
    return false;
  size_t end;
  if (header[start] == '(') {
    end = header.find(')', start);
    if (end == std::string::npos)
      return false;
    ++end;
  } else if (header[start] == '\'') {
    end = header.find('\'', start + 1);
    if (end == std::string::npos)
      return false;
    ++end;
  } else {
    end = header.find_first_of(",}", start);
    if (end == std::string::npos)
      return false;
  }
  value = header.substr(start, end - start);
  return true;
}

Status tape::parseNpy(const std::string &name, const std::string &bytes,
                      Tensor &out) {
  if (bytes.size() < 10 || bytes.compare(0, 6, "\x93NUMPY") != 0)
    return fail(name, "not a NumPy .npy file (bad magic)");
  unsigned major = uint8_t(bytes[6]);
  size_t headerLen, offset;
  if (major == 1) {
    headerLen = uint8_t(bytes[8]) | (size_t(uint8_t(bytes[9])) << 8);
    offset = 10;
  } else if (major == 2 || major == 3) {
    if (bytes.size() < 12)
      return fail(name, "truncated header");
    headerLen = 0;
    for (int i = 0; i < 4; ++i)
      headerLen |= size_t(uint8_t(bytes[8 + i])) << (8 * i);
    offset = 12;
  } else {
    return fail(name, "unsupported .npy format version " +
                          std::to_string(major));
  }
  if (headerLen > bytes.size() - offset)
    return fail(name, "truncated header");
  std::string header = bytes.substr(offset, headerLen);
  offset += headerLen;

  std::string descr, fortran, shapeText;
  if (!dictValue(header, "descr", descr) ||
      !dictValue(header, "fortran_order", fortran) ||
      !dictValue(header, "shape", shapeText))
    return fail(name, "malformed header: " + header);
  DType dtype;
  if (descr == "'<f4'")
    dtype = DType::F32;
  else if (descr == "'<f8'")
    dtype = DType::F64;
  else if (descr == "'<i4'")
    dtype = DType::I32;
  else if (descr == "'<i8'")
    dtype = DType::I64;
  else
    return fail(name, "unsupported dtype " + descr +
                          " (supported: little-endian float32, float64, "
                          "int32, int64)");
  if (fortran != "False")
    return fail(name, "Fortran-ordered arrays are not supported");
  if (shapeText.size() < 2 || shapeText.front() != '(' ||
      shapeText.back() != ')')
    return fail(name, "malformed shape " + shapeText);
  TensorSpec spec;
  spec.dtype = dtype;
  std::stringstream ss(shapeText.substr(1, shapeText.size() - 2));
  std::string item;
  int64_t total = 1;
  while (std::getline(ss, item, ',')) {
    size_t first = item.find_first_not_of(' ');
    if (first == std::string::npos)
      continue; // trailing comma of a 1-tuple
    char *end = nullptr;
    errno = 0;
    long long dim = std::strtoll(item.c_str() + first, &end, 10);
    if (errno || dim < 0 || (*end && *end != ' ') ||
        (dim && total > (int64_t(1) << 40) / dim))
      return fail(name, "malformed shape " + shapeText);
    spec.shape.push_back(dim);
    total *= dim;
  }
  size_t need = spec.numBytes();
  if (bytes.size() - offset < need)
    return fail(name, "truncated data: the header says " + spec.str() + " (" +
                          std::to_string(need) + " bytes) but the file has " +
                          std::to_string(bytes.size() - offset));
  if (bytes.size() - offset > need)
    return fail(name, "trailing bytes after the data of " + spec.str());
  out = Tensor(spec);
  std::memcpy(out.data(), bytes.data() + offset, need);
  return Status::success();
}

Status tape::readNpy(const std::string &path, Tensor &out) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return fail(path, std::string("cannot open: ") + std::strerror(errno));
  std::stringstream ss;
  ss << in.rdbuf();
  return parseNpy(path, ss.str(), out);
}

std::string tape::encodeNpy(const Tensor &tensor) {
  const std::vector<int64_t> &dims = tensor.spec().shape;
  std::string shape = "(";
  for (size_t i = 0; i < dims.size(); ++i)
    shape += (i ? ", " : "") + std::to_string(dims[i]);
  shape += dims.size() == 1 ? ",)" : ")";
  std::string header = std::string("{'descr': '") +
                       descrOf(tensor.spec().dtype) +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::string bytes = "\x93NUMPY";
  bytes += char(1);
  bytes += char(0);
  bytes += char(header.size() & 0xff);
  bytes += char(header.size() >> 8);
  bytes += header;
  bytes.append(static_cast<const char *>(tensor.data()),
               tensor.spec().numBytes());
  return bytes;
}

Status tape::writeFileAtomically(const std::string &path,
                                 const std::string &bytes) {
  std::string tmp = path + ".tmp." + std::to_string(::getpid());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0)
    return fail(path, std::string("cannot create: ") + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(path, std::string("cannot write: ") + std::strerror(e));
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail(path, std::string("cannot flush: ") + std::strerror(e));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail(path, std::string("cannot rename: ") + std::strerror(e));
  }
  return Status::success();
}

Status tape::writeNpy(const std::string &path, const Tensor &tensor) {
  return writeFileAtomically(path, encodeNpy(tensor));
}

namespace {
void put16(std::string &s, uint32_t v) {
  s += char(v & 0xff);
  s += char((v >> 8) & 0xff);
}
void put32(std::string &s, uint32_t v) {
  put16(s, v & 0xffff);
  put16(s, v >> 16);
}
} // namespace

Status tape::writeNpz(
    const std::string &path,
    const std::vector<std::pair<std::string, const Tensor *>> &entries) {
  std::string zip, central;
  for (const auto &[name, tensor] : entries) {
    std::string file = name + ".npy";
    std::string data = encodeNpy(*tensor);
    if (data.size() >= 0xffffffffu)
      return fail(path, "entry '" + name + "' is too large for a zip file");
    uint32_t crc = llvm::crc32(llvm::arrayRefFromStringRef(data));
    uint32_t offset = uint32_t(zip.size());
    // Local file header: stored (no compression).
    put32(zip, 0x04034b50);
    put16(zip, 20);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, 0);
    put16(zip, 0x21);
    put32(zip, crc);
    put32(zip, uint32_t(data.size()));
    put32(zip, uint32_t(data.size()));
    put16(zip, uint16_t(file.size()));
    put16(zip, 0);
    zip += file;
    zip += data;
    // Central directory entry.
    put32(central, 0x02014b50);
    put16(central, 20);
    put16(central, 20);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0x21);
    put32(central, crc);
    put32(central, uint32_t(data.size()));
    put32(central, uint32_t(data.size()));
    put16(central, uint16_t(file.size()));
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put16(central, 0);
    put32(central, 0);
    put32(central, offset);
    central += file;
  }
  uint32_t centralOffset = uint32_t(zip.size());
  zip += central;
  put32(zip, 0x06054b50);
  put16(zip, 0);
  put16(zip, 0);
  put16(zip, uint16_t(entries.size()));
  put16(zip, uint16_t(entries.size()));
  put32(zip, uint32_t(central.size()));
  put32(zip, centralOffset);
  put16(zip, 0);
  return writeFileAtomically(path, zip);
}
