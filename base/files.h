// Reading and writing whole files, durably: what the state folder, plan
// files and the config file are made of.
//
//   RETURN_IF_ERROR(WriteFileAtomically(path, json, 0644));
//   ASSIGN_OR_RETURN(std::string text, ReadFileUpTo(path, 16 << 20, "plan file
//   "));
#ifndef TQS1_BASE_FILES_H_
#define TQS1_BASE_FILES_H_

#include <sys/types.h>

#include <cstddef>
#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace tqs1 {

// Replaces the file at `path` with `contents`, so that a reader (or a crash)
// sees either the old file or the new one, never a mix: writes a temporary
// file ".<name>.tmp-XXXXXX" in the same folder, sets `mode` (exactly: the
// umask does not apply), fsyncs it, renames it over `path` and fsyncs the
// folder. On failure the temporary file is removed and `path` is untouched.
// Errors come from errno (absl::ErrnoToStatus): "cannot write <label><path>:
// <reason>".
absl::Status WriteFileAtomically(absl::string_view path,
                                 absl::string_view contents, mode_t mode,
                                 absl::string_view label = "");

// As WriteFileAtomically(), but never replaces a file: kAlreadyExists
// "<label><path> already exists" when `path` exists, even when another
// process creates it in between (link(2) instead of rename(2)).
absl::Status CreateFileAtomically(absl::string_view path,
                                  absl::string_view contents, mode_t mode,
                                  absl::string_view label = "");

// Creates the folder `dir` and its missing parents with `mode`.
absl::Status MakeFolders(absl::string_view dir, mode_t mode);

// The folder part of `path` ("." when there is none, "/" for the root).
std::string Dirname(absl::string_view path);

// The whole file at `path`, up to `max_bytes`. Errors: from errno ("cannot
// read <label><path>: No such file or directory", kNotFound when it does
// not exist); kResourceExhausted "<label><path> is larger than N bytes".
absl::StatusOr<std::string> ReadFileUpTo(absl::string_view path,
                                         size_t max_bytes,
                                         absl::string_view label = "");

}  // namespace tqs1

#endif  // TQS1_BASE_FILES_H_
