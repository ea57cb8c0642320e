// A Logger for tests that keeps every line in memory, so a test can assert
// on what was logged (and that no secret ever was).
//
//   CapturingLogger logger;
//   client_options.logger = &logger;
//   ...
//   EXPECT_THAT(logger.Lines(), Contains(HasSubstr("insecure")));
//   EXPECT_FALSE(logger.Contains("hunter2"));
#ifndef TQS1_BASE_CAPTURING_LOGGER_H_
#define TQS1_BASE_CAPTURING_LOGGER_H_

#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "base/logger.h"

namespace tqs1::log {

// Records every message of every level as "<letter> <message>". Thread-safe.
class CapturingLogger : public Logger {
 public:
  void Log(LogLevel level, absl::string_view message) override;

  // A copy of the lines logged so far, in order.
  std::vector<std::string> Lines() const;
  // Every line joined with '\n' (handy for substring checks).
  std::string Text() const;
  // Whether any line contains `needle`.
  bool Contains(absl::string_view needle) const;

 private:
  mutable absl::Mutex mu_;
  std::vector<std::string> lines_ ABSL_GUARDED_BY(mu_);
};

}  // namespace tqs1::log

#endif  // TQS1_BASE_CAPTURING_LOGGER_H_
