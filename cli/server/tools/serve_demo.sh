# Sourced by shell tests: starts `tqs1 serve --demo` on a free loopback
# port with no schedule, stops it when the test exits, and sets `addr` to
# the address it listens on (a bounded wait).
#
#   source serve_demo.sh
#   start_demo_server "${tqs1}" [SERVE_FLAG...]
#   "${tqs1}" drift --server "${addr}"
start_demo_server() {
  local tqs1="$1" out="${TEST_TMPDIR}/serve.out"
  shift
  "${tqs1}" serve --demo --listen 127.0.0.1:0 --interval 0s "$@" >"${out}" 2>&1 &
  demo_pid=$!
  trap 'kill -TERM "${demo_pid}" 2>/dev/null; wait "${demo_pid}" 2>/dev/null || true' EXIT
  for _ in $(seq 1 300); do
    grep -q 'listening on' "${out}" && break
    kill -0 "${demo_pid}" 2>/dev/null || { cat "${out}"; exit 1; }
    sleep 0.1
  done
  addr="$(sed -n 's/.*listening on \([^;]*\);.*/\1/p' "${out}")"
  [[ -n "${addr}" ]] || { echo "no address in:"; cat "${out}"; exit 1; }
}
