//===- Npy.cpp - NumPy .npy and .npz files --------------------------------===//

#include "tape/Runtime/Npy.h"
#include "tape/Runtime/Files.h"
#include "tape/Support/CheckpointFormat.h"
#include "tape/Support/NpyFormat.h"

#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/ADT/StringMap.h"

#include <zip.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <iterator>
#include <map>
#include <new>
#include <unistd.h>

using namespace tape;

/// The largest .npy file read (1 TiB): far beyond any tensor here, and
/// only a bound: the data must be exactly what the header announces.
static constexpr uint64_t kMaxNpyBytes = uint64_t(1) << 40;
/// The largest metadata.json read (256 MiB): a checkpoint's is about 150
/// bytes per variable.
static constexpr uint64_t kMaxMetadataBytes = uint64_t(1) << 28;

static Status fail(const std::string &name, const std::string &what) {
  return Status::error(name + ": " + what);
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
  // (blanks and a trailing comma inside the tuple are allowed)
  llvm::SmallVector<llvm::StringRef, 8> items;
  llvm::StringRef(shapeText).drop_front().drop_back().split(items, ',');
  int64_t total = 1;
  for (auto [i, item] : llvm::enumerate(items)) {
    item = item.trim(" \t\n\r");
    if (item.empty() && i + 1 == items.size() && i > 0)
      continue; // trailing comma of a 1-tuple
    if (item.empty() && items.size() == 1)
      continue; // ()
    uint64_t dim;
    if (item.getAsInteger(10, dim) || dim > (uint64_t(1) << 40) ||
        (dim && uint64_t(total) > (uint64_t(1) << 40) / dim))
      return fail(name, "malformed shape " + shapeText);
    out.shape.push_back(int64_t(dim));
    total *= int64_t(dim);
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
  std::string bytes = npyHeader(tensor.spec());
  bytes.append(static_cast<const char *>(tensor.data()),
               tensor.spec().numBytes());
  return bytes;
}

Status tape::writeNpy(const std::string &path, const Tensor &tensor) {
  return writeFileAtomically(path, encodeNpy(tensor));
}

//===----------------------------------------------------------------------===//
// .npz archives (libzip)
//===----------------------------------------------------------------------===//

/// The text of libzip's error `code` (as zip_open reports it).
static std::string zipErrorText(int code) {
  zip_error_t error;
  zip_error_init_with_code(&error, code);
  std::string text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return text;
}

/// Adds the entry `file` to `za`, stored (no compression) like
/// numpy.savez: the concatenation of `parts`, dated 1980-01-01. libzip reads them from where
/// they are when the archive is written; nothing is copied.
static Status addStoredEntry(zip_t *za, const std::string &path,
                             const std::string &file,
                             llvm::ArrayRef<llvm::StringRef> parts) {
  zip_buffer_fragment_t fragments[2];
  zip_uint64_t count = 0;
  for (llvm::StringRef part : parts)
    if (!part.empty())
      fragments[count++] = {reinterpret_cast<zip_uint8_t *>(
                                const_cast<char *>(part.data())),
                            part.size()};
  zip_error_t error;
  zip_error_init(&error);
  zip_source_t *source =
      zip_source_buffer_fragment_create(fragments, count, /*freep=*/0, &error);
  if (!source) {
    std::string text = zip_error_strerror(&error);
    zip_error_fini(&error);
    return fail(path, "entry '" + file + "': " + text);
  }
  zip_error_fini(&error);
  zip_int64_t index = zip_file_add(za, file.c_str(), source, ZIP_FL_ENC_UTF_8);
  if (index < 0) {
    zip_source_free(source);
    return fail(path, "entry '" + file + "': " + zip_strerror(za));
  }
  // Dated 1980-01-01 00:00 (the earliest DOS date), as reproducible zips
  // are: the same arrays give the same archive, whenever saved.
  if (zip_set_file_compression(za, zip_uint64_t(index), ZIP_CM_STORE, 0) !=
          0 ||
      zip_file_set_dostime(za, zip_uint64_t(index), 0, 0x21, 0) != 0)
    return fail(path, "entry '" + file + "': " + zip_strerror(za));
  return Status::success();
}

/// The 22 bytes of a zip archive without entries (an end of central
/// directory record and nothing else). libzip deletes an archive that
/// would be empty instead of writing one.
static std::string emptyZip() {
  std::string bytes = "PK\x05\x06";
  bytes.append(18, '\0');
  return bytes;
}

Status tape::writeNpz(
    const std::string &path,
    const std::vector<std::pair<std::string, const Tensor *>> &entries,
    const std::vector<std::pair<std::string, std::string>> &files) {
  if (entries.empty() && files.empty())
    return writeFileAtomically(path, emptyZip());
  // libzip writes the archive to a temporary of its own next to `tmp` and
  // renames it over `tmp` in zip_close; commitTemporary then flushes `tmp`
  // and renames it over `path`. Killed midway, either temporary is
  // `<path>.tmp.<pid>...`, which the next save removes.
  int fd;
  std::string tmp;
  if (Status s = createTemporaryFor(path, fd, tmp); !s)
    return s;
  ::close(fd);
  int code = 0;
  zip_t *za = zip_open(tmp.c_str(), ZIP_CREATE | ZIP_TRUNCATE, &code);
  if (!za) {
    ::unlink(tmp.c_str());
    return fail(path, "cannot start the archive: " + zipErrorText(code));
  }
  auto abandon = [&](Status s) {
    zip_discard(za);
    ::unlink(tmp.c_str());
    return s;
  };
  // The headers must live until zip_close, which reads them.
  std::vector<std::string> headers;
  headers.reserve(entries.size());
  for (const auto &[name, tensor] : entries) {
    headers.push_back(npyHeader(tensor->spec()));
    llvm::StringRef data(static_cast<const char *>(tensor->data()),
                         tensor->spec().numBytes());
    if (Status s = addStoredEntry(za, path, name + ".npy",
                                  {headers.back(), data});
        !s)
      return abandon(s);
  }
  for (const auto &[name, bytes] : files)
    if (Status s = addStoredEntry(za, path, name, {bytes}); !s)
      return abandon(s);
  if (zip_close(za) != 0) {
    std::string text = zip_strerror(za);
    return abandon(fail(path, "cannot write: " + text));
  }
  return commitTemporary(tmp, path);
}

/// The largest deflate expansion: 258 bytes from a code of at least two
/// bits gives at most 1032 output bytes per input byte.
static constexpr uint64_t kMaxDeflateRatio = 1032;

/// `text` with control bytes, quotes and backslashes as \xHH, for messages
/// that quote names from an archive.
static std::string printable(llvm::StringRef text) {
  std::string out;
  for (unsigned char c : text) {
    if (c < 0x20 || c == 0x7f || c == '\'' || c == '\\') {
      out += "\\x";
      out += llvm::hexdigit(c >> 4, /*LowerCase=*/true);
      out += llvm::hexdigit(c & 15, /*LowerCase=*/true);
    } else {
      out += char(c);
    }
  }
  return out;
}

/// The bytes of memory this machine has.
static uint64_t physicalMemory() {
  long pages = ::sysconf(_SC_PHYS_PAGES), size = ::sysconf(_SC_PAGESIZE);
  return pages > 0 && size > 0 ? uint64_t(pages) * uint64_t(size)
                               : kMaxNpyBytes;
}

namespace {
/// One array of an archive: its zip entry and what the directory states.
struct NpzEntry {
  zip_uint64_t index;
  std::string raw;   // the entry's name in the archive, "w.npy"
  std::string array; // the array's name, "w"
  uint64_t size;     // uncompressed bytes, as stated
};
} // namespace

struct NpzReader::Impl {
  std::string name; // the archive, in messages
  std::unique_ptr<llvm::MemoryBuffer> file;
  zip_t *za = nullptr;
  std::vector<NpzEntry> entries;
  llvm::StringMap<size_t> byName;
  /// A checkpoint's metadata.json, when the archive has one.
  std::optional<NpzEntry> metadata;

  ~Impl() {
    if (za)
      zip_discard(za);
  }
  std::string describe(const std::string &raw) const {
    return name + ": entry '" + printable(raw) + "'";
  }
  Status check(const zip_stat_t &st, uint64_t archiveBytes) const;
  Status add(zip_uint64_t index, uint64_t archiveBytes);
};

/// Checks what the central directory states about one entry before any of
/// it is read: a .npy, unencrypted, stored or deflated, and sizes that the
/// archive (and this machine) can hold.
Status NpzReader::Impl::check(const zip_stat_t &st,
                              uint64_t archiveBytes) const {
  std::string what = describe(st.name);
  llvm::StringRef raw(st.name);
  if (!raw.ends_with(".npy") && raw != checkpoint::kMetadataEntry)
    return Status::error(what + ": not a .npy array (a .npz archive holds "
                                "only <name>.npy entries, and a "
                                "checkpoint's metadata.json)");
  if (raw == ".npy")
    return Status::error(what + ": no array name before .npy");
  if ((st.valid & ZIP_STAT_ENCRYPTION_METHOD) &&
      st.encryption_method != ZIP_EM_NONE)
    return Status::error(what + ": encrypted entries are not supported");
  const unsigned need = ZIP_STAT_SIZE | ZIP_STAT_COMP_SIZE |
                        ZIP_STAT_COMP_METHOD;
  if ((st.valid & need) != need)
    return Status::error(what + ": the directory does not state its sizes");
  if (st.comp_size > archiveBytes)
    return Status::error(what + ": states " + std::to_string(st.comp_size) +
                         " compressed bytes, more than the archive's " +
                         std::to_string(archiveBytes) +
                         " (damaged or truncated)");
  if (st.comp_method == ZIP_CM_STORE) {
    if (st.size != st.comp_size)
      return Status::error(what + ": stored, but states " +
                           std::to_string(st.size) + " bytes and " +
                           std::to_string(st.comp_size) +
                           " compressed bytes (damaged)");
  } else if (st.comp_method == ZIP_CM_DEFLATE) {
    if (st.size > st.comp_size * kMaxDeflateRatio + 1024)
      return Status::error(
          what + ": states " + std::to_string(st.size) + " bytes from " +
          std::to_string(st.comp_size) +
          " deflated bytes, more than deflate can expand them to "
          "(damaged, or a zip bomb)");
  } else {
    return Status::error(what + ": compression method " +
                         std::to_string(st.comp_method) +
                         " is not supported (a .npz entry is stored or "
                         "deflated, as numpy.savez and savez_compressed "
                         "write them)");
  }
  uint64_t limit = std::min(kMaxNpyBytes, physicalMemory());
  if (st.size > limit)
    return Status::error(what + ": states " + std::to_string(st.size) +
                         " bytes, more than this machine's memory or a .npy "
                         "can be (" + std::to_string(limit) + " bytes)");
  return Status::success();
}

/// Checks entry `index` and records its array, refusing a second array of
/// the same name.
Status NpzReader::Impl::add(zip_uint64_t index, uint64_t archiveBytes) {
  zip_stat_t st;
  zip_stat_init(&st);
  if (zip_stat_index(za, index, 0, &st) != 0 || !(st.valid & ZIP_STAT_NAME))
    return fail(name, "entry #" + std::to_string(index) +
                          ": cannot read its directory record: " +
                          zip_strerror(za));
  if (Status s = check(st, archiveBytes); !s)
    return s;
  NpzEntry e{index, st.name, "", st.size};
  if (e.raw == checkpoint::kMetadataEntry) {
    if (metadata)
      return Status::error(describe(e.raw) + ": appears twice");
    metadata = std::move(e);
    return Status::success();
  }
  e.array = symbolForFileName(llvm::StringRef(e.raw).drop_back(4));
  auto [it, added] = byName.try_emplace(e.array, entries.size());
  if (!added) {
    const std::string &other = entries[it->second].raw;
    return Status::error(
        describe(e.raw) + ": " +
        (other == e.raw ? std::string("appears twice")
                        : "holds array '" + printable(e.array) +
                              "', as entry '" + printable(other) +
                              "' does"));
  }
  entries.push_back(std::move(e));
  return Status::success();
}

NpzReader::NpzReader(std::unique_ptr<Impl> impl) : impl(std::move(impl)) {}
NpzReader::~NpzReader() = default;

Status NpzReader::open(const std::string &path,
                       std::unique_ptr<NpzReader> &out) {
  std::unique_ptr<llvm::MemoryBuffer> file;
  if (Status s = readRegularFile(path, ".npz archive", kMaxNpyBytes, file); !s)
    return s;
  llvm::StringRef bytes = file->getBuffer();
  if (Status s = openBytes(path, bytes, out); !s)
    return s;
  out->impl->file = std::move(file);
  return Status::success();
}

/// Opens `bytes` with libzip, read-only, with `flags` (ZIP_CHECKCONS: every
/// local header checked against the directory); null on failure, with
/// libzip's error code and text.
static zip_t *openZip(llvm::StringRef bytes, int flags, int &code,
                      std::string &text) {
  zip_error_t error;
  zip_error_init(&error);
  zip_t *za = nullptr;
  zip_source_t *source =
      zip_source_buffer_create(bytes.data(), bytes.size(), 0, &error);
  if (source) {
    za = zip_open_from_source(source, ZIP_RDONLY | flags, &error);
    if (!za)
      zip_source_free(source);
  }
  code = zip_error_code_zip(&error);
  text = zip_error_strerror(&error);
  zip_error_fini(&error);
  return za;
}

/// Checks and records every entry of the opened archive.
static Status addEntries(zip_t *za,
                         llvm::function_ref<Status(zip_uint64_t)> add) {
  zip_int64_t count = zip_get_num_entries(za, 0);
  for (zip_int64_t i = 0; i < count; ++i)
    if (Status s = add(zip_uint64_t(i)); !s)
      return s;
  return Status::success();
}

Status NpzReader::openBytes(const std::string &name, llvm::StringRef bytes,
                            std::unique_ptr<NpzReader> &out) {
  // libzip reads an empty file as an empty archive; a real one has at
  // least its 22-byte end record.
  if (bytes.size() < 22)
    return fail(name, "not a .npz archive: " + std::to_string(bytes.size()) +
                          " bytes, too short for a zip file");
  auto impl = std::make_unique<Impl>();
  impl->name = name;
  auto add = [&](zip_uint64_t i) { return impl->add(i, bytes.size()); };
  int code;
  std::string text;
  impl->za = openZip(bytes, ZIP_CHECKCONS, code, text);
  if (!impl->za && code == ZIP_ER_EXISTS) {
    // Two entries of one name. libzip's check does not say which: open
    // again without it, only to find them (add refuses the second).
    int ignored;
    std::string more;
    impl->za = openZip(bytes, 0, ignored, more);
    if (impl->za)
      if (Status s = addEntries(impl->za, add); !s)
        return s;
    return fail(name, "not a readable .npz archive: two entries have the "
                      "same name");
  }
  if (!impl->za)
    return fail(name, "not a readable .npz archive: " + text +
                          " (damaged, truncated or not a zip file)");
  if (Status s = addEntries(impl->za, add); !s)
    return s;
  out.reset(new NpzReader(std::move(impl)));
  return Status::success();
}

size_t NpzReader::size() const { return impl->entries.size(); }

const std::string &NpzReader::arrayName(size_t i) const {
  return impl->entries[i].array;
}

int64_t NpzReader::find(llvm::StringRef name) const {
  auto it = impl->byName.find(name);
  return it == impl->byName.end() ? -1 : int64_t(it->second);
}

std::string NpzReader::describe(size_t i) const {
  return impl->describe(impl->entries[i].raw);
}

/// Reads what is left of `file` into `data` (`size` bytes), then checks
/// that the entry ends there: libzip checks the CRC at the end.
static Status decompress(zip_file_t *file, const std::string &what,
                         char *data, uint64_t size) {
  uint64_t got = 0;
  while (got < size) {
    zip_int64_t n = zip_fread(file, data + got, size - got);
    if (n < 0)
      return Status::error(what + ": cannot decompress: " +
                           zip_file_strerror(file) + " (damaged)");
    if (n == 0)
      return Status::error(what + ": holds " + std::to_string(got) +
                           " bytes, fewer than the " + std::to_string(size) +
                           " its directory states (damaged)");
    got += uint64_t(n);
  }
  char extra;
  zip_int64_t n = zip_fread(file, &extra, 1);
  if (n < 0)
    return Status::error(what + ": cannot decompress: " +
                         zip_file_strerror(file) + " (damaged)");
  if (n > 0)
    return Status::error(what + ": holds more than the " +
                         std::to_string(size) +
                         " bytes its directory states (damaged)");
  return Status::success();
}

/// Reads the whole of entry `e` (never more than its stated size,
/// checked against its CRC) into `data`.
static Status readEntry(zip_t *za, const NpzEntry &e, const std::string &what,
                        std::unique_ptr<char[]> &data) {
  // The stated size was checked when the archive was opened; the data
  // can never be more than that.
  data.reset(new (std::nothrow) char[e.size ? e.size : 1]);
  if (!data)
    return Status::error(what + ": out of memory: cannot allocate " +
                         std::to_string(e.size) + " bytes to read it");
  zip_file_t *file = zip_fopen_index(za, e.index, 0);
  if (!file)
    return Status::error(what + ": cannot read: " + zip_strerror(za));
  Status s = decompress(file, what, data.get(), e.size);
  int code = zip_fclose(file);
  if (s && code != 0)
    s = Status::error(what + ": cannot read: " + zipErrorText(code) +
                      " (damaged)");
  return s;
}

Status NpzReader::read(size_t i, std::optional<DType> want,
                       const NpyReadOptions &options, Tensor &out,
                       std::string *notice) const {
  const NpzEntry &e = impl->entries[i];
  std::string what = describe(i);
  std::unique_ptr<char[]> data;
  if (Status s = readEntry(impl->za, e, what, data); !s)
    return s;
  return parseNpyAs(what, llvm::StringRef(data.get(), e.size), want, options,
                    out, notice);
}

bool NpzReader::hasMetadata() const { return impl->metadata.has_value(); }

Status NpzReader::readMetadata(std::string &out) const {
  const NpzEntry &e = *impl->metadata;
  std::string what = impl->describe(e.raw);
  if (e.size > kMaxMetadataBytes)
    return Status::error(what + ": states " + std::to_string(e.size) +
                         " bytes, more than a checkpoint's metadata can be (" +
                         std::to_string(kMaxMetadataBytes) + ")");
  std::unique_ptr<char[]> data;
  if (Status s = readEntry(impl->za, e, what, data); !s)
    return s;
  out.assign(data.get(), e.size);
  return Status::success();
}

Status tape::readNpz(const std::string &path, std::optional<DType> want,
                     const NpyReadOptions &options,
                     std::vector<std::pair<std::string, Tensor>> &out,
                     std::vector<std::string> *notices) {
  std::unique_ptr<NpzReader> reader;
  if (Status s = NpzReader::open(path, reader); !s)
    return s;
  std::vector<std::pair<std::string, Tensor>> arrays;
  for (size_t i = 0; i < reader->size(); ++i) {
    Tensor t;
    std::string notice;
    if (Status s = reader->read(i, want, options, t, &notice); !s)
      return s;
    if (notices && !notice.empty())
      notices->push_back(std::move(notice));
    arrays.push_back({reader->arrayName(i), std::move(t)});
  }
  out = std::move(arrays);
  return Status::success();
}

/// The first few of `names`, comma-separated, and how many more there are.
static std::string someNames(const std::vector<std::string> &names) {
  std::string text;
  for (size_t i = 0; i < names.size() && i < 5; ++i)
    text += (i ? ", " : "") + names[i];
  if (names.size() > 5)
    text += " and " + std::to_string(names.size() - 5) + " more";
  return text.empty() ? "none" : text;
}

Status tape::readNpzArray(const std::string &path, const std::string &array,
                         DType want, const NpyReadOptions &options,
                         Tensor &out, std::string *notice) {
  std::unique_ptr<NpzReader> reader;
  if (Status s = NpzReader::open(path, reader); !s)
    return s;
  int64_t i = reader->find(array);
  if (i < 0) {
    std::vector<std::string> names;
    for (size_t k = 0; k < reader->size(); ++k)
      names.push_back(reader->arrayName(k));
    return Status::error(path + ": no array '" + array +
                         "' in the archive (arrays: " + someNames(names) +
                         ")");
  }
  return reader->read(size_t(i), want, options, out, notice);
}

Status tape::readNpzVariables(const std::string &path,
                              const std::vector<VariableSpec> &vars,
                              const NpyReadOptions &options,
                              std::vector<std::pair<size_t, Tensor>> &out,
                              std::vector<std::string> *notices) {
  std::unique_ptr<NpzReader> reader;
  if (Status s = NpzReader::open(path, reader); !s)
    return s;
  llvm::StringMap<size_t> byName;
  for (size_t v = 0; v < vars.size(); ++v)
    byName.try_emplace(vars[v].name, v);
  std::vector<size_t> targets;
  for (size_t i = 0; i < reader->size(); ++i) {
    auto it = byName.find(reader->arrayName(i));
    if (it != byName.end()) {
      targets.push_back(it->second);
      continue;
    }
    std::vector<std::string> names;
    for (const VariableSpec &v : vars)
      names.push_back(v.name);
    return Status::error(reader->describe(i) +
                         ": names no variable of the model (variables: " +
                         someNames(names) + ")");
  }
  std::vector<std::pair<size_t, Tensor>> values;
  std::vector<std::string> said;
  for (size_t i = 0; i < reader->size(); ++i) {
    const VariableSpec &v = vars[targets[i]];
    Tensor value;
    std::string notice;
    if (Status s = reader->read(i, v.spec.dtype, options, value, &notice); !s)
      return s;
    if (!notice.empty())
      said.push_back(std::move(notice));
    if (value.spec() != v.spec)
      return Status::error(reader->describe(i) + ": variable '" + v.name +
                           "' is " + v.spec.str() + ", got " +
                           value.spec().str());
    values.push_back({targets[i], std::move(value)});
  }
  out = std::move(values);
  if (notices)
    notices->insert(notices->end(), std::make_move_iterator(said.begin()),
                    std::make_move_iterator(said.end()));
  return Status::success();
}
