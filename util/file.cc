#include "util/file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
#include "util/status_macros.h"

namespace metarm {
namespace {

absl::Status ErrnoStatus(absl::string_view what, const std::string& path,
                         int error) {
  std::string message = absl::StrCat(path, ": ", what, ": ", strerror(error));
  if (error == ENOENT) return absl::NotFoundError(message);
  if (error == EACCES || error == EPERM) {
    return absl::PermissionDeniedError(message);
  }
  if (error == ENOSPC) return absl::ResourceExhaustedError(message);
  return absl::InternalError(message);
}

// Writes all of `data` to `fd`, retrying short writes.
absl::Status WriteAll(int fd, absl::string_view data, const std::string& path) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return ErrnoStatus("cannot write", path, errno);
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  struct stat info;
  if (::stat(path.c_str(), &info) != 0) {
    return ErrnoStatus("cannot open", path, errno);
  }
  if (S_ISDIR(info.st_mode)) {
    return absl::InvalidArgumentError(
        absl::StrCat(path, ": is a directory, not a file"));
  }
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoStatus("cannot open", path, errno);
  std::ostringstream contents;
  contents << in.rdbuf();
  if (in.bad()) return ErrnoStatus("cannot read", path, errno);
  return contents.str();
}

absl::Status WriteFileAtomically(const std::string& path,
                                 absl::string_view contents) {
  // Errors name `path`, the file the caller asked for, not the temporary.
  const std::string temporary = absl::StrCat(path, ".tmp.", ::getpid());
  int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) return ErrnoStatus("cannot create", path, errno);
  absl::Status status = WriteAll(fd, contents, path);
  if (status.ok() && ::fsync(fd) != 0) {
    status = ErrnoStatus("cannot write", path, errno);
  }
  if (::close(fd) != 0 && status.ok()) {
    status = ErrnoStatus("cannot write", path, errno);
  }
  if (status.ok() && ::rename(temporary.c_str(), path.c_str()) != 0) {
    status = ErrnoStatus("cannot rename into place", path, errno);
  }
  if (!status.ok()) ::unlink(temporary.c_str());
  return status;
}

absl::Status AppendLine(const std::string& path, absl::string_view line) {
  int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  if (fd < 0) return ErrnoStatus("cannot open for appending", path, errno);
  // A failed append is cut back to where the file ended, so that a reader
  // never meets half a line (a full disk may take part of it).
  const off_t end = ::lseek(fd, 0, SEEK_END);
  absl::Status status = WriteAll(fd, line, path);
  if (status.ok() && ::fsync(fd) != 0) {
    status = ErrnoStatus("cannot write", path, errno);
  }
  if (!status.ok() && end >= 0 && ::ftruncate(fd, end) != 0) {
    // Keep the write's error: it is the one that says what went wrong.
  }
  ::close(fd);
  return status;
}

absl::Status MakeDirectories(const std::string& path) {
  if (path.empty()) return absl::OkStatus();
  std::string prefix;
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    prefix = path.substr(0, slash);
    start = slash + 1;
    if (prefix.empty()) continue;
    if (::mkdir(prefix.c_str(), 0755) != 0 && errno != EEXIST) {
      if (errno == ENOTDIR) {
        // A file where a folder of the path should be: the path given is
        // wrong (bad input), like a path that is itself a file below.
        return absl::FailedPreconditionError(absl::StrCat(
            path,
            ": cannot create it: a part of the path is a file, not a "
            "directory"));
      }
      return ErrnoStatus("cannot create directory", prefix, errno);
    }
  }
  struct stat info;
  if (::stat(path.c_str(), &info) != 0 || !S_ISDIR(info.st_mode)) {
    return absl::FailedPreconditionError(
        absl::StrCat(path, ": exists and is not a directory"));
  }
  return absl::OkStatus();
}

bool PathExists(const std::string& path) {
  struct stat info;
  return ::stat(path.c_str(), &info) == 0;
}

}  // namespace metarm
