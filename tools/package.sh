#!/usr/bin/env bash
# Builds the Debian package dist/tqs1_<version>_amd64.deb from this clone
# with Debian's own tools: Bazel builds the binary (the same optimized build
# the tests run), dpkg-shlibdeps works out Depends from the libraries it
# links, dpkg-deb builds the package, and lintian checks it (any error or
# warning fails the build; the package keeps none, so it ships no overrides).
#
#   tools/package.sh               # -> dist/tqs1_0.1.0_amd64.deb
#   apt install ./dist/tqs1_*.deb
#   systemctl enable --now tqs1-apply.timer
#
# The package's version is the binary's (cli/version.h), and must be the
# newest entry of packaging/changelog.
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

bazel build //cli:tqs1
binary="bazel-bin/cli/tqs1"
version="$("${binary}" version | awk '{print $2}')"
changelog_version="$(sed -nE '1s/^tqs1 \(([^)]+)\).*/\1/p' packaging/changelog)"
if [[ "${version}" != "${changelog_version}" ]]; then
  echo "package: the binary is version ${version}, packaging/changelog's" \
    "newest entry is ${changelog_version:-missing}: add an entry" >&2
  exit 1
fi
# Reproducible: every file dated by the last commit.
SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH

work="$(mktemp -d /tmp/tqs1-package.XXXXXX)"
trap 'rm -rf "${work}"' EXIT
root="${work}/root"

install -D -m 0755 "${binary}" "${root}/usr/bin/tqs1"
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
  "${root}/usr/bin/tqs1"
ln -s tqs1 "${root}/usr/bin/tq-conn-sentinelone"
for unit in tqs1.service tqs1-apply.service tqs1-apply.timer; do
  install -D -m 0644 "packaging/systemd/${unit}" \
    "${root}/lib/systemd/system/${unit}"
done
install -D -m 0644 packaging/tqs1.yaml.example \
  "${root}/etc/tqs1/tqs1.yaml.example"
install -D -m 0644 packaging/tqs1.logrotate "${root}/etc/logrotate.d/tqs1"
install -d -m 0755 "${root}/usr/share/man/man1"
gzip -9n <packaging/tqs1.1 >"${root}/usr/share/man/man1/tqs1.1.gz"
ln -s tqs1.1.gz "${root}/usr/share/man/man1/tq-conn-sentinelone.1.gz"
install -D -m 0644 packaging/tqs1.bash-completion \
  "${root}/usr/share/bash-completion/completions/tqs1"
ln -s tqs1 "${root}/usr/share/bash-completion/completions/tq-conn-sentinelone"
install -D -m 0644 packaging/copyright "${root}/usr/share/doc/tqs1/copyright"
gzip -9n <packaging/changelog >"${root}/usr/share/doc/tqs1/changelog.gz"

install -d -m 0755 "${root}/DEBIAN"
for script in postinst prerm postrm; do
  install -m 0755 "packaging/${script}" "${root}/DEBIAN/${script}"
done
printf '%s\n' /etc/tqs1/tqs1.yaml.example /etc/logrotate.d/tqs1 \
  >"${root}/DEBIAN/conffiles"

# dpkg-shlibdeps reads the package's name from a debian/control.
mkdir -p "${work}/src/debian"
printf 'Source: tqs1\n\nPackage: tqs1\nArchitecture: amd64\n' \
  >"${work}/src/debian/control"
# --warnings=1: only "symbol found in none of the libraries"; not the
# "useless dependency" notes for the Abseil libraries that the absl link
# group brings and the binary happens not to call.
shlibs="$(cd "${work}/src" &&
  dpkg-shlibdeps --warnings=1 -O "${root}/usr/bin/tqs1")"
shlibs="${shlibs#shlibs:Depends=}"
installed_size="$(du -sk --exclude=DEBIAN "${root}" | cut -f1)"
sed -e "s|@VERSION@|${version}|" -e "s|@INSTALLED_SIZE@|${installed_size}|" \
  -e "s|@SHLIBS_DEPENDS@|${shlibs}|" packaging/control.in \
  >"${root}/DEBIAN/control"
(cd "${root}" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
  LC_ALL=C sort -z | xargs -0 md5sum >DEBIAN/md5sums)
chmod 0644 "${root}/DEBIAN/md5sums" "${root}/DEBIAN/conffiles" \
  "${root}/DEBIAN/control"

mkdir -p dist
deb="dist/tqs1_${version}_amd64.deb"
dpkg-deb --root-owner-group -Zxz --build "${root}" "${deb}" >/dev/null
lintian --fail-on error,warning --info "${deb}"
echo "package: ${deb} ($(du -h "${deb}" | cut -f1)), version ${version}"
