#!/bin/sh
# Bazel's workspace status (--workspace_status_command in .bazelrc): the git
# commit tqs1 is built from, for `tqs1 version` and tqs1_build_info. Outside
# a git checkout (a source tarball) it is "unknown".
commit="$(git rev-parse --short=12 HEAD 2>/dev/null)" || commit=""
if [ -n "${commit}" ] && [ -n "$(git status --porcelain --untracked-files=no 2>/dev/null)" ]; then
  commit="${commit}-dirty"
fi
echo "STABLE_GIT_COMMIT ${commit:-unknown}"
