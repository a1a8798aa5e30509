//===- Files.cpp - How the runtime reads and writes files -----------------===//

#include "tape/Runtime/Files.h"

#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

using namespace tape;
namespace fs = llvm::sys::fs;

static Status fail(const std::string &path, const std::string &what,
                   StatusCode code = StatusCode::IOError) {
  return Status::error(code, path + ": " + what);
}

static std::string errnoText(int e) { return std::strerror(e); }

static const char *kindOf(mode_t mode) {
  if (S_ISDIR(mode))
    return "a folder";
  if (S_ISFIFO(mode))
    return "a FIFO";
  if (S_ISCHR(mode) || S_ISBLK(mode))
    return "a device";
  if (S_ISSOCK(mode))
    return "a socket";
  return "not a regular file";
}

/// Opens `path` for reading when it is a regular file of at most
/// `maxBytes` (checked on the open descriptor, so what is read is what was
/// checked); `fd` is then the caller's to close.
static Status openRegularFile(const std::string &path, const std::string &what,
                              uint64_t maxBytes, int &fd, uint64_t &size) {
  // O_NONBLOCK: opening a FIFO without a writer returns at once instead of
  // waiting.
  fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0) {
    int e = errno;
    return fail(path, "cannot open: " + errnoText(e), statusCodeForErrno(e));
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int e = errno;
    ::close(fd);
    return fail(path, "cannot open: " + errnoText(e), statusCodeForErrno(e));
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    return fail(path, std::string("is ") + kindOf(st.st_mode) +
                          ", not a regular file; a " + what +
                          " is read only from a regular file");
  }
  if (uint64_t(st.st_size) > maxBytes) {
    ::close(fd);
    return fail(path, "is " + std::to_string(st.st_size) +
                          " bytes, more than a " + what + " can be (" +
                          std::to_string(maxBytes) + " bytes)");
  }
  size = uint64_t(st.st_size);
  return Status::success();
}

Status tape::readRegularFile(const std::string &path, const std::string &what,
                             uint64_t maxBytes,
                             std::unique_ptr<llvm::MemoryBuffer> &out) {
  int fd;
  uint64_t size;
  if (Status s = openRegularFile(path, what, maxBytes, fd, size); !s)
    return s;
  auto buffer = llvm::MemoryBuffer::getOpenFile(
      fd, path, size, /*RequiresNullTerminator=*/false);
  ::close(fd);
  if (!buffer)
    return fail(path, "cannot read: " + buffer.getError().message());
  out = std::move(*buffer);
  return Status::success();
}

Status tape::mapRegularFile(const std::string &path, const std::string &what,
                            uint64_t maxBytes, MappedFile &out) {
  int fd;
  uint64_t size;
  if (Status s = openRegularFile(path, what, maxBytes, fd, size); !s)
    return s;
  if (size == 0) { // nothing to map
    ::close(fd);
    out = MappedFile();
    return Status::success();
  }
  std::error_code ec;
  auto region = std::make_shared<fs::mapped_file_region>(
      fs::convertFDToNativeFile(fd), fs::mapped_file_region::priv, size, 0,
      ec);
  ::close(fd); // the mapping stays valid
  if (ec)
    return fail(path, "cannot map: " + ec.message());
  out.bytes = llvm::StringRef(region->const_data(), size);
  out.region = std::move(region);
  return Status::success();
}

/// The folder of `path` ("." for a bare file name).
static std::string folderOf(const std::string &path) {
  llvm::StringRef parent = llvm::sys::path::parent_path(path);
  return parent.empty() ? "." : parent.str();
}

/// Removes `<path>.tmp.<pid>[.<suffix>]` files whose process is gone: what a
/// writer killed between creating its temporary and renaming it left. A
/// live process's temporary (another writer of the same path) is kept.
static void removeStaleTemporaries(const std::string &path) {
  std::string prefix =
      (llvm::sys::path::filename(path) + ".tmp.").str();
  std::error_code ec;
  for (fs::directory_iterator it(folderOf(path), ec), end; it != end && !ec;
       it.increment(ec)) {
    llvm::StringRef name = llvm::sys::path::filename(it->path());
    if (!name.consume_front(prefix))
      continue;
    llvm::StringRef pidText = name.take_until([](char c) { return c == '.'; });
    unsigned long long pid;
    if (pidText.getAsInteger(10, pid) || pid == 0 || pid > INT32_MAX)
      continue;
    if (::kill(pid_t(pid), 0) != 0 && errno == ESRCH)
      fs::remove(it->path());
  }
}

Status tape::createTemporaryFor(const std::string &path, int &fd,
                                std::string &tmp) {
  removeStaleTemporaries(path);
  llvm::SmallString<256> name;
  if (std::error_code ec = fs::createUniqueFile(
          path + ".tmp." + std::to_string(::getpid()) + ".%%%%%%", fd, name,
          fs::OF_None, 0644))
    return fail(path, "cannot create a temporary next to it: " + ec.message(),
                statusCodeForErrno(ec.value()));
  tmp = name.str().str();
  return Status::success();
}

/// Flushes the folder of `path`, so that a rename into it survives a crash.
static Status flushFolderOf(const std::string &path) {
  int dir = ::open(folderOf(path).c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0)
    return fail(path, "cannot open its folder to flush it: " + errnoText(errno));
  int rc = ::fsync(dir);
  int e = errno;
  ::close(dir);
  if (rc != 0)
    return fail(path, "cannot flush its folder: " + errnoText(e));
  return Status::success();
}

/// Renames the flushed temporary `tmp` over `path` (removing `tmp` if that
/// fails), then flushes the folder: the rename is an entry of the folder.
static Status renameInto(const std::string &tmp, const std::string &path) {
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail(path, "cannot rename: " + errnoText(e));
  }
  return flushFolderOf(path);
}

Status tape::commitTemporary(const std::string &tmp, const std::string &path) {
  int fd = ::open(tmp.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail(path, "cannot reopen its temporary: " + errnoText(e));
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail(path, "cannot flush: " + errnoText(e));
  }
  return renameInto(tmp, path);
}

Status tape::writeFileAtomically(const std::string &path,
                                 const std::string &bytes) {
  int fd;
  std::string tmp;
  if (Status s = createTemporaryFor(path, fd, tmp); !s)
    return s;
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return fail(path, "cannot write: " + errnoText(e));
    }
    done += size_t(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return fail(path, "cannot flush: " + errnoText(e));
  }
  return renameInto(tmp, path);
}

Status tape::checkWritableFolder(const std::string &dir,
                                 const std::string &what) {
  if (!fs::is_directory(dir))
    return fail(dir, what + " names a folder that does not exist",
                StatusCode::NotFound);
  int fd;
  llvm::SmallString<256> probe;
  if (std::error_code ec = fs::createUniqueFile(
          dir + "/.tape-write-check.%%%%%%", fd, probe))
    return fail(dir, what + ": cannot create files in it: " + ec.message());
  ::close(fd);
  fs::remove(probe);
  return Status::success();
}

Status tape::checkWritableFile(const std::string &path,
                               const std::string &what) {
  if (fs::is_directory(path))
    return fail(path, what + " names a folder; it takes a file name");
  return checkWritableFolder(folderOf(path), what + " " + path);
}
