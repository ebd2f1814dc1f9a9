#!/usr/bin/env bash
# The MCP conformance suite's client scenarios against the built binary (client.sh wraps it):
# every client auth/* scenario the suite lists, and the protocol scenarios in PROTOCOL below.
# `cargo test` runs it with --baseline (tests/integration/conformance.rs): the scenarios
# listed in baseline.yml are the ones still failing, and any other failure fails the test.
#
# Usage: tests/conformance/run.sh [--baseline] [SCENARIO...]
#   SCENARIO    e.g. auth/metadata-default; default: every client auth/* scenario the suite
#               lists, and PROTOCOL
#   --baseline  exit 0 only when the failures are exactly those in baseline.yml (a scenario that
#               now passes must leave the file; a new failure is a regression)
# CONFORMANCE_JOBS (default 4): scenarios run at once (each has its own servers on free ports).
# Build first (`cargo build`), or point OAUTH_TEST_CLIENT at a binary. Results, with each
# scenario's checks.json, stdout and stderr, go to a temp folder named at the end.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here"

baseline=
if [ "${1:-}" = "--baseline" ]; then
  baseline=$here/baseline.yml
  shift
fi

if [ ! -d node_modules/@modelcontextprotocol/conformance ]; then
  npm ci --ignore-scripts --no-audit --no-fund --loglevel=error
fi
# The suite imports fs.globSync (Node 22) at load. Node 22 comes from the npm registry as this
# platform's node-<os>-<cpu> package (package.json); elsewhere the system's, when it is 22+.
node=$here/node_modules/.bin/node
if [ ! -x "$node" ]; then
  node=$(command -v node)
  if [ "$("$node" -p 'process.versions.node.split(".")[0]')" -lt 22 ]; then
    echo "the conformance suite needs Node.js 22+; $node is $("$node" --version)" >&2
    exit 2
  fi
fi
suite=$here/node_modules/@modelcontextprotocol/conformance/dist/index.js

bin=${OAUTH_TEST_CLIENT:-$here/../../target/debug/oauth-test-client}
if [ ! -x "$bin" ]; then
  echo "no binary at $bin: run \`cargo build\` first, or set OAUTH_TEST_CLIENT" >&2
  exit 2
fi
export OAUTH_TEST_CLIENT=$bin

# The client scenarios beyond authorization that an MCP client checking a server should pass:
# the handshake, a tool call, SSE resumption, 2026-07-28's _meta and headers, schema keywords.
PROTOCOL=(initialize tools_call sse-retry request-metadata http-standard-headers
  json-schema-2020-12-preservation)

if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  mapfile -t scenarios < <("$node" "$suite" list --client | sed -n 's/^  - \(auth\/[^ ]*\).*/\1/p')
  scenarios+=("${PROTOCOL[@]}")
fi

results=$(mktemp -d "${TMPDIR:-/tmp}/conformance-XXXXXX")
# One scenario: its verdict in $out/verdict, what explain.mjs makes of it in $out/explained.
run_one() {
  local scenario=$1 out=$results/$1
  mkdir -p "$out"
  # Each run in its own folder: the binary saves a registered client's secret in its cwd.
  # A pass is the suite's exit 0 with no WARNING among its checks (a SHOULD not followed).
  if (cd "$out" && "$node" "$suite" client --command "$here/client.sh" --scenario "$scenario" \
      --timeout 60000 -o "$out" >"$out/suite.txt" 2>&1) && ! grep -q "WARNING" "$out/suite.txt"; then
    echo PASS >"$out/verdict"
  else
    echo FAIL >"$out/verdict"
  fi
  "$node" "$here/explain.mjs" "$(find "$out" -name checks.json | head -n 1)" \
    "$(find "$out" -name stderr.txt | head -n 1)" "$out/suite.txt" >"$out/explained" 2>&1 || true
}
jobs_max=${CONFORMANCE_JOBS:-4}
for scenario in "${scenarios[@]}"; do
  while [ "$(jobs -rp | wc -l)" -ge "$jobs_max" ]; do
    wait -n || true
  done
  run_one "$scenario" &
done
wait
failed=()
for scenario in "${scenarios[@]}"; do
  verdict=$(cat "$results/$scenario/verdict" 2>/dev/null || echo FAIL)
  echo "$verdict $scenario"
  [ "$verdict" = PASS ] || failed+=("$scenario")
  cat "$results/$scenario/explained" 2>/dev/null || true
done

echo "results: $results"
echo "${#failed[@]} of ${#scenarios[@]} scenarios failed"
if [ -n "$baseline" ]; then
  # Only the scenarios that ran.
  expected=$(sed -n 's/^  - //p' "$baseline" | grep -Fxf <(printf '%s\n' "${scenarios[@]}") | sort || true)
  got=$(printf '%s\n' "${failed[@]}" | sed '/^$/d' | sort)
  if [ "$expected" != "$got" ]; then
    echo "the failures differ from $baseline:" >&2
    diff <(echo "$expected") <(echo "$got") >&2 || true
    exit 1
  fi
  exit 0
fi
[ ${#failed[@]} -eq 0 ]
