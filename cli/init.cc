#include "cli/init.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <string>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "cli/config/config_loader.h"
#include "cli/config/paths.h"

namespace tqs1::cli {
namespace {

// Writes `contents` to a new file readable only by its owner; refuses to
// replace an existing one.
absl::Status WritePrivateFile(const std::string& path,
                              const std::string& contents) {
  int fd = open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) {
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot create \"", path, "\"",
        errno == EEXIST ? ": it exists already (tqs1 init never overwrites)"
                        : ""));
  }
  fchmod(fd, 0600);
  size_t done = 0;
  while (done < contents.size()) {
    ssize_t n = write(fd, contents.data() + done, contents.size() - done);
    if (n <= 0) {
      close(fd);
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write \"", path, "\""));
    }
    done += n;
  }
  fsync(fd);
  close(fd);
  return absl::OkStatus();
}

// YAML double-quoted scalar.
std::string Quoted(absl::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  return out + "\"";
}

std::string AsUrl(std::string host) {
  host = std::string(absl::StripAsciiWhitespace(host));
  if (absl::StartsWith(host, "https://") || absl::StartsWith(host, "http://")) {
    return host;
  }
  return "https://" + host;
}

}  // namespace

int RunInit(const CommandLine& cl, const Io& io) {
  absl::StatusOr<config::ConfigPaths> paths =
      config::NewConfigPaths(cl.config, cl.name);
  if (!paths.ok()) {
    *io.err << "Error: " << paths.status().message() << "\n";
    return kExitError;
  }
  if (access(paths->config_file.c_str(), F_OK) == 0) {
    *io.err << "Error: \"" << paths->config_file
            << "\" exists already; tqs1 init never overwrites a config.\n";
    return kExitError;
  }
  struct Question {
    const char* prompt;
    bool hidden;
    std::string answer;
  };
  Question q[] = {
      {"ThreatQ host (e.g. threatq.example.net): ", false, ""},
      {"ThreatQ API client id: ", false, ""},
      {"ThreatQ username (email): ", false, ""},
      {"ThreatQ password: ", true, ""},
      {"SentinelOne console (e.g. usea1.sentinelone.net): ", false, ""},
      {"SentinelOne API token: ", true, ""},
      {"SentinelOne site name: ", false, ""},
      {"ThreatQ data collection name: ", false, ""},
  };
  for (Question& question : q) {
    std::optional<std::string> answer =
        io.ask(question.prompt, question.hidden);
    if (!answer.has_value() || absl::StripAsciiWhitespace(*answer).empty()) {
      *io.err << "Error: no answer to \"" << question.prompt
              << "\"; nothing written.\n";
      return kExitError;
    }
    question.answer = question.hidden
                          ? *answer
                          : std::string(absl::StripAsciiWhitespace(*answer));
  }

  const std::string dir = paths->state_dir;
  const std::string name = paths->instance_name;
  const std::string password_file =
      absl::StrCat(dir, "/", name, ".threatq-password");
  const std::string token_file = absl::StrCat(dir, "/", name, ".s1-token");
  std::string yaml = absl::StrCat(
      "# Written by `tqs1 init`. Secrets live in the files named below (mode "
      "0600).\n"
      "threatq:\n"
      "  url: ",
      Quoted(AsUrl(q[0].answer)), "\n", "  client_id: ", Quoted(q[1].answer),
      "\n", "  username: ", Quoted(q[2].answer), "\n",
      "  password_file: ", Quoted(password_file), "\n",
      "sentinelone:\n"
      "  url: ",
      Quoted(AsUrl(q[4].answer)), "\n",
      "  api_token_file: ", Quoted(token_file), "\n",
      "syncs:\n"
      "  - collection: ",
      Quoted(q[7].answer), "\n", "    site: ", Quoted(q[6].answer), "\n",
      "    rule:\n"
      "      description: \"Blocked by ThreatQ\"\n"
      "      direction: any\n"
      "      os_types: [windows, macos, linux]\n"
      "      enabled: true\n");
  // Check what would be written before writing anything.
  absl::StatusOr<tqs1::v1::Config> check =
      config::ParseConfigYaml(yaml, paths->config_file);
  if (!check.ok()) {
    *io.err << "Error: " << check.status().message() << "\n";
    return kExitError;
  }
  for (const auto& [path, contents] :
       {std::pair<std::string, std::string>{password_file, q[3].answer},
        {token_file, q[5].answer},
        {paths->config_file, yaml}}) {
    if (absl::Status s = WritePrivateFile(path, contents); !s.ok()) {
      *io.err << "Error: " << s.message() << "\n";
      return kExitError;
    }
  }
  *io.out << "Wrote " << paths->config_file << ", " << password_file << " and "
          << token_file << " (mode 0600).\nNext: `tqs1 plan -c " << dir
          << (cl.name.empty() ? "" : " -n " + cl.name)
          << "` to see what tqs1 would change.\n";
  return kExitOk;
}

}  // namespace tqs1::cli
