// Turns a collection's raw values into the set of prefixes to block:
// parsed, canonical, deduplicated, with over-broad prefixes and never-block
// addresses taken out. Nothing is dropped silently: every value set aside is
// counted, and the first ones are kept with their reason.
//
//   ASSIGN_OR_RETURN(NeverBlockList never, NeverBlockList::Create(desired));
//   NormalizedValues n = NormalizeValues(desired.values(), never, guards);
//   n.prefixes;                 // sorted, unique
//   n.report.invalid();         // how many values were not addresses
//   n.report.rejected(0);       // {value: "300.1.1.1",
//                               //  reason: "not an IPv4 address"}
#ifndef TQS1_RECONCILER_NORMALIZE_H_
#define TQS1_RECONCILER_NORMALIZE_H_

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

// How many rejected values a report keeps verbatim.
inline constexpr int kMaxRejectedExamples = 1000;

NormalizedValues NormalizeValues(
    const google::protobuf::RepeatedPtrField<std::string>& values,
    const NeverBlockList& never_block, const GuardSettings& guards);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_NORMALIZE_H_
