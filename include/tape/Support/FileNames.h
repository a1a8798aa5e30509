//===- FileNames.h - Symbols from IR as file and entry names ----*- C++ -*-===//
//
// A variable's name comes from the IR and may hold any byte. Wherever it
// names a file (tape-run --save-vars into a folder) or an entry of an
// archive (a .npz of variables, a checkpoint, which anyone may unzip), it is
// encoded so that it stays a single, harmless name; the runtime, the
// checkpoint format and the code the AOT compiler generates share this one
// encoding.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_SUPPORT_FILENAMES_H
#define TAPE_SUPPORT_FILENAMES_H

#include "tape/Runtime/Status.h"

#include "llvm/ADT/StringRef.h"

#include <string>

namespace tape {

/// The longest encoded name (bytes): with ".npy" appended it still fits
/// the 255-byte file names of common file systems.
inline constexpr size_t kMaxFileNameBytes = 240;

/// A file name for the symbol `name` (a variable's name from the IR) that
/// stays inside the folder it is joined to: bytes other than letters,
/// digits, '_', '-' and '.' (after the first byte) are written as "%XX",
/// so `../../x` becomes `%2E.%2F..%2Fx`, and distinct names give distinct
/// file names. Names whose encoding exceeds kMaxFileNameBytes are refused.
Status fileNameForSymbol(const std::string &name, std::string &out);

/// The inverse of fileNameForSymbol: each "%XX" (two hex digits, either
/// case) becomes the byte it encodes; every other byte, including a '%'
/// not followed by two hex digits, is kept as it is. So the file names
/// fileNameForSymbol makes give back their symbols, and names from other
/// writers (NumPy's savez keys) pass through unchanged unless they hold
/// such a sequence.
std::string symbolForFileName(llvm::StringRef fileName);

} // namespace tape

#endif // TAPE_SUPPORT_FILENAMES_H
