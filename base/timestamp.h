// absl::Time as the model's google.protobuf.Timestamp, and back.
//
//   *record.mutable_started() = ToTimestamp(clock.Now());
#ifndef TQS1_BASE_TIMESTAMP_H_
#define TQS1_BASE_TIMESTAMP_H_

#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "google/protobuf/util/time_util.h"

namespace tqs1 {

inline google::protobuf::Timestamp ToTimestamp(absl::Time t) {
  return google::protobuf::util::TimeUtil::NanosecondsToTimestamp(
      absl::ToUnixNanos(t));
}

inline absl::Time FromTimestamp(const google::protobuf::Timestamp& t) {
  return absl::FromUnixNanos(
      google::protobuf::util::TimeUtil::TimestampToNanoseconds(t));
}

}  // namespace tqs1

#endif  // TQS1_BASE_TIMESTAMP_H_
