#include "reconciler/fingerprint.h"

#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "gtest/gtest.h"
#include "testing/site_model.h"

namespace tqs1::reconciler {
namespace {

using testing::ManagedRule;
using testing::Site;

TEST(ObservedFingerprintTest, StableUnderListingOrder) {
  tqs1::v1::Rule a = ManagedRule("1", "C (1)", {"192.0.2.1"});
  tqs1::v1::Rule b = ManagedRule("2", "C (2)", {"192.0.2.2"});
  EXPECT_EQ(ObservedFingerprint(Site({a, b})),
            ObservedFingerprint(Site({b, a})));
}

// A console that lists a rule's values or OS types in another order has not
// changed the site: a saved plan still applies.
TEST(ObservedFingerprintTest, StableUnderValueAndOsTypeOrder) {
  tqs1::v1::Rule a =
      ManagedRule("1", "C", {"192.0.2.1", "192.0.2.2", "10.0.0.0/8"});
  a.clear_os_types();
  a.add_os_types(tqs1::v1::OS_TYPE_WINDOWS);
  a.add_os_types(tqs1::v1::OS_TYPE_LINUX);
  tqs1::v1::Rule b = a;
  b.clear_remote_hosts();
  tqs1::v1::HostSet* cidr = b.add_remote_hosts();
  cidr->set_type("cidr");
  cidr->add_values("10.0.0.0/8");
  tqs1::v1::HostSet* addresses = b.add_remote_hosts();
  addresses->set_type("addresses");
  addresses->add_values("192.0.2.2");
  addresses->add_values("192.0.2.1");
  b.clear_os_types();
  b.add_os_types(tqs1::v1::OS_TYPE_LINUX);
  b.add_os_types(tqs1::v1::OS_TYPE_WINDOWS);
  EXPECT_EQ(ObservedFingerprint(Site({a})), ObservedFingerprint(Site({b})));
  // A value that changes host type is a change.
  tqs1::v1::Rule c = b;
  c.mutable_remote_hosts(1)->set_type("cidr");
  EXPECT_NE(ObservedFingerprint(Site({c})), ObservedFingerprint(Site({b})));
}

// A plan file carries its site's fingerprint: a plan saved by an earlier
// tqs1 must still apply, so the digest of a site never changes between
// releases.
TEST(ObservedFingerprintTest, IsTheSameInEveryRelease) {
  tqs1::v1::Rule a = ManagedRule("1", "C (1)", {"192.0.2.1", "10.0.0.0/8"});
  tqs1::v1::Rule b = ManagedRule("2", "C (2)", {"2001:db8::1"});
  EXPECT_EQ(ObservedFingerprint(Site({a, b})),
            "sha256:"
            "282136084fd91d27d32e431be51f954a1fe7732ffd81ee6ec3f272f3cd407aa9");
  // Large enough to be hashed in several blocks, with a field longer than
  // a block.
  std::vector<std::string> values;
  for (int i = 0; i < 20000; ++i) {
    values.push_back(absl::StrCat("10.", i / 256, ".", i % 256, ".1"));
  }
  tqs1::v1::Rule c = ManagedRule("3", "C (3)", values);
  c.set_description(std::string(100000, 'd'));
  EXPECT_EQ(ObservedFingerprint(Site({a, b, c})),
            "sha256:"
            "b20fb040036fc2006842fdb67fa71b9fe2363d8d103366a2fb7abee1c4f5e59d");
}

TEST(ObservedFingerprintTest, ChangesWithAnyField) {
  const tqs1::v1::Rule base = ManagedRule("1", "C", {"192.0.2.1"});
  const std::string fp = ObservedFingerprint(Site({base}));
  struct Case {
    const char* name;
    std::function<void(tqs1::v1::Rule&)> edit;
  };
  const Case cases[] = {
      {"id", [](tqs1::v1::Rule& r) { r.set_id("2"); }},
      {"name", [](tqs1::v1::Rule& r) { r.set_name("C (1)"); }},
      {"description", [](tqs1::v1::Rule& r) { r.set_description("x"); }},
      {"enabled", [](tqs1::v1::Rule& r) { r.set_enabled(false); }},
      {"direction",
       [](tqs1::v1::Rule& r) { r.set_direction(tqs1::v1::DIRECTION_INBOUND); }},
      {"os types", [](tqs1::v1::Rule& r) { r.clear_os_types(); }},
      {"value",
       [](tqs1::v1::Rule& r) {
         r.mutable_remote_hosts(0)->set_values(0, "192.0.2.3");
       }},
      {"read only", [](tqs1::v1::Rule& r) { r.set_read_only(true); }},
      {"unreadable", [](tqs1::v1::Rule& r) { r.set_unreadable("odd"); }},
      {"value added",
       [](tqs1::v1::Rule& r) { r.mutable_remote_hosts(0)->add_values("::1"); }},
      // Field boundaries matter: moving a character between fields changes it.
      {"boundaries",
       [](tqs1::v1::Rule& r) {
         r.set_name("C[");
         r.set_description(r.description().substr(1));
       }},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    tqs1::v1::Rule edited = base;
    c.edit(edited);
    EXPECT_NE(ObservedFingerprint(Site({edited})), fp);
  }
  tqs1::v1::ObservedState other_site = Site({base});
  other_site.set_site_id("900000000000000002");
  EXPECT_NE(ObservedFingerprint(other_site), fp);
}

}  // namespace
}  // namespace tqs1::reconciler
