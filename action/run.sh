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
  # Word splitting on purpose: "args" is a space-separated list of options.
  read -r -a extra <<<"$INPUT_ARGS"
  args+=("${extra[@]}")
fi

"$bin" "${args[@]}" >"$report" 2> >(tee "$out/stderr.log" >&2)
status=$?
wait

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
  if command -v jq >/dev/null && jq -e . "$report" >/dev/null 2>&1; then
    jq -r '
      def cell: tostring | gsub("\\|"; "\\|") | gsub("\n"; " ");
      (.checks // []) as $c
      | "\($c | map(select(.result == "pass")) | length) passed, \($c | map(select(.result == "warn")) | length) warnings, \($c | map(select(.result == "fail")) | length) failed\($c | map(select(.result == "not_run")) | length | if . > 0 then ", \(.) not run" else "" end)",
        "",
        "| check | result | detail |", "|---|---|---|",
        ($c[] | "| \(.check | cell) | \(.result | cell) | \(.detail | cell) |"),
        (if (.steps // []) | length > 0 then
          "", "| step | ok | status | error |", "|---|---|---|---|",
          (.steps[] | "| \(.step | cell) | \(.ok) | \(.status // "" | cell) | \(.error // "" | cell) |")
        else empty end)' "$report"
  else
    echo '```'
    tail -n 5 "$out/stderr.log"
    echo '```'
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
