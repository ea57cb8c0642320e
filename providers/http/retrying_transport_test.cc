#include "providers/http/retrying_transport.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/str_cat.h"
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

HttpResponse Status(int status, Headers headers = {}) {
  HttpResponse response;
  response.status = status;
  response.headers = std::move(headers);
  return response;
}

HttpRequest Request(std::string method) {
  HttpRequest request;
  request.method = std::move(method);
  request.url = "https://tq.test/api/x?token=s3cr3t";
  return request;
}

struct Harness {
  explicit Harness(RetryOptions options = {}) {
    options.clock = &clock;
    options.logger = &logger;
    auto owned = std::make_unique<FakeTransport>();
    fake = owned.get();
    transport = std::make_unique<RetryingTransport>(std::move(owned), options);
  }
  FakeClock clock;
  log::CapturingLogger logger;
  FakeTransport* fake;
  std::unique_ptr<RetryingTransport> transport;
};

TEST(RetryingTransportTest, RetriesTooManyRequestsHonouringRetryAfter) {
  for (const char* method : {"GET", "POST"}) {
    SCOPED_TRACE(method);
    Harness h;
    h.fake->Enqueue(Status(429, {{"Retry-After", "7"}}));
    h.fake->Enqueue(Status(200));
    absl::StatusOr<HttpResponse> response = h.transport->Send(Request(method));
    ASSERT_TRUE(response.ok()) << response.status();
    EXPECT_EQ(response->status, 200);
    EXPECT_EQ(h.fake->RequestCount(), 2);
    EXPECT_THAT(h.clock.Sleeps(), ElementsAre(absl::Seconds(7)));
    EXPECT_THAT(h.logger.Text(), HasSubstr("retrying " + std::string(method) +
                                           " https://tq.test/api/x after "
                                           "HTTP 429 in 7s (attempt 2 of 5)"));
    EXPECT_FALSE(h.logger.Contains("s3cr3t"));
  }
}

TEST(RetryingTransportTest, RetryAfterAsDateAndCapped) {
  RetryOptions options;
  options.max_retry_after = absl::Seconds(30);
  Harness h(options);
  // FakeClock starts at 2026-01-01T00:00:00Z.
  h.fake->Enqueue(
      Status(429, {{"Retry-After", "Thu, 01 Jan 2026 00:00:12 GMT"}}));
  h.fake->Enqueue(Status(429, {{"Retry-After", "3600"}}));
  h.fake->Enqueue(Status(200));
  ASSERT_TRUE(h.transport->Send(Request("GET")).ok());
  EXPECT_THAT(h.clock.Sleeps(),
              ElementsAre(absl::Seconds(12), absl::Seconds(30)));
}

TEST(RetryingTransportTest, WhatIsRetried) {
  struct Case {
    std::string name;
    std::string method;
    absl::StatusOr<HttpResponse> outcome;
    bool retried;
  };
  const std::vector<Case> kCases = {
      {"500 GET", "GET", Status(500), true},
      {"503 PUT", "PUT", Status(503), true},
      {"502 DELETE", "DELETE", Status(502), true},
      {"500 POST", "POST", Status(500), false},
      {"503 POST", "POST", Status(503), false},
      {"501 GET", "GET", Status(501), false},
      {"408 GET", "GET", Status(408), true},
      {"408 POST", "POST", Status(408), false},
      {"410 GET", "GET", Status(410), false},
      {"400 GET", "GET", Status(400), false},
      {"401 GET", "GET", Status(401), false},
      {"404 GET", "GET", Status(404), false},
      {"409 POST", "POST", Status(409), false},
      {"unavailable GET", "GET", absl::UnavailableError("reset"), true},
      {"unavailable POST, never sent", "POST",
       absl::UnavailableError("refused"), true},
      {"unavailable POST, outcome unknown", "POST",
       MarkOutcomeUnknown(absl::UnavailableError("reset")), false},
      {"deadline GET", "GET", absl::DeadlineExceededError("slow"), false},
      {"tls GET", "GET", absl::FailedPreconditionError("bad cert"), false},
      {"too large GET", "GET", absl::ResourceExhaustedError("big"), false},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.name);
    Harness h;
    h.fake->Enqueue(c.outcome);
    h.fake->Enqueue(Status(200));
    absl::StatusOr<HttpResponse> result = h.transport->Send(Request(c.method));
    if (c.retried) {
      EXPECT_EQ(h.fake->RequestCount(), 2);
      ASSERT_TRUE(result.ok());
      EXPECT_EQ(result->status, 200);
    } else {
      EXPECT_EQ(h.fake->RequestCount(), 1);
      EXPECT_EQ(result.ok(), c.outcome.ok());
      if (result.ok()) {
        EXPECT_EQ(result->status, c.outcome->status);
      } else {
        EXPECT_EQ(result.status(), c.outcome.status());
        EXPECT_EQ(IsOutcomeUnknown(result.status()),
                  IsOutcomeUnknown(c.outcome.status()));
      }
      EXPECT_THAT(h.clock.Sleeps(), IsEmpty());
    }
  }
}

TEST(RetryingTransportTest, StopsAfterMaxAttemptsWithLastOutcome) {
  RetryOptions options;
  options.max_attempts = 3;
  Harness h(options);
  h.fake->SetHandler([](const HttpRequest&) {
    return absl::StatusOr<HttpResponse>(Status(503));
  });
  absl::StatusOr<HttpResponse> result = h.transport->Send(Request("GET"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 503);
  EXPECT_EQ(h.fake->RequestCount(), 3);
  EXPECT_EQ(h.clock.Sleeps().size(), 2u);
}

TEST(RetryingTransportTest, BackoffIsFullJitterBoundedAndSeeded) {
  // Randomized over seeds; a failure prints its seed.
  for (uint64_t seed = 1; seed <= 50; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed));
    RetryOptions options;
    options.seed = seed;
    options.max_attempts = 8;
    options.initial_backoff = absl::Seconds(1);
    options.max_backoff = absl::Seconds(10);
    options.deadline = absl::Hours(1);
    std::vector<absl::Duration> runs[2];
    for (auto& sleeps : runs) {
      Harness h(options);
      h.fake->SetHandler([](const HttpRequest&) {
        return absl::StatusOr<HttpResponse>(absl::UnavailableError("down"));
      });
      EXPECT_EQ(h.transport->Send(Request("GET")).status().code(),
                absl::StatusCode::kUnavailable);
      EXPECT_EQ(h.fake->RequestCount(), 8);
      sleeps = h.clock.Sleeps();
    }
    EXPECT_EQ(runs[0], runs[1]);  // same seed, same waits
    ASSERT_EQ(runs[0].size(), 7u);
    const absl::Duration caps[] = {absl::Seconds(1),  absl::Seconds(2),
                                   absl::Seconds(4),  absl::Seconds(8),
                                   absl::Seconds(10), absl::Seconds(10),
                                   absl::Seconds(10)};
    for (size_t i = 0; i < runs[0].size(); ++i) {
      EXPECT_GE(runs[0][i], absl::ZeroDuration()) << i;
      EXPECT_LE(runs[0][i], caps[i]) << i;
    }
  }
}

TEST(RetryingTransportTest, GivesUpWhenTheDeadlineWouldPass) {
  RetryOptions options;
  options.deadline = absl::Seconds(10);
  Harness h(options);
  h.fake->SetHandler([](const HttpRequest&) {
    return absl::StatusOr<HttpResponse>(Status(429, {{"Retry-After", "6"}}));
  });
  absl::StatusOr<HttpResponse> result = h.transport->Send(Request("GET"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 429);
  EXPECT_EQ(h.fake->RequestCount(), 2);
  EXPECT_THAT(h.clock.Sleeps(), ElementsAre(absl::Seconds(6)));
  EXPECT_THAT(h.logger.Text(),
              HasSubstr("giving up on GET https://tq.test/api/x after HTTP "
                        "429: the retry deadline of 10s would pass"));
}

TEST(ParseRetryAfterTest, Table) {
  const absl::Time now = absl::FromUnixSeconds(1767225600);  // 2026-01-01
  struct Case {
    std::string value;
    std::optional<absl::Duration> want;
  };
  const std::vector<Case> kCases = {
      {"0", absl::ZeroDuration()},
      {"120", absl::Seconds(120)},
      {" 5 ", absl::Seconds(5)},
      {"-1", std::nullopt},
      {"1.5", std::nullopt},
      {"soon", std::nullopt},
      {"", std::nullopt},
      {"Thu, 01 Jan 2026 00:01:00 GMT", absl::Seconds(60)},
      {"Wed, 31 Dec 2025 23:00:00 GMT", absl::ZeroDuration()},
      {"Thu, 01 Jan 2026 00:01:00 PST", std::nullopt},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.value);
    EXPECT_EQ(ParseRetryAfter(c.value, now), c.want);
  }
}

}  // namespace
}  // namespace tqs1::http
