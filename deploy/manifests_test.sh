#!/usr/bin/env bash
# The example Kubernetes manifests of deploy/kubernetes/: each file parses
# as YAML and holds the objects it should; the safety settings are there
# (concurrencyPolicy Forbid, one replica, Recreate, non-root, read-only
# root, no capabilities, seccomp, the probes' paths on the metrics port,
# the state volume mounted where --state-dir points); and the real binary
# parses every command line, documents each of its options for that
# command, and loads the ConfigMap's config with the pods' environment.
#
#   manifests_test.sh MANIFESTS_PY TQS1 FILE...   (the files of kubernetes/)
set -euo pipefail
manifests_py="$1" tqs1="$2"
exec /usr/bin/python3 "${manifests_py}" check "$(dirname "$3")" "${tqs1}"
