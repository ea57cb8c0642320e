// The two emulated vendors the soak and crash tests run against: a ThreatQ
// with one user and one (empty) collection, a SentinelOne with one site, and
// the small helpers both tests share.
//
//   absl::StatusOr<Vendors> v = StartVendors("pw", "token");
//   v->tq->SetIndicators(v->collection_id, AsIndicators(values));
#ifndef TQS1_TESTS_SOAK_VENDORS_H_
#define TQS1_TESTS_SOAK_VENDORS_H_

#include <cstdint>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "emulators/sentinelone_emulator.h"
#include "emulators/threatq_emulator.h"

namespace tqs1::soak {

inline constexpr char kSiteId[] = "1758952600032266153";
inline constexpr char kAccountId[] = "1286405255240245908";
inline constexpr char kCollection[] = "Known C2";
inline constexpr char kUser[] = "svc@example.net";

struct Vendors {
  std::unique_ptr<threatq::ThreatQEmulator> tq;
  std::unique_ptr<sentinelone::SentinelOneEmulator> s1;
  // The collection kCollection, empty at first.
  int collection_id = 0;
};

// Starts both emulators on loopback: user kUser with `password` and
// `client_id`, collection kCollection, site "HQ" (kSiteId) of account
// "Acme" (kAccountId), API token `token`.
absl::StatusOr<Vendors> StartVendors(const std::string& password,
                                     const std::string& client_id,
                                     const std::string& token);

// Active indicators of the type each value's shape calls for.
std::vector<threatq::Indicator> AsIndicators(
    const std::set<std::string>& values);

// The integer in environment variable `name`, or `fallback`.
int64_t EnvInt(const char* name, int64_t fallback);

}  // namespace tqs1::soak

#endif  // TQS1_TESTS_SOAK_VENDORS_H_
