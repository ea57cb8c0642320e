// One answer of ThreatQ's POST /api/indicators/query (spec/threatq-api.md
// 2.3), parsed into the rows ThreatQClient keeps:
//
//   {"total": 2345, "limit": 1000, "offset": 0,
//    "data": [{"id": 7, "value": "203.0.113.7", "type": "IP Address",
//              "status": "Active"}, ...]}
//
// `type` and `status` come flat (a name) or nested ({"name": ...}); a row
// that gives only ids ("type_id": 15, or "type": {"id": 15}) keeps the id
// for the client to resolve by name (GET /api/indicator/types, statuses).
// A server that offers cursor paging adds "nextCursorMark" (spec 2.4).
//
//   ASSIGN_OR_RETURN(IndicatorPage page,
//                    ParseIndicatorPage(response.body, offset, context,
//                    where));
//   for (const IndicatorRow& row : page.rows) ...
//
// Reading a 1M-indicator collection parses 1,000 such pages, so
// ParseIndicatorPage first tries a streaming parse that builds no JSON tree
// (ParsePlainIndicatorPage). Anything that streaming parse does not accept
// whole, including every malformed page, goes through the tree parse
// (ParseIndicatorPageTree), which words the precise error. Both give the
// same page for every input the streaming parse accepts (checked by
// indicator_page_test and by the threatq_page fuzzer).
#ifndef TQS1_PROVIDERS_THREATQ_INDICATOR_PAGE_H_
#define TQS1_PROVIDERS_THREATQ_INDICATOR_PAGE_H_

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "nlohmann/json.hpp"

namespace tqs1::threatq {

struct IndicatorRow {
  std::string value;
  std::string type;    // the type's name, e.g. "IP Address"
  std::string status;  // the status's name, e.g. "Active"
  // The indicator's id when it is a count (a number or a numeric string);
  // used to notice a row that comes twice while a collection is read.
  std::optional<int64_t> id;
  // Set only when the row named no type (status) but gave its id, as
  // "type_id" or as "type": {"id": ...}: then `type` (`status`) is empty
  // and the id is the type's (status's) id on this instance.
  std::optional<int64_t> unnamed_type_id;
  std::optional<int64_t> unnamed_status_id;

  bool operator==(const IndicatorRow& other) const {
    return value == other.value && type == other.type &&
           status == other.status && id == other.id &&
           unnamed_type_id == other.unnamed_type_id &&
           unnamed_status_id == other.unnamed_status_id;
  }
};

struct IndicatorPage {
  int64_t total = 0;  // the collection's size, as this page reports it
  std::vector<IndicatorRow> rows;
  // "nextCursorMark" as sent (a string; null counts as absent).
  std::optional<std::string> next_cursor;
  // The echoed "limit", when it is a count.
  std::optional<int64_t> limit;

  bool operator==(const IndicatorPage& other) const {
    return total == other.total && rows == other.rows &&
           next_cursor == other.next_cursor && limit == other.limit;
  }
};

// A non-negative integer from a JSON number (a float is truncated) or a
// numeric string; nullopt for anything else.
std::optional<int64_t> JsonCount(const nlohmann::json& value);

// Appends the strings found anywhere in `value` (an "errors" member, say) to
// `out`, "; "-separated, until `out` holds about 200 characters.
void AppendJsonErrorText(const nlohmann::json& value, std::string& out);

// The page in `body`, asked for at `offset` (nullopt: asked by cursor, when
// any echoed "offset" is ignored). Errors (all kDataLoss), worded as
// "<context>: ... <where> ...":
//   malformed JSON; not an object; an "errors" member (the vendor SDK treats
//   it as a failure even on HTTP 2xx; `http_status` is quoted); no "data"
//   array; no "total" count; an echoed "offset" (null counts as absent)
//   other than `offset`; a "nextCursorMark" that is neither a string nor
//   null; a row that is not an object or lacks a string "value", or a
//   "type" or "status" given by name or id.
absl::StatusOr<IndicatorPage> ParseIndicatorPage(absl::string_view body,
                                                 std::optional<int64_t> offset,
                                                 absl::string_view context,
                                                 absl::string_view where,
                                                 int http_status = 200);

// The streaming parse alone: the page when `body` is a page that
// ParseIndicatorPage accepts and that has no duplicate member names among
// those it reads; nullopt for anything else (the caller then uses the tree
// parse for the error).
std::optional<IndicatorPage> ParsePlainIndicatorPage(
    absl::string_view body, std::optional<int64_t> offset);

// The tree parse alone: ParseIndicatorPage without the streaming parse.
absl::StatusOr<IndicatorPage> ParseIndicatorPageTree(
    absl::string_view body, std::optional<int64_t> offset,
    absl::string_view context, absl::string_view where, int http_status = 200);

}  // namespace tqs1::threatq

#endif  // TQS1_PROVIDERS_THREATQ_INDICATOR_PAGE_H_
