// Numbers as people read them in plans and messages.
//
//   FormatCount(1234567);  // "1,234,567"
#ifndef TQS1_RECONCILER_FORMAT_H_
#define TQS1_RECONCILER_FORMAT_H_

#include <cstdint>
#include <string>

namespace tqs1::reconciler {

// 12345 -> "12,345".
std::string FormatCount(uint64_t n);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_FORMAT_H_
