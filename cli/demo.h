// `tqs1 demo`: the main job end to end with no setup. Starts emulators of
// ThreatQ and SentinelOne on 127.0.0.1 with a seeded scenario, then runs the
// real plan and apply code against them over HTTP, as a user would:
//
//   $ tqs1 plan                      (a conflict with the old connector's rule)
//   $ tqs1 apply --auto-approve --adopt
//   ... the collection changes in ThreatQ ...
//   $ tqs1 plan                      (a few small updates, no reshuffling)
//   $ tqs1 apply --auto-approve
//   $ tqs1 plan --detailed-exitcode  (no changes)
#ifndef TQS1_CLI_DEMO_H_
#define TQS1_CLI_DEMO_H_

#include <cstdint>
#include <string>
#include <vector>

#include "cli/app.h"
#include "cli/args.h"
#include "providers/threatq/collection_read_builder.h"

namespace tqs1::cli {

// The seed of the demo's collection and of its changes.
inline constexpr uint64_t kDemoSeed = 20261128;

// The demo collection: about 12,000 indicators (IPv4, IPv6, CIDR blocks,
// duplicates, a few invalid values, other types, whitelisted ones), the
// same for the same seed.
std::vector<threatq::Indicator> DemoIndicators(uint64_t seed);

// Runs the demo; returns kExitOk when every step did what it should.
int RunDemo(const CommandLine& cl, const Io& io);

// `tqs1 check --demo`: the probes of `tqs1 check` (with --write-probe, the
// write probe too) against the demo's emulators, seeded as `tqs1 demo`
// starts them. Returns RunCheckCommand()'s code.
int RunCheckDemo(const CommandLine& cl, const Io& io);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_DEMO_H_
