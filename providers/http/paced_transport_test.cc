#include "providers/http/paced_transport.h"

#include <cmath>
#include <limits>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "base/capturing_logger.h"
#include "base/fake_clock.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "providers/http/fake_transport.h"

namespace tqs1::http {
namespace {

using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::IsEmpty;

HttpRequest Request(std::string method) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = "https://s1.test/web/api/v2.1/firewall-control?siteIds=1";
  return request;
}

// A PacedTransport over a fake that records when each request started.
struct Harness {
  explicit Harness(double writes_per_second) {
    PaceOptions options;
    options.writes_per_second = writes_per_second;
    options.clock = &clock;
    options.logger = &logger;
    auto owned = std::make_unique<FakeTransport>();
    fake = owned.get();
    fake->SetHandler([this](const HttpRequest& request) {
      absl::MutexLock lock(&mu);
      starts.push_back(request.method + " " +
                       absl::FormatDuration(clock.Now() - kStart));
      HttpResponse response;
      response.status = 200;
      return absl::StatusOr<HttpResponse>(response);
    });
    transport = std::make_unique<PacedTransport>(std::move(owned), options);
  }
  void Send(const std::string& method) {
    ASSERT_TRUE(transport->Send(Request(method)).ok());
  }
  std::vector<std::string> Starts() {
    absl::MutexLock lock(&mu);
    return starts;
  }

  const absl::Time kStart = absl::FromUnixSeconds(1767225600);
  FakeClock clock{kStart};
  log::CapturingLogger logger;
  FakeTransport* fake;
  std::unique_ptr<PacedTransport> transport;
  absl::Mutex mu;
  std::vector<std::string> starts ABSL_GUARDED_BY(mu);
};

TEST(PacedTransportTest, WritesStartOneIntervalApart) {
  Harness h(2);
  h.Send("POST");
  h.Send("PUT");
  h.Send("DELETE");
  EXPECT_THAT(h.Starts(), ElementsAre("POST 0", "PUT 500ms", "DELETE 1s"));
  EXPECT_THAT(h.clock.Sleeps(),
              ElementsAre(absl::Milliseconds(500), absl::Milliseconds(500)));
  EXPECT_THAT(h.logger.Text(),
              HasSubstr("D pacing PUT "
                        "https://s1.test/web/api/v2.1/firewall-control: "
                        "waiting 500ms (at most 2 writes a second)"));
}

TEST(PacedTransportTest, ReadsAreNeverDelayed) {
  Harness h(2);
  h.Send("PUT");
  h.Send("GET");
  h.Send("GET");
  h.Send("PUT");
  h.Send("GET");
  EXPECT_THAT(h.Starts(),
              ElementsAre("PUT 0", "GET 0", "GET 0", "PUT 500ms", "GET 500ms"));
  EXPECT_THAT(h.clock.Sleeps(), ElementsAre(absl::Milliseconds(500)));
}

TEST(PacedTransportTest, OnlyWaitsForWhatIsLeftOfTheInterval) {
  Harness h(2);
  h.Send("POST");
  h.clock.Advance(absl::Milliseconds(300));
  h.Send("POST");  // 200ms left
  h.clock.Advance(absl::Seconds(2));
  h.Send("POST");  // long past: at once
  EXPECT_THAT(h.Starts(), ElementsAre("POST 0", "POST 500ms", "POST 2.5s"));
  EXPECT_THAT(h.clock.Sleeps(), ElementsAre(absl::Milliseconds(200)));
}

TEST(PacedTransportTest, ZeroNegativeOrNotFiniteDisablesPacing) {
  for (double rate : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(),
                      std::numeric_limits<double>::infinity()}) {
    SCOPED_TRACE(rate);
    Harness h(rate);
    for (int i = 0; i < 5; ++i) h.Send("PUT");
    EXPECT_EQ(h.fake->RequestCount(), 5);
    EXPECT_THAT(h.clock.Sleeps(), IsEmpty());
  }
}

TEST(PacedTransportTest, IsPacedWrite) {
  for (const char* method : {"POST", "PUT", "DELETE", "PATCH"}) {
    EXPECT_TRUE(IsPacedWrite(Request(method))) << method;
  }
  for (const char* method : {"GET", "HEAD"}) {
    EXPECT_FALSE(IsPacedWrite(Request(method))) << method;
  }
}

TEST(PacedTransportTest, WritesFromSeveralThreadsTakeTurns) {
  // On a fake clock every sleeper advances the one shared time, so only
  // what does not depend on the interleaving is checked; TSan checks the
  // rest.
  Harness h(10);
  constexpr int kThreads = 4;
  constexpr int kWrites = 5;
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&h] {
      for (int i = 0; i < kWrites; ++i) {
        EXPECT_TRUE(h.transport->Send(Request("PUT")).ok());
      }
    });
  }
  for (std::thread& thread : threads) thread.join();
  EXPECT_EQ(h.fake->RequestCount(), kThreads * kWrites);
  std::vector<absl::Duration> sleeps = h.clock.Sleeps();
  EXPECT_LT(sleeps.size(), static_cast<size_t>(kThreads * kWrites));
  // Each turn is reserved at most kThreads - 1 turns after the last start.
  for (absl::Duration d : sleeps) {
    EXPECT_GT(d, absl::ZeroDuration());
    EXPECT_LE(d, absl::Milliseconds(100) * kThreads);
  }
}

}  // namespace
}  // namespace tqs1::http
