//===- Npy.cpp - NumPy .npy and .npz files --------------------------------===//

#include "tape/Runtime/Npy.h"
#include "tape/Runtime/Files.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/CRC.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <sstream>
#include <unistd.h>

using namespace tape;

/// The largest .npy file read (1 TiB): far beyond any tensor here, and
/// only a bound: the data must be exactly what the header announces.
static constexpr uint64_t kMaxNpyBytes = uint64_t(1) << 40;

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

/// The header of a .npy file: a Python dict literal such as
/// `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`, parsed
/// into its keys and the text of their values (strings keep their quotes,
/// tuples their parentheses). Blanks are allowed wherever Python allows
/// them; NumPy writes none around the values, other writers do.
static bool parseHeaderDict(llvm::StringRef text,
                            std::map<std::string, std::string> &out) {
  auto skip = [&] { text = text.ltrim(" \t\n\r"); };
  skip();
  if (!text.consume_front("{"))
    return false;
  while (true) {
    skip();
    if (text.consume_front("}"))
      break;
    if (text.empty() || (text.front() != '\'' && text.front() != '"'))
      return false;
    char quote = text.front();
    size_t close = text.find(quote, 1);
    if (close == llvm::StringRef::npos)
      return false;
    std::string key = text.slice(1, close).str();
    text = text.drop_front(close + 1);
    skip();
    if (!text.consume_front(":"))
      return false;
    skip();
    size_t end;
    if (text.starts_with("'") || text.starts_with("\"")) {
      end = text.find(text.front(), 1);
      if (end == llvm::StringRef::npos)
        return false;
      ++end;
    } else if (text.starts_with("(")) {
      end = text.find(')');
      if (end == llvm::StringRef::npos)
        return false;
      ++end;
    } else {
      end = text.find_first_of(",}");
      if (end == llvm::StringRef::npos)
        return false;
    }
    std::string value = text.take_front(end).rtrim(" \t\n\r").str();
    text = text.drop_front(end);
    if (value.empty() || !out.emplace(key, value).second)
      return false; // no value, or a key given twice
    skip();
    if (text.consume_front(","))
      continue;
    if (!text.starts_with("}"))
      return false;
  }
  skip();
  return text.empty();
}

namespace {
/// What a .npy header says about the data that follows it.
struct NpyLayout {
  char kind = 'f';     // 'f' float, 'i' signed, 'u' unsigned, 'b' bool
  unsigned size = 4;   // bytes per element
  bool bigEndian = false;
  bool fortran = false;
  std::vector<int64_t> shape;
  int64_t count = 1;   // elements
  llvm::StringRef data;
  std::string descr;   // as written, for messages

  /// "float64", "uint8", ... (NumPy's names).
  std::string dtypeName() const {
    if (kind == 'b')
      return "bool";
    return std::string(kind == 'f' ? "float" : kind == 'i' ? "int" : "uint") +
           std::to_string(8 * size);
  }
};
} // namespace

/// Parses the header of `bytes` and checks the data's size against it.
static Status parseNpyLayout(const std::string &name, llvm::StringRef bytes,
                             NpyLayout &out) {
  if (bytes.size() < 10 || !bytes.starts_with("\x93NUMPY"))
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
  llvm::StringRef header = bytes.substr(offset, headerLen);
  offset += headerLen;

  std::map<std::string, std::string> dict;
  if (!parseHeaderDict(header, dict) || !dict.count("descr") ||
      !dict.count("fortran_order") || !dict.count("shape"))
    return fail(name, "malformed header: " + header.rtrim().str());
  std::string descr = dict["descr"], fortran = dict["fortran_order"],
              shapeText = dict["shape"];
  if (descr.size() > 2 && descr.front() == '"' && descr.back() == '"')
    descr = "'" + descr.substr(1, descr.size() - 2) + "'";
  out.descr = descr;
  // '<f4', '>i8', '|u1', '|b1', '=f8': byte order, kind, element size.
  llvm::StringRef d(descr);
  unsigned size = 0;
  if (!d.consume_front("'") || !d.consume_back("'") || d.size() < 3 ||
      !llvm::StringRef("<>|=").contains(d[0]) ||
      !llvm::StringRef("fiub").contains(d[1]) ||
      d.drop_front(2).getAsInteger(10, size))
    return fail(name, "unsupported dtype " + descr +
                          " (supported: bool, int8-64, uint8-64, float32 and "
                          "float64, either byte order)");
  out.kind = d[1];
  out.size = size;
  out.bigEndian = d[0] == '>';
  bool known = out.kind == 'f' ? (size == 4 || size == 8)
               : out.kind == 'b' ? size == 1
                                 : (size == 1 || size == 2 || size == 4 ||
                                    size == 8);
  if (!known)
    return fail(name, "unsupported dtype " + descr +
                          " (supported: bool, int8-64, uint8-64, float32 and "
                          "float64, either byte order)");
  if (fortran != "True" && fortran != "False")
    return fail(name, "malformed header: fortran_order is " + fortran);
  out.fortran = fortran == "True";
  if (shapeText.size() < 2 || shapeText.front() != '(' ||
      shapeText.back() != ')')
    return fail(name, "malformed shape " + shapeText);
  std::stringstream ss(shapeText.substr(1, shapeText.size() - 2));
  // (blanks and a trailing comma inside the tuple are allowed)
  std::string item;
  int64_t total = 1;
  while (std::getline(ss, item, ',')) {
    size_t first = item.find_first_not_of(' ');
    if (first == std::string::npos)
      continue; // trailing comma of a 1-tuple
    char *end = nullptr;
    errno = 0;
    long long dim = std::strtoll(item.c_str() + first, &end, 10);
    while (*end == ' ' || *end == '\t' || *end == '\n')
      ++end;
    if (errno || dim < 0 || *end ||
        (dim && total > (int64_t(1) << 40) / dim))
      return fail(name, "malformed shape " + shapeText);
    out.shape.push_back(dim);
    total *= dim;
  }
  out.count = total;
  uint64_t need = uint64_t(total) * size;
  if (bytes.size() - offset < need)
    return fail(name, "truncated data: the header says " + out.dtypeName() +
                          " " + shapeText + " (" + std::to_string(need) +
                          " bytes) but the file has " +
                          std::to_string(bytes.size() - offset));
  if (bytes.size() - offset > need)
    return fail(name, "trailing bytes after the data of " + out.dtypeName() +
                          " " + shapeText);
  out.data = bytes.substr(offset, need);
  return Status::success();
}

/// The tensor dtype a .npy dtype is read as by default (readNpy): itself
/// when the runtime has it, else the widest of its kind.
static DType naturalDType(const NpyLayout &l) {
  if (l.kind == 'f')
    return l.size == 4 ? DType::F32 : DType::F64;
  if (l.kind == 'i' && l.size == 4)
    return DType::I32;
  return DType::I64;
}

/// Element `i` of the data (in file order) as a double or an int64.
static uint64_t rawElement(const NpyLayout &l, int64_t i) {
  const unsigned char *p =
      reinterpret_cast<const unsigned char *>(l.data.data()) + i * l.size;
  uint64_t v = 0;
  for (unsigned k = 0; k < l.size; ++k)
    v |= uint64_t(p[l.bigEndian ? l.size - 1 - k : k]) << (8 * k);
  return v;
}

/// True when the data's bytes are already those of a tensor of `to`:
/// little-endian, C order (or one-dimensional), the same element type.
static bool isTensorLayout(const NpyLayout &l, DType to) {
  bool order = !l.fortran || l.shape.size() <= 1;
  switch (to) {
  case DType::F32:
    return order && !l.bigEndian && l.kind == 'f' && l.size == 4;
  case DType::F64:
    return order && !l.bigEndian && l.kind == 'f' && l.size == 8;
  case DType::I32:
    return order && !l.bigEndian && l.kind == 'i' && l.size == 4;
  case DType::I64:
    return order && !l.bigEndian && l.kind == 'i' && l.size == 8;
  }
  return false;
}

/// parseNpyAs; with `mapping` (the mapped file `bytes` lies in), data that
/// needs no conversion and is 64-byte aligned (np.save aligns it) becomes
/// a view of the mapping instead of a copy.
static Status parseNpyInto(const std::string &name, llvm::StringRef bytes,
                           std::optional<DType> want,
                           const NpyReadOptions &options, Tensor &out,
                           std::string *notice,
                           std::shared_ptr<void> mapping) {
  NpyLayout l;
  if (Status s = parseNpyLayout(name, bytes, l); !s)
    return s;
  DType to = want ? *want : naturalDType(l);
  bool toFloat = to == DType::F32 || to == DType::F64;
  if (l.kind == 'f' && !toFloat)
    return fail(name, "holds " + l.dtypeName() + " but an integer " +
                          dtypeName(to) +
                          " is expected; convert it, e.g. "
                          "np.save(path, np.asarray(x).astype(np.int64))");
  bool scaled = l.kind == 'u' && l.size == 1 && toFloat && options.uint8Scale;
  if (notice && want) {
    if (l.kind == 'f' && l.size == 8 && to == DType::F32)
      *notice = name + ": float64 data read as float32";
    else if (l.kind != 'f' && toFloat)
      *notice = name + ": " + l.dtypeName() + " data read as " +
                dtypeName(to) +
                (scaled ? " times " + std::to_string(*options.uint8Scale) : "");
  }
  TensorSpec spec{to, l.shape};
  if (isTensorLayout(l, to)) {
    void *data = const_cast<char *>(l.data.data());
    if (mapping && reinterpret_cast<uintptr_t>(data) % 64 == 0) {
      out = Tensor::view(spec, data, std::move(mapping));
      return Status::success();
    }
    Tensor t;
    if (!Tensor::tryCreate(spec, t))
      return fail(name, "out of memory: cannot allocate " + spec.str());
    std::memcpy(t.data(), data, spec.numBytes());
    out = std::move(t);
    return Status::success();
  }
  Tensor t;
  if (!Tensor::tryCreate(spec, t))
    return fail(name, "out of memory: cannot allocate " + spec.str());
  // C order: element (i0, ..., ir-1) of a Fortran-ordered file is at
  // i0 + s0 * (i1 + s1 * (...)); walk the C order with an index counter.
  size_t rank = l.shape.size();
  std::vector<int64_t> index(rank, 0), fstride(rank, 1);
  for (size_t k = 1; k < rank; ++k)
    fstride[k] = fstride[k - 1] * l.shape[k - 1];
  int64_t at = 0; // the file position of the current C-order element
  for (int64_t c = 0; c < l.count; ++c) {
    int64_t source = l.fortran ? at : c;
    uint64_t raw = rawElement(l, source);
    if (toFloat) {
      double v;
      if (l.kind == 'f') {
        if (l.size == 4) {
          uint32_t b = uint32_t(raw);
          float f;
          std::memcpy(&f, &b, 4);
          v = f;
        } else {
          std::memcpy(&v, &raw, 8);
        }
      } else if (l.kind == 'i') {
        v = double(int64_t(raw << (64 - 8 * l.size)) >> (64 - 8 * l.size));
      } else {
        v = double(raw);
        if (scaled)
          v *= *options.uint8Scale;
      }
      if (to == DType::F32)
        t.as<float>()[c] = float(v);
      else
        t.as<double>()[c] = v;
    } else {
      // Integers to integers: every value must fit.
      int64_t v = l.kind == 'i'
                      ? int64_t(raw << (64 - 8 * l.size)) >> (64 - 8 * l.size)
                      : int64_t(raw);
      bool fits = to == DType::I64
                      ? (l.kind != 'u' || l.size < 8 || !(raw >> 63))
                      : (l.kind == 'u' ? raw <= uint64_t(INT32_MAX)
                                       : v >= INT32_MIN && v <= INT32_MAX);
      if (!fits)
        return fail(name, "element " + std::to_string(c) + " (" +
                              (l.kind == 'u' ? std::to_string(raw)
                                             : std::to_string(v)) +
                              ") does not fit " + dtypeName(to));
      if (to == DType::I64)
        t.as<int64_t>()[c] = v;
      else
        t.as<int32_t>()[c] = int32_t(v);
    }
    // Advance the C-order index and the matching file position.
    for (size_t k = rank; k-- > 0;) {
      at += fstride[k];
      if (++index[k] < l.shape[k])
        break;
      at -= fstride[k] * l.shape[k];
      index[k] = 0;
    }
  }
  out = std::move(t);
  return Status::success();
}

Status tape::parseNpyAs(const std::string &name, llvm::StringRef bytes,
                        std::optional<DType> want,
                        const NpyReadOptions &options, Tensor &out,
                        std::string *notice) {
  return parseNpyInto(name, bytes, want, options, out, notice, nullptr);
}

Status tape::parseNpy(const std::string &name, llvm::StringRef bytes,
                      Tensor &out) {
  return parseNpyAs(name, bytes, std::nullopt, NpyReadOptions(), out, nullptr);
}

Status tape::readNpyAs(const std::string &path, std::optional<DType> want,
                       const NpyReadOptions &options, Tensor &out,
                       std::string *notice) {
  // Mapped, not read: a dataset stored as the tensor it becomes (np.save of
  // a float32 array for a float32 input) is used in place, so its memory
  // is its pages in the page cache, once; any other is converted from the
  // mapping into one new tensor.
  MappedFile file;
  if (Status s = mapRegularFile(path, ".npy file", kMaxNpyBytes, file); !s)
    return s;
  return parseNpyInto(path, file.bytes, want, options, out, notice,
                      file.region);
}

Status tape::readNpy(const std::string &path, Tensor &out) {
  return readNpyAs(path, std::nullopt, NpyReadOptions(), out, nullptr);
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
  // The classic zip format's limits (no ZIP64 records are written): 16-bit
  // name lengths and entry counts, 32-bit sizes and offsets. Whatever is
  // written can be read back; what cannot is refused before writing.
  if (entries.size() > 0xffff)
    return fail(path, std::to_string(entries.size()) +
                          " entries are more than a .npz can hold (65535)");
  std::string zip, central;
  for (const auto &[name, tensor] : entries) {
    std::string file = name + ".npy";
    if (file.size() > 0xffff)
      return fail(path, "entry name '" + name.substr(0, 64) +
                            "...' is longer than a .npz can hold (65531 bytes)");
    std::string data = encodeNpy(*tensor);
    if (data.size() >= 0xffffffffu || zip.size() >= 0xffffffffu - data.size())
      return fail(path, "entry '" + name +
                            "' does not fit a .npz below 4 GiB");
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
  if (zip.size() + central.size() >= 0xffffffffu)
    return fail(path, "the archive does not fit a .npz below 4 GiB");
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
