// Fuzzes the address parser (reconciler/address.h). Each line of the input
// is parsed; for every prefix that parses, the canonical text must parse
// back to the same prefix and be a fixed point, AppendTo() must agree with
// ToString(), a prefix must contain itself; and SortPrefixes() must order
// the parsed prefixes exactly as std::sort does.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_split.h"
#include "absl/strings/string_view.h"
#include "reconciler/address.h"
#include "tests/fuzz/fuzz_target.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using tqs1::fuzz::Check;
  using tqs1::reconciler::IpPrefix;
  using tqs1::reconciler::ParseIpPrefix;
  std::vector<IpPrefix> parsed;
  for (absl::string_view line :
       absl::StrSplit(tqs1::fuzz::AsText(data, size), '\n')) {
    absl::StatusOr<IpPrefix> prefix = ParseIpPrefix(line);
    if (!prefix.ok()) {
      Check(prefix.status().code() == absl::StatusCode::kInvalidArgument,
            "parse errors are kInvalidArgument", prefix.status().ToString());
      Check(!prefix.status().message().empty(), "parse errors say why");
      continue;
    }
    const std::string text = prefix->ToString();
    std::string appended = "x";
    prefix->AppendTo(&appended);
    Check(appended == "x" + text, "AppendTo() == ToString()", text);
    absl::StatusOr<IpPrefix> again = ParseIpPrefix(text);
    Check(again.ok(), "canonical text parses", text);
    Check(*again == *prefix, "canonical text round-trips", text);
    Check(again->ToString() == text, "canonical text is a fixed point", text);
    Check(prefix->Contains(*prefix), "a prefix contains itself", text);
    Check(prefix->length() >= 0 && prefix->length() <= prefix->max_length(),
          "length in range", text);
    parsed.push_back(*prefix);
  }
  std::vector<IpPrefix> radix = parsed;
  tqs1::reconciler::SortPrefixes(radix);
  std::sort(parsed.begin(), parsed.end());
  Check(radix == parsed, "SortPrefixes() sorts like std::sort");
  return 0;
}
