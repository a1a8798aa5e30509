//===- Files.h - How the runtime reads and writes files --------*- C++ -*-===//
//
// Every file the runtime reads or writes (checkpoints, .npy, .npz) goes
// through these functions, so the rules hold in one place: only regular
// files are read, and never more than they hold; writes are atomic and
// durable, and leave nothing behind when the process is killed midway;
// names that come from IR never choose where a file goes.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_RUNTIME_FILES_H
#define TAPE_RUNTIME_FILES_H

#include "tape/Runtime/Status.h"
#include "tape/Support/FileNames.h"

#include "llvm/ADT/StringRef.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/MemoryBuffer.h"

#include <memory>
#include <string>

namespace tape {

/// The contents of the regular file `path` (memory-mapped when large).
/// A FIFO, device, socket or directory is refused without being opened for
/// reading (so `/dev/zero` cannot grow memory and a FIFO cannot block), and
/// so is a file larger than `maxBytes`. `what` names the kind of file in
/// messages ("checkpoint", ".npy file").
Status readRegularFile(const std::string &path, const std::string &what,
                       uint64_t maxBytes,
                       std::unique_ptr<llvm::MemoryBuffer> &out);

/// A file mapped into memory, private and copy-on-write: its pages are
/// read on first touch and shared with the page cache; writing to them
/// changes this process's copy only. `region` keeps the mapping alive (a
/// tensor viewing the bytes holds it too); empty for an empty file.
struct MappedFile {
  std::shared_ptr<llvm::sys::fs::mapped_file_region> region;
  llvm::StringRef bytes;
};
/// Maps `path` under the checks of readRegularFile.
Status mapRegularFile(const std::string &path, const std::string &what,
                      uint64_t maxBytes, MappedFile &out);

/// Writes `bytes` to `path` atomically and durably: a uniquely named
/// temporary in the same folder (`<path>.tmp.<pid>.<random>`), flushed,
/// renamed over `path`, then the folder flushed so the rename survives a
/// crash. Temporaries of earlier writers of `path` that were killed
/// before they could rename (their process is gone) are removed first.
Status writeFileAtomically(const std::string &path, const std::string &bytes);

/// The two halves of writeFileAtomically, for writers that fill the file
/// themselves (libzip for .npz). createTemporaryFor removes stale
/// temporaries of `path` and creates a new one, open for writing as `fd`,
/// named `tmp`. commitTemporary flushes `tmp`, renames it over `path` and
/// flushes the folder; when it fails, `tmp` is removed. A writer that fails
/// in between closes `fd` and removes `tmp` itself.
Status createTemporaryFor(const std::string &path, int &fd, std::string &tmp);
Status commitTemporary(const std::string &tmp, const std::string &path);

/// Checks, before any work is done, that `path` can be written later: its
/// folder exists and a file can be created in it (a temporary is created
/// and removed), and `path` itself is not a folder. `what` names the
/// output in messages ("--checkpoint").
Status checkWritableFile(const std::string &path, const std::string &what);

/// Checks that `dir` is an existing folder in which files can be created.
Status checkWritableFolder(const std::string &dir, const std::string &what);

} // namespace tape

#endif // TAPE_RUNTIME_FILES_H
