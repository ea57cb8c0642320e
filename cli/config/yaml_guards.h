// Guards between untrusted YAML text and Debian's yaml-cpp 0.7: text that
// would make it loop forever is refused before it sees it, what it throws
// becomes an absl::Status, and a file holds at most one document.
//
//   ASSIGN_OR_RETURN(YAML::Node root, LoadOneYamlDocument(text, "tqs1.yaml"));
//   if (root.IsNull()) { ... the file is empty ... }
//   try {
//     ... read `root` ...
//   } catch (const std::exception& e) {
//     return YamlExceptionToStatus(e, "tqs1.yaml");
//   }
#ifndef TQS1_CLI_CONFIG_YAML_GUARDS_H_
#define TQS1_CLI_CONFIG_YAML_GUARDS_H_

#include <exception>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "yaml-cpp/yaml.h"

namespace tqs1::config {

// Parses `yaml` into its one document, or a null node when there is none.
// Errors are kInvalidArgument starting with `source`:
// - "<source>:<line>: invalid YAML: a line cannot start with ',' outside []
//   or {}" and "<source>:<line>:<column>: invalid YAML: unexpected ','":
//   text that yaml-cpp 0.7 would read forever (found by
//   //tests/fuzz:config_fuzzer);
// - "<source>:<line>:<column>: invalid YAML: <why>" for a syntax error;
// - "<source>:<line>: expected one YAML document, found <n>".
// Never throws.
absl::StatusOr<YAML::Node> LoadOneYamlDocument(absl::string_view yaml,
                                               absl::string_view source);

// What yaml-cpp threw while reading a document, as kInvalidArgument:
// "<source>:<line>:<column>: invalid YAML: <why>" ("<source>:1: ..." when
// the exception has no position), or "<source>: cannot read the config:
// <what>" for any other exception.
absl::Status YamlExceptionToStatus(const std::exception& e,
                                   absl::string_view source);

// The 1-based line of a node, or `fallback` when yaml-cpp knows none.
int LineOf(const YAML::Node& node, int fallback);

}  // namespace tqs1::config

#endif  // TQS1_CLI_CONFIG_YAML_GUARDS_H_
