#!/usr/bin/env bash
# The MCP conformance suite's client auth scenarios against the built binary (client.sh wraps
# it). `cargo test` runs it with --baseline (tests/integration/conformance.rs): the scenarios
# listed in baseline.yml are the ones still failing, and any other failure fails the test.
#
# Usage: tests/conformance/run.sh [--baseline] [SCENARIO...]
#   SCENARIO    e.g. auth/metadata-default; default: every client auth/* scenario the suite lists
#   --baseline  exit 0 only when the failures are exactly those in baseline.yml (a scenario that
#               now passes must leave the file; a new failure is a regression)
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

if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  mapfile -t scenarios < <("$node" "$suite" list --client | sed -n 's/^  - \(auth\/[^ ]*\).*/\1/p')
fi

results=$(mktemp -d "${TMPDIR:-/tmp}/conformance-XXXXXX")
failed=()
for scenario in "${scenarios[@]}"; do
  out=$results/$scenario
  mkdir -p "$out"
  # Each run in its own folder: the binary saves a registered client's secret in its cwd.
  # A pass is the suite's exit 0 with no WARNING among its checks (a SHOULD not followed).
  if (cd "$out" && "$node" "$suite" client --command "$here/client.sh" --scenario "$scenario" \
      --timeout 60000 -o "$out" >"$out/suite.txt" 2>&1) && ! grep -q "WARNING" "$out/suite.txt"; then
    echo "PASS $scenario"
  else
    echo "FAIL $scenario"
    failed+=("$scenario")
  fi
  "$node" "$here/explain.mjs" "$(find "$out" -name checks.json | head -n 1)" \
    "$(find "$out" -name stderr.txt | head -n 1)" "$out/suite.txt"
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
