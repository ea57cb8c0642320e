#!/usr/bin/env bash
# Installs every Debian package tqs1 needs to build, test and run on a fresh
# Debian 12 machine. Idempotent: packages already present are left alone.
#
#   tools/setup.sh          # as root; otherwise it runs apt-get through sudo
set -euo pipefail

packages=(
  # Build system: Bazel 4.2 (runs on the system JDK).
  bazel-bootstrap
  # Compiler and the model: protoc, gRPC's C++ plugin and runtime libraries.
  g++ protobuf-compiler protobuf-compiler-grpc libprotobuf-dev libgrpc++-dev
  # Abseil: Status/StatusOr, strings, containers, flags-free helpers.
  libabsl-dev
  # HTTP client for the vendor APIs.
  libcurl4-openssl-dev
  # HTTP server for the vendor emulators; OpenSSL for its optional HTTPS;
  # zlib for the gzip of their answers.
  libcpp-httplib-dev libssl-dev openssl zlib1g-dev
  # JSON for the vendors' wire formats; YAML for the config file.
  nlohmann-json3-dev libyaml-cpp-dev
  # sd_notify: `tqs1 serve` tells systemd it is ready, reloading, stopping,
  # and feeds its watchdog (Type=notify).
  libsystemd-dev
  libsqlite3-dev
  # Tests and benchmarks.
  libgtest-dev libgmock-dev libbenchmark-dev time
  # libFuzzer builds of tests/fuzz (tests/fuzz/run.sh).
  clang libclang-rt-14-dev
  # A gRPC client that is not tqs1's, in tests: cli/server/tools/grpc_probe.py
  # (reflection, health, GetDrift from descriptors the server sends).
  python3-grpcio python3-protobuf grpc-proto
  # The JSON Schemas of the machine output, checked against real documents
  # (docs/schema/schema_test.sh), and the README's jq examples.
  python3-jsonschema jq
  # The Debian package (tools/package.sh): dpkg-shlibdeps for its Depends,
  # lintian; its install test on a fresh root (tools/package_test.sh) and
  # systemd-analyze for its units; man for the man page's check.
  dpkg-dev lintian mmdebstrap systemd man-db
  # The monitoring's tests (monitoring/): promtool checks and unit-tests the
  # alert rules; curl fetches a real server's metrics page.
  prometheus curl
  # The container image (tools/container.sh) and its test
  # (tools/container_test.sh): umoci builds and unpacks OCI images, runc
  # runs them, skopeo reads the archive as podman and CRI-O would; YAML for
  # the manifests' test (deploy/manifests.py).
  umoci runc skopeo python3-yaml
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ((${#missing[@]} == 0)); then
  echo "setup: all ${#packages[@]} packages already installed"
  exit 0
fi

SUDO=""
if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
echo "setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q "${missing[@]}"
