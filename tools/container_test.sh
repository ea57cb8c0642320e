#!/usr/bin/env bash
# Proves the container image dist/tqs1_<version>_oci.tar offline: checks
# the archive (every blob's digest, the tag, skopeo reads it) and the
# image's config with jq (entrypoint, the default serve command, the
# non-root user, ports, the state volume, the OCI labels), unpacks it with
# umoci and checks the root (the package installed with its Depends, the
# user the manifests of deploy/kubernetes/ run as, no apt lists or caches),
# then runs it with runc as Kubernetes would: as that user, with no
# capabilities, a read-only root and a network namespace of its own
# (loopback only):
#   - `tqs1 version` (the commit of the revision label), `tqs1 demo`, and
#     the parser on the image's default command;
#   - the serve Deployment's args and environment with the ConfigMap
#     mounted as the kubelet lays it out, a TLS key pair made here and a
#     state volume: /healthz answers 200, /readyz 503 (no vendor can be
#     reached), /metrics and `tqs1 drift` over TLS with the token work,
#     the state folder gets its plan key (0600), and SIGTERM stops it;
#   - the apply CronJob's args on the same state volume: first while this
#     script holds the apply lock (it waits, gives up and writes nothing),
#     then alone: exit 1 (the vendors cannot be reached), its last-run
#     record written.
# Where runc cannot start containers (no cgroups or namespaces), the root is
# entered with chroot instead, for version and demo only, and it says so.
# Needs root, umoci, runc, skopeo, jq, openssl and python3-yaml; no
# network; about 20 s.
#
#   tools/container.sh && tools/container_test.sh [IMAGE]
set -euo pipefail
cd "$(dirname "$0")/.."

# shellcheck source=tools/dist_lib.sh
. tools/dist_lib.sh
image="$(dist_artifact container_test "${1:-}" 'tqs1_*_oci.tar' image \
  tools/container.sh)"
version="$(basename "${image}" | sed -nE 's/^tqs1_(.+)_oci\.tar$/\1/p')"
for tool in umoci runc skopeo jq openssl; do
  command -v "${tool}" >/dev/null ||
    { echo "container_test: ${tool} is missing (run tools/setup.sh)" >&2; exit 1; }
done

work="$(mktemp -d /tmp/tqs1-container-test.XXXXXX)"
containers=()
cleanup() {
  local id
  for id in "${containers[@]}"; do runc delete --force "${id}" >/dev/null 2>&1 || true; done
  rm -rf "${work}"
}
trap cleanup EXIT
fail() { echo "container_test: $*" >&2; exit 1; }
manifests() { /usr/bin/python3 deploy/manifests.py "$1" deploy/kubernetes "${@:2}"; }
layout="${work}/oci"
blob() { echo "${layout}/blobs/${1/://}"; }

# The archive: an OCI layout whose blobs are what their names say.
mkdir "${layout}"
tar -xf "${image}" -C "${layout}"
jq -e '.imageLayoutVersion == "1.0.0"' "${layout}/oci-layout" >/dev/null ||
  fail "no OCI layout in ${image}"
for file in "${layout}"/blobs/sha256/*; do
  [[ "$(sha256sum <"${file}" | cut -d' ' -f1)" == "${file##*/}" ]] ||
    fail "blob ${file##*/} does not match its digest"
done
manifest="$(jq -r --arg v "${version}" '.manifests[] |
  select(.annotations["org.opencontainers.image.ref.name"] == $v) | .digest' \
  "${layout}/index.json")"
[[ -n "${manifest}" ]] || fail "no image tagged ${version} in ${image}"
config="$(blob "$(jq -r .config.digest "$(blob "${manifest}")")")"

# The image's config: what a runtime starts, as whom, and what it says it is.
jq -e --arg v "${version}" '
  .architecture == "amd64" and .os == "linux" and
  .config.Entrypoint == ["/usr/bin/tqs1"] and
  .config.Cmd[0] == "serve" and
  .config.Cmd[(.config.Cmd | index("-c")) + 1] == "/etc/tqs1" and
  .config.Cmd[(.config.Cmd | index("--state-dir")) + 1] == "/var/lib/tqs1" and
  (.config.User | test("^[1-9][0-9]*:[1-9][0-9]*$")) and
  (.config.Volumes | keys) == ["/var/lib/tqs1"] and
  (.config.ExposedPorts | keys) == ["50051/tcp", "9464/tcp"] and
  .config.Labels["org.opencontainers.image.version"] == $v and
  (.config.Labels["org.opencontainers.image.revision"] | length) > 0 and
  (.config.Labels["org.opencontainers.image.source"] // "https://" |
    test("^[a-z+]+://"))' "${config}" >/dev/null ||
  fail "image config: $(jq -c '{architecture, os, config}' "${config}")"
jq -e --slurpfile config "${config}" '(.layers | length) == 1 and
  .annotations == $config[0].config.Labels' "$(blob "${manifest}")" >/dev/null ||
  fail "the manifest's layers or annotations: $(jq -c . "$(blob "${manifest}")")"
# What podman, CRI-O and skopeo use to read images (containers/image)
# reads this one.
[[ "$(skopeo inspect --format '{{.Digest}}' "oci-archive:${image}:${version}")" == "${manifest}" ]] ||
  fail "skopeo does not read ${image}:${version} as manifest ${manifest}"
user="$(jq -r .config.User "${config}")"
revision="$(jq -r '.config.Labels["org.opencontainers.image.revision"]' "${config}")"
echo "container_test: ${image##*/}: blobs, config (entrypoint, serve, user ${user}, ports, volume, labels), skopeo reads it"

# The root: the package and its Depends, its user, nothing of apt's.
umoci unpack --image "${layout}:${version}" "${work}/bundle" >/dev/null
rootfs="${work}/bundle/rootfs"
[[ "$(awk -F: '$1 == "tqs1" { print $3 ":" $4 }' "${rootfs}/etc/passwd")" == "${user}" ]] ||
  fail "the image's user ${user} is not tqs1 of its /etc/passwd"
read -r run_as_user run_as_group fs_group < <(manifests user)
[[ "${run_as_user}:${run_as_group}" == "${user}" && "${fs_group}" == "${user#*:}" ]] ||
  fail "deploy/kubernetes/ runs as ${run_as_user}:${run_as_group} (fsGroup" \
    "${fs_group}), the image as ${user}: change runAsUser/runAsGroup/fsGroup there"
[[ "$(chroot "${rootfs}" dpkg-query -W -f='${Status} ${Version}' tqs1)" == "install ok installed ${version}" ]] ||
  fail "tqs1 ${version} is not installed in the image"
[[ -z "$(chroot "${rootfs}" dpkg --audit)" ]] || fail "dpkg --audit: $(chroot "${rootfs}" dpkg --audit)"
[[ "$(stat -c %u:%g:%a "${rootfs}/var/lib/tqs1")" == "${user}:750" ]] ||
  fail "/var/lib/tqs1 is $(stat -c %u:%g:%a "${rootfs}/var/lib/tqs1"), not ${user}:750"
[[ -s "${rootfs}/etc/ssl/certs/ca-certificates.crt" ]] || fail "no CA certificates"
leftovers="$(cd "${rootfs}" && find var/lib/apt/lists var/cache/apt tmp -type f 2>/dev/null)"
[[ -z "${leftovers}" ]] || fail "apt lists, caches or build files are left: ${leftovers}"
echo "container_test: root (tqs1 ${version} and its Depends installed, user tqs1 ${user}, no apt lists or caches)"

# runc's config for one process of the image: as the image's user, no
# capabilities at all, a read-only root; `run_spec ARGS_JSON MOUNTS_JSON
# ENV_JSON` writes it.
bundle="${work}/bundle"
jq '.process.terminal = false | .root.readonly = true | .hostname = "tqs1" |
  .process.capabilities = {bounding: [], effective: [], inheritable: [],
    permitted: [], ambient: []}' "${bundle}/config.json" >"${work}/base.json"
run_spec() {
  jq --argjson args "$1" --argjson mounts "$2" --argjson env "$3" \
    '.process.args = $args | .mounts += $mounts | .process.env += $env' \
    "${work}/base.json" >"${bundle}/config.json"
}
next_id=0
# run_container OUT ARGS_JSON [MOUNTS_JSON ENV_JSON]: runs to its end,
# output in OUT; returns the process's exit code.
run_container() {
  local out="$1" id="tqs1-test-$$-$((next_id += 1))"
  run_spec "$2" "${3:-[]}" "${4:-[]}"
  containers+=("${id}")
  timeout 120 runc run --bundle "${bundle}" "${id}" </dev/null >"${out}" 2>&1
}
entrypoint_and() { jq -cn --args '["/usr/bin/tqs1"] + $ARGS.positional' "$@"; }
cmd="$(jq -c '.config.Entrypoint + .config.Cmd' "${config}")"

if ! run_container "${work}/version.out" "$(entrypoint_and version)" &&
  grep -q 'runc run failed' "${work}/version.out"; then
  echo "container_test: runc cannot start containers here: $(cat "${work}/version.out")"
  echo "container_test: checking version and demo by chroot as ${user} instead"
  as_user=(chroot --userspec="${user}" "${rootfs}")
  [[ "$("${as_user[@]}" /usr/bin/tqs1 version)" == "tqs1 ${version} (commit ${revision})" ]] ||
    fail "tqs1 version in the image"
  (cd "${rootfs}/tmp" && "${as_user[@]}" /usr/bin/tqs1 demo >"${work}/demo.out" 2>&1) ||
    { cat "${work}/demo.out"; fail "tqs1 demo failed in the image"; }
  grep -q "in sync" "${work}/demo.out" || fail "tqs1 demo did not end in sync"
  echo "container_test: ${image##*/} runs (by chroot; not as a container)"
  exit 0
fi
[[ "$(cat "${work}/version.out")" == "tqs1 ${version} (commit ${revision})" ]] ||
  fail "tqs1 version in the container says \"$(cat "${work}/version.out")\"," \
    "the revision label ${revision}"
run_container "${work}/id.out" '["/bin/sh", "-c", "id -u; id -g; grep ^CapEff /proc/self/status"]' ||
  fail "id in the container: $(cat "${work}/id.out")"
[[ "$(tr '\n' ' ' <"${work}/id.out")" =~ ^${user%:*}\ ${user#*:}\ CapEff:[[:space:]]+0+\ $ ]] ||
  fail "the container runs as $(tr '\n' ' ' <"${work}/id.out"), not ${user} without capabilities"
run_container "${work}/cmd.out" "$(jq -c '. + ["--help"]' <<<"${cmd}")" ||
  fail "tqs1 does not parse the image's command ${cmd}: $(cat "${work}/cmd.out")"
run_container "${work}/demo.out" "$(entrypoint_and demo)" ||
  { cat "${work}/demo.out"; fail "tqs1 demo failed in the container"; }
grep -q "in sync" "${work}/demo.out" || fail "tqs1 demo did not end in sync"
echo "container_test: runc, as ${user}, no capabilities, read-only root: version, the image's command parses, demo"

# The volumes of the manifests: the ConfigMap as the kubelet lays it out
# (tqs1.yaml -> ..data/tqs1.yaml -> ..<time>/tqs1.yaml, group fsGroup,
# 0440), the TLS Secret, and a fresh state volume after fsGroup (root's,
# group fsGroup, 2775).
gid="${user#*:}"
config_dir="${work}/volumes/config"
mkdir -p "${config_dir}/..2026_01_01_00_00_00.000000000" "${work}/volumes/tls" "${work}/volumes/state"
manifests config >"${config_dir}/..2026_01_01_00_00_00.000000000/tqs1.yaml"
ln -s ..2026_01_01_00_00_00.000000000 "${config_dir}/..data"
ln -s ..data/tqs1.yaml "${config_dir}/tqs1.yaml"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 \
  -subj /CN=tqs1-serve -addext "subjectAltName=DNS:tqs1-serve,IP:127.0.0.1" \
  -keyout "${work}/volumes/tls/tls.key" -out "${work}/volumes/tls/tls.crt" 2>/dev/null
chown -R "0:${gid}" "${work}/volumes"
chmod 0440 "${config_dir}"/..2026*/tqs1.yaml "${work}/volumes/tls/"*
chmod 2775 "${work}/volumes/state"
mounts="$(jq -cn --arg v "${work}/volumes" '[
  {destination: "/etc/tqs1", type: "bind", source: "\($v)/config", options: ["rbind", "ro"]},
  {destination: "/etc/tqs1-tls", type: "bind", source: "\($v)/tls", options: ["rbind", "ro"]},
  {destination: "/var/lib/tqs1", type: "bind", source: "\($v)/state", options: ["rbind", "rw"]}]')"
# env_of WORKLOAD: its environment (the Secret's example values) as JSON.
env_of() { manifests env "$1" | jq -Rnc '[inputs]'; }
args_of() { manifests args "$1" | jq -Rnc '["/usr/bin/tqs1"] + [inputs]'; }

# serve, as the Deployment runs it.
serve_id="tqs1-test-$$-serve"
run_spec "$(args_of serve)" "${mounts}" "$(env_of serve)"
containers+=("${serve_id}")
runc run --detach --bundle "${bundle}" "${serve_id}" </dev/null >"${work}/serve.out" 2>&1
for _ in $(seq 100); do
  grep -q "^tqs1 serve: listening on" "${work}/serve.out" && break
  runc state "${serve_id}" | jq -e '.status == "running"' >/dev/null ||
    { cat "${work}/serve.out"; fail "serve stopped at start"; }
  sleep 0.2
done
grep -q "^tqs1 serve: listening on" "${work}/serve.out" ||
  { cat "${work}/serve.out"; fail "serve did not start within 20 s"; }
grep -q "Warning: metrics on 0.0.0.0:9464 are served beyond loopback" "${work}/serve.out" ||
  fail "serve did not warn about its metrics on 0.0.0.0"
# http_get PATH: the answer of the metrics listener, from inside the pod.
http_get() {
  timeout 10 runc exec "${serve_id}" /bin/bash -c 'exec 3<>/dev/tcp/127.0.0.1/9464 &&
    printf "GET %s HTTP/1.0\r\nHost: tqs1\r\n\r\n" "$1" >&3 && cat <&3' bash "$1"
}
answer="$(http_get /healthz)"
[[ "${answer}" =~ ^HTTP/1.[01]\ 200 ]] || fail "/healthz: ${answer}"
answer="$(http_get /readyz)"
[[ "${answer}" =~ ^HTTP/1.[01]\ 503 ]] || fail "/readyz: ${answer}"
http_get /metrics >"${work}/metrics.out"
grep -q '^tqs1_build_info{' "${work}/metrics.out" || fail "/metrics has no tqs1_build_info"
drift=0
timeout 30 runc exec "${serve_id}" /usr/bin/tqs1 drift --server 127.0.0.1:50051 \
  --tls-ca /etc/tqs1-tls/tls.crt --token-env TQS1_SERVER_TOKEN >"${work}/drift.out" 2>&1 || drift=$?
grep -q "Known C2 IPs" "${work}/drift.out" && ((drift == 1)) ||
  { cat "${work}/drift.out"; fail "tqs1 drift over TLS with the token (exit ${drift})"; }
[[ "$(stat -c %u:%a "${work}/volumes/state/tqs1.plan-key")" == "${user%:*}:600" ]] ||
  fail "the plan key is $(stat -c %u:%a "${work}/volumes/state/tqs1.plan-key" 2>&1)"
runc kill "${serve_id}" TERM
for _ in $(seq 100); do
  runc state "${serve_id}" | jq -e '.status == "stopped"' >/dev/null && break
  sleep 0.2
done
runc state "${serve_id}" | jq -e '.status == "stopped"' >/dev/null || fail "serve ignored SIGTERM"
grep -q "^tqs1 serve: SIGTERM, stopping" "${work}/serve.out" || fail "serve did not say it stopped"
echo "container_test: serve as the Deployment runs it: /healthz 200, /readyz 503, /metrics, drift over TLS, plan key 0600, SIGTERM"

# The apply lock across the container's boundary, as between two pods of
# one node sharing the volume: while this script holds it, an apply in the
# container waits (here 1 s), gives up and writes nothing.
lock_file="${work}/volumes/state/tqs1.lock"
install -m 0644 -o "${user%:*}" -g "${gid}" /dev/null "${lock_file}"
exec {lock_fd}<"${lock_file}"
flock --nonblock "${lock_fd}"
locked=0
run_container "${work}/locked.out" "$(args_of apply | jq -c '. + ["--lock-timeout", "1s"]')" \
  "${mounts}" "$(env_of apply)" || locked=$?
exec {lock_fd}<&-
((locked == 1)) && grep -q "is held by another process: another tqs1 apply is running" \
  "${work}/locked.out" ||
  { cat "${work}/locked.out"; fail "an apply ran while the lock was held outside (exit ${locked})"; }
[[ ! -e "${work}/volumes/state/tqs1.last-run.json" ]] ||
  fail "the apply that did not get the lock wrote a last-run record"
echo "container_test: the apply lock on the state volume holds across the container's boundary"

# apply, as the CronJob runs it, on the same state volume.
apply=0
run_container "${work}/apply.out" "$(args_of apply)" "${mounts}" "$(env_of apply)" || apply=$?
((apply == 1)) || { cat "${work}/apply.out"; fail "apply exited ${apply}, not 1"; }
jq -e '.command == "apply" and .syncs[0].outcome == "SYNC_OUTCOME_FAILED"' \
  "${work}/volumes/state/tqs1.last-run.json" >/dev/null 2>&1 ||
  { cat "${work}/apply.out"; fail "apply's last-run record:" \
    "$(cat "${work}/volumes/state/tqs1.last-run.json" 2>&1)"; }
echo "container_test: apply as the CronJob runs it: exit 1 (no vendor reachable), last-run record written"
echo "container_test: ${image##*/} runs as its manifests say"
