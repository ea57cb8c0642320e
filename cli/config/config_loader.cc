#include "cli/config/config_loader.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <exception>
#include <limits>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "base/status_macros.h"
#include "reconciler/address.h"
#include "yaml-cpp/eventhandler.h"
#include "yaml-cpp/mark.h"
#include "yaml-cpp/parser.h"
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

using KeyList = absl::Span<const absl::string_view>;

constexpr off_t kMaxConfigBytes = 1 << 20;

// `s` in double quotes, escaped, cut after 60 bytes.
std::string Quote(absl::string_view s) {
  constexpr size_t kMax = 60;
  if (s.size() <= kMax)
    return absl::StrCat("\"", absl::Utf8SafeCHexEscape(s), "\"");
  return absl::StrCat("\"", absl::Utf8SafeCHexEscape(s.substr(0, kMax)),
                      "...\"");
}

// What a node holds, for "expected X, got <Describe(node)>".
std::string Describe(const YAML::Node& node) {
  switch (node.Type()) {
    case YAML::NodeType::Scalar:
      return Quote(node.Scalar());
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    default:
      return "nothing";
  }
}

int LineOf(const YAML::Node& node, int fallback) {
  const YAML::Mark mark = node.Mark();
  return mark.is_null() ? fallback : mark.line + 1;
}

std::string ChildPath(absl::string_view path, absl::string_view key) {
  return path.empty() ? std::string(key) : absl::StrCat(path, ".", key);
}

std::string Where(absl::string_view path) {
  return path.empty() ? "at the top level" : absl::StrCat("in ", path);
}

bool Contains(KeyList keys, absl::string_view key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Case-insensitive Levenshtein distance.
size_t EditDistance(absl::string_view a, absl::string_view b) {
  std::vector<size_t> row(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    size_t diagonal = row[0];
    row[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t above = row[j];
      const bool same =
          absl::ascii_tolower(a[i - 1]) == absl::ascii_tolower(b[j - 1]);
      row[j] =
          std::min({row[j] + 1, row[j - 1] + 1, diagonal + (same ? 0 : 1)});
      diagonal = above;
    }
  }
  return row[b.size()];
}

// The allowed key closest to `key`, if it is close enough to be a typo.
std::optional<absl::string_view> Suggest(absl::string_view key,
                                         KeyList allowed) {
  const size_t limit = std::max<size_t>(2, key.size() / 4);
  std::optional<absl::string_view> best;
  size_t best_distance = limit + 1;
  for (absl::string_view candidate : allowed) {
    const size_t d = EditDistance(key, candidate);
    if (d < best_distance) {
      best = candidate;
      best_distance = d;
    }
  }
  return best;
}

bool IsEnvVarName(absl::string_view name) {
  if (name.empty() || absl::ascii_isdigit(name[0])) return false;
  return std::all_of(name.begin(), name.end(),
                     [](char c) { return absl::ascii_isalnum(c) || c == '_'; });
}

bool IsLoopbackHost(absl::string_view host) {
  const std::string lower = absl::AsciiStrToLower(host);
  if (lower == "localhost" || lower == "localhost.") return true;
  const std::string text(host);
  in_addr v4;
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    return (ntohl(v4.s_addr) >> 24) == 127;
  }
  in6_addr v6;
  if (inet_pton(AF_INET6, text.c_str(), &v6) == 1) {
    return IN6_IS_ADDR_LOOPBACK(&v6);
  }
  return false;
}

// A YAML value and where it is.
struct Located {
  YAML::Node node;
  std::string path;  // e.g. "syncs[0].rule.enabled"; "" for the root
  int line = 1;      // 1-based
};

struct Entry {
  std::string key;
  int key_line = 1;
  Located value;
};

// The checked entries of a YAML map, in document order.
struct MapView {
  std::string path;
  int line = 1;
  std::vector<Entry> entries;

  const Entry* Find(absl::string_view key) const {
    for (const Entry& e : entries) {
      if (e.key == key) return &e;
    }
    return nullptr;
  }
};

struct EnumValue {
  absl::string_view name;
  int value;
};

constexpr EnumValue kDirections[] = {
    {"any", tqs1::v1::DIRECTION_ANY},
    {"inbound", tqs1::v1::DIRECTION_INBOUND},
    {"outbound", tqs1::v1::DIRECTION_OUTBOUND},
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

constexpr absl::string_view kTopKeys[] = {"threatq", "sentinelone",
                                          "never_block", "refuse", "syncs"};
constexpr absl::string_view kThreatQKeys[] = {"url",
                                              "client_id",
                                              "username",
                                              "password_env",
                                              "password_file",
                                              "client_secret_env",
                                              "client_secret_file",
                                              "ca_file",
                                              "insecure_skip_verify",
                                              "never_block_statuses",
                                              "page_size"};
constexpr absl::string_view kSentinelOneKeys[] = {"url", "api_token_env",
                                                  "api_token_file", "ca_file",
                                                  "insecure_skip_verify"};
constexpr absl::string_view kSyncKeys[] = {
    "name", "collection", "site", "rule", "never_block", "refuse", "guards"};
constexpr absl::string_view kRuleKeys[] = {"description", "direction",
                                           "os_types", "enabled"};
constexpr absl::string_view kGuardKeys[] = {
    "min_desired_addresses", "max_unblock_fraction", "unblock_floor",
    "min_ipv4_prefix", "min_ipv6_prefix"};

constexpr uint64_t kMaxUint64 = std::numeric_limits<uint64_t>::max();

// The 1-based line of the first line that starts with ',' outside any flow
// collection (e.g. ",a:\n  b: c"), or 0. Such text is invalid YAML, and
// yaml-cpp 0.7 loops forever on it (found by //tests/fuzz:config_fuzzer), so
// it is refused before yaml-cpp sees it.
int LeadingFlowEntryLine(absl::string_view yaml) {
  // A ',' separates entries of a flow collection: no YAML line outside
  // "[...]" or "{...}" can start with one, and yaml-cpp 0.7 loops forever on
  // some such documents. Quoted scalars and comments are skipped so that
  // their contents do not count.
  int line = 1, depth = 0;
  bool line_start = true, in_comment = false;
  char quote = 0;
  char previous = '\n';
  for (size_t k = 0; k < yaml.size(); ++k) {
    const char c = yaml[k];
    if (c == '\n') {
      ++line;
      line_start = true;
      in_comment = false;
      previous = c;
      continue;
    }
    if (in_comment) continue;
    if (quote != 0) {
      if (quote == '"' && c == '\\') {
        ++k;  // an escaped character
      } else if (c == quote) {
        if (quote == '\'' && k + 1 < yaml.size() && yaml[k + 1] == '\'') {
          ++k;  // '' inside a single-quoted scalar
        } else {
          quote = 0;
        }
      }
      previous = c;
      continue;
    }
    if (line_start && (c == ' ' || c == '\t')) continue;
    if (line_start && c == ',' && depth == 0) return line;
    line_start = false;
    if (c == '#' && (previous == ' ' || previous == '\t' || previous == '\n')) {
      in_comment = true;
    } else if (c == '"' || c == '\'') {
      quote = c;
    } else if (c == '[' || c == '{') {
      ++depth;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
    previous = c;
  }
  return 0;
}

// Records where each document yaml-cpp's parser reads starts.
class DocumentStarts : public YAML::EventHandler {
 public:
  const YAML::Mark& last() const { return last_; }

  void OnDocumentStart(const YAML::Mark& mark) override { last_ = mark; }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

 private:
  YAML::Mark last_ = YAML::Mark::null_mark();
};

// Where yaml-cpp's parser stops advancing through `yaml`, if it does.
// yaml-cpp 0.7 ends a document at a token no rule reads (a stray ',') without
// consuming it, so the next document starts at the same token, and so on:
// YAML::LoadAll() never returns and keeps an empty document per round until
// memory runs out (fixed in later yaml-cpp releases). A document that starts
// where the previous one did is that loop. Throws what the parser throws.
std::optional<YAML::Mark> StuckParserMark(const std::string& yaml) {
  std::istringstream in(yaml);
  YAML::Parser parser(in);
  DocumentStarts starts;
  int previous = -1;
  while (parser.HandleNextDocument(starts)) {
    if (starts.last().pos == previous) return starts.last();
    previous = starts.last().pos;
  }
  return std::nullopt;
}

class ConfigParser {
 public:
  explicit ConfigParser(absl::string_view source) : source_(source) {}

  absl::StatusOr<Config> Parse(absl::string_view yaml) {
    try {
      return ParseDocument(yaml);
    } catch (const YAML::Exception& e) {
      if (e.mark.is_null()) {
        return Error(1, absl::StrCat("invalid YAML: ", e.msg));
      }
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ":", e.mark.line + 1, ":", e.mark.column + 1,
                       ": invalid YAML: ", e.msg));
    } catch (const std::exception& e) {
      return absl::InvalidArgumentError(
          absl::StrCat(source_, ": cannot read the config: ", e.what()));
    }
  }

 private:
  absl::Status Error(int line, absl::string_view message) const {
    return absl::InvalidArgumentError(
        absl::StrCat(source_, ":", line, ": ", message));
  }
  absl::Status ErrorAt(const Located& v, absl::string_view message) const {
    return Error(v.line, absl::StrCat(v.path, ": ", message));
  }

  absl::StatusOr<Config> ParseDocument(absl::string_view yaml) {
    if (int line = LeadingFlowEntryLine(yaml); line > 0) {
      return Error(
          line, "invalid YAML: a line cannot start with ',' outside [] or {}");
    }
    const std::string text(yaml);
    // Before LoadAll(), which would never return (see StuckParserMark).
    if (std::optional<YAML::Mark> stuck = StuckParserMark(text)) {
      const unsigned char c =
          stuck->pos >= 0 && static_cast<size_t>(stuck->pos) < text.size()
              ? text[stuck->pos]
              : 0;
      return absl::InvalidArgumentError(absl::StrCat(
          source_, ":", stuck->line + 1, ":", stuck->column + 1,
          ": invalid YAML: unexpected ",
          absl::ascii_isgraph(c) ? absl::StrCat("'", std::string(1, c), "'")
                                 : "character"));
    }
    const std::vector<YAML::Node> docs = YAML::LoadAll(text);
    if (docs.size() > 1) {
      return Error(
          LineOf(docs[1], 1),
          absl::StrCat("expected one YAML document, found ", docs.size()));
    }
    if (docs.empty() || docs[0].IsNull()) {
      return Error(1,
                   "the config is empty; expected the keys threatq, "
                   "sentinelone and syncs");
    }
    const Located root{docs[0], "", LineOf(docs[0], 1)};
    if (!root.node.IsMap()) {
      return Error(root.line,
                   absl::StrCat("expected a map with the keys threatq, "
                                "sentinelone and syncs, got ",
                                Describe(root.node)));
    }
    ASSIGN_OR_RETURN(const MapView top, ReadMap(root, kTopKeys));

    Config config;
    ASSIGN_OR_RETURN(const Entry* threatq, Require(top, "threatq"));
    RETURN_IF_ERROR(ParseThreatQ(threatq->value, config.mutable_threatq()));
    ASSIGN_OR_RETURN(const Entry* s1, Require(top, "sentinelone"));
    RETURN_IF_ERROR(ParseSentinelOne(s1->value, config.mutable_sentinelone()));
    if (const Entry* e = top.Find("never_block")) {
      RETURN_IF_ERROR(ReadNeverBlock(e->value, config.mutable_never_block()));
    }
    if (const Entry* e = top.Find("refuse")) {
      RETURN_IF_ERROR(ReadRefuse(e->value, config.mutable_refuse()));
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

  // Checks that `v` is a map (or empty) whose keys are all in `allowed`,
  // each at most once.
  absl::StatusOr<MapView> ReadMap(const Located& v, KeyList allowed) const {
    MapView m;
    m.path = v.path;
    m.line = v.line;
    if (v.node.IsNull()) return m;
    if (!v.node.IsMap()) {
      return ErrorAt(
          v, absl::StrCat("expected a map of keys, got ", Describe(v.node)));
    }
    for (auto it = v.node.begin(); it != v.node.end(); ++it) {
      const YAML::Node key_node = it->first;
      const YAML::Node value = it->second;
      const int key_line = LineOf(key_node, v.line);
      if (!key_node.IsScalar()) {
        return Error(key_line,
                     absl::StrCat("expected a key name ", Where(v.path),
                                  ", got ", Describe(key_node)));
      }
      const std::string& key = key_node.Scalar();
      if (const Entry* first = m.Find(key)) {
        return Error(key_line, absl::StrCat("duplicate key ", Quote(key), " ",
                                            Where(v.path), " (first at line ",
                                            first->key_line, ")"));
      }
      if (!Contains(allowed, key)) {
        return UnknownKey(v.path, key, key_line, allowed);
      }
      // Scalars point at themselves; empty values, maps and lists at their
      // key (the line a reader looks for).
      const int value_line =
          value.IsScalar() ? LineOf(value, key_line) : key_line;
      m.entries.push_back(Entry{
          key, key_line, Located{value, ChildPath(v.path, key), value_line}});
    }
    return m;
  }

  absl::Status UnknownKey(absl::string_view path, absl::string_view key,
                          int line, KeyList allowed) const {
    // "password: hunter2" where "password_env" or "password_file" belongs.
    const std::string env_key = absl::StrCat(key, "_env");
    const std::string file_key = absl::StrCat(key, "_file");
    if (Contains(allowed, env_key) && Contains(allowed, file_key)) {
      return Error(line, absl::StrCat(ChildPath(path, key),
                                      ": secrets may not be written in the "
                                      "config file; reference one with ",
                                      env_key, " or ", file_key));
    }
    std::string message =
        absl::StrCat("unknown key ", Quote(key), " ", Where(path));
    if (std::optional<absl::string_view> s = Suggest(key, allowed)) {
      absl::StrAppend(&message, " (did you mean ", Quote(*s), "?)");
    } else {
      absl::StrAppend(&message,
                      " (expected one of: ", absl::StrJoin(allowed, ", "), ")");
    }
    return Error(line, message);
  }

  absl::StatusOr<const Entry*> Require(const MapView& m, absl::string_view key,
                                       absl::string_view why = "") const {
    if (const Entry* e = m.Find(key)) return e;
    const std::string what =
        absl::StrCat("missing required key ", Quote(key), why);
    return Error(m.line,
                 m.path.empty() ? what : absl::StrCat(m.path, ": ", what));
  }

  absl::StatusOr<std::string> ReadString(const Located& v,
                                         bool allow_empty = false) const {
    if (!v.node.IsScalar()) {
      return ErrorAt(v,
                     absl::StrCat("expected a string, got ", Describe(v.node)));
    }
    if (!allow_empty && v.node.Scalar().empty()) {
      return ErrorAt(v, "must not be empty");
    }
    return v.node.Scalar();
  }

  absl::StatusOr<bool> ReadBool(const Located& v) const {
    if (v.node.IsScalar()) {
      const std::string s = absl::AsciiStrToLower(v.node.Scalar());
      if (s == "true") return true;
      if (s == "false") return false;
    }
    return ErrorAt(
        v, absl::StrCat("expected true or false, got ", Describe(v.node)));
  }

  absl::StatusOr<uint64_t> ReadUint(const Located& v, uint64_t min,
                                    uint64_t max) const {
    uint64_t n = 0;
    if (v.node.IsScalar()) {
      const std::string& s = v.node.Scalar();
      const bool digits =
          !s.empty() && std::all_of(s.begin(), s.end(), absl::ascii_isdigit);
      if (digits && absl::SimpleAtoi(s, &n) && n >= min && n <= max) return n;
    }
    const std::string range = max == kMaxUint64
                                  ? absl::StrCat("of at least ", min)
                                  : absl::StrCat("from ", min, " to ", max);
    return ErrorAt(v, absl::StrCat("expected a whole number ", range, ", got ",
                                   Describe(v.node)));
  }

  absl::StatusOr<double> ReadFraction(const Located& v) const {
    double d = 0;
    if (v.node.IsScalar() && absl::SimpleAtod(v.node.Scalar(), &d) && d > 0 &&
        d <= 1) {
      return d;
    }
    return ErrorAt(v, absl::StrCat("expected a number greater than 0 and at "
                                   "most 1, got ",
                                   Describe(v.node)));
  }

  absl::StatusOr<int> ReadEnum(const Located& v,
                               absl::Span<const EnumValue> values) const {
    std::vector<absl::string_view> names;
    for (const EnumValue& e : values) names.push_back(e.name);
    if (v.node.IsScalar()) {
      const std::string s = absl::AsciiStrToLower(v.node.Scalar());
      for (const EnumValue& e : values) {
        if (e.name == s) return e.value;
      }
      return ErrorAt(
          v, absl::StrCat("unknown value ", Quote(v.node.Scalar()),
                          "; expected one of: ", absl::StrJoin(names, ", ")));
    }
    return ErrorAt(v,
                   absl::StrCat("expected one of: ", absl::StrJoin(names, ", "),
                                "; got ", Describe(v.node)));
  }

  // The elements of a list (none for an empty value).
  absl::StatusOr<std::vector<Located>> ReadList(const Located& v) const {
    std::vector<Located> out;
    if (v.node.IsNull()) return out;
    if (!v.node.IsSequence()) {
      return ErrorAt(v,
                     absl::StrCat("expected a list, got ", Describe(v.node)));
    }
    for (size_t i = 0; i < v.node.size(); ++i) {
      const YAML::Node element = v.node[i];
      out.push_back(Located{element, absl::StrCat(v.path, "[", i, "]"),
                            LineOf(element, v.line)});
    }
    return out;
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
      ASSIGN_OR_RETURN(std::string name, ReadString(env->value));
      if (!IsEnvVarName(name)) {
        // The value is not shown: it may be the secret itself.
        return ErrorAt(env->value,
                       "expected the name of an environment variable "
                       "(letters, digits and _, not starting with a digit); "
                       "the value is not shown in case it is the secret "
                       "itself");
      }
      out->set_env(std::move(name));
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
                   "threatq: set a password (password_env or password_file) "
                   "or a client secret (client_secret_env or "
                   "client_secret_file), not both");
    }
    if (!password && !client_secret) {
      return Error(m.line,
                   "threatq: missing credential: set password_env or "
                   "password_file (with username), or client_secret_env or "
                   "client_secret_file");
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
      ASSIGN_OR_RETURN(const std::vector<Located> items, ReadList(e->value));
      for (const Located& item : items) {
        ASSIGN_OR_RETURN(*tq->add_never_block_statuses(), ReadString(item));
      }
    }
    if (const Entry* e = m.Find("page_size")) {
      ASSIGN_OR_RETURN(const uint64_t n, ReadUint(e->value, 1, 100000));
      tq->set_page_size(static_cast<uint32_t>(n));
    }
    return absl::OkStatus();
  }

  absl::Status ParseSentinelOne(const Located& v, SentinelOneConfig* s1) const {
    ASSIGN_OR_RETURN(const MapView m, ReadMap(v, kSentinelOneKeys));
    ASSIGN_OR_RETURN(const Entry* url, Require(m, "url"));
    ASSIGN_OR_RETURN(*s1->mutable_url(), ReadUrl(url->value));
    RETURN_IF_ERROR(ReadSecretRef(m, "api_token", s1->mutable_api_token()));
    if (s1->api_token().source_case() == SecretRef::SOURCE_NOT_SET) {
      return Error(m.line,
                   "sentinelone: missing credential: set api_token_env or "
                   "api_token_file");
    }
    RETURN_IF_ERROR(ReadTls(m, s1->mutable_tls()));
    if (s1->tls().ByteSizeLong() == 0) s1->clear_tls();
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

  // Parses one sync; `name_line` receives the line that names it.
  absl::Status ParseSync(const Located& v, SyncConfig* sync,
                         int* name_line) const {
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
    ASSIGN_OR_RETURN(const Entry* site, Require(m, "site"));
    ASSIGN_OR_RETURN(*sync->mutable_site(), ReadString(site->value));
    if (sync->name().empty()) {
      sync->set_name(absl::StrCat(sync->collection(), " -> ", sync->site()));
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
      size_t index;
      int line;
    };
    std::map<std::pair<std::string, std::string>, Seen> by_target;
    std::map<std::string, Seen> by_name;
    for (size_t i = 0; i < items.size(); ++i) {
      const Located& item = items[i];
      SyncConfig* sync = config->add_syncs();
      int name_line = item.line;
      RETURN_IF_ERROR(ParseSync(item, sync, &name_line));
      const auto target = std::make_pair(sync->collection(), sync->site());
      if (auto it = by_target.find(target); it != by_target.end()) {
        return ErrorAt(
            item,
            absl::StrCat("collection ", Quote(sync->collection()),
                         " is already synced to site ", Quote(sync->site()),
                         " by syncs[", it->second.index, "] (line ",
                         it->second.line, ")"));
      }
      by_target.emplace(target, Seen{i, item.line});
      if (auto it = by_name.find(sync->name()); it != by_name.end()) {
        return Error(
            name_line,
            absl::StrCat(item.path, ": duplicate sync name ",
                         Quote(sync->name()), " (also syncs[", it->second.index,
                         "], line ", it->second.line, ")"));
      }
      by_name.emplace(sync->name(), Seen{i, name_line});
    }
    return absl::OkStatus();
  }

  const std::string source_;
};

// Makes a relative `path` relative to the folder `prefix` ("dir/").
void Rebase(absl::string_view prefix, std::string* path) {
  if (path->empty() || (*path)[0] == '/') return;
  *path = absl::StrCat(prefix, *path);
}

}  // namespace

absl::Status ValidateApiUrl(absl::string_view url) {
  if (url.empty()) return absl::InvalidArgumentError("must not be empty");
  const size_t scheme_end = url.find("://");
  const absl::string_view rest =
      scheme_end == absl::string_view::npos ? url : url.substr(scheme_end + 3);
  const absl::string_view authority = rest.substr(0, rest.find_first_of("/?#"));
  if (authority.find('@') != absl::string_view::npos) {
    // Never shown: the user info may hold a password.
    return absl::InvalidArgumentError(
        "the URL embeds credentials (user:password@host); remove them and "
        "reference secrets with the *_env or *_file keys");
  }
  // A query string may hold a token too: never shown either.
  const absl::string_view shown = url.substr(0, url.find_first_of("?#"));
  if (scheme_end == absl::string_view::npos) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(shown), " has no scheme; write ",
                     Quote(absl::StrCat("https://", shown))));
  }
  const std::string scheme = absl::AsciiStrToLower(url.substr(0, scheme_end));
  if (scheme != "https" && scheme != "http") {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(shown), " has the unsupported scheme ",
                     Quote(scheme), "; use https://"));
  }
  if (shown.size() != url.size()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(shown),
                     " must be a base URL, without a query (?...) or "
                     "fragment (#...)"));
  }
  for (char c : url) {
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) {
      return absl::InvalidArgumentError(absl::StrCat(
          Quote(shown), " contains whitespace or control characters"));
    }
  }
  absl::string_view host = authority;
  absl::string_view port;
  bool has_port = false;
  if (!authority.empty() && authority[0] == '[') {
    const size_t close = authority.find(']');
    if (close == absl::string_view::npos) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quote(shown), " has an unterminated [IPv6] host"));
    }
    host = authority.substr(1, close - 1);
    const absl::string_view after = authority.substr(close + 1);
    in6_addr v6;
    if (inet_pton(AF_INET6, std::string(host).c_str(), &v6) != 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          Quote(shown), " has an invalid IPv6 address in brackets"));
    }
    if (!after.empty()) {
      if (after[0] != ':') {
        return absl::InvalidArgumentError(
            absl::StrCat(Quote(shown), " has an invalid host"));
      }
      port = after.substr(1);
      has_port = true;
    }
  } else {
    const size_t colons = std::count(authority.begin(), authority.end(), ':');
    if (colons > 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          Quote(shown),
          ": write IPv6 addresses in brackets, e.g. https://[2001:db8::1]/"));
    }
    const size_t colon = authority.find(':');
    if (colon != absl::string_view::npos) {
      host = authority.substr(0, colon);
      port = authority.substr(colon + 1);
      has_port = true;
    }
    const bool valid_host = std::all_of(host.begin(), host.end(), [](char c) {
      return absl::ascii_isalnum(c) || c == '-' || c == '.' || c == '_';
    });
    if (!valid_host) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quote(shown), " has an invalid host name"));
    }
  }
  if (host.empty()) {
    return absl::InvalidArgumentError(
        absl::StrCat(Quote(shown), " has no host"));
  }
  if (has_port) {
    int n = 0;
    const bool digits =
        std::all_of(port.begin(), port.end(), absl::ascii_isdigit);
    if (port.empty() || !digits || !absl::SimpleAtoi(port, &n) || n < 1 ||
        n > 65535) {
      return absl::InvalidArgumentError(
          absl::StrCat(Quote(shown), " has an invalid port"));
    }
  }
  if (scheme == "http" && !IsLoopbackHost(host)) {
    return absl::InvalidArgumentError(absl::StrCat(
        Quote(shown),
        " uses http://, which sends credentials in clear text; use https:// "
        "(http:// is allowed only to localhost, 127.0.0.0/8 and ::1)"));
  }
  return absl::OkStatus();
}

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
    ThreatQConfig& tq = *config.mutable_threatq();
    if (tq.password().source_case() == SecretRef::kFile) {
      Rebase(prefix, tq.mutable_password()->mutable_file());
    }
    if (tq.client_secret().source_case() == SecretRef::kFile) {
      Rebase(prefix, tq.mutable_client_secret()->mutable_file());
    }
    if (tq.has_tls()) Rebase(prefix, tq.mutable_tls()->mutable_ca_file());
    SentinelOneConfig& s1 = *config.mutable_sentinelone();
    if (s1.api_token().source_case() == SecretRef::kFile) {
      Rebase(prefix, s1.mutable_api_token()->mutable_file());
    }
    if (s1.has_tls()) Rebase(prefix, s1.mutable_tls()->mutable_ca_file());
  }
  return config;
}

}  // namespace tqs1::config
