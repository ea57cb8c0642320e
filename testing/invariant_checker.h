// A FirewallRules decorator for tests: forwards every call to a
// FakeFirewallRules and, after every write (successful or not, since a write
// may be applied and its answer lost), checks on the fake's own state the
// invariants an apply must keep at every instant (reconciler::Violations,
// reconciler/invariants.h):
// - no two rules of the site share a name;
// - no rule tqs1 does not own is touched, and every new rule is tqs1's;
// - no managed rule is written with more entries than the per-rule limit;
// - no wanted address is unblocked: an address of the desired set that a
//   managed rule has blocked at any point since StartRound() stays blocked.
// Each check compares the site with the rules tqs1 does not own as they
// were at StartRound() (or RefreshForeign()) and the managed rules as they
// were at the check before, so a lasting violation is reported again at
// every check.
//
//   FakeFirewallRules fake;  ...
//   InvariantChecker checked(fake, kSiteId, "Known C2", /*max_per_rule=*/20);
//   checked.StartRound(desired_addresses);
//   ApplySync(sync, {}, source, checked, {}, {});
//   EXPECT_THAT(checked.Violations(), IsEmpty());
#ifndef TQS1_TESTING_INVARIANT_CHECKER_H_
#define TQS1_TESTING_INVARIANT_CHECKER_H_

#include <cstdint>
#include <functional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/state.pb.h"
#include "providers/sentinelone/fake_firewall_rules.h"
#include "providers/sentinelone/firewall_rules.h"
#include "reconciler/address.h"
#include "reconciler/invariants.h"

namespace tqs1::sync::testing {

// Thread-compatible.
class InvariantChecker : public sentinelone::FirewallRules {
 public:
  using Method = sentinelone::FakeFirewallRules::Method;

  // Checks the rules of `site_id` in `fake` for the sync of `collection`.
  InvariantChecker(sentinelone::FakeFirewallRules& fake, std::string site_id,
                   std::string collection, int max_per_rule);

  // Starts a new round: `desired` is the canonical address set the site is
  // being converged to. Snapshots the rules tqs1 does not own and the
  // wanted addresses blocked now.
  void StartRound(std::set<std::string> desired);

  // Called before each write is forwarded (e.g. to arm a fault on the fake).
  void set_before_write(std::function<void(Method)> hook) {
    before_write_ = std::move(hook);
  }

  // Takes the site's rules that tqs1 does not own as they are now, after a
  // test changed them on purpose (someone editing the console meanwhile).
  void RefreshForeign();

  // Checks the invariants now (also done after every write).
  void Check();

  // Every violation found so far, in words (at most 100 kept).
  const std::vector<std::string>& Violations() const { return violations_; }
  // How many times the invariants were checked.
  int64_t Checks() const { return checks_; }
  // Writes forwarded, and how many of them returned an error.
  int64_t Writes() const { return writes_; }
  int64_t FailedWrites() const { return failed_writes_; }

  // FirewallRules.
  absl::StatusOr<std::string> FindSite(
      const sentinelone::SiteSelector& site) override;
  absl::StatusOr<std::string> FindAccount(
      absl::string_view name_or_id) override;
  absl::StatusOr<std::string> FindGroup(absl::string_view site_id,
                                        absl::string_view name) override;
  absl::StatusOr<tqs1::v1::ObservedState> ReadSite(
      const sentinelone::Scope& scope) override;
  absl::StatusOr<tqs1::v1::Rule> CreateRule(
      const sentinelone::Scope& scope, const tqs1::v1::Rule& rule) override;
  absl::StatusOr<tqs1::v1::Rule> UpdateRule(
      const sentinelone::Scope& scope, const tqs1::v1::Rule& rule) override;
  absl::Status DeleteRule(const sentinelone::Scope& scope,
                          absl::string_view rule_id) override;

 private:
  // The rules of the site now.
  tqs1::v1::ObservedState SiteNow() const;
  void Violation(std::string what);
  void AfterWrite(const absl::Status& status);

  sentinelone::FakeFirewallRules& fake_;
  const std::string site_id_;
  const reconciler::InvariantScope scope_;
  std::function<void(Method)> before_write_;
  std::set<reconciler::IpPrefix> wanted_;
  // The site's rules tqs1 does not own, as of StartRound() or
  // RefreshForeign(), and its managed rules as of the last check.
  std::vector<tqs1::v1::Rule> foreign_;
  std::vector<tqs1::v1::Rule> managed_;
  std::vector<std::string> violations_;
  int64_t checks_ = 0;
  int64_t writes_ = 0;
  int64_t failed_writes_ = 0;
};

}  // namespace tqs1::sync::testing

#endif  // TQS1_TESTING_INVARIANT_CHECKER_H_
