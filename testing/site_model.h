// Test helpers: build desired and observed states tersely, summarize plans
// as text, and replay a plan against an in-memory site one action at a time.
//
//   ObservedState site = Site({ManagedRule("1", "C (1)", {"192.0.2.1"})});
//   Plan plan = *ComputePlan(Desired("C", {"192.0.2.1", "192.0.2.2"}), site,
//                            {});
//   EXPECT_EQ(ActionsText(plan), "~ update C (1) +1");
//   SiteModel model(site);
//   ASSERT_TRUE(model.ApplyAll(plan).ok());
#ifndef TQS1_TESTING_SITE_MODEL_H_
#define TQS1_TESTING_SITE_MODEL_H_

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "proto/plan.pb.h"
#include "proto/state.pb.h"

namespace tqs1::reconciler::testing {

inline constexpr char kSiteId[] = "900000000000000001";

// A DesiredState for `collection` in site "HQ" with the given raw values.
tqs1::v1::DesiredState Desired(const std::string& collection,
                               const std::vector<std::string>& values);

// A site-scoped rule of the sync with the ownership marker (or without it).
tqs1::v1::Rule ManagedRule(const std::string& id, const std::string& name,
                           const std::vector<std::string>& values,
                           bool marked = true);

// A site-scoped rule that is not tqs1's.
tqs1::v1::Rule ForeignRule(const std::string& id, const std::string& name,
                           const std::vector<std::string>& values);

tqs1::v1::ObservedState Site(const std::vector<tqs1::v1::Rule>& rules);

// One line per action: "+ create C (1) +5", "~ update C (2) +1 -2",
// "- delete C (3) -4", joined by "\n".
std::string ActionsText(const tqs1::v1::Plan& plan);

// Every entry of a rule, in order.
std::vector<std::string> Entries(const tqs1::v1::Rule& rule);

// An in-memory site that plans are replayed against.
class SiteModel {
 public:
  explicit SiteModel(const tqs1::v1::ObservedState& observed);

  // Applies one action as the real apply step does (RuleAfter); creates get
  // fresh ids.
  absl::Status Apply(const tqs1::v1::Action& action);

  // Applies every action of `plan` in order, calling `after_each` (if set)
  // after each one; stops at the first error.
  absl::Status ApplyAll(
      const tqs1::v1::Plan& plan,
      const std::function<void(const tqs1::v1::Action&)>& after_each = {});

  const tqs1::v1::ObservedState& state() const { return state_; }

 private:
  tqs1::v1::ObservedState state_;
  int next_id_ = 1;
};

}  // namespace tqs1::reconciler::testing

#endif  // TQS1_TESTING_SITE_MODEL_H_
