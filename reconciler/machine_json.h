// tqs1's machine JSON: what scripts, CI pipelines and policy checks read
// (`plan --json`, plan files, `drift --json`). It is protobuf's JSON
// mapping of the message, with field names as in the .proto files, and
// three changes that make it pleasant to script against:
// - 64-bit integers are JSON numbers (protobuf writes "20"), like the
//   32-bit ones beside them;
// - enum values are lower-case words without their type's prefix
//   (ACTION_KIND_UPDATE is "update", RULE_SCOPE_SITE is "site");
// - printable characters are never \u-escaped ("->", not "-\u003e").
// Every field is present, defaults included, in the .proto's order. The mapping
// is reversible: FromMachineJson(ToMachineJson(m)) == m, and FromMachineJson
// also takes protobuf's own mapping (older plan files).
//
//   ASSIGN_OR_RETURN(nlohmann::ordered_json doc, ToMachineJson(plan));
//   std::string text = DumpJson(doc, /*pretty=*/true);
//   tqs1::v1::Plan back;
//   RETURN_IF_ERROR(
//       FromMachineJson(nlohmann::ordered_json::parse(text), &back));
// Pure.
#ifndef TQS1_RECONCILER_MACHINE_JSON_H_
#define TQS1_RECONCILER_MACHINE_JSON_H_

#include <string>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "nlohmann/json.hpp"

namespace tqs1::reconciler {

// `message` in the machine mapping. kInternal if protobuf cannot print it
// (invalid UTF-8 in a string field).
absl::StatusOr<nlohmann::ordered_json> ToMachineJson(
    const google::protobuf::Message& message);

// Parses `doc` (machine or protobuf mapping) into `message`.
// kInvalidArgument naming what is wrong (an unknown field, a value of the
// wrong type, an unknown enum word).
absl::Status FromMachineJson(const nlohmann::ordered_json& doc,
                             google::protobuf::Message* message);

// The machine word of an enum value: ACTION_KIND_UPDATE -> "update".
std::string EnumWord(const google::protobuf::EnumValueDescriptor& value);

// The text of `doc` as tqs1 writes it: 2-space indentation (`pretty`) or
// one line, UTF-8 as is.
std::string DumpJson(const nlohmann::ordered_json& doc, bool pretty);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_MACHINE_JSON_H_
