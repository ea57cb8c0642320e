#!/usr/bin/env bash
# A client that is not tqs1's: grpc_probe.py (Debian's python3-grpcio,
# through server reflection) against `tqs1 serve --demo` with no schedule:
# lists the services, calls GetDrift with refresh (built from the
# descriptors the server sent), then finds the server ready.
#
#   grpc_probe_test.sh TQS1_BINARY GRPC_PROBE_PY
set -euo pipefail
tqs1="$1"
probe="$2"
out="${TEST_TMPDIR}/serve.out"

"${tqs1}" serve --demo --listen 127.0.0.1:0 --interval 0s >"${out}" 2>&1 &
pid=$!
trap 'kill -TERM "${pid}" 2>/dev/null; wait "${pid}" 2>/dev/null || true' EXIT

# Bounded wait for the bound address.
for _ in $(seq 1 300); do
  grep -q 'listening on' "${out}" && break
  kill -0 "${pid}" 2>/dev/null || { cat "${out}"; exit 1; }
  sleep 0.1
done
addr="$(sed -n 's/.*listening on \([^;]*\);.*/\1/p' "${out}")"
[[ -n "${addr}" ]] || { echo "no address in:"; cat "${out}"; exit 1; }

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
