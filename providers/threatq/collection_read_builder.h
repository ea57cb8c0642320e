// What every IndicatorSource does with the indicators it reads, in one
// place so that ThreatQClient and FakeIndicatorSource cannot disagree:
// keep the IP types of the statuses to block (with each one's type and
// status), set aside other types and statuses (with counts, and the values
// that may be addresses), and word "no such collection" / "several
// collections" errors.
//
//   CollectionReadBuilder builder({"Active"});
//   builder.Add("203.0.113.7", "IP Address", "Active", 1207);  // kept, id
//   builder.Add("evil.example", "FQDN", "Active");         // skipped type
//   builder.Add("198.51.100.1", "IP Address", "Expired");  // skipped status
//   CollectionRead read = std::move(builder).Finish();
#ifndef TQS1_PROVIDERS_THREATQ_COLLECTION_READ_BUILDER_H_
#define TQS1_PROVIDERS_THREATQ_COLLECTION_READ_BUILDER_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "providers/threatq/indicator_source.h"

namespace tqs1::threatq {

// One indicator as ThreatQ holds it (names, not instance-specific ids).
struct Indicator {
  std::string value;
  std::string type;    // e.g. "IP Address", "FQDN"
  std::string status;  // e.g. "Active", "Whitelisted"
};

// The statuses blocked unless configured otherwise: {"Active"}, which
// ThreatQ defines as "being exported to detection tools". Expired, Review
// and Indirect (pDNS-derived, often CDN addresses) are not meant for
// blocking.
std::vector<std::string> DefaultBlockStatuses();

// The status never blocked whatever the configuration says: ThreatQ means
// "Whitelisted" indicators never to be deployed.
inline constexpr absl::string_view kNeverBlockedStatus = "Whitelisted";

// Whether `type` is "IP Address", "IPv6 Address" or "CIDR Block". Compared
// case-insensitively (defensive: an instance that renders "IP address"
// still means the same type).
bool IsIpIndicatorType(absl::string_view type);

// Accumulates one collection read. Thread-compatible.
class CollectionReadBuilder {
 public:
  // Statuses compare case-insensitively; kNeverBlockedStatus among
  // `block_statuses` is ignored.
  explicit CollectionReadBuilder(std::vector<std::string> block_statuses);

  // Counts the indicator as read, then: a non-IP type is counted under
  // skipped_types[type]; an IP type whose status is not one to block under
  // skipped_statuses[status]; anything else keeps its value, as is, and its
  // ThreatQ `indicator_id` beside it (0: unknown).
  void Add(absl::string_view value, absl::string_view type,
           absl::string_view status, uint64_t indicator_id = 0);

  CollectionRead Finish() &&;

 private:
  void SetAside(absl::string_view value, absl::string_view type,
                absl::string_view status, uint64_t indicator_id);

  std::vector<std::string> block_statuses_;
  CollectionRead read_;
  uint32_t last_origin_ = 0;
};

// Whether an indicator value of a non-IP type may still be an address or a
// prefix (only hex digits, '.', ':' and '/', at most 64 characters): such
// values are kept in CollectionRead.set_aside. No parsing here; `tqs1 why`
// parses them.
bool MayBeAddress(absl::string_view value);

// Names among `names` that look like `wanted` (equal ignoring case, or one
// containing the other ignoring case), without duplicates, at most `max`.
std::vector<std::string> NearMatches(absl::string_view wanted,
                                     const std::vector<std::string>& names,
                                     size_t max = 5);

// kNotFound: no data collection named exactly `wanted` among `names` (all
// the names visible to the user); lists near matches.
absl::Status NoSuchCollectionError(absl::string_view wanted,
                                   const std::vector<std::string>& names);

// kFailedPrecondition: `count` data collections are named `wanted`.
absl::Status DuplicateCollectionError(absl::string_view wanted, int count);

}  // namespace tqs1::threatq

#endif  // TQS1_PROVIDERS_THREATQ_COLLECTION_READ_BUILDER_H_
