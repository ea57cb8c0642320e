#include "testing/builders.h"

namespace tqs1::testing {

tqs1::v1::Rule BlockRule(const std::string& name,
                         const std::string& description,
                         const std::vector<std::string>& addresses) {
  tqs1::v1::Rule rule;
  rule.set_name(name);
  rule.set_description(description);
  rule.set_action(tqs1::v1::RULE_ACTION_BLOCK);
  rule.set_enabled(true);
  rule.set_direction(tqs1::v1::DIRECTION_ANY);
  rule.add_os_types(tqs1::v1::OS_TYPE_WINDOWS);
  rule.add_os_types(tqs1::v1::OS_TYPE_MACOS);
  rule.add_os_types(tqs1::v1::OS_TYPE_LINUX);
  tqs1::v1::HostSet* hosts = rule.add_remote_hosts();
  hosts->set_type("addresses");
  for (const std::string& a : addresses) hosts->add_values(a);
  return rule;
}

std::vector<threatq::Indicator> IpIndicators(
    const std::vector<std::string>& values) {
  std::vector<threatq::Indicator> indicators;
  indicators.reserve(values.size());
  for (const std::string& v : values) {
    const char* type = v.find('/') != std::string::npos   ? "CIDR Block"
                       : v.find(':') != std::string::npos ? "IPv6 Address"
                                                          : "IP Address";
    indicators.push_back({v, type, "Active"});
  }
  return indicators;
}

}  // namespace tqs1::testing
