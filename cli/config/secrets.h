// Resolves the secret references of a config (an environment variable or a
// file) into the secrets themselves, without ever putting a secret into an
// error or a log line.
//
//   SecretOptions options;
//   options.logger = &logger;  // warns about group/world-readable files
//   absl::StatusOr<std::string> token = ResolveSecret(
//       config.sentinelone().api_token(), "sentinelone.api_token", options);
//   // !ok: "environment variable TQS1_S1_TOKEN (sentinelone.api_token_env)
//   //       is not set or empty"
//
// Tests inject the environment (SecretOptions::env) instead of changing the
// process's.
#ifndef TQS1_CLI_CONFIG_SECRETS_H_
#define TQS1_CLI_CONFIG_SECRETS_H_

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "base/logger.h"
#include "proto/config.pb.h"

namespace tqs1::config {

// Looks up an environment variable: its value, or nullopt when it is unset.
using EnvLookup = std::function<std::optional<std::string>(const std::string&)>;

// The process environment (getenv(3)).
EnvLookup ProcessEnvironment();

struct SecretOptions {
  // Where `env` references are looked up; empty means ProcessEnvironment().
  EnvLookup env;
  // Receives warnings (a secret file readable by group or others). Unowned;
  // may be null.
  tqs1::log::Logger* logger = nullptr;
};

// Secret files are at most this large.
inline constexpr size_t kMaxSecretFileBytes = 64 * 1024;

// Returns the secret `ref` points to. `what` is the config key of the
// secret without its suffix, e.g. "threatq.password": messages name
// "<what>_env" or "<what>_file".
//
// - env: the variable's value without surrounding whitespace (a trailing
//   newline from `export X=$(cat file)` or a copy and paste); trimming logs
//   a warning naming the variable. kFailedPrecondition when unset or empty
//   ("environment variable TQS1_S1_TOKEN (sentinelone.api_token_env) is not
//   set or empty") or only whitespace ("... holds only whitespace").
// - file: the file's contents without surrounding whitespace (silently: a
//   file's last line ends in a newline). kFailedPrecondition when the file
//   is missing, unreadable, not a regular file, larger than
//   kMaxSecretFileBytes or empty, e.g. "secret file /run/tq.pw
//   (threatq.password_file) does not exist". Logs a warning when group or
//   others have any access to the file (the secret is still returned).
// - either: kFailedPrecondition when the trimmed secret still holds a
//   newline or another control character (it would split an HTTP header):
//   "... holds a newline or another control character inside the secret;
//   a secret is one line".
// - neither set: kInvalidArgument.
// The secret's value is never part of a message.
absl::StatusOr<std::string> ResolveSecret(const tqs1::v1::SecretRef& ref,
                                          absl::string_view what,
                                          const SecretOptions& options = {});

// Where `ref` points, for messages about a credential a server rejected:
// "$TQS1_S1_TOKEN" or "file /etc/tq_labs/s1.token"; "" when unset. Not a
// secret.
std::string SecretOrigin(const tqs1::v1::SecretRef& ref);

// The secrets of one ThreatQ instance: a password or a client secret.
struct ThreatQSecrets {
  std::string password;
  std::string client_secret;
  bool operator==(const ThreatQSecrets& o) const {
    return password == o.password && client_secret == o.client_secret;
  }
};

// The secrets of a whole config; a field is empty when its reference is
// absent (a ThreatQ config holds a password or a client secret).
struct Credentials {
  // The unnamed instance's and console's (Config.threatq, sentinelone).
  std::string threatq_password;
  std::string threatq_client_secret;
  std::string sentinelone_api_token;
  // The named instances' and consoles' (Config.threatq_instances,
  // sentinelone_consoles), by name.
  std::map<std::string, ThreatQSecrets> named_threatq;
  std::map<std::string, std::string> named_sentinelone_api_tokens;

  // The secrets of the instance or console of that name ("": unnamed).
  ThreatQSecrets ThreatQ(const std::string& name) const;
  std::string SentinelOneApiToken(const std::string& name) const;
  // Every secret held (none empty): what no output may show.
  std::vector<std::string> All() const;
  bool operator==(const Credentials& o) const;
};

// Resolves every reference of `config` with ResolveSecret(). The first error
// is returned.
absl::StatusOr<Credentials> ResolveCredentials(
    const tqs1::v1::Config& config, const SecretOptions& options = {});

}  // namespace tqs1::config

#endif  // TQS1_CLI_CONFIG_SECRETS_H_
