#include "reconciler/fingerprint.h"

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
