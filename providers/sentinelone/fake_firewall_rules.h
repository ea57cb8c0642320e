// An in-memory FirewallRules for tests: sites, site rules and inherited
// (account/global) rules, SentinelOne's limits and error codes, a record of
// every call, and explicit fault switches. It keeps the interface's contract
// exactly as SentinelOneClient does against the emulator; the conformance
// suite (firewall_rules_conformance.h) runs against both.
//
//   FakeFirewallRules fake;
//   fake.AddSite("1758952600032266153", "HQ", "1286405255240245908");
//   Rule legacy = ...;                      // a hand-made rule
//   fake.PutRule("1758952600032266153", legacy);
//   fake.FailNext(FakeFirewallRules::Method::kCreateRule,
//                 absl::UnavailableError("console down"));
//   Reconcile(fake, ...);
//   EXPECT_THAT(fake.Requests(), ElementsAre("FindSite HQ", ...));
#ifndef TQS1_PROVIDERS_SENTINELONE_FAKE_FIREWALL_RULES_H_
#define TQS1_PROVIDERS_SENTINELONE_FAKE_FIREWALL_RULES_H_

#include <cstdint>
#include <deque>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "proto/state.pb.h"
#include "providers/sentinelone/firewall_rules.h"

namespace tqs1::sentinelone {

// Thread-safe (more than the interface requires).
class FakeFirewallRules : public FirewallRules {
 public:
  enum class Method {
    kFindSite,
    kReadSite,
    kCreateRule,
    kUpdateRule,
    kDeleteRule
  };

  FakeFirewallRules() = default;

  // Adds an active (or, with `active` false, expired) site in `account_id`.
  void AddSite(absl::string_view id, absl::string_view name,
               absl::string_view account_id = "", bool active = true);

  // Adds group `id`, named `name`, to site `site_id` (which must exist: it
  // aborts otherwise).
  void AddGroup(absl::string_view id, absl::string_view site_id,
                absl::string_view name);

  // Puts `rule` into the state as-is, bypassing validation (a hand-made or
  // legacy rule). Its scope decides where: RULE_SCOPE_SITE (or UNSPECIFIED)
  // puts it on top of `site_id`'s rules; GROUP into the group of its
  // scope_id (a group of the site); ACCOUNT into the site's account;
  // GLOBAL at the top of the global rules. An empty id gets a fresh one.
  // Returns the rule's id. The site must exist (the test is wrong otherwise:
  // it aborts).
  std::string PutRule(absl::string_view site_id, tqs1::v1::Rule rule);

  // What ReadSite reports as the site's Firewall Control configuration
  // (ObservedState.firewall). Until set it is unknown (known false). The
  // site must exist (it aborts otherwise).
  void SetFirewallConfiguration(absl::string_view site_id,
                                tqs1::v1::FirewallConfiguration config);

  // The rules of `site_id`'s own scope, top first.
  std::vector<tqs1::v1::Rule> SiteRules(absl::string_view site_id) const;

  // Every call so far, e.g. "FindSite HQ", "ReadSite 17589...",
  // "ReadSite account 1286...",
  // "CreateRule 17589... Known C2", "UpdateRule 17589... 2254...",
  // "DeleteRule 17589... 2254...".
  std::vector<std::string> Requests() const;

  // Makes the next `times` calls of `method` return `status` without doing
  // anything.
  void FailNext(Method method, absl::Status status, int times = 1);

  // Makes the next call of `method` do its work and then return `status`
  // (a write whose answer was lost even after the client's own re-read).
  void FailNextAfterApplying(Method method, absl::Status status);

  // Successful writes (create, update, delete of an existing rule) so far.
  int64_t WriteCount() const;

  // FirewallRules.
  // An account in the selector matches a site's account id (the fake's
  // accounts have no names).
  absl::StatusOr<std::string> FindSite(const SiteSelector& site) override;
  // An account is known by id only (the fake's accounts have no names).
  absl::StatusOr<std::string> FindAccount(
      absl::string_view name_or_id) override;
  absl::StatusOr<std::string> FindGroup(absl::string_view site_id,
                                        absl::string_view name) override;
  // A group's read holds its own rules, then its site's, its account's and
  // the global ones, as the console evaluates them.
  absl::StatusOr<tqs1::v1::ObservedState> ReadSite(const Scope& scope) override;
  absl::StatusOr<tqs1::v1::Rule> CreateRule(
      const Scope& scope, const tqs1::v1::Rule& rule) override;
  absl::StatusOr<tqs1::v1::Rule> UpdateRule(
      const Scope& scope, const tqs1::v1::Rule& rule) override;
  absl::Status DeleteRule(const Scope& scope,
                          absl::string_view rule_id) override;

 private:
  struct Site {
    std::string name;
    std::string account_id;
    bool active = true;
    std::deque<tqs1::v1::Rule> rules;  // top first
    tqs1::v1::FirewallConfiguration firewall;
  };
  struct Group {
    std::string site_id;
    std::string name;
    std::deque<tqs1::v1::Rule> rules;  // top first
  };
  struct Faults {
    std::deque<absl::Status> before;
    std::deque<absl::Status> after;
  };

  // The injected fault to return before doing `method`'s work, if any.
  absl::Status TakeFaultBefore(Method method)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  absl::Status TakeFaultAfter(Method method) ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  std::string NewId() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);
  static std::string ScopeWords(const Scope& scope);
  // The scope's own rules, or null: a site not added (or, with
  // `active_only`, not active), a group not added, an account no site is
  // of.
  std::deque<tqs1::v1::Rule>* RulesOf(const Scope& scope, bool active_only)
      ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu_);

  mutable absl::Mutex mu_;
  std::map<std::string, Site, std::less<>> sites_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, Group, std::less<>> groups_ ABSL_GUARDED_BY(mu_);
  std::map<std::string, std::deque<tqs1::v1::Rule>, std::less<>> account_rules_
      ABSL_GUARDED_BY(mu_);
  std::deque<tqs1::v1::Rule> global_rules_ ABSL_GUARDED_BY(mu_);
  std::map<Method, Faults> faults_ ABSL_GUARDED_BY(mu_);
  std::vector<std::string> requests_ ABSL_GUARDED_BY(mu_);
  uint64_t next_id_ ABSL_GUARDED_BY(mu_) = 0;
  int64_t writes_ ABSL_GUARDED_BY(mu_) = 0;
};

}  // namespace tqs1::sentinelone

#endif  // TQS1_PROVIDERS_SENTINELONE_FAKE_FIREWALL_RULES_H_
