#include "reconciler/format.h"

#include "absl/strings/str_cat.h"

namespace tqs1::reconciler {

std::string FormatCount(uint64_t n) {
  std::string digits = absl::StrCat(n);
  std::string out;
  for (size_t k = 0; k < digits.size(); ++k) {
    if (k > 0 && (digits.size() - k) % 3 == 0) out.push_back(',');
    out.push_back(digits[k]);
  }
  return out;
}

}  // namespace tqs1::reconciler
