//===- Npy.h - NumPy .npy and .npz files ------------------------*- C++ -*-===//

#ifndef TAPE_RUNTIME_NPY_H
#define TAPE_RUNTIME_NPY_H

#include "tape/Runtime/Model.h"

#include "llvm/ADT/StringRef.h"

#include <string>
#include <utility>
#include <vector>

namespace tape {

/// Reads a little-endian, C-order .npy file of float32, float64, int32 or
/// int64. Malformed or unsupported files get an error naming the file and
/// what is wrong; nothing is read past the data the header announces.
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
