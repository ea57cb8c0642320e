# Sourced by the scripts that take what tools/package.sh and
# tools/container.sh put in dist/.
#
#   deb="$(dist_artifact package_test "${1:-}" 'tqs1_*_amd64.deb' package \
#     tools/package.sh)"

# dist_artifact SCRIPT GIVEN GLOB WHAT BUILDER: the absolute path of GIVEN
# when set, else of the newest dist/GLOB; none: "SCRIPT: no WHAT (build it
# with BUILDER)" on standard error, and a failure.
dist_artifact() {
  local script="$1" path="$2" glob="$3" what="$4" builder="$5"
  if [[ -z "${path}" ]]; then
    # shellcheck disable=SC2086 # GLOB is a pattern
    path="$(ls -t dist/${glob} 2>/dev/null | head -1)"
  fi
  if [[ -z "${path}" || ! -f "${path}" ]]; then
    echo "${script}: no ${what} (build it with ${builder})" >&2
    return 1
  fi
  realpath "${path}"
}

# The Debian 12 archive the package's roots are made from (mmdebstrap's
# mirror arguments).
# shellcheck disable=SC2034 # used by the scripts that source this file
debian_sources=(
  "deb http://deb.debian.org/debian bookworm main"
  "deb http://deb.debian.org/debian bookworm-updates main"
  "deb http://deb.debian.org/debian-security bookworm-security main"
)
