// The read-only ThreatQ probes of `tqs1 check`, one "threatq.*" line each:
//
//   threatq.token        the token answer (grant, token_type, expires_in,
//                        refresh_token); a refusal or a redirect is a FAIL
//                        and ends the ThreatQ probes
//   threatq.types        the indicator types; "IP Address" missing is a
//                        FAIL, "IPv6 Address" or "CIDR Block" a WARN
//   threatq.statuses     the statuses; a block_statuses entry the instance
//                        lacks is a WARN
//   threatq.collections  the saved searches: count, unnamed ones skipped
//   and per collection of the selected syncs:
//   threatq.collection   found by exact name, with its id and hash; missing
//                        (with near matches) or ambiguous is a FAIL
//   threatq.query        the first page of its real query: top-level keys,
//                        total, echoed limit, cursor paging, flat, nested or
//                        id-only rows
//   threatq.counts       that page's rows by type and status; a status
//                        outside block_statuses is a WARN (skipped by plans)
//
//   RunThreatQProbes(*backends.threatq_client, config.threatq(),
//                    {"Block - C2 IPs"}, report);
#ifndef TQS1_CLI_CHECK_THREATQ_PROBES_H_
#define TQS1_CLI_CHECK_THREATQ_PROBES_H_

#include <string>
#include <vector>

#include "cli/check/report.h"
#include "proto/config.pb.h"
#include "providers/threatq/threatq_client.h"

namespace tqs1::check {

// Adds the lines above to `report`; `collections` in order, each once.
void RunThreatQProbes(threatq::ThreatQClient& client,
                      const tqs1::v1::ThreatQConfig& config,
                      const std::vector<std::string>& collections,
                      CheckReport& report);

}  // namespace tqs1::check

#endif  // TQS1_CLI_CHECK_THREATQ_PROBES_H_
