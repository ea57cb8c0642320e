#!/usr/bin/env bash
# Checks the layer rules of README.md ("Layout") over the whole dependency
# graph. Bazel visibility already refuses a forbidden direct dependency;
# this also catches one that comes in through another target. Prints each
# broken rule with the targets that break it and exits 1; exits 0 when
# every rule holds. Run by .ci/run; takes a few seconds.
set -euo pipefail
cd "$(dirname "$0")/.."

# What the first-party graph may contain besides the layer itself.
ours='(//... except //tools/sanitizers/...)'
broken=0

# rule DESCRIPTION QUERY: the QUERY must find nothing.
rule() {
  local found
  found="$(bazel query --noshow_progress --ui_event_filters=-info \
    "$2" 2>/dev/null)" || {
    echo "layers: query failed: $2" >&2
    exit 2
  }
  if [[ -n "${found}" ]]; then
    echo "layers: broken: $1:"
    sed 's/^/  /' <<<"${found}"
    broken=1
  fi
}

rule "the core (reconciler/) depends only on proto/ and base/" \
  "kind(cc_library, deps(kind(cc_library, //reconciler/...))) intersect
   ${ours} except (//proto/... + //base/... + //reconciler/...)"
rule "base/ depends on no other tqs1 package" \
  "kind(cc_library, deps(kind(cc_library, //base/...))) intersect
   ${ours} except //base/..."
rule "an edge (providers/, emulators/) never depends on the core" \
  "deps(kind(cc_library, //providers/... + //emulators/...))
   intersect //reconciler/..."
rule "an edge never depends on the use cases or the CLI" \
  "deps(kind(cc_library, //providers/... + //emulators/...))
   intersect (//sync/... + //cli/...)"
rule "sync/ sees the provider interfaces, never the clients" \
  "kind(cc_library, deps(kind(cc_library, //sync/...)) intersect
   //providers/...) except attr(visibility, '//:interface_users',
   //providers/...)"
rule "no provider library (tests aside) depends on the emulators" \
  "deps(attr(testonly, 0, kind(cc_library, //providers/...)))
   intersect //emulators/..."

if ((broken)); then exit 1; fi
echo "layers: every rule holds"
