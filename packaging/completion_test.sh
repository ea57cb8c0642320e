#!/usr/bin/env bash
# The bash completion of tqs1 and tq-conn-sentinelone, called the way bash
# calls it on <TAB>: commands, each command's options, option values, the
# --sync names of the config the line names; and each command's options
# against its help text (`tqs1 help COMMAND`), both ways.
#
#   completion_test.sh COMPLETION_SCRIPT TQS1
set -uo pipefail
script="$1" tqs1="$2"
tmp="${TEST_TMPDIR}"
export HOME="${HOME:-${tmp}}"
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# shellcheck source=/dev/null
source "${script}" || fail "sourcing ${script}"
func="$(complete -p tqs1 2>/dev/null | sed -n 's/.*-F \([^ ]*\) .*/\1/p')"
[[ -n "${func}" ]] || {
  echo "FAIL: ${script} registers no completion function for tqs1"
  exit 1
}
[[ "$(complete -p tq-conn-sentinelone 2>/dev/null)" == *"-F ${func} "* ]] ||
  fail "tq-conn-sentinelone does not complete with ${func}"

# Sets COMPREPLY for the words "$@", the last being the word under the
# cursor, as bash does for <TAB> at the end of the line.
complete_words() {
  COMP_WORDS=("$@")
  COMP_CWORD=$(($# - 1))
  COMP_LINE="$*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  "${func}" "$1" "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]:-}"
}

# expect "LINE" [WANT...]: completing LINE (split at spaces; a trailing
# space means an empty word under the cursor) offers exactly WANT..., in
# any order.
expect() {
  local line="$1" words=()
  shift
  read -ra words <<<"${line}"
  [[ "${line}" == *" " ]] && words+=("")
  complete_words "${words[@]}"
  local got want
  got="$(printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort | tr '\n' ' ')"
  want="$(printf '%s\n' "$@" | sed '/^$/d' | sort | tr '\n' ' ')"
  if [[ "${got}" != "${want}" ]]; then
    fail "completing \"${line}\":"$'\n'"  expected: ${want}"$'\n'"  got:      ${got}"
  fi
}

# A config with two syncs, and what a parser must skip: comments, quotes,
# a nested name-like value, a nested list, a top-level key after syncs.
etc="${tmp}/etc"
mkdir -p "${etc}/state" "${tmp}/cwd"
touch "${etc}/some-file"
cat >"${etc}/tqs1.yaml" <<'EOF'
threatq:
  url: https://threatq.example.net
  client_id: "abc"
  username: svc-tqs1@example.net
  password_env: TQS1_THREATQ_PASSWORD
sentinelone:
  url: https://usea1.sentinelone.net
  api_token_env: TQS1_S1_TOKEN
syncs:
  # The first one.
  - name: known-c2
    collection: "Known C2 IPs"
    site: "HQ"
    rule:
      description: "name: not-a-sync"
      os_types:
      - windows
  - collection: 'Tor ''exit'' nodes'
    name: "tor-exits"   # a comment
    site_id: "1234567890"
refuse: [private]
EOF
# Syncs without a name: tqs1 names them "COLLECTION -> SITE" (as `tqs1
# init` writes them).
cat >"${etc}/prod.yaml" <<'EOF'
syncs:
- collection: "Known C2 IPs"
  site: "HQ"
- collection: Scanners
  site_id: "42"
- collection: Scanners
  account_scope: ACME
- collection: Scanners
  global: true
- collection: Scanners
  site: HQ
  group: "Lab 2"
EOF
# An entry of several sites: its name selects them all.
cat >"${etc}/fleet.yaml" <<'EOF'
syncs:
  - collection: C2
    sites: [HQ, "Branch 2"]
  - name: scanners
    collection: Scanners
    account: ACME
    sites:
      - HQ
      - Lab   # a comment
    rule:
      enabled: true
EOF
printf 'syncs:\n  - name: from-cwd\n    collection: x\n    site: y\n' >"${tmp}/cwd/tqs1.yaml"

expect "tqs1 pl" plan
expect "tqs1 plan --sy" --sync
expect "tqs1 plan -c ${etc} --sync " known-c2 tor-exits
expect "tqs1 plan -c ${etc} --sync t" tor-exits
expect "tqs1 plan -c ${etc} --sync known-c2 --sync " known-c2 tor-exits
expect "tqs1 -c ${etc} apply --sync k" known-c2
expect "tqs1 apply --config=${etc}/tqs1.yaml --sync " known-c2 tor-exits
expect "tqs1 check --config=${etc} --sync=k" --sync=known-c2
expect "tqs1 plan --config=${etc} --sync=t" --sync=tor-exits
# Bash splits "--config=DIR" at "=" (COMP_WORDBREAKS).
expect "tqs1 plan --config = ${etc} --sync " known-c2 tor-exits
expect "tqs1 plan -c ${etc} -n prod --sync " 'Known\ C2\ IPs\ -\>\ HQ' \
  'Scanners\ -\>\ account\ ACME' 'Scanners\ -\>\ global' \
  'Scanners\ -\>\ site\ 42' 'Scanners\ -\>\ HQ\ group\ Lab\ 2'
expect "tqs1 plan -c ${etc}/prod.yaml --sync S" 'Scanners\ -\>\ account\ ACME' \
  'Scanners\ -\>\ global' 'Scanners\ -\>\ site\ 42' \
  'Scanners\ -\>\ HQ\ group\ Lab\ 2'
expect "tqs1 plan -c ${etc}/fleet.yaml --sync " C2 'C2\ -\>\ HQ' \
  'C2\ -\>\ Branch\ 2' scanners 'scanners\ -\>\ ACME/HQ' \
  'scanners\ -\>\ ACME/Lab'
expect "tqs1 plan -c ${tmp}/nowhere --sync "
if [[ ! -e /etc/tqs1/tqs1.yaml && ! -e /etc/tqs1/tqs1.yml ]]; then
  # No -c: /etc/tqs1/tqs1.yaml, then ./tqs1.yaml.
  cd "${tmp}/cwd" || exit 1
  expect "tqs1 drift --sync " from-cwd
  cd - >/dev/null || exit 1
fi

expect "tqs1 " plan apply check demo serve drift why history init version help
expect "tqs1 help s" serve
expect "tqs1 -" -h --help -V --version
expect "tqs1 check --con" --config --config-only
expect "tqs1 demo --" --no-color --show-addresses --help
expect "tqs1 init -" -c --config -n --name -h --help
expect "tqs1 apply -v " 1 2 3
expect "tqs1 serve --verbosity 2" 2
expect "tqs1 plan -ll st" stdout
expect "tqs1 plan --show-rejected a" all
expect "tqs1 plan --lock-timeout "
expect "tqs1 plan --state-dir ${etc}/s" "${etc}/state"
expect "tqs1 plan --out ${etc}/s" "${etc}/some-file" "${etc}/state"
expect "tqs1 serve --tls-cert ${etc}/some" "${etc}/some-file"
expect "tqs1 apply ${etc}/some" "${etc}/some-file"
expect "tqs1 apply ${etc}/some-file ${etc}/some"
expect "tq-conn-sentinelone -" -c --config -ll --loglocation -v --verbosity \
  -n --name -h --help --version
expect "tq-conn-sentinelone --ver" --verbosity --version
expect "tq-conn-sentinelone "
expect "/usr/bin/tq-conn-sentinelone -c ${etc} --v" --verbosity --version

# The commands of `tqs1 help`, and each command's options in its help
# text, are what completion offers. Not counted: options inside `...`
# (other command lines), "--allow-*" (options listed by name elsewhere), the
# "Exit codes" block (shared by commands), -h/--help and -V/--version (every
# command's); a short option counts as its long one (-c/--config).
"${tqs1}" help >"${tmp}/help.txt" || fail "tqs1 help exited $?"
mapfile -t listed < <(sed -n '/^Commands:/,/^$/s/^  \([a-z][a-z]*\)  .*/\1/p' "${tmp}/help.txt")
((${#listed[@]} > 0)) || fail "no commands in \`tqs1 help\`"
expect "tqs1 " "${listed[@]}"
# The long names of options, one a line, from words, one a line.
long_names() {
  sed -e 's/^-c$/--config/' -e 's/^-n$/--name/' -e 's/^-v$/--verbosity/' \
    -e 's/^-ll$/--loglocation/' | grep -vxE -- '-h|--help|-V|--version' | sort -u
}
# The options a help text names.
help_options() {
  # shellcheck disable=SC2016 # the help text's backquotes, not the shell's
  sed '/^Exit codes/,$d' | tr '\n' ' ' |
    sed -E -e 's/`[^`]*`//g' -e 's/--?[a-zA-Z-]*\*//g' |
    grep -oE '(^|[][ ,(|])--?[a-zA-Z]([a-zA-Z0-9-]*[a-zA-Z0-9])?' |
    sed 's/^[^-]*//' | long_names
}
for command in "${listed[@]}"; do
  [[ ${command} == help || ${command} == version ]] && continue
  in_help="$("${tqs1}" help "${command}" | help_options)"
  complete_words tqs1 "${command}" -
  offered="$(printf '%s\n' "${COMPREPLY[@]}" | long_names)"
  missing="$(comm -23 <(echo "${in_help}") <(echo "${offered}") | tr '\n' ' ')"
  extra="$(comm -13 <(echo "${in_help}") <(echo "${offered}") | tr '\n' ' ')"
  [[ -z "${missing// /}" ]] ||
    fail "tqs1 ${command}: \`tqs1 help ${command}\` lists options completion does not offer: ${missing}"
  [[ -z "${extra// /}" ]] ||
    fail "tqs1 ${command}: completion offers options \`tqs1 help ${command}\` does not list: ${extra}"
done

if ((failures > 0)); then
  echo "${failures} failure(s)"
  exit 1
fi
echo "PASS"
