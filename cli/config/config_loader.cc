#include "cli/config/config_loader.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <initializer_list>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/status_macros.h"
#include "cli/config/schema.h"
#include "cli/config/yaml_guards.h"
#include "reconciler/address.h"
#include "yaml-cpp/yaml.h"

namespace tqs1::config {
namespace {

using ::tqs1::v1::Config;
using ::tqs1::v1::Direction;
using ::tqs1::v1::Guards;
using ::tqs1::v1::OsType;
using ::tqs1::v1::RuleTemplate;
using ::tqs1::v1::SecretRef;
using ::tqs1::v1::SentinelOneConfig;
using ::tqs1::v1::SyncConfig;
using ::tqs1::v1::ThreatQConfig;
using ::tqs1::v1::TlsConfig;

constexpr off_t kMaxConfigBytes = 1 << 20;

bool IsEnvVarName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

constexpr EnumValue kDirections[] = {
    {"any", tqs1::v1::DIRECTION_ANY},
    {"inbound", tqs1::v1::DIRECTION_INBOUND},
    {"outbound", tqs1::v1::DIRECTION_OUTBOUND},
};

constexpr EnumValue kIpv6Modes[] = {
    {"auto", tqs1::v1::IPV6_MODE_AUTO},
    {"on", tqs1::v1::IPV6_MODE_ON},
    {"off", tqs1::v1::IPV6_MODE_OFF},
};

constexpr EnumValue kOsTypes[] = {
    {"windows", tqs1::v1::OS_TYPE_WINDOWS},
    {"windows_legacy", tqs1::v1::OS_TYPE_WINDOWS_LEGACY},
    {"macos", tqs1::v1::OS_TYPE_MACOS},
    {"linux", tqs1::v1::OS_TYPE_LINUX},
};

// The keys of a `refuse` list: tqs1.v1.InputCategory without its prefix.
constexpr EnumValue kRefuseCategories[] = {
    {"private", tqs1::v1::INPUT_CATEGORY_PRIVATE},
    {"cgnat", tqs1::v1::INPUT_CATEGORY_CGNAT},
    {"documentation", tqs1::v1::INPUT_CATEGORY_DOCUMENTATION},
    {"unique_local", tqs1::v1::INPUT_CATEGORY_UNIQUE_LOCAL},
    {"short_prefix", tqs1::v1::INPUT_CATEGORY_SHORT_PREFIX},
};

constexpr absl::string_view kTopKeys[] = {
    "threatq", "sentinelone", "never_block", "refuse",
    "history", "parallelism", "syncs"};
constexpr absl::string_view kHistoryKeys[] = {"keep_days"};
constexpr absl::string_view kThreatQKeys[] = {"url",
                                              "client_id",
                                              "username",
                                              "password_env",
                                              "password_file",
                                              "client_secret_env",
                                              "client_secret_file",
                                              "ca_file",
                                              "insecure_skip_verify",
                                              "block_statuses",
                                              "never_block_statuses",
                                              "page_size",
                                              "max_in_flight"};
constexpr absl::string_view kSentinelOneKeys[] = {"url",
                                                  "api_token_env",
                                                  "api_token_file",
                                                  "ca_file",
                                                  "insecure_skip_verify",
                                                  "rule_page_size",
                                                  "writes_per_second",
                                                  "max_in_flight"};
constexpr absl::string_view kSyncKeys[] = {
    "name",   "collection", "site",    "site_id",     "account",
    "sites",  "rollout",    "ipv6",    "rule",        "never_block",
    "refuse", "guards",     "threatq", "sentinelone", "account_scope",
    "global", "group"};
constexpr absl::string_view kRolloutKeys[] = {"first", "then"};
constexpr absl::string_view kAllSitesKeys[] = {"account", "all", "exclude"};

// An instance or console name: what a sync's `threatq:` or `sentinelone:`
// says, and a prefix of sync names.
bool IsEndpointName(absl::string_view name) {
  return !name.empty() && name.size() <= 64 &&
         std::all_of(name.begin(), name.end(), [](char c) {
           return absl::ascii_isalnum(c) || c == '-' || c == '_' || c == '.';
         });
}

// "\"eu\", \"us\"": the names of a config's named instances or consoles.
template <typename Endpoint>
std::string EndpointNames(
    const google::protobuf::RepeatedPtrField<Endpoint>& named) {
  std::string out;
  for (const Endpoint& e : named) {
    absl::StrAppend(&out, out.empty() ? "" : ", ", Quote(e.name()));
  }
  return out;
}

constexpr absl::string_view kRuleKeys[] = {"description", "direction",
                                           "os_types", "enabled"};
constexpr absl::string_view kGuardKeys[] = {
    "min_desired_addresses", "max_unblock_fraction", "unblock_floor",
    "min_ipv4_prefix", "min_ipv6_prefix"};

// The sites of an entry with `sites:`, and which of them go first
// (`rollout: first:`, lowercase).
struct EntrySites {
  std::vector<Located> sites;
  std::set<std::string> first;
  // `sites: {account: ..., all: true}`: the sites come from the console.
  bool all = false;
};

// The tqs1 schema, read with SchemaReader's checks.
class ConfigParser : public SchemaReader {
 public:
  explicit ConfigParser(absl::string_view source)
      : SchemaReader(source), source_(source) {}

  absl::StatusOr<Config> Parse(absl::string_view yaml) {
    ASSIGN_OR_RETURN(const YAML::Node document,
                     LoadOneYamlDocument(yaml, source_));
    try {
      return ParseDocument(document);
    } catch (const std::exception& e) {
      return YamlExceptionToStatus(e, source_);
    }
  }

 private:
  absl::StatusOr<Config> ParseDocument(const YAML::Node& document) const {
    if (document.IsNull()) {
      return Error(1,
                   "the config is empty; expected the keys threatq, "
                   "sentinelone and syncs");
    }
    const Located root{document, "", LineOf(document, 1)};
    if (!root.node.IsMap()) {
      return Error(root.line,
                   absl::StrCat("expected a map with the keys threatq, "
                                "sentinelone and syncs, got ",
                                Describe(root.node)));
    }
    ASSIGN_OR_RETURN(const MapView top, ReadMap(root, kTopKeys));

    Config config;
    ASSIGN_OR_RETURN(const Entry* threatq, Require(top, "threatq"));
    ASSIGN_OR_RETURN(const std::vector<Entry> instances,
                     ReadNamed(threatq->value, "ThreatQ instance"));
    if (instances.empty()) {
      RETURN_IF_ERROR(ParseThreatQ(threatq->value, config.mutable_threatq()));
    }
    for (const Entry& named : instances) {
      ThreatQConfig* tq = config.add_threatq_instances();
      RETURN_IF_ERROR(ParseThreatQ(named.value, tq));
      tq->set_name(named.key);
    }
    ASSIGN_OR_RETURN(const Entry* s1, Require(top, "sentinelone"));
    ASSIGN_OR_RETURN(const std::vector<Entry> consoles,
                     ReadNamed(s1->value, "console"));
    if (consoles.empty()) {
      RETURN_IF_ERROR(
          ParseSentinelOne(s1->value, config.mutable_sentinelone()));
    }
    for (const Entry& named : consoles) {
      SentinelOneConfig* console = config.add_sentinelone_consoles();
      RETURN_IF_ERROR(ParseSentinelOne(named.value, console));
      console->set_name(named.key);
    }
    if (const Entry* e = top.Find("never_block")) {
      RETURN_IF_ERROR(ReadNeverBlock(e->value, config.mutable_never_block()));
    }
    if (const Entry* e = top.Find("refuse")) {
      RETURN_IF_ERROR(ReadRefuse(e->value, config.mutable_refuse()));
    }
    if (const Entry* e = top.Find("history")) {
      ASSIGN_OR_RETURN(const MapView h, ReadMap(e->value, kHistoryKeys));
      if (const Entry* k = h.Find("keep_days")) {
        // Up to 100 years.
        ASSIGN_OR_RETURN(const uint64_t n, ReadUint(k->value, 1, 36500));
        config.mutable_history()->set_keep_days(static_cast<uint32_t>(n));
      }
    }
    if (const Entry* e = top.Find("parallelism")) {
      ASSIGN_OR_RETURN(const uint64_t n,
                       ReadUint(e->value, 1, kMaxParallelism));
      config.set_parallelism(static_cast<uint32_t>(n));
    }
    ASSIGN_OR_RETURN(const Entry* syncs, Require(top, "syncs"));
    RETURN_IF_ERROR(ParseSyncs(syncs->value, &config));
    // Every sync refuses what the config refuses, beside its own list.
    for (SyncConfig& sync : *config.mutable_syncs()) {
      for (int category : config.refuse()) {
        if (std::find(sync.refuse().begin(), sync.refuse().end(), category) ==
            sync.refuse().end()) {
          sync.add_refuse(static_cast<tqs1::v1::InputCategory>(category));
        }
      }
    }
    return config;
  }

  absl::StatusOr<std::string> ReadUrl(const Located& v) const {
    ASSIGN_OR_RETURN(std::string url, ReadString(v));
    if (absl::Status s = ValidateApiUrl(url); !s.ok()) {
      return ErrorAt(v, s.message());
    }
    return url;
  }

  // Reads `<base>_env` / `<base>_file` of `m` into `out`; leaves it unset
  // when neither is there.
  absl::Status ReadSecretRef(const MapView& m, absl::string_view base,
                             SecretRef* out) const {
    const std::string env_key = absl::StrCat(base, "_env");
    const std::string file_key = absl::StrCat(base, "_file");
    const Entry* env = m.Find(env_key);
    const Entry* file = m.Find(file_key);
    if (env != nullptr && file != nullptr) {
      return Error(std::max(env->key_line, file->key_line),
                   absl::StrCat(m.path, ": set ", env_key, " or ", file_key,
                                ", not both"));
    }
    if (env != nullptr) {
      ASSIGN_OR_RETURN(*out->mutable_env(), ReadString(env->value));
      if (!IsEnvVarName(out->env())) {
        // The value is not shown: it may be the secret itself.
        return ErrorAt(env->value,
                       "expected the name of an environment variable "
                       "(letters, digits and _, not starting with a digit); "
                       "the value is not shown in case it is the secret "
                       "itself");
      }
    }
    if (file != nullptr) {
      ASSIGN_OR_RETURN(*out->mutable_file(), ReadString(file->value));
    }
    return absl::OkStatus();
  }

  absl::Status ReadTls(const MapView& m, TlsConfig* tls) const {
    if (const Entry* e = m.Find("ca_file")) {
      ASSIGN_OR_RETURN(*tls->mutable_ca_file(), ReadString(e->value));
    }
    if (const Entry* e = m.Find("insecure_skip_verify")) {
      ASSIGN_OR_RETURN(const bool skip, ReadBool(e->value));
      tls->set_insecure_skip_verify(skip);
    }
    return absl::OkStatus();
  }

  absl::Status ReadNeverBlock(
      const Located& v,
      google::protobuf::RepeatedPtrField<std::string>* out) const {
    ASSIGN_OR_RETURN(const std::vector<Located> items, ReadList(v));
    for (const Located& item : items) {
      ASSIGN_OR_RETURN(const std::string text, ReadString(item));
      absl::StatusOr<reconciler::IpPrefix> prefix =
          reconciler::ParseIpPrefix(text);
      if (!prefix.ok()) {
        return ErrorAt(item, absl::StrCat(Quote(text),
                                          " is not an IP address or CIDR "
                                          "prefix: ",
                                          prefix.status().message()));
      }
      out->Add(prefix->ToString());
    }
    return absl::OkStatus();
  }

  // A `refuse` list: category names, each at most once.
  absl::Status ReadRefuse(const Located& v,
                          google::protobuf::RepeatedField<int>* out) const {
    ASSIGN_OR_RETURN(const std::vector<Located> items, ReadList(v));
    for (const Located& item : items) {
      ASSIGN_OR_RETURN(const int category, ReadEnum(item, kRefuseCategories));
      if (std::find(out->begin(), out->end(), category) != out->end()) {
        return ErrorAt(item,
                       absl::StrCat("duplicate value ", Describe(item.node)));
      }
      out->Add(category);
    }
    return absl::OkStatus();
  }

  // The entries of `v` when it names several instances or consoles (a map
  // without `url` whose values are all maps: `{eu: {url: ...}, us: {...}}`),
  // names checked (IsEndpointName(), unique ignoring case); none when `v`
  // is one unnamed instance or console. `kind` names them in errors.
  absl::StatusOr<std::vector<Entry>> ReadNamed(const Located& v,
                                               absl::string_view kind) const {
    std::vector<Entry> named;
    if (!v.node.IsMap() || v.node["url"]) return named;
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
      if (!it->first.IsScalar() || !it->second.IsMap()) return named;
    }
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
      const std::string& name = it->first.Scalar();
      const int line = LineOf(it->first, v.line);
      if (!IsEndpointName(name)) {
        return Error(line,
                     absl::StrCat(v.path, ": ", kind, " name ", Quote(name),
                                  " must be 1-64 letters, digits, '-', '_' "
                                  "or '.'"));
      }
      for (const Entry& seen : named) {
        if (absl::EqualsIgnoreCase(seen.key, name)) {
          return Error(line, absl::StrCat(v.path, ": ", kind, " ", Quote(name),
                                          " is named twice "
                                          "(first at line ",
                                          seen.key_line, ")"));
        }
      }
      named.push_back(
          Entry{name, line,
                Located{it->second, absl::StrCat(v.path, ".", name), line}});
    }
    return named;
  }

  // The `key` (threatq or sentinelone) of the sync map `m`: the name of
  // one of `named`, set in `*out`. A config of one unnamed instance or
  // console takes none; one named takes its name by default.
  template <typename Endpoint>
  absl::Status ReadEndpointRef(
      const MapView& m, absl::string_view key,
      const google::protobuf::RepeatedPtrField<Endpoint>& named,
      absl::string_view kind, std::string* out) const {
    const Entry* e = m.Find(key);
    if (named.empty()) {
      if (e == nullptr) return absl::OkStatus();
      return Error(e->key_line,
                   absl::StrCat(m.path, ".", key, ": the config's ", key,
                                " is one unnamed ", kind, "; name them (", key,
                                ": {NAME: {url: ...}}) to choose one"));
    }
    if (e == nullptr) {
      if (named.size() == 1) {
        *out = named[0].name();
        return absl::OkStatus();
      }
      return Error(m.line,
                   absl::StrCat(m.path, ": missing required key ", Quote(key),
                                ": the config has several ", kind, "s (",
                                EndpointNames(named), ")"));
    }
    ASSIGN_OR_RETURN(std::string name, ReadString(e->value));
    for (const Endpoint& endpoint : named) {
      if (endpoint.name() == name) {
        *out = std::move(name);
        return absl::OkStatus();
      }
    }
    return ErrorAt(e->value, absl::StrCat("unknown ", kind, " ", Quote(name),
                                          "; the config's ", kind, "s are ",
                                          EndpointNames(named)));
  }

  absl::Status ParseThreatQ(const Located& v, ThreatQConfig* tq) const {
    ASSIGN_OR_RETURN(const MapView m, ReadMap(v, kThreatQKeys));
    ASSIGN_OR_RETURN(const Entry* url, Require(m, "url"));
    ASSIGN_OR_RETURN(*tq->mutable_url(), ReadUrl(url->value));

    RETURN_IF_ERROR(ReadSecretRef(m, "password", tq->mutable_password()));
    RETURN_IF_ERROR(
        ReadSecretRef(m, "client_secret", tq->mutable_client_secret()));
    const bool password =
        tq->password().source_case() != SecretRef::SOURCE_NOT_SET;
    const bool client_secret =
        tq->client_secret().source_case() != SecretRef::SOURCE_NOT_SET;
    if (password && client_secret) {
      return Error(m.line,
                   absl::StrCat(m.path,
                                ": set a password (password_env or "
                                "password_file) or a client secret "
                                "(client_secret_env or client_secret_file), "
                                "not both"));
    }
    if (!password && !client_secret) {
      return Error(m.line,
                   absl::StrCat(m.path,
                                ": missing credential: set password_env or "
                                "password_file (with username), or "
                                "client_secret_env or client_secret_file"));
    }
    if (!password) tq->clear_password();
    if (!client_secret) tq->clear_client_secret();

    ASSIGN_OR_RETURN(const Entry* client_id, Require(m, "client_id"));
    ASSIGN_OR_RETURN(*tq->mutable_client_id(), ReadString(client_id->value));
    if (password) {
      ASSIGN_OR_RETURN(const Entry* username,
                       Require(m, "username", " (the password's user)"));
      ASSIGN_OR_RETURN(*tq->mutable_username(), ReadString(username->value));
    } else if (const Entry* username = m.Find("username")) {
      ASSIGN_OR_RETURN(*tq->mutable_username(), ReadString(username->value));
    }
    RETURN_IF_ERROR(ReadTls(m, tq->mutable_tls()));
    if (tq->tls().ByteSizeLong() == 0) tq->clear_tls();
    if (const Entry* e = m.Find("never_block_statuses")) {
      // Known, so that the error explains the change instead of
      // suggesting a spelling.
      return ErrorAt(
          e->value,
          "never_block_statuses (a list of statuses never blocked) was "
          "replaced by block_statuses, the statuses that are blocked "
          "(default [Active]); list the statuses to block instead, e.g. "
          "block_statuses: [Active, Review]");
    }
    if (const Entry* e = m.Find("block_statuses")) {
      ASSIGN_OR_RETURN(const std::vector<Located> items, ReadList(e->value));
      if (items.empty()) {
        return ErrorAt(e->value,
                       "expected at least one status (e.g. Active); an empty "
                       "list would block nothing");
      }
      for (const Located& item : items) {
        ASSIGN_OR_RETURN(std::string status, ReadString(item));
        if (absl::EqualsIgnoreCase(status, "Whitelisted")) {
          return ErrorAt(item,
                         "\"Whitelisted\" indicators are never blocked: "
                         "ThreatQ means them never to be deployed");
        }
        for (const std::string& seen : tq->block_statuses()) {
          if (absl::EqualsIgnoreCase(seen, status)) {
            return ErrorAt(item,
                           absl::StrCat("duplicate value ", Quote(status)));
          }
        }
        tq->add_block_statuses(std::move(status));
      }
    }
    if (const Entry* e = m.Find("page_size")) {
      ASSIGN_OR_RETURN(const uint64_t n, ReadUint(e->value, 1, 100000));
      tq->set_page_size(static_cast<uint32_t>(n));
    }
    if (const Entry* e = m.Find("max_in_flight")) {
      ASSIGN_OR_RETURN(const uint64_t n, ReadUint(e->value, 1, kMaxInFlight));
      tq->set_max_in_flight(static_cast<uint32_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status ParseSentinelOne(const Located& v, SentinelOneConfig* s1) const {
    ASSIGN_OR_RETURN(const MapView m, ReadMap(v, kSentinelOneKeys));
    ASSIGN_OR_RETURN(const Entry* url, Require(m, "url"));
    ASSIGN_OR_RETURN(*s1->mutable_url(), ReadUrl(url->value));
    RETURN_IF_ERROR(ReadSecretRef(m, "api_token", s1->mutable_api_token()));
    if (s1->api_token().source_case() == SecretRef::SOURCE_NOT_SET) {
      return Error(m.line, absl::StrCat(m.path,
                                        ": missing credential: set "
                                        "api_token_env or api_token_file"));
    }
    RETURN_IF_ERROR(ReadTls(m, s1->mutable_tls()));
    if (s1->tls().ByteSizeLong() == 0) s1->clear_tls();
    if (const Entry* e = m.Find("rule_page_size")) {
      ASSIGN_OR_RETURN(const uint64_t n, ReadUint(e->value, 1, 1000));
      s1->set_rule_page_size(static_cast<uint32_t>(n));
    }
    if (const Entry* e = m.Find("writes_per_second")) {
      ASSIGN_OR_RETURN(const double n, ReadNumber(e->value, 1000));
      s1->set_writes_per_second(n);
    }
    if (const Entry* e = m.Find("max_in_flight")) {
      ASSIGN_OR_RETURN(const uint64_t n, ReadUint(e->value, 1, kMaxInFlight));
      s1->set_max_in_flight(static_cast<uint32_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status ParseRule(const Located& v, RuleTemplate* rule) const {
    ASSIGN_OR_RETURN(const MapView m, ReadMap(v, kRuleKeys));
    if (const Entry* e = m.Find("description")) {
      ASSIGN_OR_RETURN(*rule->mutable_description(),
                       ReadString(e->value, /*allow_empty=*/true));
    }
    if (const Entry* e = m.Find("direction")) {
      ASSIGN_OR_RETURN(const int direction, ReadEnum(e->value, kDirections));
      rule->set_direction(static_cast<Direction>(direction));
    }
    if (const Entry* e = m.Find("os_types")) {
      ASSIGN_OR_RETURN(const std::vector<Located> items, ReadList(e->value));
      if (items.empty()) {
        return ErrorAt(e->value,
                       "expected at least one of: windows, windows_legacy, "
                       "macos, linux");
      }
      for (const Located& item : items) {
        ASSIGN_OR_RETURN(const int os, ReadEnum(item, kOsTypes));
        if (std::find(rule->os_types().begin(), rule->os_types().end(), os) !=
            rule->os_types().end()) {
          return ErrorAt(item,
                         absl::StrCat("duplicate value ", Describe(item.node)));
        }
        rule->add_os_types(static_cast<OsType>(os));
      }
    }
    bool enabled = true;
    if (const Entry* e = m.Find("enabled")) {
      ASSIGN_OR_RETURN(enabled, ReadBool(e->value));
    }
    rule->set_enabled(enabled);
    return absl::OkStatus();
  }

  absl::Status ParseGuards(const Located& v, Guards* guards) const {
    ASSIGN_OR_RETURN(const MapView m, ReadMap(v, kGuardKeys));
    if (const Entry* e = m.Find("min_desired_addresses")) {
      ASSIGN_OR_RETURN(const uint64_t n, ReadUint(e->value, 1, kMaxUint64));
      guards->set_min_desired_addresses(n);
    }
    if (const Entry* e = m.Find("max_unblock_fraction")) {
      ASSIGN_OR_RETURN(const double d, ReadFraction(e->value));
      guards->set_max_unblock_fraction(d);
    }
    if (const Entry* e = m.Find("unblock_floor")) {
      ASSIGN_OR_RETURN(const uint64_t n, ReadUint(e->value, 1, kMaxUint64));
      guards->set_unblock_floor(n);
    }
    if (const Entry* e = m.Find("min_ipv4_prefix")) {
      ASSIGN_OR_RETURN(const uint64_t n, ReadUint(e->value, 1, 32));
      guards->set_min_ipv4_prefix(static_cast<uint32_t>(n));
    }
    if (const Entry* e = m.Find("min_ipv6_prefix")) {
      ASSIGN_OR_RETURN(const uint64_t n, ReadUint(e->value, 1, 128));
      guards->set_min_ipv6_prefix(static_cast<uint32_t>(n));
    }
    return absl::OkStatus();
  }

  // A SentinelOne id: digits, written as a string or a bare integer.
  absl::StatusOr<std::string> ReadSiteId(const Located& v) const {
    ASSIGN_OR_RETURN(std::string id, ReadString(v));
    if (id.size() > 30 || !std::all_of(id.begin(), id.end(), [](char c) {
          return absl::ascii_isdigit(c);
        })) {
      return ErrorAt(v, absl::StrCat(Quote(id),
                                     " is not a SentinelOne site id (digits, "
                                     "e.g. \"1234567890123456789\")"));
    }
    return id;
  }

  // The site names of `sites:`: a non-empty list of names, none twice
  // (SentinelOne compares site names in any case).
  absl::Status ReadSites(const Located& v, std::vector<Located>* sites) const {
    if (!v.node.IsSequence()) {
      return ErrorAt(v, absl::StrCat("expected a list of site names, got ",
                                     Describe(v.node)));
    }
    ASSIGN_OR_RETURN(std::vector<Located> items, ReadList(v));
    if (items.empty()) return ErrorAt(v, "expected at least one site name");
    std::map<std::string, size_t> seen;
    for (size_t i = 0; i < items.size(); ++i) {
      ASSIGN_OR_RETURN(const std::string name, ReadString(items[i]));
      auto [it, inserted] = seen.emplace(absl::AsciiStrToLower(name), i);
      if (!inserted) {
        return ErrorAt(items[i],
                       absl::StrCat(Quote(name), " is listed twice (also ",
                                    v.path, "[", it->second, "])"));
      }
    }
    *sites = std::move(items);
    return absl::OkStatus();
  }

  // `sites: {account: ACME, all: true, exclude: [Lab]}` into `*all`.
  absl::Status ReadAllSites(const Located& v,
                            tqs1::v1::AccountSites* all) const {
    ASSIGN_OR_RETURN(const MapView m, ReadMap(v, kAllSitesKeys));
    ASSIGN_OR_RETURN(const Entry* account,
                     Require(m, "account", " (whose active sites to use)"));
    ASSIGN_OR_RETURN(*all->mutable_account(), ReadString(account->value));
    const Entry* every = m.Find("all");
    bool is_all = false;
    if (every != nullptr) {
      ASSIGN_OR_RETURN(is_all, ReadBool(every->value));
    }
    if (!is_all) {
      return Error(every != nullptr ? every->key_line : m.line,
                   absl::StrCat(m.path,
                                ": set all: true to use every active site of "
                                "the account (new sites included), or list "
                                "the sites: sites: [HQ, Branch]"));
    }
    if (const Entry* e = m.Find("exclude")) {
      std::vector<Located> excluded;
      RETURN_IF_ERROR(ReadSites(e->value, &excluded));
      for (const Located& site : excluded) {
        ASSIGN_OR_RETURN(*all->add_exclude(), ReadString(site));
      }
    }
    return absl::OkStatus();
  }

  // `rollout: {first: [Lab], then: rest}`: the canaries, each one of
  // `sites->sites` (in any case; of an entry of all of an account's sites,
  // checked once they are listed).
  absl::Status ReadRollout(const Located& v, EntrySites* sites) const {
    ASSIGN_OR_RETURN(const MapView m, ReadMap(v, kRolloutKeys));
    ASSIGN_OR_RETURN(const Entry* first,
                     Require(m, "first",
                             " (the sites applied and verified "
                             "before the others)"));
    if (!first->value.node.IsSequence()) {
      return ErrorAt(first->value,
                     absl::StrCat("expected a list of site names, got ",
                                  Describe(first->value.node)));
    }
    ASSIGN_OR_RETURN(std::vector<Located> items, ReadList(first->value));
    if (items.empty()) {
      return ErrorAt(first->value, "expected at least one site name");
    }
    std::set<std::string> listed;
    for (const Located& site : sites->sites) {
      listed.insert(absl::AsciiStrToLower(site.node.as<std::string>()));
    }
    for (const Located& item : items) {
      ASSIGN_OR_RETURN(const std::string name, ReadString(item));
      const std::string key = absl::AsciiStrToLower(name);
      if (sites->all) {
        sites->first.insert(key);
        continue;
      }
      if (listed.count(key) == 0) {
        return ErrorAt(item, absl::StrCat(Quote(name),
                                          " is not one of this entry's sites"));
      }
      sites->first.insert(key);
    }
    if (!sites->all && sites->first.size() == listed.size()) {
      return ErrorAt(first->value,
                     "every site goes first: leave at least one for after "
                     "them");
    }
    if (const Entry* then = m.Find("then")) {
      ASSIGN_OR_RETURN(const std::string rest, ReadString(then->value));
      if (rest != "rest") {
        return ErrorAt(then->value, absl::StrCat(Quote(rest),
                                                 ": the only value is "
                                                 "\"rest\" (the other sites)"));
      }
    }
    return absl::OkStatus();
  }

  // Parses one entry of `syncs`; `name_line` receives the line that names
  // it. An entry with `sites` leaves `sync->site()` empty and its sites in
  // `sites` (ParseSyncs() makes one sync of each).
  absl::Status ParseSync(const Located& v, const Config& config,
                         SyncConfig* sync, int* name_line,
                         EntrySites* sites) const {
    if (!v.node.IsMap()) {
      return ErrorAt(v, absl::StrCat("expected a map with the keys "
                                     "collection, site and rule, got ",
                                     Describe(v.node)));
    }
    ASSIGN_OR_RETURN(const MapView m, ReadMap(v, kSyncKeys));
    *name_line = m.line;
    if (const Entry* e = m.Find("name")) {
      ASSIGN_OR_RETURN(*sync->mutable_name(), ReadString(e->value));
      *name_line = e->key_line;
    }
    ASSIGN_OR_RETURN(const Entry* collection, Require(m, "collection"));
    ASSIGN_OR_RETURN(*sync->mutable_collection(),
                     ReadString(collection->value));
    RETURN_IF_ERROR(ReadEndpointRef(m, "threatq", config.threatq_instances(),
                                    "ThreatQ instance",
                                    sync->mutable_threatq()));
    RETURN_IF_ERROR(ReadEndpointRef(m, "sentinelone",
                                    config.sentinelone_consoles(), "console",
                                    sync->mutable_sentinelone()));
    const Entry* site_id = m.Find("site_id");
    const Entry* site = m.Find("site");
    const Entry* many = m.Find("sites");
    // A target key (`key`) that leaves no room for `others`.
    auto alone = [&](const Entry& entry, absl::string_view key,
                     std::initializer_list<const char*> others,
                     absl::string_view what) -> absl::Status {
      for (const char* other : others) {
        if (m.Find(other) != nullptr) {
          return Error(entry.key_line,
                       absl::StrCat(v.path, ": set ", key, " or ", other,
                                    ", not both (", key, ": ", what, ")"));
        }
      }
      return absl::OkStatus();
    };
    if (const Entry* global = m.Find("global")) {
      ASSIGN_OR_RETURN(const bool on, ReadBool(global->value));
      if (!on) {
        return ErrorAt(global->value,
                       "only true is meaningful (leave global: out for a "
                       "site's or an account's rules)");
      }
      RETURN_IF_ERROR(alone(*global, "global",
                            {"site", "site_id", "sites", "account",
                             "account_scope", "group", "rollout"},
                            "keeps the console's global rules, which every "
                            "account and site inherits"));
      sync->set_global(true);
    } else if (const Entry* scope = m.Find("account_scope")) {
      RETURN_IF_ERROR(
          alone(*scope, "account_scope",
                {"site", "site_id", "sites", "account", "group", "rollout"},
                "keeps the account's own rules, which every site "
                "of it inherits"));
      ASSIGN_OR_RETURN(*sync->mutable_account(), ReadString(scope->value));
      sync->set_account_scope(true);
    } else if (many != nullptr && (site != nullptr || site_id != nullptr)) {
      return Error(many->key_line,
                   absl::StrCat(v.path,
                                ": set site, site_id or sites, not "
                                "more than one"));
    }
    if (site_id != nullptr) {
      ASSIGN_OR_RETURN(*sync->mutable_site_id(), ReadSiteId(site_id->value));
    }
    if (site != nullptr) {
      ASSIGN_OR_RETURN(*sync->mutable_site(), ReadString(site->value));
    } else if (many != nullptr && many->value.node.IsMap()) {
      RETURN_IF_ERROR(ReadAllSites(many->value, sync->mutable_all_sites()));
      sites->all = true;
    } else if (many != nullptr) {
      RETURN_IF_ERROR(ReadSites(many->value, &sites->sites));
    } else if (site_id == nullptr && !sync->account_scope() &&
               !sync->global()) {
      if (const Entry* group = m.Find("group")) {
        return Error(group->key_line,
                     absl::StrCat(v.path,
                                  ": group needs site or site_id (the site "
                                  "the group is in)"));
      }
      return Error(m.line, absl::StrCat(v.path,
                                        ": missing required key \"site\" "
                                        "(the SentinelOne site's name), "
                                        "\"site_id\", \"sites\" (a list "
                                        "of site names), \"account_scope\" "
                                        "(an account's own rules) or "
                                        "\"global: true\" (the console's "
                                        "global rules)"));
    }
    if (const Entry* e = m.Find("account");
        e != nullptr && !sync->account_scope()) {
      if (sites->all) {
        return Error(e->key_line,
                     absl::StrCat(v.path,
                                  ": the account is sites: {account: ...}'s; "
                                  "leave account: out"));
      }
      if (site_id != nullptr) {
        return Error(e->key_line,
                     absl::StrCat(v.path,
                                  ": set site_id or account, not both (a "
                                  "site id names one site already)"));
      }
      ASSIGN_OR_RETURN(*sync->mutable_account(), ReadString(e->value));
    }
    if (const Entry* e = m.Find("rollout")) {
      if (sites->sites.empty() && !sites->all) {
        return Error(e->key_line,
                     absl::StrCat(v.path,
                                  ": rollout is for an entry with sites: "
                                  "(which sites go first)"));
      }
      RETURN_IF_ERROR(ReadRollout(e->value, sites));
    }
    if (const Entry* e = m.Find("group")) {
      RETURN_IF_ERROR(alone(*e, "group", {"sites", "rollout"},
                            "keeps the rules of one group of one site"));
      ASSIGN_OR_RETURN(*sync->mutable_group(), ReadString(e->value));
    }
    if (!sites->sites.empty() || sites->all) {
      sync->set_fleet(sync->name().empty() ? sync->collection() : sync->name());
    } else if (sync->name().empty()) {
      // "<collection> -> <site>", as before site ids and accounts.
      sync->set_name(DefaultSyncName(sync->collection(), *sync, config));
    }
    if (const Entry* e = m.Find("ipv6")) {
      ASSIGN_OR_RETURN(const int mode, ReadEnum(e->value, kIpv6Modes));
      sync->set_ipv6(static_cast<tqs1::v1::Ipv6Mode>(mode));
    }
    if (const Entry* e = m.Find("rule")) {
      RETURN_IF_ERROR(ParseRule(e->value, sync->mutable_rule()));
    } else {
      sync->mutable_rule()->set_enabled(true);
    }
    if (const Entry* e = m.Find("never_block")) {
      RETURN_IF_ERROR(ReadNeverBlock(e->value, sync->mutable_never_block()));
    }
    if (const Entry* e = m.Find("refuse")) {
      RETURN_IF_ERROR(ReadRefuse(e->value, sync->mutable_refuse()));
    }
    if (const Entry* e = m.Find("guards")) {
      RETURN_IF_ERROR(ParseGuards(e->value, sync->mutable_guards()));
    }
    return absl::OkStatus();
  }

  absl::Status ParseSyncs(const Located& v, Config* config) const {
    ASSIGN_OR_RETURN(const std::vector<Located> items, ReadList(v));
    if (items.empty()) return ErrorAt(v, "expected at least one sync");
    struct Seen {
      std::string where;  // "syncs[0]", "syncs[1].sites[2]"
      int line;
    };
    std::map<std::pair<std::string, std::string>, Seen> by_target;
    std::map<std::string, Seen> by_name;
    std::map<std::string, Seen> fleets;
    // Checks one sync (one target of the entry at `item`) against the
    // syncs before it.
    auto add = [&](const SyncConfig& sync, const Located& at,
                   int name_line) -> absl::Status {
      // A collection of one ThreatQ instance into one site of a console.
      const auto target = std::make_pair(
          absl::StrCat(sync.threatq(), ":", sync.collection()),
          absl::StrCat(sync.sentinelone(), ":",
                       sync.global() ? std::string("global")
                       : sync.account_scope()
                           ? absl::StrCat("account ",
                                          absl::AsciiStrToLower(sync.account()))
                       : sync.site_id().empty()
                           ? absl::StrCat("name ", sync.account(), "/",
                                          absl::AsciiStrToLower(sync.site()))
                           : absl::StrCat("id ", sync.site_id()),
                       sync.group().empty() ? "" : " group ", sync.group()));
      if (auto it = by_target.find(target); it != by_target.end()) {
        return ErrorAt(at,
                       absl::StrCat("collection ", Quote(sync.collection()),
                                    " is already synced to ",
                                    sync.account_scope() || sync.global() ||
                                            !sync.group().empty()
                                        ? ""
                                        : "site ",
                                    SiteLabel(sync), " by ", it->second.where,
                                    " (line ", it->second.line, ")"));
      }
      by_target.emplace(target, Seen{at.path, at.line});
      if (auto it = by_name.find(sync.name()); it != by_name.end()) {
        return Error(name_line, absl::StrCat(at.path, ": duplicate sync name ",
                                             Quote(sync.name()), " (also ",
                                             it->second.where, ", line ",
                                             it->second.line, ")"));
      }
      by_name.emplace(sync.name(), Seen{at.path, name_line});
      *config->add_syncs() = sync;
      return absl::OkStatus();
    };
    for (size_t i = 0; i < items.size(); ++i) {
      const Located& item = items[i];
      SyncConfig entry;
      int name_line = item.line;
      EntrySites sites;
      RETURN_IF_ERROR(ParseSync(item, *config, &entry, &name_line, &sites));
      if (sites.all) {
        // Listed from the console once connected (ExpandAllSites()).
        fleets.emplace(entry.fleet(), Seen{item.path, name_line});
        entry.set_name(entry.fleet());
        for (const std::string& first : sites.first) {
          entry.mutable_all_sites()->add_first(first);
        }
        *config->add_syncs() = std::move(entry);
        continue;
      }
      if (sites.sites.empty()) {
        RETURN_IF_ERROR(add(entry, item, name_line));
        continue;
      }
      fleets.emplace(entry.fleet(), Seen{item.path, name_line});
      const std::string stem = entry.fleet();
      for (const Located& site : sites.sites) {
        SyncConfig target = entry;
        ASSIGN_OR_RETURN(*target.mutable_site(), ReadString(site));
        target.set_name(DefaultSyncName(stem, target, *config));
        target.set_canary(
            sites.first.count(absl::AsciiStrToLower(target.site())) > 0);
        RETURN_IF_ERROR(add(target, site, site.line));
      }
    }
    // `--sync NAME` selects a sync by its name or every target of an entry
    // by the entry's: the two must not meet.
    for (const auto& [fleet, seen] : fleets) {
      if (auto it = by_name.find(fleet); it != by_name.end()) {
        return Error(seen.line,
                     absl::StrCat(seen.where, ": the name ", Quote(fleet),
                                  " of these sites' syncs is also the name "
                                  "of the sync at ",
                                  it->second.where, " (line ", it->second.line,
                                  "); --sync could not tell them apart"));
      }
    }
    return absl::OkStatus();
  }

  const std::string source_;
};

// The unnamed instance or console, or the named ones.
template <typename Endpoint>
std::vector<Endpoint*> Endpoints(
    Endpoint* unnamed, google::protobuf::RepeatedPtrField<Endpoint>* named) {
  std::vector<Endpoint*> out;
  if (named->empty()) {
    out.push_back(unnamed);
  } else {
    for (Endpoint& e : *named) out.push_back(&e);
  }
  return out;
}

// Makes a relative `path` relative to the folder `prefix` ("dir/").
void Rebase(absl::string_view prefix, std::string* path) {
  if (path->empty() || (*path)[0] == '/') return;
  *path = absl::StrCat(prefix, *path);
}

}  // namespace

absl::StatusOr<Config> ParseConfigYaml(absl::string_view yaml,
                                       absl::string_view source_name) {
  return ConfigParser(source_name).Parse(yaml);
}

absl::StatusOr<Config> LoadConfigFile(absl::string_view path) {
  const std::string file(path);
  const int fd = open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) {
    const int err = errno;
    if (err == ENOENT) {
      return absl::NotFoundError(
          absl::StrCat("config file ", file, " does not exist"));
    }
    return absl::FailedPreconditionError(absl::StrCat(
        "cannot read config file ", file, ": ", std::strerror(err)));
  }
  struct stat st;
  std::string text;
  absl::Status status;
  if (fstat(fd, &st) != 0) {
    status = absl::FailedPreconditionError(absl::StrCat(
        "cannot read config file ", file, ": ", std::strerror(errno)));
  } else if (!S_ISREG(st.st_mode)) {
    status = absl::FailedPreconditionError(
        absl::StrCat("config file ", file, " is not a regular file"));
  } else if (st.st_size > kMaxConfigBytes) {
    status = absl::FailedPreconditionError(absl::StrCat(
        "config file ", file, " is larger than 1 MiB; is it the right file?"));
  } else {
    char buffer[16384];
    while (true) {
      const ssize_t n = read(fd, buffer, sizeof(buffer));
      if (n < 0 && errno == EINTR) continue;
      if (n < 0) {
        status = absl::FailedPreconditionError(absl::StrCat(
            "cannot read config file ", file, ": ", std::strerror(errno)));
        break;
      }
      if (n == 0) break;
      text.append(buffer, static_cast<size_t>(n));
      if (text.size() > static_cast<size_t>(kMaxConfigBytes)) {
        status = absl::FailedPreconditionError(
            absl::StrCat("config file ", file,
                         " is larger than 1 MiB; is it the right file?"));
        break;
      }
    }
  }
  close(fd);
  RETURN_IF_ERROR(status);

  ASSIGN_OR_RETURN(Config config, ParseConfigYaml(text, file));
  const size_t slash = file.rfind('/');
  if (slash != std::string::npos) {
    const std::string prefix = file.substr(0, slash + 1);
    for (ThreatQConfig* tq : Endpoints(config.mutable_threatq(),
                                       config.mutable_threatq_instances())) {
      if (tq->password().source_case() == SecretRef::kFile) {
        Rebase(prefix, tq->mutable_password()->mutable_file());
      }
      if (tq->client_secret().source_case() == SecretRef::kFile) {
        Rebase(prefix, tq->mutable_client_secret()->mutable_file());
      }
      if (tq->has_tls()) Rebase(prefix, tq->mutable_tls()->mutable_ca_file());
    }
    for (SentinelOneConfig* s1 :
         Endpoints(config.mutable_sentinelone(),
                   config.mutable_sentinelone_consoles())) {
      if (s1->api_token().source_case() == SecretRef::kFile) {
        Rebase(prefix, s1->mutable_api_token()->mutable_file());
      }
      if (s1->has_tls()) Rebase(prefix, s1->mutable_tls()->mutable_ca_file());
    }
  }
  return config;
}

}  // namespace tqs1::config
