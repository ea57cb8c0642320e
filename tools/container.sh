#!/usr/bin/env bash
# Builds the container image dist/tqs1_<version>_oci.tar (an OCI image
# archive) from the Debian package, with Debian's own tools and nothing
# but the Debian archive: mmdebstrap makes a minimal Debian 12 root
# (Essential and apt, merged /usr without the usrmerge package, no man
# pages, docs or locales), apt installs dist/tqs1_*.deb there (so its
# Depends are complete, as tools/package_test.sh proves them) with
# ca-certificates for the vendors' TLS, and umoci turns the root into a
# one-layer image: entrypoint /usr/bin/tqs1, the package's user tqs1 (by
# number, for runAsNonRoot), `serve` by default, the state volume and the
# OCI labels. Reproducible for the same archive content: every date is the
# last commit's (SOURCE_DATE_EPOCH), and nothing of the build host is kept.
# Needs root (mmdebstrap --mode=root; umoci keeps file owners) and the
# Debian archive; about 40 s, most of it downloading packages.
#
#   tools/package.sh && tools/container.sh [DEB]
#   tools/container_test.sh                      # runs it (runc)
#   skopeo copy oci-archive:dist/tqs1_0.1.0_oci.tar:0.1.0 \
#     docker://registry.example.net/tqs1:0.1.0
#   podman load -i dist/tqs1_0.1.0_oci.tar
#
# The image's default command serves gRPC on 0.0.0.0:50051, which tqs1
# allows only with TLS and a token: mount a key pair at /etc/tqs1-tls/
# (tls.crt, tls.key), set TQS1_SERVER_TOKEN, the config at /etc/tqs1 and a
# volume at /var/lib/tqs1 (deploy/README.md, deploy/kubernetes/).
#
#   TQS1_IMAGE_SOURCE=URL   the org.opencontainers.image.source label
#                           (default: the git remote "origin", if any)
#   TQS1_DEB_CACHE=DIR      the .debs of the last build, offered to apt
#                           (default: ~/.cache/tqs1-debs)
set -euo pipefail
cd "$(dirname "$0")/.."
umask 022

# shellcheck source=tools/dist_lib.sh
. tools/dist_lib.sh
deb="$(dist_artifact container "${1:-}" 'tqs1_*_amd64.deb' package \
  tools/package.sh)"
version="$(dpkg-deb --field "${deb}" Version)"
for tool in mmdebstrap umoci jq; do
  command -v "${tool}" >/dev/null ||
    { echo "container: ${tool} is missing (run tools/setup.sh)" >&2; exit 1; }
done

# Reproducible: every date is the last commit's.
SOURCE_DATE_EPOCH="$(git log -1 --format=%ct 2>/dev/null || date +%s)"
export SOURCE_DATE_EPOCH
created="$(date -u -d "@${SOURCE_DATE_EPOCH}" +%Y-%m-%dT%H:%M:%SZ)"
cache="${TQS1_DEB_CACHE:-${XDG_CACHE_HOME:-${HOME}/.cache}/tqs1-debs}"
source_url="${TQS1_IMAGE_SOURCE:-$(git remote get-url origin 2>/dev/null || true)}"
# Never a credential in a label: drop any user:password@ of the URL.
source_url="$(sed -E 's|^([a-z+]+://)[^/@]*@|\1|' <<<"${source_url}")"
# Only a URL others can follow: not a path of the machine that built it.
[[ "${source_url}" =~ ^https?:// ]] || source_url=""

work="$(mktemp -d /tmp/tqs1-container.XXXXXX)"
trap 'rm -rf "${work}"' EXIT
layout="${work}/oci"
bundle="${work}/bundle"
rootfs="${bundle}/rootfs"

# An empty image, unpacked: its rootfs/ is where the Debian root is made,
# and `umoci repack` turns what is there into the image's layer.
umoci init --layout "${layout}"
umoci new --image "${layout}:${version}"
umoci unpack --image "${layout}:${version}" "${bundle}" >/dev/null

# Debian 12 with apt (apt installs the package and its Depends), no
# documentation but the copyright files (as debian:bookworm-slim), and
# ca-certificates: libcurl verifies the vendors against it, and it is only
# a Recommends of libcurl4. The .debs of the last build are offered to apt
# (which checks each against the archive's index, downloading only what
# changed) and the cache keeps this build's.
mkdir -p "${cache}"
mmdebstrap --mode=root --variant=apt --quiet --skip=essential/unlink \
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr \
  --setup-hook='mkdir -p "$1"/var/cache/apt/archives' \
  --setup-hook="sync-in ${cache} /var/cache/apt/archives" \
  --dpkgopt='path-exclude=/usr/share/doc/*' \
  --dpkgopt='path-include=/usr/share/doc/*/copyright' \
  --dpkgopt='path-exclude=/usr/share/man/*' \
  --dpkgopt='path-exclude=/usr/share/info/*' \
  --dpkgopt='path-exclude=/usr/share/locale/*' \
  --dpkgopt='path-exclude=/usr/share/groff/*' \
  --dpkgopt='path-exclude=/usr/share/lintian/*' \
  --customize-hook="copy-in ${deb} /tmp" \
  --customize-hook="chroot \"\$1\" apt-get install -q -y --no-install-recommends /tmp/${deb##*/} ca-certificates >/dev/null" \
  --customize-hook="rm \"\$1\"/tmp/${deb##*/}" \
  --customize-hook='chroot "$1" apt-get autoclean -q >/dev/null' \
  --customize-hook="sync-out /var/cache/apt/archives ${work}/debs" \
  bookworm "${rootfs}" \
  "${debian_sources[@]}"

find "${cache}" -maxdepth 1 -name '*.deb' -delete
cp -p "${work}"/debs/*.deb "${cache}/"

# What the image must not carry: the build host's resolver and name (a
# runtime mounts its own), apt's lists and caches, logs and backups of the
# install, device nodes (a runtime makes /dev).
: >"${rootfs}/etc/resolv.conf"
: >"${rootfs}/etc/hostname"
rm -rf "${rootfs:?}"/var/lib/apt/lists/* "${rootfs:?}"/var/cache/apt/* \
  "${rootfs:?}"/var/cache/debconf/*-old "${rootfs:?}"/var/lib/dpkg/*-old \
  "${rootfs:?}"/var/log/apt/* "${rootfs:?}"/var/cache/ldconfig/aux-cache \
  "${rootfs:?}"/dev/*
find "${rootfs}/var/log" -maxdepth 1 -type f -delete
# Every file dated no later than the last commit.
find "${rootfs}" -newermt "@${SOURCE_DATE_EPOCH}" -print0 |
  xargs -0r touch --no-dereference --date="@${SOURCE_DATE_EPOCH}"

# The package's system user, by number: Kubernetes checks runAsNonRoot
# only against a numeric user.
user="$(awk -F: '$1 == "tqs1" { print $3 ":" $4 }' "${rootfs}/etc/passwd")"
if [[ ! "${user}" =~ ^[1-9][0-9]*:[1-9][0-9]*$ ]]; then
  echo "container: the package made no tqs1 user (got \"${user}\")" >&2
  exit 1
fi
# The revision the binary was built from, as `tqs1 version` says it.
revision="$(chroot "${rootfs}" /usr/bin/tqs1 version |
  sed -nE 's/^tqs1 [^ ]+ \(commit ([^)]+)\)$/\1/p')"
if [[ -z "${revision}" ]]; then
  echo "container: cannot read the commit from tqs1 version" >&2
  exit 1
fi

umoci repack --image "${layout}:${version}" --history.created "${created}" \
  --history.created_by "tools/container.sh: Debian 12 (bookworm) + ${deb##*/}" \
  "${bundle}"

labels=(
  "org.opencontainers.image.title=tqs1"
  "org.opencontainers.image.description=keeps SentinelOne firewall block rules equal to ThreatQ collections"
  "org.opencontainers.image.version=${version}"
  "org.opencontainers.image.revision=${revision}"
  "org.opencontainers.image.created=${created}"
  "org.opencontainers.image.base.name=debian:bookworm"
)
if [[ -n "${source_url}" ]]; then
  labels+=("org.opencontainers.image.source=${source_url}")
fi
config=(
  --created "${created}" --author "tqs1 maintainers <tqs1@packages.invalid>"
  --architecture amd64 --os linux
  --config.user "${user}"
  --config.env "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
  --config.entrypoint /usr/bin/tqs1
  --config.exposedports 50051/tcp --config.exposedports 9464/tcp
  --config.volume /var/lib/tqs1
  --config.stopsignal SIGTERM
)
# serve, as tqs1.service runs it, but for a container: gRPC and metrics on
# every address of its own network namespace (gRPC with TLS and a token,
# which tqs1 requires there), logs on standard error.
for arg in serve -c /etc/tqs1 --state-dir /var/lib/tqs1 \
  --listen 0.0.0.0:50051 --tls-cert /etc/tqs1-tls/tls.crt \
  --tls-key /etc/tqs1-tls/tls.key --token-env TQS1_SERVER_TOKEN \
  --metrics-listen 0.0.0.0:9464 -v 2; do
  config+=(--config.cmd "${arg}")
done
for label in "${labels[@]}"; do
  config+=(--config.label "${label}" --manifest.annotation "${label}")
done
umoci config --image "${layout}:${version}" --no-history "${config[@]}"
umoci gc --layout "${layout}"

# The archive: the image layout, in a fixed order with fixed owners, modes
# and dates.
mkdir -p dist
image="dist/tqs1_${version}_oci.tar"
tar --create --file "${work}/image.tar" --directory "${layout}" \
  --format=ustar --sort=name --mtime="@${SOURCE_DATE_EPOCH}" \
  --owner=0 --group=0 --numeric-owner --mode='u=rwX,go=rX' \
  oci-layout index.json blobs
mv "${work}/image.tar" "${image}"
digest="$(jq -r '.manifests[0].digest' "${layout}/index.json")"
echo "container: ${image} ($(du -h "${image}" | cut -f1)), version ${version}" \
  "(commit ${revision}), user ${user}, manifest ${digest}"
