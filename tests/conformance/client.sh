#!/usr/bin/env bash
# The client under test, as the conformance suite runs it: `client.sh <server-url>`, with
# MCP_CONFORMANCE_SCENARIO and, for some scenarios, MCP_CONFORMANCE_CONTEXT (JSON: a
# pre-registered client_id and client_secret, say). Runs the built binary resource-first:
#   oauth-test-client --once --no-browser --report --sign-in --resource-url <server-url>
# (auth/client-credentials-*: --grant client_credentials instead of --sign-in)
# The scenarios' authorization server approves at once, so the sign-in driver (--sign-in) only
# follows its redirects to the app's callback; the test user below is never asked for.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${OAUTH_TEST_CLIENT:-$here/../../target/debug/oauth-test-client}
url=${1:?usage: client.sh <server-url>}

# A pre-registered client, when the scenario gives one.
if [ -n "${MCP_CONFORMANCE_CONTEXT:-}" ]; then
  # shellcheck disable=SC2016 # JavaScript template literals, not shell
  while IFS= read -r -d '' setting; do
    export "${setting?}"
  done < <(node -e '
    const c = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT);
    if (c.client_id) process.stdout.write(`CLIENT_ID=${c.client_id}\0`);
    if (c.client_secret) process.stdout.write(`CLIENT_SECRET=${c.client_secret}\0`);
  ')
fi

# The client credentials scenarios (the MCP authorization extension for headless agents):
# no user, so no sign-in; the grant, with the scenario's pre-registered client.
flow=(--sign-in)
case "${MCP_CONFORMANCE_SCENARIO:-}" in
  auth/client-credentials-*) flow=(--grant client_credentials) ;;
esac

export OAUTH_TEST_USERNAME=conformance OAUTH_TEST_PASSWORD=not-asked-for
# `--mcp-call '*'`: use the server as a client would, calling its first tool (scope step-up
# is asked for on tools/call).
exec "$bin" --once --no-browser --report "${flow[@]}" --port 0 --http-timeout 10 --mcp \
  --mcp-call '*' --resource-url "$url"
