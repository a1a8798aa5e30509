//===- NpyFormat.h - The .npy header tape writes ----------------*- C++ -*-===//
//
// The header of a NumPy .npy file (format 1.0) for a tensor, byte for byte
// as numpy.save writes it: what the runtime writes before a tensor's data
// in .npy files, .npz archives and checkpoints, and what the C code that
// tape-compile generates writes and expects in a checkpoint.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_SUPPORT_NPYFORMAT_H
#define TAPE_SUPPORT_NPYFORMAT_H

#include "tape/Runtime/Tensor.h"

#include <string>

namespace tape {

/// NumPy's type string of `dtype`: "<f4", "<f8", "<i4", "<i8".
const char *npyDescr(DType dtype);

/// The header dict of a C-ordered little-endian array of `spec`, as NumPy
/// writes it: `{'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }`.
std::string npyHeaderDict(const TensorSpec &spec);

/// The whole header of a .npy file (format 1.0) of `spec`: magic, version,
/// length, and npyHeaderDict padded with blanks and ended by a newline to a
/// multiple of 64 bytes; the data follows it as it is.
std::string npyHeader(const TensorSpec &spec);

} // namespace tape

#endif // TAPE_SUPPORT_NPYFORMAT_H
