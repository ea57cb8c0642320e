#!/usr/bin/env bash
# grafana-dashboard.json is a dashboard Grafana imports as meant: JSON,
# schemaVersion 36 or later, a Prometheus ${datasource} variable every panel
# and query uses, a `sync` variable from tqs1_sync_healthy, each panel with
# a title and a query, each query PromQL that parses. And every metric name
# the dashboard and tqs1.rules.yml use (queries and texts) is on the metrics
# page of a real `tqs1 serve --demo` after its first round.
#
#   dashboard_test.sh TQS1 SERVE_DEMO_SH DASHBOARD RULES
set -euo pipefail
tqs1="$1" dashboard="$3" rules="$4"
source "$2"
tmp="${TEST_TMPDIR}"
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}
promtool=/usr/bin/promtool
[[ -x "${promtool}" ]] || promtool="$(command -v promtool || true)"
if [[ -z "${promtool}" ]]; then
  echo "FAIL: promtool not found: install Debian's prometheus package (tools/setup.sh)"
  exit 1
fi

# 1. The dashboard's shape.
jq empty "${dashboard}" || { echo "FAIL: ${dashboard} is not JSON"; exit 1; }
jq -e '.schemaVersion >= 36' "${dashboard}" >/dev/null ||
  fail "schemaVersion $(jq .schemaVersion "${dashboard}") is below 36"
jq -e '[.templating.list[] | select(.name == "datasource" and
  .type == "datasource" and .query == "prometheus")] | length == 1' \
  "${dashboard}" >/dev/null || fail "no Prometheus variable named datasource"
jq -e '[.templating.list[] | select(.name == "sync" and .type == "query" and
  .query.query == "label_values(tqs1_sync_healthy, sync)" and
  .datasource.uid == "${datasource}")] | length == 1' "${dashboard}" \
  >/dev/null || fail "no variable sync from label_values(tqs1_sync_healthy, sync)"
while read -r problem; do
  fail "${problem}"
done < <(jq -r '.panels[] |
  (if (.title // "") == "" then "panel \(.id): no title" else empty end),
  (if ((.targets // []) | length) == 0 then "panel \(.id) \"\(.title)\": no target" else empty end),
  (if .datasource.uid != "${datasource}" then "panel \(.id) \"\(.title)\": datasource is not ${datasource}" else empty end),
  (.targets[]? | if (.expr // "") == "" then "panel \(.id) \"\(.title)\": target \(.refId) has no expr"
     elif .datasource.uid != "${datasource}" then "panel \(.id) \"\(.title)\": target \(.refId) datasource is not ${datasource}"
     else empty end)' "${dashboard}")
jq -e '[.panels[].id] | length == (unique | length)' "${dashboard}" >/dev/null ||
  fail "panel ids repeat"

# 2. Each query parses: the queries, with Grafana's variables replaced, as
# recording rules (YAML takes JSON) for promtool.
jq '{groups: [{name: "dashboard", rules: [.panels[] | .id as $id |
  .targets[] | {record: "dashboard:panel_\($id)_\(.refId)",
  expr: (.expr | gsub("\\$__(rate_interval|interval|range)"; "5m")
               | gsub("\\$\\{?sync(:[a-z]+)?\\}?"; ".*"))}]}]}' \
  "${dashboard}" >"${tmp}/queries.rules.json"
if jq -r '.groups[].rules[] | select(.expr | contains("$")) |
  "\(.record): a variable the test does not know: \(.expr)"' \
  "${tmp}/queries.rules.json" | grep .; then
  fail "queries use unknown variables"
fi
"${promtool}" check rules "${tmp}/queries.rules.json" >"${tmp}/check.out" 2>&1 ||
  fail "a dashboard query does not parse: $(cat "${tmp}/check.out")"

# 3. The metrics page after the demo's first round (scheduled at start;
# --interval 1h: no second one during the test). Bounded: 30 s.
start_demo_server "${tqs1}" --interval 1h --metrics-listen 127.0.0.1:0
url="$(sed -n 's/.*metrics on \(http:[^;]*\);.*/\1/p' "${tmp}/serve.out")"
[[ "${url}" == http://127.0.0.1:*/metrics ]] ||
  { echo "FAIL: no metrics address in:"; cat "${tmp}/serve.out"; exit 1; }
page="${tmp}/metrics.txt"
for _ in $(seq 1 300); do
  curl -sf "${url}" >"${page}" || true
  grep -qx 'tqs1_sync_observed{sync="demo"} 1' "${page}" && break
  sleep 0.1
done
grep -qx 'tqs1_sync_observed{sync="demo"} 1' "${page}" ||
  { echo "FAIL: no first round within 30 s; the page:"; cat "${page}"; exit 1; }

# 4. Names. On the page: each sample's name (what Prometheus stores: a
# histogram as NAME_bucket, NAME_sum, NAME_count). Used: every tqs1_ word
# of the rules file and of the dashboard.
grep -v '^#' "${page}" | sed 's/[{ ].*//' | sort -u >"${tmp}/on_page"
awk '$1 == "#" && $2 == "TYPE" && ($4 == "histogram" || $4 == "summary") {print $3}' \
  "${page}" | sort -u >"${tmp}/histograms"
used() { grep -oE '\btqs1_[a-z0-9_]+' "$1" | sort -u; }
for file in "${rules}" "${dashboard}"; do
  used "${file}" >"${tmp}/used"
  # An extraction that found nothing would pass.
  grep -qx tqs1_sync_healthy "${tmp}/used" ||
    fail "no tqs1_sync_healthy found in ${file}: the extraction is broken"
  before=${failures}
  while read -r name; do
    if grep -qx "${name}" "${tmp}/on_page"; then continue; fi
    if grep -qx "${name}" "${tmp}/histograms"; then
      fail "$(basename "${file}"): ${name} is a histogram: Prometheus has ${name}_bucket, _sum and _count, not ${name}"
    else
      fail "$(basename "${file}"): ${name} is not on the metrics page of tqs1 serve"
    fi
  done <"${tmp}/used"
  echo "$(basename "${file}"): $(wc -l <"${tmp}/used") metric names," \
    "$((failures - before)) not on the page"
done

if ((failures > 0)); then
  echo "${failures} failure(s); the metrics page was:"
  cat "${page}"
  exit 1
fi
echo PASS
