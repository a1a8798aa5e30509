//===- Npy.h - NumPy .npy and .npz files ------------------------*- C++ -*-===//

#ifndef TAPE_RUNTIME_NPY_H
#define TAPE_RUNTIME_NPY_H

#include "tape/Runtime/Model.h"

#include "llvm/ADT/StringRef.h"

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

/// Writes an uncompressed .npz archive with one `<name>.npy` per entry, or
/// refuses (before writing) what the zip format cannot hold: more than
/// 65535 entries, longer names, 4 GiB or more.
Status writeNpz(const std::string &path,
                const std::vector<std::pair<std::string, const Tensor *>> &entries);

} // namespace tape

#endif // TAPE_RUNTIME_NPY_H
