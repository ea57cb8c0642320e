#include "providers/http/bounded_transport.h"

#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "providers/http/fake_transport.h"

namespace tqs1::http {
namespace {

HttpRequest Get(absl::string_view query = "") {
  HttpRequest request;
  request.method = "GET";
  request.url = absl::StrCat("https://s1.test/web/api/v2.1/sites", query);
  return request;
}

// A fake whose requests stay in flight until released, counting how many
// are in flight at once.
struct Harness {
  explicit Harness(int max_in_flight) {
    auto owned = std::make_unique<FakeTransport>([this](const HttpRequest& r) {
      absl::MutexLock lock(&mu);
      arrived.push_back(r.url);
      ++in_flight;
      peak = std::max(peak, in_flight);
      mu.Await(absl::Condition(&released));
      --in_flight;
      HttpResponse response;
      response.status = 200;
      return absl::StatusOr<HttpResponse>(response);
    });
    transport =
        std::make_unique<BoundedTransport>(std::move(owned), max_in_flight);
  }
  // Blocks until `n` requests are in the fake at once.
  void AwaitInFlight(int n) {
    absl::MutexLock lock(&mu);
    auto reached = [this, n]() ABSL_EXCLUSIVE_LOCKS_REQUIRED(mu) {
      return in_flight >= n;
    };
    mu.Await(absl::Condition(&reached));
  }
  void Release() {
    absl::MutexLock lock(&mu);
    released = true;
  }

  absl::Mutex mu;
  int in_flight ABSL_GUARDED_BY(mu) = 0;
  int peak ABSL_GUARDED_BY(mu) = 0;
  bool released ABSL_GUARDED_BY(mu) = false;
  // The URLs of the requests the fake saw, in the order they came in.
  std::vector<std::string> arrived ABSL_GUARDED_BY(mu);
  std::unique_ptr<BoundedTransport> transport;
};

TEST(BoundedTransportTest, NeverMoreThanItsBoundInFlight) {
  Harness h(3);
  std::vector<std::thread> threads;
  std::vector<int> statuses(8, 0);
  for (int i = 0; i < 8; ++i) {
    threads.emplace_back([&h, &statuses, i] {
      absl::StatusOr<HttpResponse> r = h.transport->Send(Get());
      statuses[i] = r.ok() ? r->status : -1;
    });
  }
  // Three go in; the other five wait for a slot.
  h.AwaitInFlight(3);
  absl::SleepFor(absl::Milliseconds(50));
  {
    absl::MutexLock lock(&h.mu);
    EXPECT_EQ(h.in_flight, 3);
  }
  h.Release();
  for (std::thread& t : threads) t.join();
  absl::MutexLock lock(&h.mu);
  EXPECT_EQ(h.peak, 3);
  EXPECT_EQ(h.in_flight, 0);
  for (int status : statuses) EXPECT_EQ(status, 200);
}

TEST(BoundedTransportTest, ABoundBelowOneLetsOneRequestGo) {
  Harness h(0);
  EXPECT_EQ(h.transport->max_in_flight(), 1);
  h.Release();
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&h] { ASSERT_TRUE(h.transport->Send(Get()).ok()); });
  }
  for (std::thread& t : threads) t.join();
  absl::MutexLock lock(&h.mu);
  EXPECT_EQ(h.peak, 1);
}

TEST(BoundedTransportTest, WaitersGoInTheOrderTheyCame) {
  Harness h(1);
  std::vector<std::thread> threads;
  threads.emplace_back([&h] { ASSERT_TRUE(h.transport->Send(Get()).ok()); });
  h.AwaitInFlight(1);
  // Four more, each queued before the next starts.
  for (int i = 1; i <= 4; ++i) {
    threads.emplace_back([&h, i] {
      ASSERT_TRUE(h.transport->Send(Get(absl::StrCat("?n=", i))).ok());
    });
    while (h.transport->waiting() < i) absl::SleepFor(absl::Milliseconds(1));
  }
  h.Release();
  for (std::thread& t : threads) t.join();
  EXPECT_EQ(h.transport->waiting(), 0);
  absl::MutexLock lock(&h.mu);
  ASSERT_EQ(h.arrived.size(), 5u);
  for (int i = 1; i <= 4; ++i) {
    EXPECT_EQ(h.arrived[i], Get(absl::StrCat("?n=", i)).url) << i;
  }
}

TEST(BoundedTransportTest, AFailedRequestGivesItsSlotBack) {
  auto fake = std::make_unique<FakeTransport>();
  FakeTransport* raw = fake.get();
  BoundedTransport transport(std::move(fake), 1);
  raw->Enqueue(absl::UnavailableError("connection refused"));
  EXPECT_EQ(transport.Send(Get()).status().code(),
            absl::StatusCode::kUnavailable);
  HttpResponse ok;
  ok.status = 204;
  raw->Enqueue(ok);
  absl::StatusOr<HttpResponse> second = transport.Send(Get());
  ASSERT_TRUE(second.ok());
  EXPECT_EQ(second->status, 204);
}

}  // namespace
}  // namespace tqs1::http
