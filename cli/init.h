// `tqs1 init`: the old connector's first-run flow. Asks for the ThreatQ host,
// client id, username and password (hidden), the SentinelOne console, API
// token (hidden), site and collection; writes the config and the two
// secrets, each readable only by its owner, in the config folder.
//
//   $ tqs1 init -c /etc/tq_labs
//   ThreatQ host: threatq.example.net
//   ...
//   Wrote /etc/tq_labs/tqs1.yaml (mode 0600).
#ifndef TQS1_CLI_INIT_H_
#define TQS1_CLI_INIT_H_

#include "cli/app.h"
#include "cli/args.h"

namespace tqs1::cli {

// Returns an exit code. Refuses to overwrite an existing config.
int RunInit(const CommandLine& cl, const Io& io);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_INIT_H_
