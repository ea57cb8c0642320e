// A digest of a site's rules, so that a saved plan is applied only to the
// site it was computed from.
//
//   plan.set_observed_fingerprint(ObservedFingerprint(observed));
//   ...  // later, before applying a saved plan:
//   if (ObservedFingerprint(reread) != plan.observed_fingerprint()) refuse;
#ifndef TQS1_RECONCILER_FINGERPRINT_H_
#define TQS1_RECONCILER_FINGERPRINT_H_

#include <string>

#include "proto/state.pb.h"

namespace tqs1::reconciler {

// "sha256:<64 hex digits>" over the site id and every rule (all fields),
// rules taken in id order. Any change to any rule changes it; the order in
// which the API lists rules, a rule's OS types or its values (and how its
// values are split into host sets of one type) does not. Entries are
// hashed as text: "2001:DB8::1" and "2001:db8::1" differ.
std::string ObservedFingerprint(const tqs1::v1::ObservedState& observed);

}  // namespace tqs1::reconciler

#endif  // TQS1_RECONCILER_FINGERPRINT_H_
