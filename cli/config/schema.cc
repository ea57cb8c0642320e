#include "cli/config/schema.h"

#include <algorithm>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "cli/config/yaml_guards.h"

namespace tqs1::config {
namespace {

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

}  // namespace

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

const Entry* MapView::Find(absl::string_view key) const {
  for (const Entry& e : entries) {
    if (e.key == key) return &e;
  }
  return nullptr;
}

absl::Status SchemaReader::Error(int line, absl::string_view message) const {
  return absl::InvalidArgumentError(
      absl::StrCat(source_, ":", line, ": ", message));
}

absl::Status SchemaReader::ErrorAt(const Located& v,
                                   absl::string_view message) const {
  return Error(v.line, absl::StrCat(v.path, ": ", message));
}

absl::StatusOr<MapView> SchemaReader::ReadMap(const Located& v,
                                              KeyList allowed) const {
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
      return Error(key_line, absl::StrCat("expected a key name ", Where(v.path),
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

absl::Status SchemaReader::UnknownKey(absl::string_view path,
                                      absl::string_view key, int line,
                                      KeyList allowed) const {
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

absl::StatusOr<const Entry*> SchemaReader::Require(
    const MapView& m, absl::string_view key, absl::string_view why) const {
  if (const Entry* e = m.Find(key)) return e;
  const std::string what =
      absl::StrCat("missing required key ", Quote(key), why);
  return Error(m.line,
               m.path.empty() ? what : absl::StrCat(m.path, ": ", what));
}

absl::StatusOr<std::string> SchemaReader::ReadString(const Located& v,
                                                     bool allow_empty) const {
  if (!v.node.IsScalar()) {
    return ErrorAt(v,
                   absl::StrCat("expected a string, got ", Describe(v.node)));
  }
  if (!allow_empty && v.node.Scalar().empty()) {
    return ErrorAt(v, "must not be empty");
  }
  return v.node.Scalar();
}

absl::StatusOr<bool> SchemaReader::ReadBool(const Located& v) const {
  if (v.node.IsScalar()) {
    const std::string s = absl::AsciiStrToLower(v.node.Scalar());
    if (s == "true") return true;
    if (s == "false") return false;
  }
  return ErrorAt(
      v, absl::StrCat("expected true or false, got ", Describe(v.node)));
}

absl::StatusOr<uint64_t> SchemaReader::ReadUint(const Located& v, uint64_t min,
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

absl::StatusOr<double> SchemaReader::ReadNumber(const Located& v,
                                                double max) const {
  double d = 0;
  if (v.node.IsScalar() && absl::SimpleAtod(v.node.Scalar(), &d) && d > 0 &&
      d <= max) {
    return d;
  }
  return ErrorAt(v, absl::StrCat("expected a number greater than 0 and at "
                                 "most ",
                                 max, ", got ", Describe(v.node)));
}

absl::StatusOr<int> SchemaReader::ReadEnum(
    const Located& v, absl::Span<const EnumValue> values) const {
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
  return ErrorAt(
      v, absl::StrCat("expected one of: ", absl::StrJoin(names, ", "), "; got ",
                      Describe(v.node)));
}

absl::StatusOr<std::vector<Located>> SchemaReader::ReadList(
    const Located& v) const {
  std::vector<Located> out;
  if (v.node.IsNull()) return out;
  if (!v.node.IsSequence()) {
    return ErrorAt(v, absl::StrCat("expected a list, got ", Describe(v.node)));
  }
  for (size_t i = 0; i < v.node.size(); ++i) {
    const YAML::Node element = v.node[i];
    out.push_back(Located{element, absl::StrCat(v.path, "[", i, "]"),
                          LineOf(element, v.line)});
  }
  return out;
}

}  // namespace tqs1::config
