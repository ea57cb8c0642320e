// Turns a collection's raw values into the set of prefixes to block:
// parsed, canonical, deduplicated, with over-broad prefixes and never-block
// addresses taken out. Nothing is dropped silently: every value set aside is
// counted, and the first ones are kept with their reason and the indicator
// they came from. Values that are valid but rarely meant (private, CGNAT,
// documentation, unique-local, short prefixes: tqs1.v1.InputCategory) are
// blocked with a warning per category, or refused when the sync's `refuse`
// list names their category.
//
//   ASSIGN_OR_RETURN(NeverBlockList never, NeverBlockList::Create(desired));
//   NormalizedValues n = NormalizeValues(desired.values(), never, guards);
//   n.prefixes;                 // sorted, unique
//   n.report.invalid();         // how many values were not addresses
//   n.report.rejected(0);       // {value: "300.1.1.1", reason: "IPv4
//                               //  octet 300 is out of range (0-255)"}
//   n.report.warnings(0);       // {category: INPUT_CATEGORY_PRIVATE,
//                               //  count: 3, examples: ["10.1.2.3", ...]}
#ifndef TQS1_RECONCILER_NORMALIZE_H_
#define TQS1_RECONCILER_NORMALIZE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/repeated_field.h"
#include "proto/config.pb.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"
#include "reconciler/address.h"

namespace tqs1::reconciler {

// Addresses that must never be blocked, with the reason for each.
class NeverBlockList {
 public:
  struct Entry {
    IpPrefix prefix;
    std::string reason;
  };

  // The built-in list (unspecified, loopback, link-local, multicast,
  // broadcast, for IPv4 and IPv6) plus `desired.never_block()` and the
  // sync's own `never_block` entries. kInvalidArgument naming the entry and
  // where it came from when one does not parse.
  static absl::StatusOr<NeverBlockList> Create(
      const tqs1::v1::DesiredState& desired);

  // The first entry that `prefix` falls in or covers, or nullptr.
  const Entry* Find(const IpPrefix& prefix) const;

  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

// Resolved guard settings (defaults filled in).
struct GuardSettings {
  uint64_t min_desired_addresses = 1;
  double max_unblock_fraction = 0.2;
  uint64_t unblock_floor = 100;
  int min_ipv4_prefix = 8;
  int min_ipv6_prefix = 32;

  static GuardSettings FromProto(const tqs1::v1::Guards& guards);
};

struct NormalizedValues {
  // Canonical prefixes to block, sorted and unique.
  std::vector<IpPrefix> prefixes;
  // Counts of values, duplicates, invalid and never-blocked ones, and the
  // first rejected values with their reasons.
  tqs1::v1::InputReport report;
};

// How many rejected values a report keeps verbatim (with reason and
// indicator id); the rest are counted in `rejected_truncated`. Enough for
// `--show-rejected all` on any collection that is not broken wholesale, and
// at most about 1 MB in a plan.
inline constexpr int kMaxRejectedExamples = 10000;

// How many example values an InputWarning keeps.
inline constexpr int kMaxCategoryExamples = 3;

// IPv4 prefixes shorter than this, and IPv6 prefixes shorter than
// kShortIpv6Prefix, are INPUT_CATEGORY_SHORT_PREFIX (when they pass the
// prefix floor, GuardSettings.min_ipv4_prefix / min_ipv6_prefix). With the
// default IPv6 floor (/32) no IPv6 prefix is short: the category then only
// speaks for a sync that lowers its floor.
inline constexpr int kShortIpv4Prefix = 16;
inline constexpr int kShortIpv6Prefix = 32;

// The categories `prefix` is in or overlaps, as a bit mask: bit
// (1 << InputCategory) for each. Allocates nothing; an IPv4 address outside
// every category costs one table look-up.
uint32_t InputCategories(const IpPrefix& prefix);

// The config key of a category: "private", "cgnat", "documentation",
// "unique_local", "short_prefix".
std::string InputCategoryKey(tqs1::v1::InputCategory category);

// What NormalizeValues does beyond parsing and the never-block list.
struct NormalizeOptions {
  // The ThreatQ indicator id of each value (parallel to the values), or
  // nullptr / empty when unknown; rejected values carry theirs.
  const google::protobuf::RepeatedField<uint64_t>* indicator_ids = nullptr;
  // Categories refused instead of blocked with a warning: a mask of
  // (1 << InputCategory) bits.
  uint32_t refuse = 0;
  // The sync writes no IPv6 values (ipv6: off): every IPv6 value is
  // rejected with the reason kIpv6OffReason and counted as refused.
  bool ipv6_off = false;
};

// Why an IPv6 value is rejected when the sync's ipv6 mode is off.
inline constexpr char kIpv6OffReason[] =
    "IPv6 is off for this sync (ipv6: off)";

NormalizedValues NormalizeValues(
    const google::protobuf::RepeatedPtrField<std::string>& values,
    const NeverBlockList& never_block, const GuardSettings& guards,
    const NormalizeOptions& options = {});

// NormalizeValues over `desired.values()`, with its indicator ids, the
// sync's `refuse` list (the config loader merges the config-wide list into
// every sync's) and its ipv6 mode (IPV6_MODE_OFF rejects IPv6 values; AUTO,
// which the sync layer resolves before planning, counts as ON).
NormalizedValues NormalizeValues(const tqs1::v1::DesiredState& desired,
                                 const NeverBlockList& never_block,
                                 const GuardSettings& guards);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_NORMALIZE_H_
