#!/usr/bin/env bash
# tqs1(1) documents every command and option the parser knows (Commands()
# and Options() in cli/args.cc, the old connector's name in cli/args.h), has
# the sections of a man page, and formats without a warning from man(1),
# as lintian runs it.
#
#   man_page_test.sh MAN_PAGE ARGS_CC ARGS_H
set -uo pipefail
page="$1" args_cc="$2" args_h="$3"
failures=0
fail() {
  echo "FAIL: $*"
  failures=$((failures + 1))
}

# The string literals between `NAME() {` and its `return` in args.cc.
literals_of() {
  sed -n "/& $1() {/,/^  return /p" "${args_cc}" | grep -o '"[^"]*"' | tr -d '"'
}
mapfile -t options < <(literals_of Options | grep '^-')
mapfile -t commands < <(literals_of Commands | grep -E '^[a-z]+$')
legacy="$(sed -n 's/.*kLegacyProgramName\[\] = "\([^"]*\)".*/\1/p' "${args_h}")"
# An extraction that found nothing would pass every check below.
[[ " ${options[*]} " == *" --config "* && " ${options[*]} " == *" -ll "* ]] ||
  fail "no options found in Options() of ${args_cc}: got [${options[*]}]"
[[ " ${commands[*]} " == *" plan "* ]] ||
  fail "no commands found in Commands() of ${args_cc}: got [${commands[*]}]"
[[ -n "${legacy}" ]] || fail "no kLegacyProgramName in ${args_h}"

# The page as text to search: "\-" is "-", font changes and "\&" go.
text="$(sed -e 's/\\-/-/g' -e 's/\\f[BIRP]//g' -e 's/\\f([A-Z][A-Z]//g' \
  -e 's/\\&//g' "${page}")"
# Whether the page holds $1 as a whole word ("-v" is not in "-v1" or
# "--verbose").
mentions() {
  grep -Eq -- "(^|[^[:alnum:]_-])$1([^[:alnum:]_-]|\$)" <<<"${text}"
}
for option in "${options[@]}"; do
  mentions "${option}" || fail "option ${option} (Options() in args.cc) is not in ${page}"
done
mentions "${legacy}" || fail "the old connector's name ${legacy} is not in ${page}"

# Each command has its own subsection in COMMANDS: .SS "tqs1 plan ...".
commands_section="$(awk '/^\.SH /{on = ($0 ~ /^\.SH "?COMMANDS"?$/)} on' <<<"${text}")"
for command in "${commands[@]}"; do
  grep -Eq "^\.SS \"?tqs1 ${command}( |\"|\$)" <<<"${commands_section}" ||
    fail "command ${command} (Commands() in args.cc) has no .SS \"tqs1 ${command} ...\" in COMMANDS of ${page}"
done

for section in NAME SYNOPSIS DESCRIPTION COMMANDS OPTIONS "EXIT STATUS" \
  ENVIRONMENT FILES EXAMPLES "SEE ALSO"; do
  grep -Eq "^\.SH \"?${section}\"?\$" "${page}" || fail "no section ${section} in ${page}"
done

# man(1) without a warning, formatted for a terminal and as lintian runs it
# (groff only). A sandbox may have no HOME; man-db's own sandbox (seccomp)
# may not be allowed inside Bazel's.
if command -v man >/dev/null 2>&1; then
  export HOME="${HOME:-${TEST_TMPDIR}}" MANWIDTH=80 LC_ALL=C.UTF-8 MAN_DISABLE_SECCOMP=1
  for flags in "" "-Tutf8 -Z"; do
    # shellcheck disable=SC2086 # $flags: several words, or none
    warnings="$(man --warnings -E UTF-8 -l ${flags} "${page}" 2>&1 >/dev/null)"
    status=$?
    if [[ ${status} != 0 || -n "${warnings}" ]]; then
      fail "man --warnings -l ${flags} ${page} (exit ${status}):"$'\n'"${warnings}"
    fi
  done
else
  echo "man(1) is not installed: formatting not checked"
fi

if ((failures > 0)); then
  echo "${failures} failure(s)"
  exit 1
fi
echo "PASS: ${#options[@]} options, ${#commands[@]} commands and ${legacy} documented"
