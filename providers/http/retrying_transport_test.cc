#include "providers/http/retrying_transport.h"

#include <memory>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/strings/match.h"
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
    EXPECT_THAT(
        h.logger.Text(),
        HasSubstr("W rate limited (HTTP 429) on " + std::string(method) +
                  " https://tq.test/api/x, attempt 1 of 8; "
                  "Retry-After: \"7\"; retrying in 7s; body: empty"));
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
  options.initial_backoff = absl::Seconds(6);
  options.max_backoff = absl::Seconds(6);
  options.seed = 3;
  Harness h(options);
  h.fake->SetHandler([](const HttpRequest&) {
    return absl::StatusOr<HttpResponse>(Status(503));
  });
  absl::StatusOr<HttpResponse> result = h.transport->Send(Request("GET"));
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result->status, 503);
  // Jittered waits in [0, 6s]: stops before the sum passes 10s.
  absl::Duration slept;
  for (absl::Duration d : h.clock.Sleeps()) slept += d;
  EXPECT_LE(slept, absl::Seconds(10));
  EXPECT_EQ(h.fake->RequestCount(), h.clock.Sleeps().size() + 1);
  EXPECT_THAT(h.logger.Text(),
              HasSubstr("giving up on GET https://tq.test/api/x after HTTP "
                        "503: the retry deadline of 10s would pass"));
}

TEST(RetryingTransportTest, GivesUpOnA429WhenItsDeadlineWouldPass) {
  RetryOptions options;
  options.rate_limit_deadline = absl::Seconds(10);
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
              HasSubstr("W rate limited (HTTP 429) on GET "
                        "https://tq.test/api/x, attempt 2 of 8; Retry-After: "
                        "\"6\"; giving up: the 429 retry deadline of 10s "
                        "would pass; body: empty"));
}

RetryOptions NoJitter() {
  RetryOptions options;
  options.rate_limit_jitter = 0;
  options.max_rate_limit_attempts = 10;
  options.rate_limit_deadline = absl::Hours(1);
  return options;
}

TEST(RetryingTransportTest, TooManyRequestsWithoutRetryAfterBacksOffFrom5s) {
  Harness h(NoJitter());
  for (int i = 0; i < 7; ++i) h.fake->Enqueue(Status(429));
  h.fake->Enqueue(Status(200));
  absl::StatusOr<HttpResponse> response = h.transport->Send(Request("PUT"));
  ASSERT_TRUE(response.ok()) << response.status();
  EXPECT_EQ(response->status, 200);
  EXPECT_EQ(h.fake->RequestCount(), 8);
  EXPECT_THAT(
      h.clock.Sleeps(),
      ElementsAre(absl::Seconds(5), absl::Seconds(10), absl::Seconds(20),
                  absl::Seconds(40), absl::Seconds(60), absl::Seconds(60),
                  absl::Seconds(60)));
}

TEST(RetryingTransportTest, UnusableRetryAfterFallsBackToTheRateLimitBackoff) {
  Harness h(NoJitter());
  h.fake->Enqueue(Status(429, {{"Retry-After", "soon"}}));
  h.fake->Enqueue(Status(429, {{"Retry-After", "2"}}));  // honoured
  h.fake->Enqueue(Status(429, {{"Retry-After", "-3"}}));
  h.fake->Enqueue(Status(200));
  ASSERT_TRUE(h.transport->Send(Request("POST")).ok());
  // The doubling counts every 429 of the request, Retry-After or not.
  EXPECT_THAT(h.clock.Sleeps(), ElementsAre(absl::Seconds(5), absl::Seconds(2),
                                            absl::Seconds(20)));
  EXPECT_THAT(h.logger.Text(),
              HasSubstr("Retry-After: \"soon\" (not usable); retrying in 5s"));
}

TEST(RetryingTransportTest, RateLimitJitterIsUpwardOnlyAndSeeded) {
  // Randomized over seeds; a failure prints its seed.
  for (uint64_t seed = 1; seed <= 30; ++seed) {
    SCOPED_TRACE(absl::StrCat("seed=", seed));
    RetryOptions options;
    options.seed = seed;
    options.rate_limit_jitter = 0.5;
    options.rate_limit_deadline = absl::Hours(1);
    std::vector<absl::Duration> runs[2];
    for (auto& sleeps : runs) {
      Harness h(options);
      h.fake->SetHandler([](const HttpRequest&) {
        return absl::StatusOr<HttpResponse>(Status(429));
      });
      EXPECT_EQ(h.transport->Send(Request("DELETE"))->status, 429);
      EXPECT_EQ(h.fake->RequestCount(), 8);  // max_rate_limit_attempts
      sleeps = h.clock.Sleeps();
    }
    EXPECT_EQ(runs[0], runs[1]);
    const int floors[] = {5, 10, 20, 40, 60, 60, 60};
    ASSERT_EQ(runs[0].size(), 7u);
    for (size_t i = 0; i < runs[0].size(); ++i) {
      EXPECT_GE(runs[0][i], absl::Seconds(floors[i])) << i;
      EXPECT_LE(runs[0][i], absl::Seconds(floors[i]) * 1.5) << i;
    }
  }
}

TEST(RetryingTransportTest, TooManyRequestsHaveMoreAttemptsAndTimeThan5xx) {
  // The defaults: a 5xx stops at 5 attempts or 5 minutes, a 429 goes on.
  RetryOptions options;
  options.rate_limit_jitter = 0;
  options.initial_backoff = absl::Minutes(2);
  options.max_backoff = absl::Minutes(2);
  options.seed = 1;
  {
    SCOPED_TRACE("429, no Retry-After");
    Harness h(options);
    h.fake->SetHandler([](const HttpRequest&) {
      return absl::StatusOr<HttpResponse>(Status(429));
    });
    EXPECT_EQ(h.transport->Send(Request("PUT"))->status, 429);
    EXPECT_EQ(h.fake->RequestCount(), 8);
    absl::Duration slept;
    for (absl::Duration d : h.clock.Sleeps()) slept += d;
    EXPECT_EQ(slept, absl::Seconds(5 + 10 + 20 + 40 + 60 + 60 + 60));
    EXPECT_THAT(h.logger.Text(),
                HasSubstr("attempt 8 of 8; Retry-After: none; giving up: no "
                          "attempts left"));
  }
  {
    SCOPED_TRACE("429 with Retry-After past the 5xx deadline");
    Harness h(options);
    h.fake->SetHandler([](const HttpRequest&) {
      return absl::StatusOr<HttpResponse>(
          Status(429, {{"Retry-After", "110"}}));
    });
    EXPECT_EQ(h.transport->Send(Request("GET"))->status, 429);
    // 5 waits of 110s = 550s fit in 10 minutes, a sixth does not.
    EXPECT_EQ(h.fake->RequestCount(), 6);
    EXPECT_THAT(h.logger.Text(),
                HasSubstr("giving up: the 429 retry deadline of 10m would "
                          "pass"));
  }
  {
    SCOPED_TRACE("503");
    Harness h(options);
    h.fake->SetHandler([](const HttpRequest&) {
      return absl::StatusOr<HttpResponse>(Status(503));
    });
    EXPECT_EQ(h.transport->Send(Request("GET"))->status, 503);
    EXPECT_LE(h.fake->RequestCount(), 5);
    absl::Duration slept;
    for (absl::Duration d : h.clock.Sleeps()) slept += d;
    EXPECT_LE(slept, absl::Minutes(5));
  }
}

TEST(RetryingTransportTest, A429IsLoggedWithWhatItCarriedAndNoSecret) {
  Harness h(NoJitter());
  HttpResponse throttled = Status(429, {{"Content-Type", "text/html"}});
  throttled.body =
      "<html>\r\n<head><title>429 Too Many Requests</title></head>\n"
      "<body>\tslow down, ApiToken s1-t0ken-SECRET " +
      std::string(300, 'x') + "</body></html>";
  h.fake->Enqueue(throttled);
  h.fake->Enqueue(Status(200));
  HttpRequest request = Request("PUT");
  request.url = "https://s1.test/web/api/v2.1/firewall-control/42?apiToken=q5";
  request.headers.emplace_back("Authorization", "ApiToken s1-t0ken-SECRET");
  ASSERT_TRUE(h.transport->Send(request).ok());
  std::vector<std::string> lines = h.logger.Lines();
  ASSERT_EQ(lines.size(), 1u);
  const std::string want = absl::StrCat(
      "W rate limited (HTTP 429) on PUT "
      "https://s1.test/web/api/v2.1/firewall-control/42, attempt 1 of 10; "
      "Retry-After: none; retrying in 5s; body: ",
      throttled.body.size(),
      " bytes: <html> <head><title>429 Too Many Requests</title></head> "
      "<body> slow down, [redacted] x");
  EXPECT_EQ(lines[0].substr(0, want.size()), want);
  EXPECT_TRUE(absl::EndsWith(lines[0], "xxx...")) << lines[0];
  EXPECT_FALSE(h.logger.Contains("t0ken")) << lines[0];
  EXPECT_FALSE(h.logger.Contains("q5")) << lines[0];
}

TEST(RetryingTransportTest, OptionSecretsAreRedactedFromTheExcerpt) {
  RetryOptions options = NoJitter();
  options.secrets = {"hunter2"};
  Harness h(options);
  HttpResponse throttled = Status(429);
  throttled.body = R"({"errors":["password hunter2 tried too often"]})";
  h.fake->Enqueue(throttled);
  h.fake->Enqueue(Status(200));
  ASSERT_TRUE(h.transport->Send(Request("POST")).ok());
  EXPECT_THAT(h.logger.Text(),
              HasSubstr(R"(bytes: {"errors":["password [redacted] tried)"));
  EXPECT_FALSE(h.logger.Contains("hunter2"));
}

TEST(BodyExcerptTest, Table) {
  const std::vector<absl::string_view> secrets = {"s3cr3t"};
  struct Case {
    std::string body;
    size_t max_bytes;
    std::string want;
  };
  const std::vector<Case> kCases = {
      {"", 10, "empty"},
      {" \r\n\t ", 10, "5 bytes, all blank"},
      {"  a \n\n b  ", 10, "10 bytes: a b"},
      {"0123456789", 10, "10 bytes: 0123456789"},
      {"0123456789A", 10, "11 bytes: 0123456789..."},
      // Redacted before the cut: no prefix of the secret is left.
      {"0123456s3cr3t", 10, "13 bytes: 0123456[re..."},
      {"token=s3cr3t;", 40, "13 bytes: token=[redacted];"},
      // Never cut inside a UTF-8 sequence ("é" is two bytes).
      {"abcdefghi\xc3\xa9z", 10, "12 bytes: abcdefghi..."},
      // A long blank start: the scan may end inside a secret.
      {std::string(70000, ' ') + "s3cr3t", 200, "70006 bytes, mostly blank"},
  };
  for (const Case& c : kCases) {
    SCOPED_TRACE(c.body.substr(0, 40));
    EXPECT_EQ(BodyExcerpt(c.body, secrets, c.max_bytes), c.want);
  }
}

TEST(RequestSecretsTest, CredentialsOfHeadersAndQuery) {
  HttpRequest request;
  request.url =
      "https://h.test/api/token?grant_type=password&client_id=abc&"
      "access_token=a%2Bb";
  request.headers = {
      {"Authorization", "Basic aWQ6cGFzcw=="},  // id:pass
      {"Accept", "application/json"},
      {"X-Api-Key", "k1"},
      {"Cookie", "session=c00kie"},
  };
  EXPECT_THAT(RequestSecrets(request),
              ::testing::UnorderedElementsAre(
                  "Basic aWQ6cGFzcw==", "aWQ6cGFzcw==", "pass", "id:pass", "k1",
                  "session=c00kie", "a%2Bb", "a+b"));
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
