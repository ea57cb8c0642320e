#include "cli/config/paths.h"

#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "base/status_macros.h"

namespace tqs1::config {
namespace {

constexpr size_t kMaxInstanceNameLength = 64;

// `path` made absolute against the current directory, without ".", ".."
// or empty parts.
absl::StatusOr<std::string> AbsoluteNormal(absl::string_view path) {
  std::string full;
  if (absl::StartsWith(path, "/")) {
    full = std::string(path);
  } else {
    std::vector<char> cwd(4096);
    if (getcwd(cwd.data(), cwd.size()) == nullptr) {
      return absl::FailedPreconditionError(absl::StrCat(
          "cannot read the current directory: ", std::strerror(errno)));
    }
    full = absl::StrCat(cwd.data(), "/", path);
  }
  std::vector<absl::string_view> parts;
  for (absl::string_view part : absl::StrSplit(full, '/')) {
    if (part.empty() || part == ".") continue;
    if (part == "..") {
      if (!parts.empty()) parts.pop_back();
      continue;
    }
    parts.push_back(part);
  }
  return absl::StrCat("/", absl::StrJoin(parts, "/"));
}

std::string Dirname(const std::string& path) {
  const size_t slash = path.rfind('/');
  return slash == 0 ? "/" : path.substr(0, slash);
}

std::string Join(const std::string& dir, absl::string_view name) {
  return dir == "/" ? absl::StrCat("/", name) : absl::StrCat(dir, "/", name);
}

// The file's name without its last extension.
std::string Stem(const std::string& path) {
  std::string base = path.substr(path.rfind('/') + 1);
  const size_t dot = base.rfind('.');
  if (dot != std::string::npos && dot > 0) base.resize(dot);
  return base;
}

bool HasYamlExtension(absl::string_view path) {
  return absl::EndsWith(path, ".yaml") || absl::EndsWith(path, ".yml");
}

enum class Kind { kMissing, kFile, kFolder, kOther };

absl::StatusOr<Kind> KindOf(const std::string& path) {
  struct stat st;
  if (stat(path.c_str(), &st) != 0) {
    if (errno == ENOENT || errno == ENOTDIR) return Kind::kMissing;
    return absl::FailedPreconditionError(
        absl::StrCat("cannot examine ", path, ": ", std::strerror(errno)));
  }
  if (S_ISDIR(st.st_mode)) return Kind::kFolder;
  if (S_ISREG(st.st_mode)) return Kind::kFile;
  return Kind::kOther;
}

// `name_flag`, or else `fallback` (the default or the config file's stem).
absl::StatusOr<std::string> InstanceName(absl::string_view name_flag,
                                         absl::string_view fallback) {
  if (!name_flag.empty()) {
    RETURN_IF_ERROR(ValidateInstanceName(name_flag));
    return std::string(name_flag);
  }
  if (!ValidateInstanceName(fallback).ok()) {
    return absl::InvalidArgumentError(absl::StrCat(
        "the config file's name \"", absl::CHexEscape(fallback),
        "\" is not a valid instance name; pass one with -n/--name"));
  }
  return std::string(fallback);
}

}  // namespace

std::string ConfigPaths::LockFile() const {
  return Join(state_dir, absl::StrCat(instance_name, ".lock"));
}

std::string ConfigPaths::LastRunFile() const {
  return Join(state_dir, absl::StrCat(instance_name, ".last-run.json"));
}

std::string ConfigPaths::ServeStateFile() const {
  return Join(state_dir, absl::StrCat(instance_name, ".serve-state.json"));
}

std::string ConfigPaths::PlanKeyFile() const {
  return Join(state_dir, absl::StrCat(instance_name, ".plan-key"));
}

std::string ConfigPaths::LedgerFile() const {
  return Join(state_dir, absl::StrCat(instance_name, ".ledger.sqlite"));
}

absl::Status ValidateInstanceName(absl::string_view name) {
  const bool valid =
      !name.empty() && name.size() <= kMaxInstanceNameLength &&
      name[0] != '.' && name[0] != '-' &&
      std::all_of(name.begin(), name.end(), [](char c) {
        return absl::ascii_isalnum(c) || c == '.' || c == '_' || c == '-';
      });
  if (valid) return absl::OkStatus();
  return absl::InvalidArgumentError(absl::StrCat(
      "instance name \"", absl::CHexEscape(name),
      "\" (-n/--name) must be 1 to 64 letters, digits, '.', '_' or '-', not "
      "starting with '.' or '-'"));
}

namespace {

// ResolveConfigPaths() without --state-dir.
absl::StatusOr<ConfigPaths> ResolveConfigFlags(absl::string_view config_flag,
                                               absl::string_view name_flag) {
  ASSIGN_OR_RETURN(const std::string path,
                   AbsoluteNormal(config_flag.empty() ? "." : config_flag));
  ASSIGN_OR_RETURN(const Kind kind, KindOf(path));
  ConfigPaths out;
  switch (kind) {
    case Kind::kMissing:
      return absl::NotFoundError(
          absl::StrCat(HasYamlExtension(path) ? "config file " : "config path ",
                       path, " (-c/--config) does not exist"));
    case Kind::kOther:
      return absl::FailedPreconditionError(
          absl::StrCat("config path ", path,
                       " (-c/--config) is neither a file nor a folder"));
    case Kind::kFile: {
      ASSIGN_OR_RETURN(out.instance_name, InstanceName(name_flag, Stem(path)));
      out.config_file = path;
      out.state_dir = Dirname(path);
      return out;
    }
    case Kind::kFolder:
      break;
  }
  ASSIGN_OR_RETURN(out.instance_name,
                   InstanceName(name_flag, kDefaultInstanceName));
  out.state_dir = path;
  std::vector<std::string> looked_for;
  for (absl::string_view extension : {".yaml", ".yml"}) {
    const std::string candidate =
        Join(path, absl::StrCat(out.instance_name, extension));
    ASSIGN_OR_RETURN(const Kind candidate_kind, KindOf(candidate));
    if (candidate_kind == Kind::kFile) {
      out.config_file = candidate;
      return out;
    }
    looked_for.push_back(candidate);
  }
  return absl::NotFoundError(absl::StrCat(
      "no config file in ", path, ": looked for ",
      absl::StrJoin(looked_for, " and "), " (create one with `tqs1 init`)"));
}

}  // namespace

absl::StatusOr<ConfigPaths> ResolveConfigPaths(absl::string_view config_flag,
                                               absl::string_view name_flag,
                                               absl::string_view state_flag) {
  ASSIGN_OR_RETURN(ConfigPaths out, ResolveConfigFlags(config_flag, name_flag));
  if (state_flag.empty()) return out;
  ASSIGN_OR_RETURN(const std::string path, AbsoluteNormal(state_flag));
  ASSIGN_OR_RETURN(const Kind kind, KindOf(path));
  if (kind == Kind::kMissing) {
    return absl::NotFoundError(
        absl::StrCat("state folder ", path, " (--state-dir) does not exist"));
  }
  if (kind != Kind::kFolder) {
    return absl::FailedPreconditionError(
        absl::StrCat("state folder ", path, " (--state-dir) is not a folder"));
  }
  out.state_dir = path;
  return out;
}

absl::StatusOr<ConfigPaths> NewConfigPaths(absl::string_view config_flag,
                                           absl::string_view name_flag) {
  ASSIGN_OR_RETURN(const std::string path,
                   AbsoluteNormal(config_flag.empty() ? "." : config_flag));
  ASSIGN_OR_RETURN(const Kind kind, KindOf(path));
  ConfigPaths out;
  if (kind != Kind::kFolder &&
      (kind == Kind::kFile || HasYamlExtension(path))) {
    ASSIGN_OR_RETURN(out.instance_name, InstanceName(name_flag, Stem(path)));
    out.config_file = path;
    out.state_dir = Dirname(path);
    return out;
  }
  if (kind == Kind::kOther) {
    return absl::FailedPreconditionError(absl::StrCat(
        "config path ", path, " (-c/--config) is neither a file nor a folder"));
  }
  ASSIGN_OR_RETURN(out.instance_name,
                   InstanceName(name_flag, kDefaultInstanceName));
  out.state_dir = path;
  out.config_file = Join(path, absl::StrCat(out.instance_name, ".yaml"));
  return out;
}

}  // namespace tqs1::config
