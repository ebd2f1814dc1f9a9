#!/usr/bin/env bash
# The GitHub Action's step (action.yml), also usable from any CI: runs one checked sign-in
# with oauth-test-client and reports it. Inputs come as INPUT_* variables; writes
# $OUTPUT_DIR/report.json (tokens masked), a table of checks to $GITHUB_STEP_SUMMARY when set,
# exit-code and report to $GITHUB_OUTPUT when set, and exits with the tool's status.
set -uo pipefail

bin="${OAUTH_TEST_CLIENT_BIN:-oauth-test-client}"
bin="${bin/#\~/$HOME}"
out="${OUTPUT_DIR:-${RUNNER_TEMP:-/tmp}/oauth-test-client}"
mkdir -p "$out"
report="$out/report.json"

export OAUTH_ISSUER="${INPUT_ISSUER:-}"
export CLERK_PUBLISHABLE_KEY="${INPUT_PUBLISHABLE_KEY:-}"
export CLIENT_ID="${INPUT_CLIENT_ID:-}"
export CLIENT_SECRET="${INPUT_CLIENT_SECRET:-}"
export OAUTH_TEST_USERNAME="${INPUT_USERNAME:-}"
export OAUTH_TEST_PASSWORD="${INPUT_PASSWORD:-}"
export OAUTH_TEST_TOTP_SECRET="${INPUT_TOTP_SECRET:-}"
export OAUTH_TIMEOUT="${INPUT_TIMEOUT:-120}"

args=(--once --sign-in --report --redact --no-browser --port 0
  --sign-in-driver "${INPUT_SIGN_IN_DRIVER:-auto}" --artifacts "$out/sign-in")
if [ -n "${INPUT_THEN:-}" ]; then
  args+=(--then "$INPUT_THEN")
fi
if [ "${INPUT_AUDIT:-false}" = "true" ]; then
  if ! "$bin" --help | grep -q -- '--audit'; then
    echo "audit: true needs a version of oauth-test-client with --audit; this one ($("$bin" --version)) has none" >&2
    exit 2
  fi
  args+=(--audit)
fi
if [ -n "${INPUT_ARGS:-}" ]; then
  # The tool splits this with shell-word rules (quotes, backslashes), so
  # `--scopes "openid email"` stays two words; a quote left open is its exit-2 error.
  export OAUTH_TEST_CLIENT_ARGS="$INPUT_ARGS"
fi

# stderr through a pipe, not a process substitution: the pipeline ends only when tee has
# written all of stderr.log, which the summary reads.
"$bin" "${args[@]}" 2>&1 >"$report" | tee "$out/stderr.log" >&2
status=${PIPESTATUS[0]}

summary() {
  local verdict
  case "$status" in
    0) verdict="passed" ;;
    1) verdict="failed: a check, a step or the sign-in failed" ;;
    2) verdict="stopped: a configuration mistake" ;;
    3) verdict="timed out" ;;
    *) verdict="ended with status $status" ;;
  esac
  echo "### oauth-test-client: $verdict (exit $status)"
  echo
  # (jq -e passes an empty file: -s first.)
  if command -v jq >/dev/null && [ -s "$report" ] && jq -e 'type == "object"' "$report" >/dev/null 2>&1; then
    # Report text can quote the provider (an error_description, a claim): every ASCII
    # punctuation character gets a backslash, which CommonMark reads as that character and
    # nothing more (no link, image, HTML, code span, emphasis or autolink), and a line break
    # becomes a space so a cell stays one table cell.
    jq -r '
      def cell: tostring | gsub("[\r\n\t]+"; " ") | gsub("(?<c>[!-/:-@\\[-`{-~])"; "\\\(.c)");
      (.checks // []) as $c
      | "\($c | map(select(.result == "pass")) | length) passed, \($c | map(select(.result == "warn")) | length) warnings, \($c | map(select(.result == "fail")) | length) failed\($c | map(select(.result == "not_run")) | length | if . > 0 then ", \(.) not run" else "" end)",
        "",
        "| check | result | detail |", "|---|---|---|",
        ($c[] | "| \(.check | cell) | \(.result | cell) | \(.detail | cell) |"),
        (if (.steps // []) | length > 0 then
          "", "| step | ok | status | error |", "|---|---|---|---|",
          (.steps[] | "| \(.step | cell) | \(.ok | cell) | \(.status // "" | cell) | \(.error // "" | cell) |")
        else empty end)' "$report"
  else
    # No report: the last lines of stderr as an indented code block, which Markdown shows
    # as literal text whatever it holds (a fence could be closed by a line of backticks).
    tail -n 5 "$out/stderr.log" | tr -d '\r' | sed 's/^/    /'
  fi
}

if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
  summary >>"$GITHUB_STEP_SUMMARY"
fi
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  {
    echo "exit-code=$status"
    echo "report=$report"
  } >>"$GITHUB_OUTPUT"
fi
exit "$status"
