#!/usr/bin/env bash
# The JSON documents of a real `tqs1 serve --demo` against docs/schema/:
# the plan document (`plan --server --json`, the same renderer as `plan
# --json` and `--out`), the drift document (`drift --json`, after a
# refresh, and after a remote apply); a document with a count turned into a
# string must fail; and the README's jq one-liner works on the plan.
#
#   schema_test.sh TQS1 VALIDATE_PY PLAN_SCHEMA DRIFT_SCHEMA SERVE_DEMO_SH
set -euo pipefail
tqs1="$1" validate="$2" plan_schema="$3" drift_schema="$4"
tmp="${TEST_TMPDIR}"
fail() { echo "FAIL: $*"; exit 1; }
source "$5"
# Applies need the server's token.
printf 'schema-test-token\n' >"${tmp}/token"
chmod 600 "${tmp}/token"
start_demo_server "${tqs1}" --token-file "${tmp}/token"

# `plan --json` exits 0 with changes pending (no --detailed-exitcode).
"${tqs1}" plan --server "${addr}" --token-file "${tmp}/token" --json >"${tmp}/plan.json"
"${tqs1}" drift --server "${addr}" --token-file "${tmp}/token" --refresh --json >"${tmp}/drift.json" || [[ $? == 2 ]]
/usr/bin/python3 "${validate}" "${plan_schema}" "${tmp}/plan.json"
/usr/bin/python3 "${validate}" "${drift_schema}" "${tmp}/drift.json"
# After an apply the drift says what it wrote.
"${tqs1}" apply --server "${addr}" --token-file "${tmp}/token" --auto-approve >/dev/null
"${tqs1}" drift --server "${addr}" --token-file "${tmp}/token" --json >"${tmp}/applied.json"
/usr/bin/python3 "${validate}" "${drift_schema}" "${tmp}/applied.json"
jq -e '.syncs[0].in_sync and .syncs[0].last_apply.outcome == "applied" and
  .syncs[0].last_apply.rules_created > 0' "${tmp}/applied.json" >/dev/null ||
  fail "drift after an apply: $(cat "${tmp}/applied.json")"

# The plan says what a script checks first.
jq -e '.format_version == "2" and .applyable == true and .errored == false' \
  "${tmp}/plan.json" >/dev/null || fail "format_version/applyable/errored"
jq -e '[.plans[].actions[].kind] | index("create") != null' "${tmp}/plan.json" \
  >/dev/null || fail "no create action in the demo plan"
# The README's one-liner: the syncs with changes, and how many addresses.
summary="$(jq -r '.plans[] | select(.summary.in_sync | not) |
  "\(.sync_name): +\(.summary.newly_blocked) -\(.summary.unblocked)"' "${tmp}/plan.json")"
[[ "${summary}" =~ ^demo:\ \+[1-9][0-9]*\ -[0-9]+$ ]] || fail "jq summary: ${summary}"

# The schema can fail: a count as a string, an unknown enum word.
jq '.plans[0].summary.addresses_added = "20"' "${tmp}/plan.json" >"${tmp}/bad1.json"
jq '.plans[0].actions[0].kind = "ACTION_KIND_CREATE"' "${tmp}/plan.json" >"${tmp}/bad2.json"
for bad in bad1 bad2; do
  if /usr/bin/python3 "${validate}" "${plan_schema}" "${tmp}/${bad}.json"; then
    fail "${bad}.json passed the schema"
  fi
done
echo PASS
