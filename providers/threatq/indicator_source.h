// Where desired state comes from: the IP indicators of a ThreatQ data
// collection. ThreatQClient implements it over HTTP; FakeIndicatorSource in
// memory, for tests.
//
//   ASSIGN_OR_RETURN(CollectionRead read,
//                    source.ReadCollection("Known C2 IPs"));
//   desired.mutable_values()->Assign(read.values.begin(), read.values.end());
//   desired.mutable_indicator_ids()->Assign(read.indicator_ids.begin(),
//                                           read.indicator_ids.end());
//   *desired.mutable_source() = read.report;
#ifndef TQS1_PROVIDERS_THREATQ_INDICATOR_SOURCE_H_
#define TQS1_PROVIDERS_THREATQ_INDICATOR_SOURCE_H_

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"
#include "proto/state.pb.h"

namespace tqs1::threatq {

// The IP values of one collection, read to the end.
struct CollectionRead {
  // Values of indicators of type "IP Address", "IPv6 Address" or "CIDR
  // Block" whose status is not excluded, as read (unvalidated).
  std::vector<std::string> values;
  // The ThreatQ indicator id of each value: parallel to `values`, always
  // the same length; 0 where the source did not say. 8 bytes a value, so
  // that a plan can name the indicator a rejected value came from.
  std::vector<uint64_t> indicator_ids;
  // The type and status of each value's indicator: `origin_of[i]` indexes
  // `origins` (the distinct pairs, in order of first appearance). Parallel
  // to `values`, always the same length. For the ledger's record of where a
  // blocked address came from.
  struct Origin {
    std::string type;    // e.g. "IP Address"
    std::string status;  // e.g. "Active"
  };
  std::vector<Origin> origins;
  std::vector<uint32_t> origin_of;
  // Counts of what was read and what was set aside (other types, excluded
  // statuses).
  tqs1::v1::SourceReport report;
  // The indicators set aside whose value may be an address (`tqs1 why`
  // says why such an address is not blocked): every IP-type indicator of
  // a status not to block, and every indicator of another type whose value
  // holds only hex digits, '.', ':' and '/'. In read order.
  struct SetAside {
    std::string value;
    uint64_t indicator_id = 0;
    std::string type;
    std::string status;
  };
  std::vector<SetAside> set_aside;
};

class IndicatorSource {
 public:
  virtual ~IndicatorSource() = default;

  // Reads every indicator of the data collection named exactly `collection`.
  // Never returns a partial list: any failure mid-read fails the whole read.
  // Errors:
  //   kNotFound            no collection has that name (the message lists
  //                        near matches).
  //   kFailedPrecondition  several collections have that name.
  //   kUnauthenticated     credentials refused.
  //   kPermissionDenied    the user may not read it.
  //   kUnavailable         ThreatQ unreachable or failing; retry later.
  //   kDataLoss            a response could not be parsed.
  // Thread-compatible (not safe for concurrent calls on one object) unless
  // an implementation says more (ThreatQClient is thread-safe).
  virtual absl::StatusOr<CollectionRead> ReadCollection(
      absl::string_view collection) = 0;
};

}  // namespace tqs1::threatq

#endif  // TQS1_PROVIDERS_THREATQ_INDICATOR_SOURCE_H_
