// `tqs1 serve`: loads the config like plan/apply do, starts a Tqs1Server
// (cli/server/server.h) and runs until SIGTERM or SIGINT, then shuts down
// cleanly (an in-flight apply stops between two writes).
//
//   $ tqs1 serve -c /etc/tq_labs --interval 10m --apply
//         --token-file /etc/tq_labs/server.token
//         --metrics-listen 127.0.0.1:9464
//   tqs1 serve: listening on 127.0.0.1:50051; metrics on
//   http://127.0.0.1:9464/metrics
#ifndef TQS1_CLI_SERVER_SERVE_H_
#define TQS1_CLI_SERVER_SERVE_H_

#include "cli/app.h"
#include "cli/args.h"

namespace tqs1::server {

// Runs the server; returns kExitOk after a signal, kExitError when it
// cannot start (the error is printed).
int RunServe(const cli::CommandLine& cl, const cli::Io& io);

// `tqs1 drift` and `plan`/`apply` with --server: resolves the client
// options and dispatches to client.h's functions.
int RunClientCommand(const cli::CommandLine& cl, const cli::Io& io);

}  // namespace tqs1::server

#endif  // TQS1_CLI_SERVER_SERVE_H_
