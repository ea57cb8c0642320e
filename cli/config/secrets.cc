#include "cli/config/secrets.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <optional>
#include <string>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "base/status_macros.h"

namespace tqs1::config {
namespace {

using ::tqs1::v1::SecretRef;

// "secret file <path> (<what>_file)"
std::string FileLabel(const std::string& path, absl::string_view what) {
  return absl::StrCat("secret file ", path, " (", what, "_file)");
}

// A secret is one line of printable characters: a newline or another
// control character inside it would split an HTTP header (libcurl's
// "Received HTTP/0.9") or be sent as part of the credential.
bool HasControlCharacter(absl::string_view secret) {
  for (unsigned char c : secret) {
    if (c < 0x20 || c == 0x7f) return true;
  }
  return false;
}

constexpr absl::string_view kControlCharacter =
    " holds a newline or another control character inside the secret; a "
    "secret is one line";

absl::StatusOr<std::string> ReadSecretFile(const std::string& path,
                                           absl::string_view what,
                                           const SecretOptions& options) {
  const std::string label = FileLabel(path, what);
  const int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::FailedPreconditionError(
          absl::StrCat(label, " does not exist"));
    }
    return absl::FailedPreconditionError(
        absl::StrCat(label, " cannot be read: ", std::strerror(err)));
  }
  std::string contents;
  absl::Status status;
  struct stat st;
  if (fstat(fd, &st) != 0) {
    status = absl::FailedPreconditionError(
        absl::StrCat(label, " cannot be read: ", std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    status = absl::FailedPreconditionError(
        absl::StrCat(label, " is not a regular file"));
  } else {
    if ((st.st_mode & (S_IRWXG | S_IRWXO)) != 0) {
      tqs1::log::LogTo(
          options.logger, tqs1::log::LogLevel::kWarning,
          absl::StrFormat("%s can be read or changed by group or others "
                          "(mode %04o); run: chmod 600 %s",
                          label, st.st_mode & 07777, path));
    }
    char buffer[4096];
    while (true) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = absl::FailedPreconditionError(
            absl::StrCat(label, " cannot be read: ", std::strerror(errno)));
        break;
      }
      if (n == 0) break;
      contents.append(buffer, static_cast<size_t>(n));
      if (contents.size() > kMaxSecretFileBytes) {
        status = absl::FailedPreconditionError(
            absl::StrCat(label, " is larger than ", kMaxSecretFileBytes / 1024,
                         " KiB; is it the right file?"));
        break;
      }
    }
  }
  close(fd);
  if (!status.ok()) {
    // Wipe what was read before dropping it.
    std::fill(contents.begin(), contents.end(), '\0');
    return status;
  }
  absl::StripAsciiWhitespace(&contents);
  if (contents.empty()) {
    return absl::FailedPreconditionError(absl::StrCat(label, " is empty"));
  }
  if (HasControlCharacter(contents)) {
    std::fill(contents.begin(), contents.end(), '\0');
    return absl::FailedPreconditionError(
        absl::StrCat(label, kControlCharacter));
  }
  return contents;
}

}  // namespace

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* value = std::getenv(name.c_str());
    if (value == nullptr) return std::nullopt;
    return std::string(value);
  };
}

absl::StatusOr<std::string> ResolveSecret(const SecretRef& ref,
                                          absl::string_view what,
                                          const SecretOptions& options) {
  switch (ref.source_case()) {
    case SecretRef::kEnv: {
      const EnvLookup env = options.env ? options.env : ProcessEnvironment();
      std::optional<std::string> value = env(ref.env());
      const std::string label =
          absl::StrCat("environment variable ", ref.env(), " (", what, "_env)");
      if (!value.has_value() || value->empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(label, " is not set or empty"));
      }
      const size_t size = value->size();
      absl::StripAsciiWhitespace(&*value);
      if (value->empty()) {
        return absl::FailedPreconditionError(
            absl::StrCat(label, " holds only whitespace"));
      }
      if (HasControlCharacter(*value)) {
        std::fill(value->begin(), value->end(), '\0');
        return absl::FailedPreconditionError(
            absl::StrCat(label, kControlCharacter));
      }
      if (value->size() != size) {
        tqs1::log::LogTo(
            options.logger, tqs1::log::LogLevel::kWarning,
            absl::StrCat(label,
                         " has whitespace (a newline?) before or after the "
                         "secret; it was trimmed"));
      }
      return *std::move(value);
    }
    case SecretRef::kFile:
      return ReadSecretFile(ref.file(), what, options);
    case SecretRef::SOURCE_NOT_SET:
      break;
  }
  return absl::InvalidArgumentError(absl::StrCat("no secret configured for ",
                                                 what, ": set ", what,
                                                 "_env or ", what, "_file"));
}

std::string SecretOrigin(const SecretRef& ref) {
  switch (ref.source_case()) {
    case SecretRef::kEnv:
      return absl::StrCat("$", ref.env());
    case SecretRef::kFile:
      return absl::StrCat("file ", ref.file());
    case SecretRef::SOURCE_NOT_SET:
      break;
  }
  return "";
}

namespace {

absl::StatusOr<ThreatQSecrets> ResolveThreatQ(const tqs1::v1::ThreatQConfig& tq,
                                              absl::string_view what,
                                              const SecretOptions& options) {
  ThreatQSecrets out;
  if (tq.password().source_case() != SecretRef::SOURCE_NOT_SET) {
    ASSIGN_OR_RETURN(
        out.password,
        ResolveSecret(tq.password(), absl::StrCat(what, ".password"), options));
  }
  if (tq.client_secret().source_case() != SecretRef::SOURCE_NOT_SET) {
    ASSIGN_OR_RETURN(
        out.client_secret,
        ResolveSecret(tq.client_secret(), absl::StrCat(what, ".client_secret"),
                      options));
  }
  return out;
}

}  // namespace

ThreatQSecrets Credentials::ThreatQ(const std::string& name) const {
  if (name.empty()) return {threatq_password, threatq_client_secret};
  auto it = named_threatq.find(name);
  return it == named_threatq.end() ? ThreatQSecrets{} : it->second;
}

std::string Credentials::SentinelOneApiToken(const std::string& name) const {
  if (name.empty()) return sentinelone_api_token;
  auto it = named_sentinelone_api_tokens.find(name);
  return it == named_sentinelone_api_tokens.end() ? "" : it->second;
}

std::vector<std::string> Credentials::All() const {
  std::vector<std::string> all = {threatq_password, threatq_client_secret,
                                  sentinelone_api_token};
  for (const auto& [name, tq] : named_threatq) {
    all.push_back(tq.password);
    all.push_back(tq.client_secret);
  }
  for (const auto& [name, token] : named_sentinelone_api_tokens) {
    all.push_back(token);
  }
  all.erase(std::remove(all.begin(), all.end(), ""), all.end());
  return all;
}

bool Credentials::operator==(const Credentials& o) const {
  return threatq_password == o.threatq_password &&
         threatq_client_secret == o.threatq_client_secret &&
         sentinelone_api_token == o.sentinelone_api_token &&
         named_threatq == o.named_threatq &&
         named_sentinelone_api_tokens == o.named_sentinelone_api_tokens;
}

absl::StatusOr<Credentials> ResolveCredentials(const tqs1::v1::Config& config,
                                               const SecretOptions& options) {
  Credentials out;
  if (config.threatq_instances().empty()) {
    ASSIGN_OR_RETURN(const ThreatQSecrets tq,
                     ResolveThreatQ(config.threatq(), "threatq", options));
    out.threatq_password = tq.password;
    out.threatq_client_secret = tq.client_secret;
  }
  for (const tqs1::v1::ThreatQConfig& tq : config.threatq_instances()) {
    ASSIGN_OR_RETURN(
        out.named_threatq[tq.name()],
        ResolveThreatQ(tq, absl::StrCat("threatq.", tq.name()), options));
  }
  if (config.sentinelone_consoles().empty()) {
    ASSIGN_OR_RETURN(out.sentinelone_api_token,
                     ResolveSecret(config.sentinelone().api_token(),
                                   "sentinelone.api_token", options));
  }
  for (const tqs1::v1::SentinelOneConfig& s1 : config.sentinelone_consoles()) {
    ASSIGN_OR_RETURN(
        out.named_sentinelone_api_tokens[s1.name()],
        ResolveSecret(s1.api_token(),
                      absl::StrCat("sentinelone.", s1.name(), ".api_token"),
                      options));
  }
  return out;
}

}  // namespace tqs1::config
