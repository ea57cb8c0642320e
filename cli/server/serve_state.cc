#include "cli/server/serve_state.h"

#include <cstddef>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "base/files.h"
#include "google/protobuf/util/json_util.h"

namespace tqs1::server {
namespace {

constexpr absl::string_view kServeStateFormat = "tqs1.serve-state.v1";
constexpr size_t kMaxServeStateBytes = 16 << 20;
constexpr absl::string_view kWhat = "the server's state file ";

// protobuf's util::Status as an absl::Status.
absl::Status ToAbslStatus(const google::protobuf::util::Status& s) {
  if (s.ok()) return absl::OkStatus();
  return absl::InvalidArgumentError(s.message().as_string());
}

}  // namespace

absl::StatusOr<tqs1::v1::ServeState> ReadServeState(const std::string& path) {
  absl::StatusOr<std::string> text =
      ReadFileUpTo(path, kMaxServeStateBytes, kWhat);
  if (!text.ok()) return text.status();
  tqs1::v1::ServeState saved;
  google::protobuf::util::JsonParseOptions json;
  json.ignore_unknown_fields = true;
  absl::Status s = ToAbslStatus(
      google::protobuf::util::JsonStringToMessage(*text, &saved, json));
  if (s.ok() && saved.format() != kServeStateFormat) {
    s = absl::DataLossError(absl::StrCat(
        "format \"", saved.format(), "\" is not \"", kServeStateFormat, "\""));
  }
  if (!s.ok()) {
    return absl::DataLossError(
        absl::StrCat(kWhat, path, " is unreadable (", s.message(), ")"));
  }
  return saved;
}

absl::Status WriteServeState(const std::string& path,
                             tqs1::v1::ServeState state) {
  state.set_format(std::string(kServeStateFormat));
  google::protobuf::util::JsonPrintOptions json;
  json.add_whitespace = true;
  json.preserve_proto_field_names = true;
  std::string text;
  absl::Status s = ToAbslStatus(
      google::protobuf::util::MessageToJsonString(state, &text, json));
  if (!s.ok()) return s;
  return WriteFileAtomically(path, text, 0644, kWhat);
}

}  // namespace tqs1::server
