// An emulator of SentinelOne's management API, as far as tqs1 uses it (the
// /sites lookup and firewall control), on the shared harness: a real HTTP(S)
// server on 127.0.0.1 with in-memory state that enforces what the real
// console enforces (spec/sentinelone-api.md): the ApiToken header, list
// filters and paging limits, cursor paging, 5000 values per rule, 200
// character names, unique names within a scope, 18-digit string ids, new
// rules on top, inherited account/global rules visible to site queries
// (and site rules to the queries of the site's groups). Also served:
// GET /groups?siteIds= (EmulatedGroup), GET
// /firewall-control/configuration?siteIds= (per site, see
// EmulatedFirewallConfig), POST /users/api-token-details, GET /system/info
// and GET /user. Behaviours of real consoles that break naive clients
// (several accounts, IPv6 refusal, 429 without Retry-After, odd foreign
// rules) are opt-in: ConsoleModes, ThrottleNext(),
// AddDefaultSitesInTwoAccounts(), AddOddForeignRules().
// Not test-only: `tqs1 demo` starts it in-process.
//
//   EmulatorOptions options;
//   options.api_token = "demo-token";
//   ASSIGN_OR_RETURN(std::unique_ptr<SentinelOneEmulator> s1,
//                    SentinelOneEmulator::Start(options));
//   s1->AddSite({"1758952600032266153", "HQ", "1286405255240245908", "Acme"});
//   s1->AddRule(RULE_SCOPE_ACCOUNT, "1286405255240245908", account_rule);
//   // point a SentinelOneClient at s1->base_url() ...
//   s1->server().InjectFault(fault);          // harness faults
//   EXPECT_EQ(s1->Events().size(), 3);        // every write, before/after
//
// Choices where the real service is UNCERTAIN (spec §7) are made the way the
// client expects and are marked "UNCERTAIN" in the .cc.
#ifndef TQS1_EMULATORS_SENTINELONE_EMULATOR_H_
#define TQS1_EMULATORS_SENTINELONE_EMULATOR_H_

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"
#include "emulators/emulator_server.h"
#include "nlohmann/json.hpp"
#include "proto/state.pb.h"

namespace tqs1::sentinelone {

// Behaviours of a real console (spec/fidelity-audit.md) that the emulator
// shows only when asked: every one is off by default. Set at Start()
// (EmulatorOptions::modes) or at any time (SetModes()).
struct ConsoleModes {
  // Creates and updates whose remoteHosts values hold an IPv6 address or
  // prefix (a value with ':') are refused: HTTP 400, code 4000010
  // "Validation Error", the detail naming the value. The audit's UNCERTAIN
  // #3: nothing public says the console takes IPv6 there.
  bool refuse_ipv6 = false;
  // Every k-th write (POST, PUT or DELETE under /firewall-control) answers
  // HTTP 429 with a JSON error envelope and no Retry-After header, and has
  // no effect; 0: never. See also ThrottleNext().
  int throttle_every_kth_write = 0;
  // What POST /users/api-token-details answers: expiresAt = now + this
  // (negative: already expired; InfiniteDuration: null, a token that never
  // expires); createdAt 180 days before expiresAt. Always served.
  absl::Duration token_expires_in = absl::Hours(24 * 180);
};

// A site's Firewall Control configuration, as GET
// /firewall-control/configuration?siteIds= answers it. The default is what
// tqs1 needs: enabled, its own policy.
struct EmulatedFirewallConfig {
  bool enabled = true;
  // "inheritedFrom": empty is null (the site has its own policy), else e.g.
  // "Global" or "Account".
  std::string inherited_from;
  bool inherits = false;
  bool inherit_all_firewall_rules = false;
};

struct EmulatorOptions {
  // The token the emulator accepts ("Authorization: ApiToken <token>").
  // Required.
  std::string api_token;
  // HTTPS and keep-alive settings of the harness.
  emulator::ServerOptions server;
  // Opt-in behaviours; all off by default.
  ConsoleModes modes;
  // Seeds, at Start(), a "Default site" in each of two accounts
  // (AddDefaultSitesInTwoAccounts()).
  bool default_sites_in_two_accounts = false;
  // What GET /system/info answers as "version".
  std::string console_version = "23.4.2.14";
  // Events() keep each rule before and after its change; false: their kind
  // and rule id only (a benchmark of a console of millions of addresses
  // counts writes and need not hold a copy of each rule it changed).
  bool keep_write_contents = true;
};

// A site of the emulated console.
struct EmulatedSite {
  std::string id;
  std::string name;
  std::string account_id;
  std::string account_name;
  // "active", "expired" or "deleted".
  std::string state = "active";
  // "isDefault": the account's default site (every account has one, named
  // "Default site" unless renamed).
  bool is_default = false;
  // "sku": the licence ("Core", "Control", "Complete"; Firewall Control
  // needs Control or better).
  std::string sku = "Complete";
  EmulatedFirewallConfig firewall = {};
};

// A group of a site (GET /groups): its rules (scope "group") come before
// the site's in the console's evaluation.
struct EmulatedGroup {
  std::string id;
  std::string name;
  std::string site_id;
  // "static", "dynamic" or "pinned".
  std::string type = "static";
};

// One change of a rule, through the API or a test hook, in order.
struct WriteEvent {
  int64_t seq = 0;
  // "create", "update", "delete" (API) or "hook_add", "hook_modify",
  // "hook_delete" (test hooks).
  std::string kind;
  std::string rule_id;
  // The rule before and after the change as stored (JSON object), absent
  // for a create / a delete, and always without
  // EmulatorOptions::keep_write_contents.
  std::optional<nlohmann::json> before;
  std::optional<nlohmann::json> after;
};

// Thread-safe.
class SentinelOneEmulator {
 public:
  // Starts the server. kInvalidArgument without an api_token; the harness's
  // errors otherwise.
  static absl::StatusOr<std::unique_ptr<SentinelOneEmulator>> Start(
      EmulatorOptions options);

  ~SentinelOneEmulator();
  SentinelOneEmulator(const SentinelOneEmulator&) = delete;
  SentinelOneEmulator& operator=(const SentinelOneEmulator&) = delete;

  // The console URL to give the client, e.g. "http://127.0.0.1:41234"; the
  // API lives under base_url() + "/web/api/v2.1".
  std::string base_url() const;

  // The harness: request log and fault injection.
  emulator::EmulatorServer& server() { return *server_; }

  // Adds or replaces a site.
  void AddSite(EmulatedSite site);
  // Adds or replaces a group (its site need not exist: a test may want a
  // group the console lists oddly).
  void AddGroup(EmulatedGroup group);

  // The opt-in behaviours (ConsoleModes), replaced as a whole.
  void SetModes(ConsoleModes modes);
  ConsoleModes modes() const;

  // The next `n` requests (any endpoint, before authentication, as a front
  // end would) answer HTTP 429 with a JSON error envelope and no
  // Retry-After header; they have no effect.
  void ThrottleNext(int n);

  // Sets site `site_id`'s Firewall Control configuration. kNotFound if
  // there is no such site.
  absl::Status SetFirewallConfig(absl::string_view site_id,
                                 EmulatedFirewallConfig config);

  // The multi-account fixture: an active "Default site" (isDefault) in
  // account kFirstAccountId ("Acme Corp") and another in kSecondAccountId
  // ("Globex MSSP client"), plus an expired "default site" of the second
  // account. Returns the three sites added.
  static constexpr char kFirstAccountId[] = "1286405255240245908";
  static constexpr char kSecondAccountId[] = "1286405255240245999";
  std::vector<EmulatedSite> AddDefaultSitesInTwoAccounts();

  // Seeds site `site_id` (and its account) with rules someone else made, in
  // shapes the real console sends (spec/fidelity-audit.md §4): a values
  // array holding null, a remoteHosts entry {} and one without a type,
  // osTypes null, remoteHosts null, editable false, ruleCategory
  // "network_quarantine", deprecated singular fields only (osType,
  // remoteHost), "any"/"fqdn"/"range" entries, and an account rule and a
  // global rule visible to the site. None carries tqs1's marker. Returns
  // their ids, in the order above. kNotFound if there is no such site.
  absl::StatusOr<std::vector<std::string>> AddOddForeignRules(
      absl::string_view site_id);

  // Test hooks: change the state directly, bypassing the API's validation
  // (so a legacy or hand-made rule may break today's rules). Each is logged
  // as a WriteEvent.
  //
  // Adds `rule` (its id is ignored unless set) on top of the scope `scope`
  // (SITE, GROUP, ACCOUNT or GLOBAL; `scope_id` empty for GLOBAL). Returns
  // its id.
  std::string AddRule(tqs1::v1::RuleScope scope, absl::string_view scope_id,
                      const tqs1::v1::Rule& rule);
  // Adds a raw rule object (e.g. with deprecated fields only); "id",
  // "scope" and "scopeId" are filled in. Returns its id.
  std::string AddRuleJson(tqs1::v1::RuleScope scope, absl::string_view scope_id,
                          nlohmann::json rule);
  // Edits the stored object of rule `id` in place. kNotFound if absent.
  absl::Status ModifyRule(absl::string_view id,
                          const std::function<void(nlohmann::json&)>& edit);
  // Removes rule `id`. kNotFound if absent.
  absl::Status RemoveRule(absl::string_view id);

  // The stored rule objects of one scope, top first.
  std::vector<nlohmann::json> RulesJson(tqs1::v1::RuleScope scope,
                                        absl::string_view scope_id) const;
  // The same, read through the wire mapping (rules that do not parse are
  // left out).
  std::vector<tqs1::v1::Rule> Rules(tqs1::v1::RuleScope scope,
                                    absl::string_view scope_id) const;
  // Every write so far, in order (since the last ClearEvents()).
  std::vector<WriteEvent> Events() const;
  // Forgets the writes recorded so far; sequence numbers go on counting.
  // For long benchmarks: the log keeps each write's before and after copy
  // of the rule (at 1M addresses, ~250 MB per apply of 0.1% churn).
  void ClearEvents();

  // Serves one request (what the harness calls). Public so tests of the
  // emulator's rules need no sockets.
  emulator::Response Handle(const emulator::Request& request);

 private:
  struct StoredRule {
    explicit StoredRule(nlohmann::json rule) : object(std::move(rule)) {
      Index();
    }
    // Takes `text` and the members below from `object` again: after every
    // change of it.
    void Index();

    nlohmann::json object;  // the rule as the list endpoint returns it
    std::string text;       // `object` as JSON text, what lists serve
    // Its members the scans of every write compare (FindRule(),
    // NameTaken()), "" (scopeId: null) when missing or not strings.
    std::string id, name, scope;
    nlohmann::json scope_id;
  };

  explicit SentinelOneEmulator(EmulatorOptions options);

  // `body` is the request's body parsed (before the lock is taken):
  // discarded when it is not JSON, null when it is empty.
  emulator::Response HandleLocked(const emulator::Request& request,
                                  const nlohmann::json& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  emulator::Response ListSites(const emulator::Request& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  emulator::Response ListGroups(const emulator::Request& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  emulator::Response ListRules(const emulator::Request& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  emulator::Response CreateRule(const nlohmann::json& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  emulator::Response UpdateRule(const nlohmann::json& body,
                                absl::string_view id)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  emulator::Response DeleteRules(const nlohmann::json& body)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  emulator::Response FirewallConfiguration(const emulator::Request& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  emulator::Response TokenDetails(const emulator::Request& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // The 400 refusing an IPv6 value of `data` under refuse_ipv6, if any.
  std::optional<emulator::Response> RefuseIpv6(const nlohmann::json& data)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // A 429 answer when a throttle applies to `request`, counting it.
  std::optional<emulator::Response> Throttle(const emulator::Request& request)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  // Index of rule `id` in rules_, or -1.
  int FindRule(absl::string_view id) const ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Whether another rule of the same scope is named `name`.
  bool NameTaken(absl::string_view scope, const nlohmann::json& scope_id,
                 absl::string_view name, absl::string_view except_id) const
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  // Copies `before` and `after` (null: none) when the options keep them.
  void Record(absl::string_view kind, absl::string_view id,
              const nlohmann::json* before, const nlohmann::json* after)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string InsertOnTop(tqs1::v1::RuleScope scope, absl::string_view scope_id,
                          nlohmann::json rule)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  const EmulatorOptions options_;
  std::unique_ptr<emulator::EmulatorServer> server_;

  mutable absl::Mutex mu_;
  std::map<std::string, EmulatedSite> sites_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, EmulatedGroup> groups_ ABSL_GUARDED_BY(mu_);
  // All rules, top first; a scope's rules keep their relative order.
  std::vector<StoredRule> rules_ ABSL_GUARDED_BY(mu_);
  std::vector<WriteEvent> events_ ABSL_GUARDED_BY(mu_);
  int64_t events_cleared_ ABSL_GUARDED_BY(mu_) = 0;  // writes forgotten
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  ConsoleModes modes_ ABSL_GUARDED_BY(mu_);
  int throttle_next_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t writes_seen_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tqs1::sentinelone

#endif  // TQS1_EMULATORS_SENTINELONE_EMULATOR_H_
