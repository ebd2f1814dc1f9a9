#!/usr/bin/env bash
# The client under test, as the conformance suite runs it: `client.sh <server-url>`, with
# MCP_CONFORMANCE_SCENARIO and, for some scenarios, MCP_CONFORMANCE_CONTEXT (JSON: a
# pre-registered client_id and client_secret, say). Runs the built binary resource-first:
#   oauth-test-client --once --no-browser --report --sign-in --resource-url <server-url>
# (auth/client-credentials-*: --grant client_credentials instead of --sign-in; a scenario that
# hands the workload a JWT: --grant jwt_bearer with it in OAUTH_ASSERTION_FILE)
# The scenarios' authorization server approves at once, so the sign-in driver (--sign-in) only
# follows its redirects to the app's callback; the test user below is never asked for.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=${OAUTH_TEST_CLIENT:-$here/../../target/debug/oauth-test-client}
url=${1:?usage: client.sh <server-url>}

# A pre-registered client, when the scenario gives one.
key_file=$(mktemp)
jwt_file=$(mktemp)
trap 'rm -f "$key_file" "$jwt_file"' EXIT
if [ -n "${MCP_CONFORMANCE_CONTEXT:-}" ]; then
  # shellcheck disable=SC2016 # JavaScript template literals, not shell
  while IFS= read -r -d '' setting; do
    export "${setting?}"
  done < <(node -e '
    const c = JSON.parse(process.env.MCP_CONFORMANCE_CONTEXT);
    if (c.client_id) process.stdout.write(`CLIENT_ID=${c.client_id}\0`);
    if (c.client_secret) process.stdout.write(`CLIENT_SECRET=${c.client_secret}\0`);
    // Cross-app access (auth/cross-app-access-complete-flow): the IdP and the ID token it gave the user.
    if (c.idp_id_token) process.stdout.write(`OAUTH_IDP_ID_TOKEN=${c.idp_id_token}\0`);
    if (c.idp_issuer) process.stdout.write(`OAUTH_IDP_ISSUER=${c.idp_issuer}\0`);
    else if (c.idp_token_endpoint) process.stdout.write(`OAUTH_IDP_TOKEN_URL=${c.idp_token_endpoint}\0`);
    if (c.idp_client_id) process.stdout.write(`OAUTH_IDP_CLIENT_ID=${c.idp_client_id}\0`);
    // private_key_jwt (auth/client-credentials-jwt): the key goes to a file only this user
    // can read, as a user would keep it, and OAUTH_CLIENT_KEY names the file.
    if (c.private_key_pem) {
      const fs = require("node:fs");
      fs.writeFileSync(process.argv[1], c.private_key_pem, { mode: 0o600 });
      process.stdout.write(`OAUTH_CLIENT_KEY=${process.argv[1]}\0`);
    }
    // Workload identity (auth/wif-jwt-bearer): the JWT the workload was issued, in a file
    // only this user can read, as a platform would hand it out; OAUTH_ASSERTION_FILE names it.
    if (c.valid_jwt) {
      require("node:fs").writeFileSync(process.argv[2], c.valid_jwt, { mode: 0o600 });
      process.stdout.write(`OAUTH_ASSERTION_FILE=${process.argv[2]}\0`);
    }
  ' "$key_file" "$jwt_file")
fi
# A pre-registered secret or key goes only to OAUTH_ISSUER (README, "Security"), and the scenario's
# context names no issuer: the credentials are for the authorization server this scenario
# started, which only the MCP server's metadata (RFC 9728) names. Reading it here is this
# harness's trust decision (the suite runs both servers), made once in this script; the
# tool then pins it (OAUTH_ISSUER with --mcp) and refuses to go on if the server's
# metadata names any other. A real user sets OAUTH_ISSUER from where the secret came from.
if { [ -n "${CLIENT_SECRET:-}" ] || [ -n "${OAUTH_CLIENT_KEY:-}" ]; } && [ -z "${OAUTH_ISSUER:-}" ]; then
  # shellcheck disable=SC2016 # JavaScript template literals, not shell
  issuer=$(node -e '
    const u = new URL(process.argv[1]);
    const path = u.pathname === "/" ? "" : u.pathname;
    fetch(`${u.origin}/.well-known/oauth-protected-resource${path}`, { redirect: "error" })
      .then((r) => r.json())
      .then((m) => process.stdout.write(String(m.authorization_servers?.[0] ?? "")))
      .catch(() => {});
  ' "$url")
  if [ -n "$issuer" ]; then
    export OAUTH_ISSUER=$issuer
  fi
fi

# The suite's fixed Client ID Metadata Document URL (auth/basic-cimd expects it as the
# client_id; nothing is hosted there, and the suite's authorization server never fetches it).
# Used only where the authorization server advertises client_id_metadata_document_supported;
# elsewhere the tool registers a client, as a user with this setting in .env would see.
export OAUTH_CLIENT_METADATA_URL=https://conformance-test.local/client-metadata.json
# The client credentials scenarios (the MCP authorization extension for headless agents):
# no user, so no sign-in; the grant, with the scenario's pre-registered client.
flow=(--sign-in)
case "${MCP_CONFORMANCE_SCENARIO:-}" in
  auth/client-credentials-*) flow=(--grant client_credentials) ;;
esac
# A workload with its own JWT: the JWT-bearer grant (RFC 7523), no user either.
if [ -n "${OAUTH_ASSERTION_FILE:-}" ]; then
  flow=(--grant jwt_bearer)
fi

export OAUTH_TEST_USERNAME=conformance OAUTH_TEST_PASSWORD=not-asked-for
# `--mcp-call '*'`: use the server as a client would, calling its first tool (scope step-up
# is asked for on tools/call).
# Not exec: the EXIT trap removes the key file afterwards.
# The test user's password is bound to OAUTH_ISSUER too (README, "Security"), and no issuer is
# pinned here: the tool then stops after discovery, before anything is sent, with exit 2 and
# the issuer to pin ("set OAUTH_ISSUER=<server> (", or "Set OAUTH_ISSUER to exactly
# "<issuer>"" when the server's metadata spells it otherwise). This harness follows that
# advice, as a user reading the message would (its trust decision: the suite runs both
# servers), and runs again, at most twice more.
errors=$(mktemp)
trap 'rm -f "$key_file" "$errors"' EXIT
for _ in 1 2 3; do
  status=0
  # stderr to a file first, then shown: a `tee` in a process substitution may not have written
  # it all when the line below reads it (seen: a scenario that never ran a second time).
  "$bin" --once --no-browser --report "${flow[@]}" --port 0 --http-timeout 10 --mcp \
    --mcp-call '*' --resource-url "$url" 2>"$errors" || status=$?
  cat "$errors" >&2
  [ "$status" -eq 2 ] || break
  issuer=$(sed -n -e 's/.*set OAUTH_ISSUER=\([^ ]*\) (.*/\1/p' \
    -e 's/.*Set OAUTH_ISSUER to exactly "\([^"]*\)".*/\1/p' "$errors" | head -n 1)
  if [ -z "$issuer" ] || [ "$issuer" = "${OAUTH_ISSUER:-}" ]; then
    break
  fi
  export OAUTH_ISSUER=$issuer
done
exit "$status"
