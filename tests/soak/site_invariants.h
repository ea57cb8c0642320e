// Checks the safety invariants of an apply on the SentinelOne emulator's
// own write log (SentinelOneEmulator::Events()), event by event, so a
// violation is caught at the write that caused it, whoever made the write
// (an in-process client or a tqs1 process killed half way). The log is
// replayed into a model of the site, and every API write is checked with
// reconciler::Violations (reconciler/invariants.h) between the site before
// and after it:
// - no two rules of the site share a name, and no write gives a site rule
//   the name of a rule it inherits;
// - no rule tqs1 does not own (no marker or not the sync's name scheme) is
//   created, changed or deleted by the API, and every rule the API creates
//   is tqs1's;
// - no managed rule is written with more than the per-rule limit;
// - no wanted address is unblocked: an address of the round's wanted set
//   that a managed rule blocked before a write stays blocked by some
//   managed rule after it.
// On top of those, from the log itself: no API write addresses a rule tqs1
// does not own, and no managed rule holds a value of a forbidden list
// (never-block, junk), whoever wrote it.
//
//   EventLogChecker checker(kSiteId, "Known C2", /*max_per_rule=*/200);
//   checker.StartRound(wanted, forbidden);
//   ... apply (any number of attempts, crashes included) ...
//   checker.Consume(s1->Events());
//   EXPECT_THAT(checker.Violations(), IsEmpty());
//   EXPECT_EQ(checker.ManagedValues(), sorted wanted);   // converged
#ifndef TQS1_TESTS_SOAK_SITE_INVARIANTS_H_
#define TQS1_TESTS_SOAK_SITE_INVARIANTS_H_

#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "absl/container/flat_hash_set.h"
#include "emulators/sentinelone_emulator.h"
#include "proto/state.pb.h"
#include "reconciler/address.h"
#include "reconciler/invariants.h"

namespace tqs1::soak {

// Thread-compatible.
class EventLogChecker {
 public:
  EventLogChecker(std::string site_id, std::string collection,
                  int max_per_rule);

  // Starts a round converging to `wanted` (canonical addresses); values of
  // `forbidden` must never be in a managed rule. Consume() the events so
  // far first, so that "blocked at the start" is known.
  void StartRound(std::set<std::string> wanted,
                  std::set<std::string> forbidden = {});

  // Checks every event of `events` (the emulator's whole log, in order)
  // not consumed yet; events of other sites' own rules are skipped (rules
  // of other scopes are inherited by this site, and kept).
  void Consume(const std::vector<sentinelone::WriteEvent>& events);

  // Every violation so far, in words (at most 50 kept; count() has all).
  const std::vector<std::string>& Violations() const { return violations_; }
  int64_t violation_count() const { return violation_count_; }
  // Invariant checks passed (an API write that keeps every invariant
  // counts once per invariant), and API writes seen.
  int64_t checks_passed() const { return checks_passed_; }
  int64_t writes() const { return writes_; }

  // The values of the site's managed rules now, sorted, duplicates kept.
  std::vector<std::string> ManagedValues() const;
  // How many managed rules the site holds now.
  int ManagedRules() const;

 private:
  void Violation(const std::string& what);
  // Replaces (or with no `after`, removes) rule `id` of the model.
  void Apply(const std::string& id, const tqs1::v1::Rule* after);

  // A write of a site-scope rule of a site other than this one.
  bool OfAnotherSite(const sentinelone::WriteEvent& event) const;

  const reconciler::InvariantScope scope_;
  size_t consumed_ = 0;
  // The emulator's rules as the log has told them so far.
  tqs1::v1::ObservedState site_;
  std::set<reconciler::IpPrefix> wanted_;
  absl::flat_hash_set<std::string> forbidden_;
  std::vector<std::string> violations_;
  int64_t violation_count_ = 0;
  int64_t checks_passed_ = 0;
  int64_t writes_ = 0;
};

// Seeded generators of public, canonical addresses far from every
// built-in never-block range.
class AddressGenerator {
 public:
  explicit AddressGenerator(uint64_t seed) : state_(seed) {}
  // A new IPv4 address (mostly), IPv6 address or /24 network, canonical.
  std::string Next();

 private:
  uint64_t NextRandom();
  uint64_t state_;
};

}  // namespace tqs1::soak

#endif  // TQS1_TESTS_SOAK_SITE_INVARIANTS_H_
