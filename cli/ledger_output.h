// How the ledger's records read on the console and in JSON, for `tqs1
// history` and `tqs1 why`.
#ifndef TQS1_CLI_LEDGER_OUTPUT_H_
#define TQS1_CLI_LEDGER_OUTPUT_H_

#include <string>
#include <vector>

#include "absl/time/time.h"
#include "nlohmann/json.hpp"
#include "providers/ledger/ledger.h"

namespace tqs1::cli {

// "2026-12-03T19:40:12Z": seconds, UTC.
std::string LedgerTime(absl::Time t);

// `indicator 1207 "203.0.113.7" (IP Address, Active)`; parts the ledger
// does not know are left out.
std::string SourceText(const ledger::Source& source);
// SourceText() of each, joined by "; ".
std::string SourcesText(const std::vector<ledger::Source>& sources);

// `create rule "Known C2 IPs (2)" (id 1234): +5,000 -0` (and the first
// entries when there are few).
std::string WriteLine(const ledger::WriteRecord& write);

// `2026-12-03T19:40:12Z  apply 12 (sync "x", applied)  blocked
// 203.0.113.7 in rule "..." (id ...), from indicator ...`.
std::string HitLine(const ledger::ApplyRecord& apply,
                    const ledger::EntryHit& hit);

nlohmann::ordered_json SourceJson(const ledger::Source& source);
nlohmann::ordered_json ApplyJson(const ledger::ApplyRecord& apply);
nlohmann::ordered_json WriteJson(const ledger::WriteRecord& write);
nlohmann::ordered_json HitJson(const ledger::ApplyRecord& apply,
                               const ledger::EntryHit& hit);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_LEDGER_OUTPUT_H_
