#include "cli/init.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "base/net.h"
#include "cli/config/config_loader.h"
#include "cli/config/paths.h"
#include "cli/version.h"
#include "providers/http/http_transport.h"
#include "providers/sentinelone/sentinelone_client.h"
#include "providers/threatq/collection_read_builder.h"
#include "providers/threatq/threatq_client.h"

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

// The folder part of `path` ("." when it has none).
std::string Parent(const std::string& path) {
  size_t slash = path.find_last_of('/');
  if (slash == std::string::npos) return ".";
  if (slash == 0) return "/";
  return path.substr(0, slash);
}

// What init writes, all in one folder.
struct Targets {
  std::string dir;
  std::string config_file;
  std::string password_file;
  std::string token_file;
  bool dir_exists = false;
};

// Checks, before anything is asked, that the folder exists (or its parent
// does and can take it), can be written and holds none of the files init
// writes. kFailedPrecondition naming the folder or the file.
absl::Status CheckTargets(const Targets& t) {
  struct stat st;
  if (stat(t.dir.c_str(), &st) == 0) {
    if (!S_ISDIR(st.st_mode)) {
      return absl::FailedPreconditionError(
          absl::StrCat("\"", t.dir, "\" is not a folder"));
    }
    if (access(t.dir.c_str(), W_OK | X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("cannot write to the folder \"", t.dir,
                       "\": ", std::strerror(errno)));
    }
  } else {
    const std::string parent = Parent(t.dir);
    if (access(parent.c_str(), W_OK | X_OK) != 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("the folder \"", t.dir,
                       "\" does not exist and cannot be created in \"", parent,
                       "\": ", std::strerror(errno)));
    }
  }
  for (const std::string* path :
       {&t.config_file, &t.password_file, &t.token_file}) {
    if (access(path->c_str(), F_OK) == 0) {
      return absl::FailedPreconditionError(
          absl::StrCat("\"", *path, "\" exists already in the folder \"", t.dir,
                       "\"; tqs1 init never overwrites"));
    }
  }
  return absl::OkStatus();
}

// The host of a typed-in "host", "host:port", "[v6]:port" or bare v6.
std::string HostOf(absl::string_view typed) {
  if (absl::StartsWith(typed, "[")) {
    size_t end = typed.find(']');
    return std::string(typed.substr(
        1, end == absl::string_view::npos ? absl::string_view::npos : end - 1));
  }
  size_t slash = typed.find('/');
  absl::string_view authority = typed.substr(0, slash);
  if (std::count(authority.begin(), authority.end(), ':') > 1) {
    return std::string(authority);  // a bare IPv6 address
  }
  return std::string(authority.substr(0, authority.find(':')));
}

}  // namespace

std::string UrlForTypedHost(absl::string_view typed) {
  std::string host(absl::StripAsciiWhitespace(typed));
  if (absl::StartsWith(host, "https://") || absl::StartsWith(host, "http://")) {
    return host;
  }
  const std::string bare = HostOf(host);
  if (!absl::StartsWith(host, "[") && bare == host &&
      absl::StrContains(host, ":")) {
    host = absl::StrCat("[", host, "]");  // a bare IPv6 address
  }
  return absl::StrCat(net::IsLoopbackHost(bare) ? "http://" : "https://", host);
}

namespace {

// One terminal conversation; every method returns false at end of input
// (after saying so) or on an error already printed.
class Dialog {
 public:
  explicit Dialog(const Io& io) : io_(io) {}

  // A non-empty answer (trimmed unless hidden).
  bool Ask(const std::string& prompt, bool hidden, std::string* answer) {
    std::optional<std::string> a = io_.ask(prompt, hidden);
    if (!a.has_value() || absl::StripAsciiWhitespace(*a).empty()) {
      *io_.err << "Error: no answer to \"" << prompt
               << "\"; nothing written.\n";
      return false;
    }
    *answer = hidden ? *a : std::string(absl::StripAsciiWhitespace(*a));
    return true;
  }

  // A vendor URL from a typed-in host, asked again until it is one the
  // config accepts (http:// only for loopback hosts).
  bool AskUrl(const std::string& prompt, std::string* url) {
    for (;;) {
      std::string typed;
      if (!Ask(prompt, false, &typed)) return false;
      *url = UrlForTypedHost(typed);
      if (absl::Status s = config::ValidateApiUrl(*url); !s.ok()) {
        *io_.err << "  " << s.message() << "\n";
        continue;
      }
      if (absl::StartsWith(*url, "http://")) {
        *io_.out << "  Using " << *url
                 << " (plain http:// is allowed for loopback hosts only).\n";
      }
      return true;
    }
  }

  // Index into `names` of the user's pick (a 1-based number or an exact
  // name), asked again with near matches for an unknown name and with the
  // candidates' numbers for a name several entries share.
  bool Pick(const std::string& prompt, const std::vector<std::string>& names,
            const std::function<std::string(size_t)>& label, size_t* picked) {
    for (;;) {
      std::string typed;
      if (!Ask(prompt, false, &typed)) return false;
      int number = 0;
      if (absl::SimpleAtoi(typed, &number)) {
        if (number >= 1 && static_cast<size_t>(number) <= names.size()) {
          *picked = number - 1;
          return true;
        }
        *io_.err << "  " << number << " is not in the list (1 to "
                 << names.size() << ").\n";
        continue;
      }
      std::vector<size_t> exact;
      for (size_t k = 0; k < names.size(); ++k) {
        if (names[k] == typed) exact.push_back(k);
      }
      if (exact.size() == 1) {
        *picked = exact[0];
        return true;
      }
      if (exact.size() > 1) {
        *io_.err << "  \"" << typed << "\" names " << exact.size()
                 << " entries; choose one by number:\n";
        for (size_t k : exact) *io_.err << "    " << label(k) << "\n";
        continue;
      }
      std::vector<std::string> near = threatq::NearMatches(typed, names);
      *io_.err << "  \"" << typed << "\" is not in the list";
      if (!near.empty()) {
        *io_.err << "; near matches: \"" << absl::StrJoin(near, "\", \"")
                 << "\"";
      }
      *io_.err << ".\n";
    }
  }

  std::ostream& out() { return *io_.out; }
  std::ostream& err() { return *io_.err; }

 private:
  const Io& io_;
};

// The transport the other commands use (retries; init only reads, so no
// pacing), with the system's certificate store.
absl::StatusOr<std::unique_ptr<http::HttpTransport>> NewTransport() {
  return MakeTransport(tqs1::v1::TlsConfig(), /*writes_per_second=*/0,
                       /*max_in_flight=*/0, /*logger=*/nullptr);
}

}  // namespace

int RunInit(const CommandLine& cl, const Io& io) {
  absl::StatusOr<config::ConfigPaths> paths =
      config::NewConfigPaths(cl.config, cl.name);
  if (!paths.ok()) {
    *io.err << "Error: " << paths.status().message() << "\n";
    return kExitError;
  }
  Targets t;
  t.dir = paths->state_dir;
  t.config_file = paths->config_file;
  const std::string& name = paths->instance_name;
  t.password_file = absl::StrCat(t.dir, "/", name, ".threatq-password");
  t.token_file = absl::StrCat(t.dir, "/", name, ".s1-token");
  if (absl::Status s = CheckTargets(t); !s.ok()) {
    *io.err << "Error: " << s.message()
            << "; nothing asked, nothing written.\n";
    return kExitError;
  }
  Dialog d(io);

  // 1. ThreatQ: the login, then the saved searches it can see.
  std::string tq_url, client_id, username, password;
  if (!d.AskUrl("ThreatQ host (e.g. threatq.example.net): ", &tq_url) ||
      !d.Ask("ThreatQ API client id: ", false, &client_id) ||
      !d.Ask("ThreatQ username (email): ", false, &username) ||
      !d.Ask("ThreatQ password: ", true, &password)) {
    return kExitError;
  }
  absl::StatusOr<std::unique_ptr<http::HttpTransport>> tq_transport =
      NewTransport();
  if (!tq_transport.ok()) {
    d.err() << "Error: " << tq_transport.status().message() << "\n";
    return kExitError;
  }
  threatq::ThreatQClientOptions tq;
  tq.base_url = tq_url;
  tq.client_id = client_id;
  tq.grant = threatq::ThreatQClientOptions::Grant::kPassword;
  tq.email = username;
  tq.password = password;
  tq.credential_origin = "the \"ThreatQ password\" answer";
  absl::StatusOr<std::unique_ptr<threatq::ThreatQClient>> tq_client =
      threatq::ThreatQClient::Create(tq_transport->get(), std::move(tq));
  absl::StatusOr<threatq::CollectionList> collections =
      absl::UnknownError("no ThreatQ client");
  if (!tq_client.ok()) {
    collections = tq_client.status();
  } else if (absl::StatusOr<threatq::TokenInfo> login = (*tq_client)->Login();
             !login.ok()) {
    collections = login.status();
  } else {
    collections = (*tq_client)->ListCollections();
  }
  if (!collections.ok()) {
    d.err() << "Error: ThreatQ at " << net::UrlWithoutQuery(tq_url) << " as \""
            << username << "\": " << collections.status().message()
            << "; nothing written.\n";
    return kExitError;
  }
  if (collections->collections.empty()) {
    d.err() << "Error: ThreatQ at " << net::UrlWithoutQuery(tq_url)
            << ": user \"" << username
            << "\" sees no data collections (a collection must be owned by "
               "or shared with the API user); nothing written.\n";
    return kExitError;
  }
  std::vector<std::string> collection_names;
  d.out() << "Logged in to ThreatQ. Data collections:\n";
  for (const threatq::CollectionInfo& c : collections->collections) {
    collection_names.push_back(c.name);
    d.out() << "  " << collection_names.size() << ". " << c.name << "\n";
  }
  size_t collection = 0;
  if (!d.Pick(
          "ThreatQ data collection (number or name): ", collection_names,
          [&](size_t k) {
            return absl::StrCat(k + 1, ". ", collection_names[k]);
          },
          &collection)) {
    return kExitError;
  }

  // 2. SentinelOne: the token, then the active sites it can see.
  std::string s1_url, token;
  if (!d.AskUrl("SentinelOne console (e.g. usea1.sentinelone.net): ",
                &s1_url) ||
      !d.Ask("SentinelOne API token: ", true, &token)) {
    return kExitError;
  }
  absl::StatusOr<std::unique_ptr<http::HttpTransport>> s1_transport =
      NewTransport();
  if (!s1_transport.ok()) {
    d.err() << "Error: " << s1_transport.status().message() << "\n";
    return kExitError;
  }
  sentinelone::SentinelOneClientOptions s1;
  s1.base_url = s1_url;
  s1.api_token = token;
  s1.credential_origin = "the \"SentinelOne API token\" answer";
  absl::StatusOr<std::unique_ptr<sentinelone::SentinelOneClient>> s1_client =
      sentinelone::SentinelOneClient::Create(std::move(s1),
                                             s1_transport->get());
  absl::StatusOr<std::vector<sentinelone::SiteListing>> listed =
      s1_client.ok() ? (*s1_client)->ListSites() : s1_client.status();
  if (!listed.ok()) {
    d.err() << "Error: SentinelOne at " << net::UrlWithoutQuery(s1_url) << ": "
            << listed.status().message() << "; nothing written.\n";
    return kExitError;
  }
  std::vector<sentinelone::SiteListing> sites;
  for (sentinelone::SiteListing& site : *listed) {
    if (site.state == "active") sites.push_back(std::move(site));
  }
  if (sites.empty()) {
    d.err() << "Error: SentinelOne at " << net::UrlWithoutQuery(s1_url)
            << ": the token sees no active site; nothing written.\n";
    return kExitError;
  }
  std::vector<std::string> site_names;
  auto site_label = [&](size_t k) {
    const sentinelone::SiteListing& s = sites[k];
    return absl::StrCat(k + 1, ". ", s.name, " (account ",
                        s.account_name.empty() ? s.account_id : s.account_name,
                        ")");
  };
  d.out() << "SentinelOne sites:\n";
  for (const sentinelone::SiteListing& s : sites) {
    site_names.push_back(s.name);
    d.out() << "  " << site_label(site_names.size() - 1) << "\n";
  }
  size_t site = 0;
  if (!d.Pick("SentinelOne site (number or name): ", site_names, site_label,
              &site)) {
    return kExitError;
  }
  const bool shared_name =
      std::count(site_names.begin(), site_names.end(), site_names[site]) > 1;
  const std::string site_line =
      shared_name
          ? absl::StrCat(
                "    site_id: ", Quoted(sites[site].id), "  # ",
                site_label(site).substr(site_label(site).find(' ') + 1), "\n")
          : absl::StrCat("    site: ", Quoted(sites[site].name), "\n");

  // 3. The files, checked before any is written.
  std::string yaml = absl::StrCat(
      "# Written by `tqs1 init`. Secrets live in the files named below (mode "
      "0600).\n"
      "threatq:\n"
      "  url: ",
      Quoted(tq_url), "\n", "  client_id: ", Quoted(client_id), "\n",
      "  username: ", Quoted(username), "\n",
      "  password_file: ", Quoted(t.password_file), "\n",
      "sentinelone:\n"
      "  url: ",
      Quoted(s1_url), "\n", "  api_token_file: ", Quoted(t.token_file), "\n",
      "syncs:\n"
      "  - collection: ",
      Quoted(collection_names[collection]), "\n", site_line,
      "    rule:\n"
      "      description: \"Blocked by ThreatQ\"\n"
      "      direction: any\n"
      "      os_types: [windows, macos, linux]\n"
      "      enabled: true\n");
  absl::StatusOr<tqs1::v1::Config> check =
      config::ParseConfigYaml(yaml, t.config_file);
  if (!check.ok()) {
    d.err() << "Error: " << check.status().message() << "\n";
    return kExitError;
  }
  if (access(t.dir.c_str(), F_OK) != 0 && mkdir(t.dir.c_str(), 0700) != 0) {
    d.err() << "Error: cannot create the folder \"" << t.dir
            << "\": " << std::strerror(errno) << "; nothing written.\n";
    return kExitError;
  }
  for (const auto& [path, contents] :
       {std::pair<std::string, std::string>{t.password_file, password},
        {t.token_file, token},
        {t.config_file, yaml}}) {
    if (absl::Status s = WritePrivateFile(path, contents); !s.ok()) {
      d.err() << "Error: " << s.message() << "\n";
      return kExitError;
    }
  }
  d.out() << "Wrote " << t.config_file << ", " << t.password_file << " and "
          << t.token_file << " (mode 0600).\nNext: `tqs1 plan -c " << t.dir
          << (cl.name.empty() ? "" : " -n " + cl.name)
          << "` to see what tqs1 would change.\n";
  return kExitOk;
}

}  // namespace tqs1::cli
