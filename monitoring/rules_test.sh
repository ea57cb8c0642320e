#!/usr/bin/env bash
# tqs1.rules.yml loads (promtool check rules: syntax, templates, duplicate
# rules) and its alerts fire and stay quiet as tqs1.rules.test.yml says
# (promtool test rules); a rule changed against its test fails the test.
#
#   rules_test.sh RULES RULES_TEST
set -euo pipefail
rules="$1" tests="$2"
fail() { echo "FAIL: $*"; exit 1; }
promtool=/usr/bin/promtool
[[ -x "${promtool}" ]] || promtool="$(command -v promtool || true)"
[[ -n "${promtool}" ]] ||
  fail "promtool not found: install Debian's prometheus package (tools/setup.sh)"

"${promtool}" check rules "${rules}"
# rule_files in the test file names tqs1.rules.yml beside it.
"${promtool}" test rules "${tests}"

# The tests can fail: a Tqs1SyncFailing that fires on healthy syncs.
mkdir -p "${TEST_TMPDIR}/broken"
sed 's/tqs1_sync_healthy == 0/tqs1_sync_healthy == 1/' "${rules}" \
  >"${TEST_TMPDIR}/broken/tqs1.rules.yml"
cmp -s "${rules}" "${TEST_TMPDIR}/broken/tqs1.rules.yml" &&
  fail "no 'tqs1_sync_healthy == 0' in ${rules} to break"
cp "${tests}" "${TEST_TMPDIR}/broken/tqs1.rules.test.yml"
if "${promtool}" test rules "${TEST_TMPDIR}/broken/tqs1.rules.test.yml" >/dev/null 2>&1; then
  fail "the tests pass on a broken Tqs1SyncFailing"
fi
echo PASS
