//===- Npy.h - NumPy .npy and .npz files ------------------------*- C++ -*-===//

#ifndef TAPE_RUNTIME_NPY_H
#define TAPE_RUNTIME_NPY_H

#include "tape/Runtime/Model.h"

#include "llvm/ADT/StringRef.h"

#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace tape {

/// How .npy data becomes a tensor of another dtype.
struct NpyReadOptions {
  /// uint8 data read as floats is multiplied by this (1/255 for raw image
  /// pixels); unset: the values as they are.
  std::optional<double> uint8Scale;
};

/// Reads a .npy file: bool, int8-64, uint8-64, float32 or float64, either
/// byte order, C or Fortran order (read into C order), as a tensor of
/// dtype `want` (unset: the file's own, integers other than int32 as
/// int64). Conversions: floats to floats (float64 to float32 rounds, and
/// says so in `notice`); integers and bools to floats (exact up to 2^24 or
/// 2^53; uint8 scaled by `options.uint8Scale`; said in `notice`); integers
/// to integers when every value fits (else an error naming the first that
/// does not); floats to integers never (an error that says how to convert).
/// Malformed or unsupported files get an error naming the file and what is
/// wrong; nothing is read past the data the header announces.
Status readNpyAs(const std::string &path, std::optional<DType> want,
                 const NpyReadOptions &options, Tensor &out,
                 std::string *notice);
Status parseNpyAs(const std::string &name, llvm::StringRef bytes,
                  std::optional<DType> want, const NpyReadOptions &options,
                  Tensor &out, std::string *notice);
/// readNpyAs with the file's own dtype.
Status readNpy(const std::string &path, Tensor &out);
Status parseNpy(const std::string &name, llvm::StringRef bytes, Tensor &out);

/// Writes a .npy file (format 1.0).
Status writeNpy(const std::string &path, const Tensor &tensor);
std::string encodeNpy(const Tensor &tensor);

/// Writes a .npz archive with one `<name>.npy` entry per tensor (names as
/// given: the caller makes them file-safe with fileNameForSymbol), then one
/// entry per (name, bytes) of `files` (a checkpoint's metadata.json), all
/// stored uncompressed like numpy.savez and dated 1980-01-01 (the same
/// arrays give the same bytes), through libzip: ZIP64 records
/// where the sizes, offsets or the number of entries need them. The
/// archive is written to a temporary next to `path` and renamed over it
/// once flushed (Files.h), so `path` holds the old file or the complete
/// new one; the tensors are written from where they are, not copied into
/// an archive in memory.
Status writeNpz(
    const std::string &path,
    const std::vector<std::pair<std::string, const Tensor *>> &entries,
    const std::vector<std::pair<std::string, std::string>> &files = {});

/// A .npz archive (numpy.savez or savez_compressed, or writeNpz) opened for
/// reading. Opening checks the whole central directory before any data is
/// read: the archive must be a consistent zip (libzip, ZIP64 included)
/// whose entries are all unencrypted `<name>.npy` files (and at most one
/// `metadata.json`, a checkpoint's, which is not an array), stored or
/// deflated, with stated sizes that the archive can hold (a deflated entry
/// at most what deflate can expand its compressed bytes to, never more
/// than the machine's memory), and whose array names (the entry names
/// without ".npy", "%XX" decoded by symbolForFileName) are distinct. Errors
/// name the archive and the entry.
class NpzReader {
public:
  ~NpzReader();
  /// Opens the regular file `path` (memory-mapped, see readRegularFile).
  static Status open(const std::string &path, std::unique_ptr<NpzReader> &out);
  /// Reads an archive from `bytes`, which must outlive the reader; `name`
  /// stands for it in messages.
  static Status openBytes(const std::string &name, llvm::StringRef bytes,
                          std::unique_ptr<NpzReader> &out);

  /// The arrays, in archive order.
  size_t size() const;
  const std::string &arrayName(size_t i) const;
  /// The index of the array named `name`, or -1.
  int64_t find(llvm::StringRef name) const;
  /// "archive.npz: entry 'name.npy'", as messages name array `i`.
  std::string describe(size_t i) const;

  /// Decompresses array `i` (never more than its stated size, checked
  /// against its CRC) and reads it as parseNpyAs does.
  Status read(size_t i, std::optional<DType> want,
              const NpyReadOptions &options, Tensor &out,
              std::string *notice) const;

  /// Whether the archive has a metadata.json entry (a checkpoint's), and
  /// its bytes (at most 256 MiB, checked against its CRC).
  bool hasMetadata() const;
  Status readMetadata(std::string &out) const;

private:
  struct Impl;
  explicit NpzReader(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl;
};

/// Every array of the .npz archive `path`, by name, each read as
/// NpzReader::read does with the same `want` (unset: each array's own
/// dtype); one notice per converted array is appended to `notices`.
Status readNpz(const std::string &path, std::optional<DType> want,
               const NpyReadOptions &options,
               std::vector<std::pair<std::string, Tensor>> &out,
               std::vector<std::string> *notices = nullptr);

/// Array `array` of the .npz archive `path` as a tensor of `want` (the
/// conversions of readNpyAs; its notice in `notice`). An archive without
/// the array is an error that lists a few of its arrays.
Status readNpzArray(const std::string &path, const std::string &array,
                    DType want, const NpyReadOptions &options, Tensor &out,
                    std::string *notice);

/// The arrays of the .npz archive `path` as values of a model's variables
/// `vars`, what tape-run --init file.npz and tape-compile --weights
/// file.npz read: each array sets the variable of its name, read in the
/// variable's dtype (one notice per conversion appended to `notices`),
/// and must have the variable's shape. Every name is checked before any
/// data is read. An array that names no variable (a few variable names
/// are listed) or has another shape is an error naming the archive and
/// the entry. On success `out` holds one (variable index, value) pair per
/// array, in archive order (variables absent from the archive have none);
/// on failure it is unchanged.
Status readNpzVariables(const std::string &path,
                        const std::vector<VariableSpec> &vars,
                        const NpyReadOptions &options,
                        std::vector<std::pair<size_t, Tensor>> &out,
                        std::vector<std::string> *notices = nullptr);

} // namespace tape

#endif // TAPE_RUNTIME_NPY_H
