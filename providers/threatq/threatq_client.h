// IndicatorSource over ThreatQ's REST API (spec/threatq-api.md): gets an
// OAuth token, finds the data collection by exact name, and reads its
// indicators page by page to the end, sorted by id: by cursor when the
// server offers it (cursorMark, spec 2.4), else by offset. A collection that
// changes underneath is read again from the start, a bounded number of
// times; a read never ends with a shorter list.
//
//   ThreatQClientOptions options;
//   options.base_url = "https://threatq.example.net";
//   options.grant = ThreatQClientOptions::Grant::kPassword;
//   options.email = "svc-tq@example.org";
//   options.password = password;        // resolved by the CLI
//   options.client_id = client_id;
//   options.logger = &logger;
//   ASSIGN_OR_RETURN(std::unique_ptr<ThreatQClient> client,
//                    ThreatQClient::Create(&transport, options));
//   ASSIGN_OR_RETURN(CollectionRead read,
//                    client->ReadCollection("Block - C2 IPs"));
//
// The calls `tqs1 check` makes are public too: Login(), ListIndicatorTypes(),
// ListIndicatorStatuses(), ListCollections(), ProbeQuery().
//
// Retries of 429/5xx/network errors belong to the transport (wire a
// RetryingTransport); the client itself only re-authenticates once on 401.
// Secrets (password, client secret, tokens) never appear in logs or error
// messages.
#ifndef TQS1_PROVIDERS_THREATQ_THREATQ_CLIENT_H_
#define TQS1_PROVIDERS_THREATQ_THREATQ_CLIENT_H_

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/base/thread_annotations.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "base/clock.h"
#include "base/logger.h"
#include "nlohmann/json.hpp"
#include "providers/http/http_transport.h"
#include "providers/threatq/collection_read_builder.h"
#include "providers/threatq/indicator_page.h"
#include "providers/threatq/indicator_source.h"

namespace tqs1::threatq {

struct ThreatQClientOptions {
  // "https://host[:port]", with or without a trailing "/" or "/api".
  std::string base_url;

  enum class Grant {
    // A user account: email, password and the user's API client id.
    kPassword,
    // A private OAuth client: client_id and client_secret (HTTP Basic).
    kClientCredentials,
  };
  Grant grant = Grant::kPassword;
  // Plain values (the CLI resolves env/file references). Secrets.
  std::string email;
  std::string password;
  std::string client_id;
  std::string client_secret;
  // Where the grant's secret (the password, or the client secret) came
  // from, e.g. "$TQS1_THREATQ_PASSWORD" or "file /etc/tq_labs/tq.pw" (not a
  // secret). When set, a token request refused with HTTP 400, 401 or 403
  // says it: "the ThreatQ password from $TQS1_THREATQ_PASSWORD was rejected
  // (HTTP 401): ThreatQ refused the credentials: ...".
  std::string credential_origin;

  // Indicators asked per page; clamped to [1, 1000]. The server may send
  // fewer; the offset advances by the rows actually received.
  int page_size = 1000;
  // A read that needs more pages than this fails (a server that never ends).
  int max_pages = 20000;
  // How many times a collection is read from the start when it changes
  // underneath (a shrinking total, an id seen twice, an empty page before
  // the end) before the read fails with kUnavailable.
  int max_read_attempts = 3;
  // ReadCollection calls that page at once; more wait for one to end
  // (0: no bound). Each read has at most two pages in flight, so a bound of
  // the transport's in-flight requests lets the first reads asked end
  // first instead of every read sharing the slots page by page and all
  // ending last: a run of several collections starts planning sooner.
  int max_reads_at_once = 0;
  // Only indicators of these statuses are blocked (case-insensitive;
  // "Whitelisted" never is); the others are counted per status.
  std::vector<std::string> block_statuses = DefaultBlockStatuses();
  // A token is renewed this long before its expires_in runs out.
  absl::Duration token_margin = absl::Seconds(60);

  // Not owned; null: RealClock(). Must outlive the client.
  tqs1::Clock* clock = nullptr;
  // Not owned; may be null. Must outlive the client.
  log::Logger* logger = nullptr;
};

// One indicator type or status of the instance (ids differ between
// instances; names are what tqs1 goes by).
struct NamedId {
  int64_t id = 0;
  std::string name;

  bool operator==(const NamedId& other) const {
    return id == other.id && name == other.name;
  }
};

// One saved search (data collection) as GET /api/search/query lists it.
struct CollectionInfo {
  std::string id;    // the item's "id" as text ("12"); "" when absent
  std::string name;  // exact, as the server sends it
  std::string hash;  // the item's "hash"; "" when absent

  bool operator==(const CollectionInfo& other) const {
    return id == other.id && name == other.name && hash == other.hash;
  }
};

struct CollectionList {
  std::vector<CollectionInfo> collections;  // the named items, in order
  int unnamed = 0;  // items skipped for want of a string "name"
};

// What the last token answer said; holds no secret.
struct TokenInfo {
  std::string grant;       // "password" or "client_credentials"
  std::string token_type;  // as sent ("bearer"); "" when absent
  // "expires_in" as received, as JSON text ("3600", "\"3600\"", "null");
  // "" when absent.
  std::string expires_in;
  // Whether expires_in was a usable number of seconds; when not, the token
  // is taken to live 30 minutes (and re-login on 401 covers the rest).
  bool expires_in_known = false;
  absl::Duration lifetime;     // the lifetime assumed
  bool refresh_token = false;  // whether a "refresh_token" came
};

// What the first page of a collection's real query showed (for `tqs1
// check`): asked with `sort=id&cursorMark=*` and the configured page size.
struct QueryProbe {
  std::vector<std::string> keys;  // the answer's top-level keys, in order
  int64_t total = 0;
  std::optional<int64_t> echoed_limit;  // "limit", when a count
  bool cursor_offered = false;          // whether "nextCursorMark" came
  int rows = 0;
  int flat_rows = 0;     // type and status given as names
  int nested_rows = 0;   // type or status given as {"name": ...}
  int id_only_rows = 0;  // type or status given by id only
  // Counts on this page by type and by status name (ids named through the
  // instance's lists).
  std::map<std::string, int> by_type;
  std::map<std::string, int> by_status;
};

// Thread-safe when its transport is (the syncs of a parallel run that use
// one instance share its client).
class ThreatQClient : public IndicatorSource {
 public:
  // `transport` is not owned and must outlive the client. kInvalidArgument
  // for a malformed base URL, missing credentials for the grant, or a
  // page_size/max_pages below 1.
  static absl::StatusOr<std::unique_ptr<ThreatQClient>> Create(
      http::HttpTransport* transport, ThreatQClientOptions options);

  // See IndicatorSource. Beyond its codes: kFailedPrecondition also when the
  // token request is redirected (usually a wrong base URL) or the
  // collection's saved search is not on indicators; kUnavailable also when
  // the collection kept changing through max_read_attempts reads;
  // kResourceExhausted when a response is larger than the transport allows;
  // kDeadlineExceeded from the transport. Messages name the endpoint and,
  // for indicator pages, the offset.
  //
  // Paging (spec 2.3, 2.4): every page asks `sort=id`. The first asks
  // `cursorMark=*`; when its answer carries "nextCursorMark" the read
  // follows the cursor (decoded once if it came percent-encoded, encoded
  // once for the query string) until an empty "data" or an unchanged
  // cursor. Otherwise (or when the server refuses cursorMark with HTTP 400)
  // the first answer's rows are the page at offset 0 and the read goes on
  // by offset, by rows received, until the latest "total": a total that
  // grows is read on to the new total. A total that shrinks, an indicator
  // id that comes twice, an empty page before the end, or a cursor that
  // ends early means the collection changed: it is read again from the
  // start, at most max_read_attempts times in all, each restart logged with
  // its totals; then kUnavailable "kept changing". UNCERTAIN: offset paging
  // cannot notice one already-read indicator leaving while another joins
  // between two pages (the total stays, one row shifts past the offset);
  // cursor paging does not have that gap.
  //
  // Rows that give only a type or status id (no name) are named through
  // GET /api/indicator/types and /statuses, asked once per read.
  absl::StatusOr<CollectionRead> ReadCollection(
      absl::string_view collection) override;

  // Gets a new token now and says what the answer held. Errors as for the
  // token in ReadCollection.
  absl::StatusOr<TokenInfo> Login();
  // The answer of the last successful token request, if any.
  std::optional<TokenInfo> LastTokenInfo() const;

  // GET /api/indicator/types and /api/indicator/statuses, every page (an
  // explicit limit of 1000, then by offset until a short page or "total"):
  // the items with a numeric "id" and a string "name", in server order.
  // kDataLoss when an answer is not a {"data": [...]} object; the codes of
  // ReadCollection for HTTP errors.
  absl::StatusOr<std::vector<NamedId>> ListIndicatorTypes();
  absl::StatusOr<std::vector<NamedId>> ListIndicatorStatuses();

  // GET /api/search/query, every page as above: the named saved searches
  // and the count of unnamed ones (skipped, logged). Errors as above.
  absl::StatusOr<CollectionList> ListCollections();

  // Finds `collection` as ReadCollection does and reads the first page of
  // its query only. Errors as ReadCollection's for that page.
  absl::StatusOr<QueryProbe> ProbeQuery(absl::string_view collection);

 private:
  struct ReadCache;  // per read: the paging mode learned, id -> name lists
  struct Pass;       // one read from the start
  struct Listing;    // every item of a paged GET list

  // GET `path` with limit/offset until a short page, "total", an empty
  // page or a page of ids already seen.
  absl::StatusOr<Listing> ListAll(const std::string& path,
                                  absl::string_view context);
  absl::StatusOr<std::vector<NamedId>> ListNamedIds(const std::string& path,
                                                    absl::string_view context);
  // The saved searches with a string "name"; `unnamed` counts the others.
  absl::StatusOr<std::vector<nlohmann::json>> NamedSearches(int& unnamed);
  absl::StatusOr<Pass> ReadPass(absl::string_view collection,
                                const std::string& body, ReadCache& cache);
  // Fills in the type and status names of a row that gave only ids.
  absl::Status NameById(IndicatorRow& row, ReadCache& cache,
                        absl::string_view context, absl::string_view which);

  ThreatQClient(http::HttpTransport* transport, ThreatQClientOptions options,
                std::string api_base);

  absl::StatusOr<std::string> Token();
  absl::StatusOr<std::string> FetchToken();
  // Sends an authenticated request; re-authenticates once on 401. Returns
  // the response, which is 2xx.
  absl::StatusOr<http::HttpResponse> Call(const std::string& method,
                                          const std::string& path_and_query,
                                          const std::string& body,
                                          absl::string_view context);
  // The body of the indicator query for `collection`: its saved search's
  // api_query plus the fields to return, as JSON text.
  absl::StatusOr<std::string> QueryBodyFor(absl::string_view collection);
  absl::StatusOr<CollectionRead> Read(absl::string_view collection);
  void Log(log::LogLevel level, absl::string_view message) const;
  // `text`, or `status` (code and payloads kept), without the password, the
  // client id and secret, or the current token (base/redact.h).
  std::string Redact(absl::string_view text) const;
  absl::Status Redact(const absl::Status& status) const;
  // "the ThreatQ password from $X was rejected (HTTP 401): " for a token
  // request refused with `http_status`, or "" without a credential_origin.
  std::string RejectedCredential(int http_status) const;
  absl::Status Annotate(const absl::Status& status,
                        absl::string_view context) const;

  http::HttpTransport* const transport_;
  const ThreatQClientOptions options_;
  const std::string api_base_;  // "https://host/api"
  tqs1::Clock& clock_;
  // Guards the token: the next indicator page is fetched on another thread
  // while the current one is parsed (and logged, which redacts the token).
  mutable absl::Mutex token_mu_;
  std::optional<std::string> token_ ABSL_GUARDED_BY(token_mu_);
  absl::Time token_expiry_ ABSL_GUARDED_BY(token_mu_) = absl::InfinitePast();
  std::optional<TokenInfo> token_info_ ABSL_GUARDED_BY(token_mu_);
  // The reads paging now (max_reads_at_once).
  absl::Mutex reads_mu_;
  int reads_ ABSL_GUARDED_BY(reads_mu_) = 0;
};

}  // namespace tqs1::threatq

#endif  // TQS1_PROVIDERS_THREATQ_THREATQ_CLIENT_H_
