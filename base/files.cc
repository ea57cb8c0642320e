#include "base/files.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>

#include "absl/strings/str_cat.h"
#include "base/status_macros.h"

namespace tqs1 {
namespace {

std::string Basename(const std::string& path) {
  return path.substr(path.rfind('/') + 1);
}

absl::Status WriteAll(int fd, absl::string_view data) {
  while (!data.empty()) {
    const ssize_t n = write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return absl::ErrnoToStatus(errno, "");
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return absl::OkStatus();
}

// Fsyncs the folder `dir`, making a rename or link in it durable.
absl::Status SyncFolder(const std::string& dir) {
  const int fd = open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(errno, absl::StrCat("cannot open folder ", dir));
  }
  const int result = fsync(fd);
  const int err = errno;
  close(fd);
  if (result != 0) {
    return absl::ErrnoToStatus(err, absl::StrCat("cannot sync folder ", dir));
  }
  return absl::OkStatus();
}

// WriteFileAtomically(), or with `replace` false, CreateFileAtomically().
absl::Status WriteAtomically(const std::string& path,
                             absl::string_view contents, mode_t mode,
                             bool replace, absl::string_view label) {
  const std::string dir = Dirname(path);
  std::string temp = absl::StrCat(dir, "/.", Basename(path), ".tmp-XXXXXX");
  const int fd = mkostemp(temp.data(), O_CLOEXEC);
  if (fd < 0) {
    return absl::ErrnoToStatus(
        errno, absl::StrCat("cannot write ", label, path,
                            ": cannot create a temporary file in ", dir));
  }
  const std::string what = absl::StrCat("cannot write ", label, path);
  absl::Status status;
  if (fchmod(fd, mode) != 0) {
    status = absl::ErrnoToStatus(errno, what);
  } else if (absl::Status s = WriteAll(fd, contents); !s.ok()) {
    status = absl::Status(s.code(), absl::StrCat(what, s.message()));
  } else if (fsync(fd) != 0) {
    status = absl::ErrnoToStatus(errno, what);
  }
  if (close(fd) != 0 && status.ok()) {
    status = absl::ErrnoToStatus(errno, what);
  }
  if (status.ok()) {
    if (replace) {
      if (rename(temp.c_str(), path.c_str()) != 0) {
        status = absl::ErrnoToStatus(errno, what);
      }
    } else if (link(temp.c_str(), path.c_str()) != 0) {
      status = errno == EEXIST ? absl::AlreadyExistsError(absl::StrCat(
                                     label, path, " already exists"))
                               : absl::ErrnoToStatus(errno, what);
    }
  }
  // After a rename the temporary name is gone; after link(), or on error,
  // it is removed here.
  if (!status.ok() || !replace) unlink(temp.c_str());
  RETURN_IF_ERROR(status);
  return SyncFolder(dir);
}

}  // namespace

std::string Dirname(absl::string_view path) {
  const size_t slash = path.rfind('/');
  if (slash == absl::string_view::npos) return ".";
  return slash == 0 ? "/" : std::string(path.substr(0, slash));
}

absl::Status WriteFileAtomically(absl::string_view path,
                                 absl::string_view contents, mode_t mode,
                                 absl::string_view label) {
  return WriteAtomically(std::string(path), contents, mode, /*replace=*/true,
                         label);
}

absl::Status CreateFileAtomically(absl::string_view path,
                                  absl::string_view contents, mode_t mode,
                                  absl::string_view label) {
  return WriteAtomically(std::string(path), contents, mode, /*replace=*/false,
                         label);
}

absl::Status MakeFolders(absl::string_view dir, mode_t mode) {
  const std::string folder(dir);
  struct stat st;
  if (stat(folder.c_str(), &st) == 0) return absl::OkStatus();
  const std::string parent = Dirname(folder);
  if (parent != folder) RETURN_IF_ERROR(MakeFolders(parent, mode));
  if (mkdir(folder.c_str(), mode) != 0 && errno != EEXIST) {
    return absl::ErrnoToStatus(errno,
                               absl::StrCat("cannot create folder ", folder));
  }
  return absl::OkStatus();
}

absl::StatusOr<std::string> ReadFileUpTo(absl::string_view path,
                                         size_t max_bytes,
                                         absl::string_view label) {
  const std::string file(path);
  const std::string what = absl::StrCat("cannot read ", label, file);
  const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return absl::ErrnoToStatus(errno, what);
  std::string text;
  char buffer[16384];
  int err = 0;
  while (text.size() <= max_bytes) {
    const ssize_t n = read(fd, buffer, sizeof(buffer));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) err = errno;
    if (n <= 0) break;
    text.append(buffer, static_cast<size_t>(n));
  }
  close(fd);
  if (err != 0) return absl::ErrnoToStatus(err, what);
  if (text.size() > max_bytes) {
    return absl::ResourceExhaustedError(
        absl::StrCat(label, file, " is larger than ", max_bytes, " bytes"));
  }
  return text;
}

}  // namespace tqs1
