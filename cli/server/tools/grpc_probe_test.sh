#!/usr/bin/env bash
# A client that is not tqs1's: grpc_probe.py (Debian's python3-grpcio,
# through server reflection) against `tqs1 serve --demo` with no schedule:
# lists the services, calls GetDrift with refresh (built from the
# descriptors the server sent), then finds the server ready.
#
#   grpc_probe_test.sh TQS1_BINARY GRPC_PROBE_PY SERVE_DEMO_SH
set -euo pipefail
tqs1="$1"
probe="$2"
source "$3"
start_demo_server "${tqs1}"

result="$(/usr/bin/python3 "${probe}" "${addr}" tqs1.ready --refresh)"
echo "${result}"
fail() { echo "FAIL: $*"; exit 1; }
grep -qF "'tqs1.v1.Tqs1'" <<<"${result}" || fail "reflection lists no tqs1.v1.Tqs1"
grep -qF "methods: ['Plan', 'Apply', 'GetDrift', 'WatchDrift']" <<<"${result}" ||
  fail "the methods"
# The refresh observed the demo site: when, and what is missing there.
grep -qF '"observedAt"' <<<"${result}" || fail "GetDrift with refresh did not observe"
grep -qE '"missing": "[1-9][0-9]*"' <<<"${result}" || fail "nothing missing on the demo site"
grep -qF "health('tqs1.ready'): SERVING" <<<"${result}" || fail "not ready after the refresh"
echo PASS
