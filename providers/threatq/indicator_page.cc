#include "providers/threatq/indicator_page.h"

#include <limits>
#include <utility>

#include "absl/status/status.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"

namespace tqs1::threatq {
namespace {

using ::nlohmann::json;

constexpr size_t kMaxDetail = 200;

// A name given either flat ("IP Address") or nested ({"name": ...}).
std::optional<std::string> NameOf(const json& object, const char* key) {
  auto it = object.find(key);
  if (it == object.end()) return std::nullopt;
  if (it->is_string()) return it->get<std::string>();
  if (it->is_object()) {
    auto name = it->find("name");
    if (name != it->end() && name->is_string()) return name->get<std::string>();
  }
  return std::nullopt;
}

// The id of a type or status given without a name: "<key>_id", else the
// "id" of a nested "<key>" object.
std::optional<int64_t> IdOf(const json& object, const std::string& key) {
  if (auto it = object.find(key + "_id"); it != object.end()) {
    if (std::optional<int64_t> id = JsonCount(*it)) return id;
  }
  if (auto it = object.find(key); it != object.end() && it->is_object()) {
    if (auto id = it->find("id"); id != it->end()) return JsonCount(*id);
  }
  return std::nullopt;
}

std::optional<int64_t> CountFromText(absl::string_view text) {
  int64_t v = 0;
  if (absl::SimpleAtoi(text, &v) && v >= 0) return v;
  return std::nullopt;
}

std::optional<int64_t> CountFromFloat(double v) {
  if (v >= 0 && v < 9e15) return static_cast<int64_t>(v);
  return std::nullopt;
}

// The streaming parse: a SAX handler for nlohmann::json that keeps the
// members a page needs and skips every other value whole. Any shape it does
// not expect makes it stop (returning false ends sax_parse), and the page is
// then parsed as a tree instead.
class PlainPageHandler {
 public:
  using string_t = json::string_t;
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using binary_t = json::binary_t;

  // Whether the document parsed was a complete page.
  bool Complete() const {
    return state_ == State::kDone && seen_data_ && total_.has_value();
  }
  std::optional<int64_t> total() const { return total_; }
  std::optional<int64_t> offset() const { return offset_; }
  std::optional<int64_t> limit() const { return limit_; }
  std::optional<std::string>& next_cursor() { return next_cursor_; }
  std::vector<IndicatorRow>& rows() { return rows_; }

  bool null() { return Scalar(Value::kNull); }
  bool boolean(bool) { return Scalar(Value::kOther); }
  bool number_integer(number_integer_t v) {
    // nlohmann reports non-negative integers as unsigned: this one is < 0.
    (void)v;
    return Scalar(Value::kOther);
  }
  bool number_unsigned(number_unsigned_t v) {
    if (v >
        static_cast<number_unsigned_t>(std::numeric_limits<int64_t>::max())) {
      return false;  // the tree parse decides what such a count means
    }
    count_ = static_cast<int64_t>(v);
    return Scalar(Value::kCount);
  }
  bool number_float(number_float_t v, const string_t&) {
    count_ = CountFromFloat(v);
    return Scalar(count_.has_value() ? Value::kCount : Value::kOther);
  }
  bool string(string_t& v) {
    text_ = &v;
    return Scalar(Value::kString);
  }
  bool binary(binary_t&) { return false; }

  bool start_object(size_t) {
    if (skip_ > 0) return ++skip_, true;
    switch (state_) {
      case State::kStart:
        state_ = State::kTop;
        return true;
      case State::kInData:
        rows_.emplace_back();
        row_keys_ = 0;
        state_ = State::kInRow;
        return true;
      case State::kRowValue:
        if (row_key_ == RowKey::kType || row_key_ == RowKey::kStatus) {
          name_seen_ = false;
          state_ = State::kInName;
          return true;
        }
        // The value as an object is refused; an object id is ignored.
        if (row_key_ == RowKey::kValue) return false;
        return Skip();
      case State::kTopValue:
        // data, total, offset, limit and nextCursorMark as objects are
        // refused (the tree parse decides).
        if (top_key_ != TopKey::kOther) return false;
        return Skip();
      case State::kNameValue:
        if (name_key_) return false;  // the name as an object
        return Skip();
      default:
        return false;
    }
  }

  bool end_object() {
    if (skip_ > 0) return EndSkip();
    switch (state_) {
      case State::kTop:
        state_ = State::kDone;
        return true;
      case State::kInRow:
        // value, type and status are required.
        if ((row_keys_ & kRequiredRowKeys) != kRequiredRowKeys) return false;
        state_ = State::kInData;
        return true;
      case State::kInName:
        if (!name_seen_) return false;
        state_ = State::kInRow;
        return true;
      default:
        return false;
    }
  }

  bool start_array(size_t) {
    if (skip_ > 0) return ++skip_, true;
    if (state_ == State::kTopValue && top_key_ == TopKey::kData) {
      state_ = State::kInData;
      return true;
    }
    switch (state_) {
      case State::kTopValue:
        if (top_key_ != TopKey::kOther) return false;  // total, offset
        return Skip();
      case State::kRowValue:
        // value, type or status as an array; an array id is ignored.
        if (row_key_ != RowKey::kOther && row_key_ != RowKey::kId) {
          return false;
        }
        return Skip();
      case State::kNameValue:
        if (name_key_) return false;
        return Skip();
      default:
        return false;  // the page itself, or a row, as an array
    }
  }

  bool end_array() {
    if (skip_ > 0) return EndSkip();
    if (state_ == State::kInData) {
      state_ = State::kTop;
      return true;
    }
    return false;
  }

  bool key(string_t& k) {
    if (skip_ > 0) return true;
    switch (state_) {
      case State::kTop:
        state_ = State::kTopValue;
        // A count is set (or the parse stopped) before the next key, so a
        // second "total" or "offset" finds its first value set.
        if (k == "data") {
          return TopKeyOnce(TopKey::kData, std::exchange(seen_data_, true));
        }
        if (k == "total") return TopKeyOnce(TopKey::kTotal, total_.has_value());
        if (k == "offset") {
          return TopKeyOnce(TopKey::kOffset, std::exchange(seen_offset_, true));
        }
        if (k == "limit") {
          return TopKeyOnce(TopKey::kLimit, std::exchange(seen_limit_, true));
        }
        if (k == "nextCursorMark") {
          return TopKeyOnce(TopKey::kCursor, std::exchange(seen_cursor_, true));
        }
        // The vendor SDK treats "errors" as a failure even on 2xx: the tree
        // parse words it.
        if (k == "errors") return false;
        top_key_ = TopKey::kOther;
        return true;
      case State::kInRow:
        state_ = State::kRowValue;
        if (k == "value") return RowKeyOnce(RowKey::kValue);
        if (k == "type") return RowKeyOnce(RowKey::kType);
        if (k == "status") return RowKeyOnce(RowKey::kStatus);
        if (k == "id") return RowKeyOnce(RowKey::kId);
        row_key_ = RowKey::kOther;
        return true;
      case State::kInName:
        state_ = State::kNameValue;
        name_key_ = k == "name";
        if (name_key_ && name_seen_) return false;  // "name" twice
        return true;
      default:
        return false;
    }
  }

  bool parse_error(size_t, const std::string&,
                   const nlohmann::detail::exception&) {
    return false;
  }

 private:
  enum class State {
    kStart,
    kTop,        // in the page object, before a key
    kTopValue,   // after a key of the page object
    kInData,     // in the "data" array, before a row
    kInRow,      // in a row object, before a key
    kRowValue,   // after a key of a row
    kInName,     // in a nested {"name": ...} of type or status
    kNameValue,  // after a key of that nested object
    kDone,
  };
  enum class TopKey { kData, kTotal, kOffset, kLimit, kCursor, kOther };
  enum class RowKey { kValue = 1, kType = 2, kStatus = 4, kId = 8, kOther = 0 };
  enum class Value { kString, kCount, kNull, kOther };
  static constexpr unsigned kRequiredRowKeys =
      static_cast<unsigned>(RowKey::kValue) |
      static_cast<unsigned>(RowKey::kType) |
      static_cast<unsigned>(RowKey::kStatus);

  bool TopKeyOnce(TopKey key, bool seen_before) {
    if (seen_before) return false;  // a member twice: the tree parse decides
    top_key_ = key;
    return true;
  }

  bool RowKeyOnce(RowKey key) {
    const unsigned bit = static_cast<unsigned>(key);
    if ((row_keys_ & bit) != 0) return false;
    row_keys_ |= bit;
    row_key_ = key;
    return true;
  }

  // Starts skipping a nested object or array that is not read.
  bool Skip() {
    skip_ = 1;
    return true;
  }

  bool EndSkip() {
    if (--skip_ == 0) ValueDone();
    return true;
  }

  // The state after a whole value (scalar or skipped) of the current key.
  void ValueDone() {
    if (state_ == State::kTopValue) state_ = State::kTop;
    if (state_ == State::kRowValue) state_ = State::kInRow;
    if (state_ == State::kNameValue) state_ = State::kInName;
  }

  // The scalar just read as a count, as JsonCount() reads it.
  std::optional<int64_t> CountOf(Value kind) const {
    if (kind == Value::kCount) return count_;
    if (kind == Value::kString) return CountFromText(*text_);
    return std::nullopt;
  }

  bool Scalar(Value kind) {
    if (skip_ > 0) return true;
    switch (state_) {
      case State::kTopValue:
        if (top_key_ == TopKey::kData) return false;  // not an array
        if (top_key_ == TopKey::kOffset && kind == Value::kNull) {
          // null: no offset echoed
        } else if (top_key_ == TopKey::kTotal || top_key_ == TopKey::kOffset) {
          std::optional<int64_t> count = CountOf(kind);
          if (!count.has_value()) return false;
          (top_key_ == TopKey::kTotal ? total_ : offset_) = count;
        } else if (top_key_ == TopKey::kLimit) {
          limit_ = CountOf(kind);
        } else if (top_key_ == TopKey::kCursor) {
          if (kind == Value::kString) {
            next_cursor_ = std::move(*text_);
          } else if (kind != Value::kNull) {
            return false;  // the tree parse words it
          }
        }
        state_ = State::kTop;
        return true;
      case State::kRowValue: {
        IndicatorRow& row = rows_.back();
        switch (row_key_) {
          case RowKey::kValue:
            if (kind != Value::kString) return false;
            row.value = std::move(*text_);
            break;
          case RowKey::kType:
          case RowKey::kStatus:
            if (kind != Value::kString) return false;
            (row_key_ == RowKey::kType ? row.type : row.status) =
                std::move(*text_);
            break;
          case RowKey::kId:
            row.id = CountOf(kind);
            break;
          case RowKey::kOther:
            break;
        }
        state_ = State::kInRow;
        return true;
      }
      case State::kNameValue:
        if (name_key_) {
          if (kind != Value::kString) return false;
          IndicatorRow& row = rows_.back();
          (row_key_ == RowKey::kType ? row.type : row.status) =
              std::move(*text_);
          name_seen_ = true;
        }
        state_ = State::kInName;
        return true;
      default:
        return false;  // a scalar page, or a scalar row
    }
  }

  State state_ = State::kStart;
  int skip_ = 0;
  TopKey top_key_ = TopKey::kOther;
  RowKey row_key_ = RowKey::kOther;
  unsigned row_keys_ = 0;
  bool name_key_ = false;
  bool name_seen_ = false;
  bool seen_data_ = false;
  bool seen_offset_ = false;
  bool seen_limit_ = false;
  bool seen_cursor_ = false;
  std::optional<int64_t> total_;
  std::optional<int64_t> offset_;
  std::optional<int64_t> limit_;
  std::optional<std::string> next_cursor_;
  std::optional<int64_t> count_;
  string_t* text_ = nullptr;
  std::vector<IndicatorRow> rows_;
};

}  // namespace

std::optional<int64_t> JsonCount(const json& value) {
  if (value.is_number_unsigned()) return value.get<int64_t>();
  if (value.is_number_integer()) {
    int64_t v = value.get<int64_t>();
    if (v >= 0) return v;
    return std::nullopt;
  }
  if (value.is_number_float()) return CountFromFloat(value.get<double>());
  if (value.is_string()) return CountFromText(value.get<std::string>());
  return std::nullopt;
}

void AppendJsonErrorText(const json& value, std::string& out) {
  if (out.size() > kMaxDetail) return;
  if (value.is_string()) {
    absl::StrAppend(&out, out.empty() ? "" : "; ", value.get<std::string>());
  } else if (value.is_array() || value.is_object()) {
    for (const json& item : value) AppendJsonErrorText(item, out);
  }
}

std::optional<IndicatorPage> ParsePlainIndicatorPage(
    absl::string_view body, std::optional<int64_t> offset) {
  PlainPageHandler handler;
  if (!json::sax_parse(body.begin(), body.end(), &handler) ||
      !handler.Complete()) {
    return std::nullopt;
  }
  if (offset.has_value() && handler.offset().has_value() &&
      handler.offset() != offset) {
    return std::nullopt;
  }
  IndicatorPage page;
  page.total = *handler.total();
  page.rows = std::move(handler.rows());
  page.next_cursor = std::move(handler.next_cursor());
  page.limit = handler.limit();
  return page;
}

absl::StatusOr<IndicatorPage> ParseIndicatorPageTree(
    absl::string_view body, std::optional<int64_t> offset,
    absl::string_view context, absl::string_view where, int http_status) {
  const json root = json::parse(body.begin(), body.end(), nullptr,
                                /*allow_exceptions=*/false);
  if (root.is_discarded()) {
    return absl::DataLossError(absl::StrCat(context, ": malformed JSON from ",
                                            where, " (", body.size(),
                                            " bytes)"));
  }
  if (!root.is_object()) {
    return absl::DataLossError(absl::StrCat(context, ": response from ", where,
                                            " is not a JSON object"));
  }
  if (auto errors = root.find("errors"); errors != root.end()) {
    std::string text;
    AppendJsonErrorText(*errors, text);
    return absl::DataLossError(
        absl::StrCat(context, ": ", where, " answered HTTP ", http_status,
                     " with errors: ", text.substr(0, kMaxDetail)));
  }
  auto data = root.find("data");
  if (data == root.end() || !data->is_array()) {
    return absl::DataLossError(absl::StrCat(context, ": response from ", where,
                                            " has no \"data\" array"));
  }
  auto total_field = root.find("total");
  std::optional<int64_t> total =
      total_field == root.end() ? std::nullopt : JsonCount(*total_field);
  if (!total.has_value()) {
    return absl::DataLossError(absl::StrCat(
        context, ": response from ", where,
        " has no \"total\" count; cannot tell when the list ends"));
  }
  if (auto echoed = root.find("offset");
      offset.has_value() && echoed != root.end() && !echoed->is_null()) {
    std::optional<int64_t> at = JsonCount(*echoed);
    if (!at.has_value() || *at != *offset) {
      return absl::DataLossError(
          absl::StrCat(context, ": ", where, " answered for offset ",
                       echoed->dump(), "; the server ignores paging"));
    }
  }
  IndicatorPage page;
  page.total = *total;
  if (auto cursor = root.find("nextCursorMark"); cursor != root.end()) {
    if (cursor->is_string()) {
      page.next_cursor = cursor->get<std::string>();
    } else if (!cursor->is_null()) {
      return absl::DataLossError(
          absl::StrCat(context, ": response from ", where,
                       " has a \"nextCursorMark\" that is not a string"));
    }
  }
  if (auto limit = root.find("limit"); limit != root.end()) {
    page.limit = JsonCount(*limit);
  }
  page.rows.reserve(data->size());
  int64_t index = 0;
  for (const json& item : *data) {
    auto which = [&] {
      return absl::StrCat("indicator #", index, " of ", where);
    };
    if (!item.is_object()) {
      return absl::DataLossError(
          absl::StrCat(context, ": ", which(), " is not a JSON object"));
    }
    auto value = item.find("value");
    if (value == item.end() || !value->is_string()) {
      return absl::DataLossError(
          absl::StrCat(context, ": ", which(), " has no string \"value\""));
    }
    std::optional<std::string> type = NameOf(item, "type");
    std::optional<int64_t> type_id;
    if (!type.has_value()) {
      type_id = IdOf(item, "type");
      if (!type_id.has_value()) {
        return absl::DataLossError(
            absl::StrCat(context, ": ", which(),
                         " has no \"type\" (a name, an object with a "
                         "\"name\", or a \"type_id\")"));
      }
    }
    std::optional<std::string> status = NameOf(item, "status");
    std::optional<int64_t> status_id;
    if (!status.has_value()) {
      status_id = IdOf(item, "status");
      if (!status_id.has_value()) {
        // Without a status we cannot tell a whitelisted address: refuse.
        return absl::DataLossError(
            absl::StrCat(context, ": ", which(),
                         " has no \"status\" (a name, an object with a "
                         "\"name\", or a \"status_id\")"));
      }
    }
    IndicatorRow& row = page.rows.emplace_back();
    row.value = value->get<std::string>();
    row.type = type.value_or("");
    row.status = status.value_or("");
    row.unnamed_type_id = type_id;
    row.unnamed_status_id = status_id;
    if (auto id = item.find("id"); id != item.end()) row.id = JsonCount(*id);
    ++index;
  }
  return page;
}

absl::StatusOr<IndicatorPage> ParseIndicatorPage(absl::string_view body,
                                                 std::optional<int64_t> offset,
                                                 absl::string_view context,
                                                 absl::string_view where,
                                                 int http_status) {
  if (std::optional<IndicatorPage> page =
          ParsePlainIndicatorPage(body, offset)) {
    return *std::move(page);
  }
  return ParseIndicatorPageTree(body, offset, context, where, http_status);
}

}  // namespace tqs1::threatq
