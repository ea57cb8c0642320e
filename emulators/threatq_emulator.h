// An emulator of the parts of ThreatQ's REST API that tqs1 reads, on the
// shared EmulatorServer harness (real HTTP(S) on loopback, request log,
// faults). In-memory state: users and OAuth clients, issued tokens with
// expiry, and data collections (saved searches) holding indicators. Used by
// tests and by `tqs1 demo`.
//
//   ASSIGN_OR_RETURN(std::unique_ptr<ThreatQEmulator> tq,
//                    ThreatQEmulator::Start({}));
//   tq->AddUser("svc@example.org", "pw", "client-id");
//   tq->AddCollection("Block - C2 IPs",
//                     {{"203.0.113.7", "IP Address", "Active"}});
//   // point a ThreatQClient at tq->base_url()
//   tq->server().InjectFault(...);   // 429, 500, delay, drop, lose
//
// Endpoints (see spec/threatq-api.md):
//   POST /api/token            password grant (grant_type and client_id in
//                              the query or the body; email and password in
//                              a JSON or form body) and client_credentials
//                              (HTTP Basic). 400 invalid_grant for a bad
//                              user or password, 401 invalid_client for a
//                              bad client.
//   GET  /api/search/query     every collection: {"data": [{id, name,
//                              json}], "total": n}; `json` is a JSON string.
//   GET  /api/indicator/types, /api/indicator/statuses
//                              {"total", "limit", "offset", "data": [{id,
//                              name}]} by limit/offset (types also by
//                              name=): the three IP types, the five
//                              default statuses and any other the
//                              collections hold, ids as in nested rows.
//   POST /api/indicators/query?limit=&offset=
//                              pages of the collection named by the body's
//                              api_query; limit clamped to max_page_size;
//                              {"total", "limit", "offset", "data"}. Items
//                              are flat ("type": "IP Address") when the body
//                              lists "fields", nested ({"id", "name"} plus
//                              type_id/status_id) otherwise.
// sort=id gives ids ascending. Real instances' habits (cursor paging, a
// collection that grows while read, an unstable default order, an unnamed
// saved search, a paged search list, odd expires_in) are ThreatQModes.
// Every endpoint but /api/token needs "Authorization: Bearer <token>" with
// the literal word "Bearer" (ThreatQ rejects lower-case "bearer"), else 401.
// Unknown paths: 404.
#ifndef TQS1_EMULATORS_THREATQ_EMULATOR_H_
#define TQS1_EMULATORS_THREATQ_EMULATOR_H_

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emulators/emulator_server.h"
#include "providers/threatq/collection_read_builder.h"

namespace tqs1::threatq {

// How a token answer states "expires_in".
enum class ExpiresInForm {
  kNumber,  // 3600 (the default)
  kString,  // "3600"
  kNull,    // null
  kAbsent,  // no such key
};

// Behaviours of real instances (spec/fidelity-audit.md) that the emulator
// shows only when asked: every one is off by default. Set at Start()
// (ThreatQEmulatorOptions::modes) or at any time (SetModes()).
struct ThreatQModes {
  // Cursor paging (spec 2.4): POST /api/indicators/query with
  // cursorMark=* answers the first page (ids ascending) with
  // "nextCursorMark", an opaque base64 string holding '+', '/' and '='
  // (so it must be percent-encoded); passing it back as cursorMark gives
  // the next page, without "offset". The page after the last has empty
  // data and the same cursor. A cursor that does not decode is HTTP 400.
  // Off: cursorMark is ignored and no nextCursorMark is sent.
  bool cursor_paging = false;
  // Without sort=id, rows come in an order that changes from one request
  // to the next (rotated by the request count), as an unsorted index may
  // serve them: offset paging then skips and repeats rows silently. Off:
  // id order, sort or not.
  bool unstable_default_order = false;
  // A collection that grows while it is read: after every
  // `grow_every_pages`-th page served from a collection, `grow_by` new
  // Active "IP Address" indicators (198.18.0.0/15, ids above all others)
  // are added to it, at most `grow_times` times per collection. 0: never.
  int grow_every_pages = 0;
  int grow_by = 0;
  int grow_times = 1;
  // GET /api/search/query lists, first, a saved search whose name is null
  // (the SDK saves unnamed searches to the same list).
  bool unnamed_saved_search = false;
  // GET /api/search/query pages by limit (clamped to this, echoed) and
  // offset; 0: the whole list whatever is asked, as by default.
  int search_page_size = 0;
  // ... and its answers carry no "total".
  bool search_omit_total = false;
  // The form of "expires_in" in token answers (the token still lives
  // token_lifetime).
  ExpiresInForm expires_in = ExpiresInForm::kNumber;
};

struct ThreatQEmulatorOptions {
  emulator::ServerOptions server;
  // The server's own page size cap, and the page size when none is asked.
  int max_page_size = 1000;
  int default_page_size = 500;
  // expires_in of issued tokens.
  absl::Duration token_lifetime = absl::Hours(1);
  // Opt-in behaviours; all off by default.
  ThreatQModes modes;
};

// Thread-safe.
class ThreatQEmulator {
 public:
  // Errors: as EmulatorServer::Start.
  static absl::StatusOr<std::unique_ptr<ThreatQEmulator>> Start(
      ThreatQEmulatorOptions options);

  // Stops the server before the state its handler uses goes away.
  ~ThreatQEmulator();
  ThreatQEmulator(const ThreatQEmulator&) = delete;
  ThreatQEmulator& operator=(const ThreatQEmulator&) = delete;

  std::string base_url() const { return server_->base_url(); }
  // The harness: faults and the request log.
  emulator::EmulatorServer& server() { return *server_; }

  // A user account for the password grant.
  void AddUser(absl::string_view email, absl::string_view password,
               absl::string_view client_id);
  // A private OAuth client for the client_credentials grant.
  void AddOAuthClient(absl::string_view client_id,
                      absl::string_view client_secret);

  // Adds a data collection (names need not be unique, as on the real
  // server, which does not say) and returns its id.
  int AddCollection(absl::string_view name, std::vector<Indicator> indicators);
  // Replaces the indicators of collection `id`; false when there is none.
  bool SetIndicators(int id, std::vector<Indicator> indicators);
  // Makes the saved search of collection `id` target another object type
  // (e.g. "adversaries").
  bool SetCollectionObjectType(int id, absl::string_view object_type);

  // Expires every token issued so far.
  void ExpireAllTokens();
  // Expires every token right after the next `n` authenticated requests.
  void ExpireTokensAfter(int n);
  // Tokens issued so far.
  int TokensIssued() const;

  // The opt-in behaviours (ThreatQModes), replaced as a whole; the growth
  // counts start again.
  void SetModes(ThreatQModes modes);
  ThreatQModes modes() const;

  // The indicators of collection `id` now (grown ones included); empty
  // when there is none.
  std::vector<Indicator> Indicators(int id) const;

  // Serves one request (what the harness calls). Public so tests of the
  // emulator need no sockets.
  emulator::Response Handle(const emulator::Request& request);

 private:
  struct Collection {
    int id = 0;
    std::string name;
    std::string object_type = "indicators";
    std::vector<Indicator> indicators;
    // Pages served and growth steps done (ThreatQModes::grow_*).
    int pages_served = 0;
    int grown = 0;
  };
  struct User {
    std::string password;
    std::string client_id;
  };

  explicit ThreatQEmulator(ThreatQEmulatorOptions options);
  emulator::Response Token(const emulator::Request& request);
  emulator::Response Search(const emulator::Request& request);
  emulator::Response Query(const emulator::Request& request);
  // GET /api/indicator/types or /api/indicator/statuses.
  emulator::Response NamedIds(const emulator::Request& request, bool types);
  // Adds grown indicators to `c` after a page served, per the modes.
  void GrowAfterPage(Collection& c) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  bool Authorized(const emulator::Request& request);

  const ThreatQEmulatorOptions options_;
  std::unique_ptr<emulator::EmulatorServer> server_;

  mutable absl::Mutex mu_;
  std::map<std::string, User> users_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::string> clients_ ABSL_GUARDED_BY(mu_);
  std::vector<Collection> collections_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, absl::Time> tokens_ ABSL_GUARDED_BY(mu_);
  int tokens_issued_ ABSL_GUARDED_BY(mu_) = 0;
  int expire_after_ ABSL_GUARDED_BY(mu_) = -1;
  int next_collection_id_ ABSL_GUARDED_BY(mu_) = 1;
  ThreatQModes modes_ ABSL_GUARDED_BY(mu_);
  int64_t queries_ ABSL_GUARDED_BY(mu_) = 0;
  int grown_values_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tqs1::threatq

#endif  // TQS1_EMULATORS_THREATQ_EMULATOR_H_
