#include "providers/http/bounded_transport.h"

#include <memory>
#include <thread>
#include <vector>

#include "absl/synchronization/mutex.h"
#include "gtest/gtest.h"
#include "providers/http/fake_transport.h"

namespace tqs1::http {
namespace {

HttpRequest Get() {
  HttpRequest request;
  request.method = "GET";
  request.url = "https://s1.test/web/api/v2.1/sites";
  return request;
}

// A fake whose requests stay in flight until released, counting how many
// are in flight at once.
struct Harness {
  explicit Harness(int max_in_flight) {
    auto owned = std::make_unique<FakeTransport>([this](const HttpRequest&) {
      absl::MutexLock lock(&mu);
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
