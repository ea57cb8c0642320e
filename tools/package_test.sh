#!/usr/bin/env bash
# Proves the Debian package on a machine that has never seen tqs1: makes a
# fresh Debian 12 root with mmdebstrap from the Debian archive (Essential
# and apt only), installs dist/tqs1_*.deb there with apt (so its Depends
# are complete), and inside it runs `tqs1 version`, `tqs1 demo`,
# `tqs1 check --help`, the old connector's name, and `check --config-only`
# as the tqs1 user on the example config; then `systemd-analyze verify`
# checks the installed units, and a purge removes the state and logs.
# Needs root (mmdebstrap --mode=root) and the Debian archive; about 30 s.
#
#   tools/package.sh && tools/package_test.sh [DEB]
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=tools/dist_lib.sh
. tools/dist_lib.sh
deb="$(dist_artifact package_test "${1:-}" 'tqs1_*_amd64.deb' package \
  tools/package.sh)"
version="$(dpkg-deb --field "${deb}" Version)"

work="$(mktemp -d /tmp/tqs1-package-test.XXXXXX)"
trap 'rm -rf "${work}"' EXIT

# What runs inside the fresh root, once the package is installed.
cat >"${work}/inside.sh" <<'INSIDE'
set -eu
version="$1"
fail() { echo "package_test: $*" >&2; exit 1; }
line="$(tqs1 version)"
case "${line}" in
  "tqs1 ${version} (commit "*) ;;
  *) fail "tqs1 version says \"${line}\", not version ${version}" ;;
esac
cd /tmp
tqs1 demo >demo.out 2>&1 || { cat demo.out; fail "tqs1 demo failed"; }
grep -q "in sync" demo.out || { cat demo.out; fail "tqs1 demo did not end in sync"; }
tqs1 check --help | grep -q "Usage: tqs1 check" || fail "tqs1 check --help"
tq-conn-sentinelone -h | grep -q "Usage: tq-conn-sentinelone" ||
  fail "tq-conn-sentinelone -h"
getent passwd tqs1 >/dev/null || fail "no tqs1 user"
for dir in /var/lib/tqs1 /var/log/tqs1; do
  [ "$(stat -c %U:%a "${dir}")" = "tqs1:750" ] ||
    fail "${dir} is $(stat -c %U:%a "${dir}"), not tqs1:750"
done
[ "$(stat -c %U:%G:%a /etc/tqs1)" = "root:tqs1:750" ] ||
  fail "/etc/tqs1 is $(stat -c %U:%G:%a /etc/tqs1), not root:tqs1:750"
# The example config, as the service user would load it.
install -m 0640 -g tqs1 /etc/tqs1/tqs1.yaml.example /etc/tqs1/tqs1.yaml
TQS1_THREATQ_PASSWORD=p TQS1_S1_TOKEN=t runuser -u tqs1 -- \
  tqs1 check --config-only -c /etc/tqs1 --state-dir /var/lib/tqs1 ||
  fail "check --config-only of the example config as user tqs1"
[ -f /usr/share/man/man1/tqs1.1.gz ] || fail "no man page"
[ -f /usr/share/bash-completion/completions/tqs1 ] || fail "no completion"
echo "package_test: inside the fresh root: version, demo, check, user, folders"
INSIDE

# Essential packages and apt only; apt installs the package and whatever
# its Depends bring from the archive. Then systemd joins (after the checks,
# so it cannot supply a library tqs1 forgot to depend on) and
# systemd-analyze verifies the installed units against that root: their
# binaries, users, folders and the targets they name.
units="tqs1.service tqs1-apply.service tqs1-apply.timer"
mmdebstrap --mode=root --variant=apt \
  --customize-hook="copy-in ${work}/inside.sh ${deb} /tmp" \
  --customize-hook="chroot \"\$1\" apt-get install -q -y /tmp/${deb##*/}" \
  --customize-hook="chroot \"\$1\" sh /tmp/inside.sh ${version}" \
  --customize-hook="chroot \"\$1\" apt-get install -q -y --no-install-recommends systemd >/dev/null" \
  --customize-hook="cd \"\$1\"/lib/systemd/system && systemd-analyze verify --man=no --root=\"\$1\" ${units}" \
  --customize-hook="echo package_test: systemd-analyze verify accepts ${units}" \
  --customize-hook="chroot \"\$1\" apt-get purge -q -y tqs1 >/dev/null" \
  --customize-hook="for d in var/lib/tqs1 var/log/tqs1 usr/bin/tqs1; do if [ -e \"\$1/\$d\" ]; then echo package_test: /\$d outlived the purge >&2; exit 1; fi; done" \
  bookworm "${work}/root" \
  "${debian_sources[@]}"
echo "package_test: ${deb##*/} installs on a fresh Debian 12 root and runs"
