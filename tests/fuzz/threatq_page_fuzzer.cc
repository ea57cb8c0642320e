// Fuzzes ThreatQClient's parsing of ThreatQ's answers
// (providers/threatq/threatq_client.h) through its public ReadCollection():
// the first input byte picks which answer is replaced by the rest of the
// input (0: the token, 1: the collection list, other: every indicator
// page); the other answers are well-formed. Whatever the server says, the
// read must end (at most max_pages pages), never crash, never report
// success with more values than indicators read, and never put the
// password or a token in an error message.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "providers/http/http_transport.h"
#include "providers/threatq/indicator_page.h"
#include "providers/threatq/threatq_client.h"
#include "tests/fuzz/fuzz_target.h"
#include "tests/fuzz/scripted_transport.h"

namespace {

constexpr char kPassword[] = "pw-FUZZ-SECRET-1";
constexpr char kToken[] = "tok-FUZZ-SECRET-2";
constexpr char kCollection[] = "C2";
constexpr char kSearch[] =
    R"({"data": [{"id": 1, "name": "C2", "json": "{\"api_query\": )"
    R"({\"criteria\": {}}, \"ui_query\": {\"objects\": )"
    R"({\"current\": \"indicators\"}}}"}], "total": 1})";
constexpr char kPage[] =
    R"({"total": 2, "offset": 0, "data": [)"
    R"({"id": 1, "value": "192.0.2.1", "type": "IP Address", )"
    R"("status": "Active"}, {"id": 2, "value": "2001:db8::1", )"
    R"("type": {"name": "IPv6 Address"}, "status": {"name": "Active"}}]})";

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tqs1::fuzz::Answer;
  using tqs1::fuzz::Check;
  if (size == 0) return 0;
  const uint8_t which = data[0] % 3;
  const std::string fuzzed(tqs1::fuzz::AsText(data + 1, size - 1));

  if (which == 2) {
    // The streaming page parse never accepts what the tree parse refuses,
    // and both read the same page.
    std::optional<tqs1::threatq::IndicatorPage> plain =
        tqs1::threatq::ParsePlainIndicatorPage(fuzzed, 0);
    if (plain.has_value()) {
      absl::StatusOr<tqs1::threatq::IndicatorPage> tree =
          tqs1::threatq::ParseIndicatorPageTree(fuzzed, 0, "fuzz", "page");
      Check(tree.ok(), "the tree parse accepts what the streaming one does",
            tree.status().ToString());
      Check(*tree == *plain, "both page parses read the same page");
    }
  }

  tqs1::fuzz::ScriptedTransport transport(
      [&](const tqs1::http::HttpRequest& request)
          -> absl::StatusOr<tqs1::http::HttpResponse> {
        if (absl::StrContains(request.url, "/api/token")) {
          if (which == 0) return Answer(200, fuzzed);
          return Answer(200, absl::StrCat(R"({"access_token": ")", kToken,
                                          R"(", "expires_in": 3600})"));
        }
        if (absl::StrContains(request.url, "/api/search/query")) {
          return Answer(200, which == 1 ? fuzzed : kSearch);
        }
        if (absl::StrContains(request.url, "/api/indicators/query")) {
          return Answer(200, which == 2 ? fuzzed : kPage);
        }
        return Answer(404, R"({"errors": ["not found"]})");
      });
  tqs1::threatq::ThreatQClientOptions options;
  options.base_url = "https://tq.test";
  options.email = "svc@example.net";
  options.password = kPassword;
  options.client_id = "cid";
  options.max_pages = 4;
  options.max_read_attempts = 2;
  absl::StatusOr<std::unique_ptr<tqs1::threatq::ThreatQClient>> client =
      tqs1::threatq::ThreatQClient::Create(&transport, options);
  Check(client.ok(), "the client is created", client.status().ToString());

  absl::StatusOr<tqs1::threatq::CollectionRead> read =
      (*client)->ReadCollection(kCollection);
  // At most max_pages pages of the collection list, of the type and status
  // lists, and of indicators in each read attempt (plus the offset page
  // after a refused cursor request), each request maybe after a token
  // request: a bounded number of requests.
  const int pages = options.max_pages + 2 * options.max_pages +
                    options.max_read_attempts * (options.max_pages + 1);
  Check(transport.requests() <= 2 * pages + 1,
        "a read sends a bounded number of requests");
  if (!read.ok()) {
    const absl::string_view message = read.status().message();
    Check(!absl::StrContains(message, kPassword), "no password in errors");
    Check(!absl::StrContains(message, kToken), "no token in errors");
    Check(!message.empty(), "errors say why");
    return 0;
  }
  Check(read->values.size() <= read->report.indicators_read(),
        "no more values than indicators read");
  return 0;
}
