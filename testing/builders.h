// The builders and ids every test shares: the site the tests sync to, a
// block rule of a list of addresses, and ThreatQ indicators of a list of
// values. No dependency on the core, the use cases or the CLI, so that
// providers' test libraries (the conformance suites) may use it too.
//
//   Rule hand_made = BlockRule("Block partner VPN", "made by hand",
//                              {"192.0.2.77", "198.51.100.9"});
//   fake.PutRule(kSiteId, hand_made);
//   source.SetCollection("Known C2", IpIndicators({"192.0.2.1",
//                                                  "10.0.0.0/24"}));
#ifndef TQS1_TESTING_BUILDERS_H_
#define TQS1_TESTING_BUILDERS_H_

#include <string>
#include <vector>

#include "proto/state.pb.h"
#include "providers/threatq/collection_read_builder.h"

namespace tqs1::testing {

// The SentinelOne site the tests sync to, and its account.
inline constexpr char kSiteId[] = "1758952600032266153";
inline constexpr char kSiteName[] = "HQ";
inline constexpr char kAccountId[] = "1286405255240245908";

// A block rule as a person or another tool makes it in the console: `name`,
// `description`, enabled, any direction, Windows, macOS and Linux, and one
// "addresses" host set holding `addresses` as given (CIDR blocks too; it is
// empty when `addresses` is). No id and no scope: the store assigns them.
tqs1::v1::Rule BlockRule(const std::string& name,
                         const std::string& description,
                         const std::vector<std::string>& addresses);

// Active indicators of the type each value looks like: "CIDR Block" with a
// '/', "IPv6 Address" with a ':', "IP Address" otherwise.
std::vector<threatq::Indicator> IpIndicators(
    const std::vector<std::string>& values);

}  // namespace tqs1::testing

#endif  // TQS1_TESTING_BUILDERS_H_
