// Randomized property test of the planner: thousands of seeded random sites
// and collections; each plan is replayed action by action and checked after
// every write. Reproduce a failure with TQS1_TEST_SEED=<seed printed>.
#include <algorithm>
#include <cstdlib>
#include <iostream>
#include <random>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "reconciler/address.h"
#include "reconciler/invariants.h"
#include "reconciler/ownership.h"
#include "reconciler/planner.h"
#include "testing/site_model.h"

namespace tqs1::reconciler {
namespace {

using testing::Desired;
using testing::Entries;
using testing::ForeignRule;
using testing::ManagedRule;
using testing::Site;
using testing::SiteModel;
using ::tqs1::v1::ObservedState;
using ::tqs1::v1::Plan;
using ::tqs1::v1::Rule;

constexpr int kCases = 3000;
constexpr char kCollection[] = "Known C2";

uint64_t BaseSeed() {
  uint64_t seed = 20261128;
  if (const char* env = std::getenv("TQS1_TEST_SEED")) {
    absl::SimpleAtoi(env, &seed);
  }
  return seed;
}

struct Scenario {
  int cap = 0;
  std::vector<std::string> desired_values;
  ObservedState site;
};

// A pool of distinct addresses in all three shapes.
std::vector<std::string> Pool(std::mt19937_64& rng) {
  std::vector<std::string> pool;
  int n = std::uniform_int_distribution<int>(5, 60)(rng);
  for (int k = 0; k < n; ++k) {
    switch (k % 3) {
      case 0:
        pool.push_back(absl::StrCat("10.0.", k / 256, ".", k % 256));
        break;
      case 1:
        // Four /64 networks, so that IPv6 space is weighed in /64s.
        pool.push_back(absl::StrCat("2001:db8:0:", k % 4, "::", k));
        break;
      default:
        pool.push_back(absl::StrCat("172.16.", k, ".0/24"));
        break;
    }
  }
  // Entries that overlap others: the address space counts them once.
  if (n > 3) pool.push_back("10.0.0.0/30");
  if (n > 4) pool.push_back("2001:db8::/63");
  std::shuffle(pool.begin(), pool.end(), rng);
  return pool;
}

Scenario Generate(uint64_t seed) {
  std::mt19937_64 rng(seed);
  auto chance = [&rng](double p) {
    return std::bernoulli_distribution(p)(rng);
  };
  auto uniform = [&rng](int lo, int hi) {
    return std::uniform_int_distribution<int>(lo, hi)(rng);
  };
  Scenario s;
  s.cap = uniform(1, 8);
  std::vector<std::string> pool = Pool(rng);

  // Now and then the pool is sorted by family, so that most rules hold one
  // family (as tqs1 writes them) rather than both (as older tqs1 did).
  if (chance(0.3)) {
    std::stable_partition(pool.begin(), pool.end(), [](const std::string& v) {
      return v.find(':') == std::string::npos;
    });
  }

  // Managed rules: disjoint slices of the pool, within the cap.
  std::vector<Rule> rules;
  std::vector<int> indices = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
  std::shuffle(indices.begin(), indices.end(), rng);
  size_t next = 0, next_index = 0;
  int managed = uniform(0, 6);
  for (int r = 0; r < managed && next < pool.size(); ++r) {
    // Now and then a rule over the cap (an older limit, or made by hand):
    // its excess must move without ever being unblocked.
    int size = uniform(1, s.cap + (chance(0.1) ? 2 : 0));
    std::vector<std::string> values;
    for (int k = 0; k < size && next < pool.size(); ++k) {
      values.push_back(pool[next++]);
    }
    Rule rule =
        ManagedRule(absl::StrCat(100 + r),
                    RuleName(kCollection, indices[next_index++]), values);
    if (chance(0.15)) rule.set_direction(tqs1::v1::DIRECTION_INBOUND);
    if (chance(0.1)) rule.set_enabled(false);
    rules.push_back(rule);
  }
  // A conflict (unmarked rule with a scheme name), foreign rules, and an
  // inherited rule with a scheme name.
  if (chance(0.3)) {
    rules.push_back(ManagedRule("200",
                                RuleName(kCollection, indices[next_index++]),
                                {pool[uniform(0, pool.size() - 1)]},
                                /*marked=*/false));
  }
  if (chance(0.5)) {
    rules.push_back(ForeignRule("300", "Allow backups",
                                {pool[uniform(0, pool.size() - 1)]}));
  }
  // A foreign rule whose name is a scheme name in other letters: new rules
  // must avoid it (SentinelOne may compare names ignoring case).
  if (chance(0.3)) {
    rules.push_back(ForeignRule(
        "301", absl::AsciiStrToUpper(RuleName(kCollection, uniform(0, 4))),
        {pool[uniform(0, pool.size() - 1)]}));
  }
  if (chance(0.3)) {
    Rule inherited = ManagedRule("400", RuleName(kCollection, uniform(0, 3)),
                                 {pool[uniform(0, pool.size() - 1)]});
    inherited.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
    inherited.set_scope_id("700000000000000001");
    rules.push_back(inherited);
  }
  std::shuffle(rules.begin(), rules.end(), rng);
  s.site = Site(rules);

  // Desired: a random subset of the pool, with duplicates and junk.
  for (const std::string& value : pool) {
    if (chance(0.6)) s.desired_values.push_back(value);
  }
  if (chance(0.1)) s.desired_values.clear();  // shrink to nothing
  int extras = uniform(0, 3);
  for (int k = 0; k < extras && !s.desired_values.empty(); ++k) {
    s.desired_values.push_back(
        s.desired_values[uniform(0, s.desired_values.size() - 1)]);
  }
  if (chance(0.2)) s.desired_values.push_back("not-an-address");
  if (chance(0.2)) s.desired_values.push_back("127.0.0.1");
  std::shuffle(s.desired_values.begin(), s.desired_values.end(), rng);
  return s;
}

bool IsManaged(const Rule& rule, const ObservedState& site) {
  return IsManagedRule(rule, site, kCollection);
}

// The account `rule` is of, as read from it.
ObservedState AccountOf(const Rule& rule) {
  ObservedState account;
  account.set_scope(tqs1::v1::RULE_SCOPE_ACCOUNT);
  account.set_site_id(rule.scope_id());
  return account;
}

std::set<IpPrefix> Parsed(const std::vector<std::string>& values) {
  std::set<IpPrefix> out;
  for (const std::string& v : values) {
    absl::StatusOr<IpPrefix> p = ParseIpPrefix(v);
    if (p.ok()) out.insert(*p);
  }
  return out;
}

// The desired set as the test sees it (independently of the planner).
std::set<IpPrefix> DesiredSet(const std::vector<std::string>& values) {
  std::set<IpPrefix> out = Parsed(values);
  out.erase(*ParseIpPrefix("127.0.0.1"));
  return out;
}

// Blocked by managed rules.
std::set<IpPrefix> Blocked(const ObservedState& site) {
  std::set<IpPrefix> out;
  for (const Rule& rule : site.rules()) {
    if (!IsManaged(rule, site)) continue;
    std::set<IpPrefix> p = Parsed(Entries(rule));
    out.insert(p.begin(), p.end());
  }
  return out;
}

// Address space by brute force: every IPv4 address, every IPv6 /64.
struct BruteSpace {
  std::set<uint64_t> v4, v6;
};

BruteSpace Spread(const std::set<IpPrefix>& prefixes) {
  BruteSpace out;
  for (const IpPrefix& p : prefixes) {
    if (p.family() == IpPrefix::Family::kV4) {
      uint64_t size = uint64_t{1} << (32 - p.length());
      for (uint64_t a = 0; a < size; ++a) out.v4.insert(p.low_bits() + a);
    } else {
      uint64_t size = p.length() >= 64 ? 1 : uint64_t{1} << (64 - p.length());
      for (uint64_t a = 0; a < size; ++a) out.v6.insert(p.high_bits() + a);
    }
  }
  return out;
}

// |a \ b| per family.
std::pair<uint64_t, uint64_t> Minus(const BruteSpace& a, const BruteSpace& b) {
  std::pair<uint64_t, uint64_t> n{0, 0};
  for (uint64_t x : a.v4) n.first += b.v4.count(x) == 0 ? 1 : 0;
  for (uint64_t x : a.v6) n.second += b.v6.count(x) == 0 ? 1 : 0;
  return n;
}

bool IsV4(const IpPrefix& p) { return p.family() == IpPrefix::Family::kV4; }

// The fewest writes, from the scenario alone, with IPv4 and IPv6 in rules of
// their own: rho (the managed rules that must be written: they lose an
// entry, shed a prefix or drift) plus the new rules each family needs, less
// the rewritten rules that keep nothing (each takes one family's chunk).
// Per family f, what rules of f rewritten anyway cannot take is
// max(0, missing - room, shed - room of rules that shed nothing): a prefix a
// rule sheds goes only into a rule that sheds nothing.
// What of `desired` the site's own rules must hold: all of it but what an
// inherited account rule of the sync blocks (enabled, with the marker) and
// no managed rule of the site holds.
std::set<IpPrefix> SiteShare(const Scenario& s,
                             const std::set<IpPrefix>& desired) {
  const std::set<IpPrefix> held = Blocked(s.site);
  std::set<IpPrefix> inherited;
  for (const Rule& rule : s.site.rules()) {
    if (rule.scope() == tqs1::v1::RULE_SCOPE_ACCOUNT &&
        IsManagedRule(rule, AccountOf(rule), kCollection) && rule.enabled()) {
      for (const IpPrefix& p : Parsed(Entries(rule))) inherited.insert(p);
    }
  }
  std::set<IpPrefix> out;
  for (const IpPrefix& p : desired) {
    if (held.count(p) > 0 || inherited.count(p) == 0) out.insert(p);
  }
  return out;
}

uint64_t LowerBound(const Scenario& s, const std::set<IpPrefix>& desired) {
  const uint64_t cap = s.cap;
  uint64_t rho = 0, free_rules = 0;
  uint64_t room[2] = {0, 0}, room_no_shed[2] = {0, 0}, shed[2] = {0, 0};
  uint64_t held[2] = {0, 0};
  for (const Rule& rule : s.site.rules()) {
    if (!IsManaged(rule, s.site)) continue;
    uint64_t kept[2] = {0, 0};
    bool loses = rule.direction() != tqs1::v1::DIRECTION_ANY;
    for (const std::string& e : Entries(rule)) {
      IpPrefix p = *ParseIpPrefix(e);
      if (desired.count(p)) {
        ++kept[IsV4(p) ? 0 : 1];
      } else {
        loses = true;
      }
    }
    if (kept[0] + kept[1] == 0) {
      ++rho;
      ++free_rules;
      continue;
    }
    const int f = kept[1] > kept[0] ? 1 : 0;
    const uint64_t moved_family = kept[1 - f];
    const uint64_t over = kept[f] > cap ? kept[f] - cap : 0;
    shed[1 - f] += moved_family;
    shed[f] += over;
    held[f] += kept[f] - over;
    const bool sheds = moved_family + over > 0;
    if (!loses && !sheds) continue;
    ++rho;
    room[f] += cap - (kept[f] - over);
    if (!sheds) room_no_shed[f] += cap - (kept[f] - over);
  }
  uint64_t wanted[2] = {0, 0};
  for (const IpPrefix& p : desired) ++wanted[IsV4(p) ? 0 : 1];
  uint64_t chunks = 0;
  for (int f = 0; f < 2; ++f) {
    const uint64_t missing = wanted[f] - held[f];
    uint64_t over = missing > room[f] ? missing - room[f] : 0;
    if (shed[f] > room_no_shed[f]) {
      over = std::max(over, shed[f] - room_no_shed[f]);
    }
    chunks += (over + cap - 1) / cap;
  }
  return rho + (chunks > free_rules ? chunks - free_rules : 0);
}

TEST(PlannerPropertyTest, ReplayedPlansKeepEveryInvariant) {
  const uint64_t base = BaseSeed();
  std::cout << "TQS1_TEST_SEED=" << base << " (cases " << base << " to "
            << base + kCases - 1 << ")\n";
  for (int c = 0; c < kCases; ++c) {
    const uint64_t seed = base + c;
    SCOPED_TRACE(absl::StrCat("TQS1_TEST_SEED=", seed, " (case ", c, ")"));
    Scenario s = Generate(seed);
    tqs1::v1::PlanOptions options;
    options.set_max_addresses_per_rule(s.cap);
    options.set_allow_empty(true);
    options.set_allow_mass_unblock(true);
    absl::StatusOr<Plan> plan =
        ComputePlan(Desired(kCollection, s.desired_values), s.site, options);
    ASSERT_TRUE(plan.ok()) << plan.status();

    const std::set<IpPrefix> desired = DesiredSet(s.desired_values);
    const std::set<IpPrefix> site_share = SiteShare(s, desired);
    const std::set<IpPrefix> before = Blocked(s.site);

    // Address space, against a brute-force count.
    {
      const BruteSpace space_before = Spread(before);
      const BruteSpace space_after = Spread(site_share);
      const tqs1::v1::PlanSummary& summary = plan->summary();
      EXPECT_EQ(plan->observed().blocked_ipv4_addresses(),
                space_before.v4.size());
      EXPECT_EQ(plan->observed().blocked_ipv6_networks(),
                space_before.v6.size());
      auto [unblocked_v4, unblocked_v6] = Minus(space_before, space_after);
      auto [newly_v4, newly_v6] = Minus(space_after, space_before);
      EXPECT_EQ(summary.unblocked_ipv4_addresses(), unblocked_v4);
      EXPECT_EQ(summary.unblocked_ipv6_networks(), unblocked_v6);
      EXPECT_EQ(summary.newly_blocked_ipv4_addresses(), newly_v4);
      EXPECT_EQ(summary.newly_blocked_ipv6_networks(), newly_v6);
      // The guard (default settings: 20% above 100), per family.
      auto over = [](uint64_t part, uint64_t whole) {
        return part > 100 && part * 5 > whole;
      };
      EXPECT_EQ(plan->guards(1).tripped(),
                over(unblocked_v4, space_before.v4.size()) ||
                    over(unblocked_v6, space_before.v6.size()));
      // Disabled managed rules: counted, with their entries.
      uint64_t disabled = 0, held = 0;
      for (const Rule& rule : s.site.rules()) {
        if (!IsManaged(rule, s.site) || rule.enabled()) continue;
        ++disabled;
        held += Entries(rule).size();
      }
      EXPECT_EQ(plan->observed().disabled_rules(), disabled);
      EXPECT_EQ(summary.disabled_rules(), disabled);
      EXPECT_EQ(plan->observed().not_enforced(), held);
    }

    // Every invariant after every write (reconciler/invariants.h).
    SiteModel model(s.site);
    ObservedState previous = s.site;
    bool failed = false;
    absl::Status applied =
        model.ApplyAll(*plan, [&](const tqs1::v1::Action& a) {
          if (failed) return;
          SCOPED_TRACE(absl::StrCat("after ", a.name()));
          for (const std::string& violation : Violations(
                   previous, model.state(), desired, {kCollection, s.cap})) {
            ADD_FAILURE() << violation;
            failed = true;
          }
          previous = model.state();
        });
    ASSERT_TRUE(applied.ok()) << applied;
    ASSERT_FALSE(failed);

    // The site now blocks exactly the desired set, once each, with the
    // template's settings.
    std::vector<std::string> all;
    for (const Rule& rule : model.state().rules()) {
      if (!IsManaged(rule, model.state())) continue;
      std::vector<std::string> e = Entries(rule);
      all.insert(all.end(), e.begin(), e.end());
      EXPECT_EQ(rule.direction(), tqs1::v1::DIRECTION_ANY) << rule.name();
      EXPECT_FALSE(e.empty()) << rule.name();
      EXPECT_LE(e.size(), static_cast<size_t>(s.cap)) << rule.name();
    }
    EXPECT_EQ(Parsed(all), site_share);
    EXPECT_EQ(all.size(), site_share.size()) << "duplicate entries remain";
    EXPECT_EQ(plan->observed().inherited_blocked(),
              desired.size() - site_share.size());
    // IPv4 and IPv6 never share a rule, and each action says its family.
    for (const Rule& rule : model.state().rules()) {
      if (!IsManaged(rule, model.state())) continue;
      std::set<IpPrefix> p = Parsed(Entries(rule));
      EXPECT_TRUE(std::all_of(p.begin(), p.end(), IsV4) ||
                  std::none_of(p.begin(), p.end(), IsV4))
          << rule.name() << " holds both IPv4 and IPv6 entries";
    }
    int last_phase = 0, last_slot = 0;
    for (const tqs1::v1::Action& a : plan->actions()) {
      std::set<IpPrefix> added = Parsed({a.add().begin(), a.add().end()});
      if (a.kind() != tqs1::v1::ACTION_KIND_DELETE) {
        EXPECT_NE(a.family(), tqs1::v1::ADDRESS_FAMILY_UNSPECIFIED) << a.name();
      }
      const bool v4 = a.family() != tqs1::v1::ADDRESS_FAMILY_IPV6;
      for (const IpPrefix& p : added) EXPECT_EQ(IsV4(p), v4) << a.name();
      // Creates first, deletes last; IPv4 before IPv6 inside each of
      // those phases.
      const int phase = a.kind() == tqs1::v1::ACTION_KIND_CREATE   ? 0
                        : a.kind() == tqs1::v1::ACTION_KIND_DELETE ? 2
                                                                   : 1;
      EXPECT_GE(phase, last_phase) << a.name();
      const int slot = v4 ? 0 : 1;
      if (phase != 1 && phase == last_phase) {
        EXPECT_GE(slot, last_slot) << a.name();
      }
      last_slot = slot;
      last_phase = phase;
    }

    // Minimal writes, and nothing left to do.
    EXPECT_EQ(static_cast<uint64_t>(plan->actions_size()),
              LowerBound(s, site_share));
    absl::StatusOr<Plan> again = ComputePlan(
        Desired(kCollection, s.desired_values), model.state(), options);
    ASSERT_TRUE(again.ok());
    EXPECT_TRUE(again->summary().in_sync()) << testing::ActionsText(*again);
    if (::testing::Test::HasFailure()) return;
  }
}

}  // namespace
}  // namespace tqs1::reconciler
