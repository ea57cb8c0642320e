// A small walker of YAML maps for config files: each value carries its
// path ("syncs[0].rule.enabled") and line, each read checks one type, and
// every error says where, with a "did you mean" for a misspelled key.
//
//   constexpr absl::string_view kRuleKeys[] = {"description", "enabled"};
//   SchemaReader reader("tqs1.yaml");
//   ASSIGN_OR_RETURN(const MapView m, reader.ReadMap(value, kRuleKeys));
//   if (const Entry* e = m.Find("enabled")) {
//     ASSIGN_OR_RETURN(bool enabled, reader.ReadBool(e->value));
//   }
//   // tqs1.yaml:7: unknown key "enabeld" in syncs[0].rule (did you mean
//   // "enabled"?)
//
// Errors are all kInvalidArgument "<source>:<line>: <what is wrong>"; a
// message never shows more than 60 bytes of a value (Quote()).
#ifndef TQS1_CLI_CONFIG_SCHEMA_H_
#define TQS1_CLI_CONFIG_SCHEMA_H_

#include <cstdint>
#include <limits>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/types/span.h"
#include "yaml-cpp/yaml.h"

namespace tqs1::config {

using KeyList = absl::Span<const absl::string_view>;

inline constexpr uint64_t kMaxUint64 = std::numeric_limits<uint64_t>::max();

// `s` in double quotes, escaped, cut after 60 bytes.
std::string Quote(absl::string_view s);

// What a node holds, for "expected X, got <Describe(node)>": the quoted
// scalar, "a list", "a map" or "nothing".
std::string Describe(const YAML::Node& node);

// The allowed key closest to `key` (case-insensitive edit distance), if it
// is close enough to be a typo: at most max(2, key.size() / 4) edits.
std::optional<absl::string_view> Suggest(absl::string_view key,
                                         KeyList allowed);

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

  // The entry of `key`, or null.
  const Entry* Find(absl::string_view key) const;
};

struct EnumValue {
  absl::string_view name;
  int value;
};

// Reads typed values out of located YAML nodes; `source` starts every error
// message. Never throws for a node of the wrong type: each read checks the
// type first.
class SchemaReader {
 public:
  explicit SchemaReader(absl::string_view source) : source_(source) {}

  // "<source>:<line>: <message>".
  absl::Status Error(int line, absl::string_view message) const;
  // "<source>:<v.line>: <v.path>: <message>".
  absl::Status ErrorAt(const Located& v, absl::string_view message) const;

  // Checks that `v` is a map (or empty) whose keys are all in `allowed`,
  // each at most once. An unknown key is reported with the closest allowed
  // one (Suggest()) or the list of allowed keys; "password" where
  // "password_env" and "password_file" are allowed is reported as a secret
  // written in the config.
  absl::StatusOr<MapView> ReadMap(const Located& v, KeyList allowed) const;

  // The entry of `key`, or "missing required key \"<key>\"<why>".
  absl::StatusOr<const Entry*> Require(const MapView& m, absl::string_view key,
                                       absl::string_view why = "") const;

  absl::StatusOr<std::string> ReadString(const Located& v,
                                         bool allow_empty = false) const;
  // true or false, in any case.
  absl::StatusOr<bool> ReadBool(const Located& v) const;
  // Decimal digits only, in [min, max].
  absl::StatusOr<uint64_t> ReadUint(const Located& v, uint64_t min,
                                    uint64_t max) const;
  // A number in (0, max].
  absl::StatusOr<double> ReadNumber(const Located& v, double max) const;
  // A number in (0, 1].
  absl::StatusOr<double> ReadFraction(const Located& v) const {
    return ReadNumber(v, 1);
  }
  // One of `values`' names, in any case; returns its value.
  absl::StatusOr<int> ReadEnum(const Located& v,
                               absl::Span<const EnumValue> values) const;
  // The elements of a list (none for an empty value).
  absl::StatusOr<std::vector<Located>> ReadList(const Located& v) const;

 private:
  absl::Status UnknownKey(absl::string_view path, absl::string_view key,
                          int line, KeyList allowed) const;

  const std::string source_;
};

}  // namespace tqs1::config

#endif  // TQS1_CLI_CONFIG_SCHEMA_H_
