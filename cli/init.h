// `tqs1 init`: the old connector's first-run flow, checked against both
// vendors before anything is written: it logs in to ThreatQ and lists the
// data collections, reads the SentinelOne sites, and lets the user pick
// from the lists; then writes the config and the two secrets, each
// readable only by its owner, in the config folder.
//
//   $ tqs1 init -c /etc/tq_labs
//   ThreatQ host (e.g. threatq.example.net): threatq.example.net
//   ...
//   Logged in to ThreatQ. Data collections:
//     1. Known C2 IPs
//   ThreatQ data collection (number or name): 1
//   ...
//   Wrote /etc/tq_labs/tqs1.yaml, ... (mode 0600).
#ifndef TQS1_CLI_INIT_H_
#define TQS1_CLI_INIT_H_

#include <string>

#include "absl/strings/string_view.h"
#include "cli/app.h"
#include "cli/args.h"

namespace tqs1::cli {

// Returns an exit code. In order:
// 1. Checks the folder (it exists, or its parent can take it; it can be
//    written; it holds no config or secret file of this instance) before
//    anything is asked: an error names the folder or the file.
// 2. Asks the ThreatQ host (UrlForTypedHost), client id, username and
//    password (hidden); logs in and lists the data collections the user
//    sees. A refused login is an error naming the host; nothing is written.
//    The collection is picked by number or exact name; an unknown name
//    prints near matches (case-insensitive, substring) and is asked again.
// 3. Asks the SentinelOne console and API token (hidden); lists the active
//    sites, numbered with their account, picked the same way. A name two
//    accounts share asks for a number and writes `site_id:`.
// 4. Writes the two secrets, then the config, each mode 0600.
int RunInit(const CommandLine& cl, const Io& io);

// The URL for a host typed at a prompt: as typed when it has a scheme;
// "http://" for a loopback host (127.0.0.0/8, ::1, localhost, with or
// without a port; a bare IPv6 address gets brackets), else "https://", as
// config::ValidateApiUrl() requires.
//   UrlForTypedHost("127.0.0.1:8443") == "http://127.0.0.1:8443"
//   UrlForTypedHost("::1")            == "http://[::1]"
//   UrlForTypedHost("tq.example.net") == "https://tq.example.net"
std::string UrlForTypedHost(absl::string_view typed);

}  // namespace tqs1::cli

#endif  // TQS1_CLI_INIT_H_
