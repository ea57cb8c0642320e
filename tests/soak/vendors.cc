#include "tests/soak/vendors.h"

#include <cstdlib>

#include "absl/strings/numbers.h"

namespace tqs1::soak {

absl::StatusOr<Vendors> StartVendors(const std::string& password,
                                     const std::string& client_id,
                                     const std::string& token) {
  Vendors v;
  absl::StatusOr<std::unique_ptr<threatq::ThreatQEmulator>> tq =
      threatq::ThreatQEmulator::Start({});
  if (!tq.ok()) return tq.status();
  v.tq = *std::move(tq);
  v.tq->AddUser(kUser, password, client_id);
  v.collection_id = v.tq->AddCollection(kCollection, {});
  sentinelone::EmulatorOptions s1_options;
  s1_options.api_token = token;
  absl::StatusOr<std::unique_ptr<sentinelone::SentinelOneEmulator>> s1 =
      sentinelone::SentinelOneEmulator::Start(s1_options);
  if (!s1.ok()) return s1.status();
  v.s1 = *std::move(s1);
  v.s1->AddSite({kSiteId, "HQ", kAccountId, "Acme"});
  return v;
}

std::vector<threatq::Indicator> AsIndicators(
    const std::set<std::string>& values) {
  std::vector<threatq::Indicator> out;
  out.reserve(values.size());
  for (const std::string& v : values) {
    const char* type = v.find('/') != std::string::npos   ? "CIDR Block"
                       : v.find(':') != std::string::npos ? "IPv6 Address"
                                                          : "IP Address";
    out.push_back({v, type, "Active"});
  }
  return out;
}

int64_t EnvInt(const char* name, int64_t fallback) {
  const char* text = std::getenv(name);
  int64_t value = 0;
  if (text != nullptr && absl::SimpleAtoi(text, &value)) return value;
  return fallback;
}

}  // namespace tqs1::soak
