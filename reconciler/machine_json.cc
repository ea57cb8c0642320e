#include "reconciler/machine_json.h"

#include <cstdint>
#include <functional>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/util/json_util.h"

namespace tqs1::reconciler {
namespace {

using ::google::protobuf::Descriptor;
using ::google::protobuf::EnumDescriptor;
using ::google::protobuf::EnumValueDescriptor;
using ::google::protobuf::FieldDescriptor;
using json = ::nlohmann::ordered_json;

// "ActionKind" -> "ACTION_KIND_": the prefix protobuf style gives values.
std::string EnumPrefix(const EnumDescriptor& type) {
  std::string prefix;
  for (char c : type.name()) {
    if (absl::ascii_isupper(static_cast<unsigned char>(c)) && !prefix.empty()) {
      prefix += '_';
    }
    prefix += absl::ascii_toupper(static_cast<unsigned char>(c));
  }
  return prefix + "_";
}

bool Is64Bit(const FieldDescriptor& field) {
  switch (field.cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT64:
    case FieldDescriptor::CPPTYPE_UINT64:
      return true;
    default:
      return false;
  }
}

// A change of one scalar value (not a message) of `field`, in place.
using Visit =
    std::function<absl::Status(const FieldDescriptor& field, json& value)>;

// Calls `visit` on every scalar value of `object` (the JSON of a message of
// `type`): each element of a repeated field, each value of a map, and the
// fields of nested messages. Well-known types (Timestamp, Duration) keep
// protobuf's strings and are not entered. Stops at the first error.
absl::Status Walk(const Descriptor& type, json& object, const Visit& visit);

absl::Status WalkValue(const FieldDescriptor& field, json& value,
                       const Visit& visit) {
  if (field.cpp_type() != FieldDescriptor::CPPTYPE_MESSAGE) {
    return visit(field, value);
  }
  if (field.message_type()->file()->package() == "google.protobuf") {
    return absl::OkStatus();
  }
  return Walk(*field.message_type(), value, visit);
}

absl::Status Walk(const Descriptor& type, json& object, const Visit& visit) {
  if (!object.is_object()) return absl::OkStatus();  // protobuf says why
  for (int i = 0; i < type.field_count(); ++i) {
    const FieldDescriptor& field = *type.field(i);
    auto it = object.find(field.name());
    if (it == object.end()) continue;
    if (field.is_map() && it->is_object()) {
      // {"Expired": "12"}: each value is the map's "value" field.
      const FieldDescriptor& value = *field.message_type()->map_value();
      for (auto& [key, element] : it->items()) {
        if (absl::Status s = WalkValue(value, element, visit); !s.ok()) {
          return s;
        }
      }
    } else if (field.is_repeated() && it->is_array()) {
      for (json& element : *it) {
        if (absl::Status s = WalkValue(field, element, visit); !s.ok()) {
          return s;
        }
      }
    } else if (absl::Status s = WalkValue(field, *it, visit); !s.ok()) {
      return s;
    }
  }
  return absl::OkStatus();
}

// Protobuf JSON -> machine JSON: 64-bit integers to numbers, enum names to
// words.
absl::Status ValueToMachine(const FieldDescriptor& field, json& value) {
  if (Is64Bit(field) && value.is_string()) {
    const std::string& text = value.get_ref<const std::string&>();
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_UINT64) {
      uint64_t n = 0;
      if (absl::SimpleAtoi(text, &n)) value = n;
    } else {
      int64_t n = 0;
      if (absl::SimpleAtoi(text, &n)) value = n;
    }
  } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM &&
             value.is_string()) {
    const EnumValueDescriptor* v =
        field.enum_type()->FindValueByName(value.get_ref<const std::string&>());
    if (v != nullptr) value = EnumWord(*v);
  }
  return absl::OkStatus();
}

// Machine JSON -> protobuf JSON. Only enum words need turning back:
// protobuf reads 64-bit integers written as numbers.
absl::Status ValueFromMachine(const FieldDescriptor& field, json& value) {
  if (field.cpp_type() != FieldDescriptor::CPPTYPE_ENUM || !value.is_string()) {
    return absl::OkStatus();
  }
  const EnumDescriptor& type = *field.enum_type();
  const std::string& word = value.get_ref<const std::string&>();
  if (type.FindValueByName(word) != nullptr) return absl::OkStatus();
  for (int i = 0; i < type.value_count(); ++i) {
    if (EnumWord(*type.value(i)) == word) {
      value = type.value(i)->name();
      return absl::OkStatus();
    }
  }
  std::string words;
  for (int i = 0; i < type.value_count(); ++i) {
    absl::StrAppend(&words, i == 0 ? "" : ", ", EnumWord(*type.value(i)));
  }
  return absl::InvalidArgumentError(absl::StrCat(
      "\"", field.name(), "\": \"", word, "\" is not one of ", words));
}

}  // namespace

std::string EnumWord(const EnumValueDescriptor& value) {
  const std::string prefix = EnumPrefix(*value.type());
  absl::string_view name = value.name();
  if (absl::StartsWith(name, prefix) && name.size() > prefix.size()) {
    name.remove_prefix(prefix.size());
  }
  return absl::AsciiStrToLower(name);
}

absl::StatusOr<json> ToMachineJson(const google::protobuf::Message& message) {
  google::protobuf::util::JsonPrintOptions options;
  options.preserve_proto_field_names = true;
  options.always_print_primitive_fields = true;
  std::string text;
  auto status =
      google::protobuf::util::MessageToJsonString(message, &text, options);
  if (!status.ok()) {
    return absl::InternalError(
        absl::StrCat("cannot write ", message.GetTypeName(),
                     " as JSON: ", status.message().as_string()));
  }
  json doc = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) {
    return absl::InternalError("protobuf wrote JSON that does not parse");
  }
  (void)Walk(*message.GetDescriptor(), doc, ValueToMachine);
  return doc;
}

absl::Status FromMachineJson(const json& doc,
                             google::protobuf::Message* message) {
  json copy = doc;
  if (absl::Status s = Walk(*message->GetDescriptor(), copy, ValueFromMachine);
      !s.ok()) {
    return s;
  }
  const std::string text = copy.dump(-1, ' ', /*ensure_ascii=*/false,
                                     json::error_handler_t::replace);
  google::protobuf::util::JsonParseOptions options;
  auto status = google::protobuf::util::JsonStringToMessage(
      google::protobuf::StringPiece(text.data(), text.size()), message,
      options);
  if (!status.ok()) {
    return absl::InvalidArgumentError(status.message().as_string());
  }
  return absl::OkStatus();
}

std::string DumpJson(const json& doc, bool pretty) {
  return doc.dump(pretty ? 2 : -1, ' ', /*ensure_ascii=*/false,
                  json::error_handler_t::replace) +
         (pretty ? "\n" : "");
}

}  // namespace tqs1::reconciler
