#!/usr/bin/env bash
# /login requests per second of several commits' release builds, side by side in one run:
#   bash bench/compare-builds.sh 8193e96 b31da01 HEAD
# Each commit is built in a temporary git worktree (cargo build --release, a few minutes
# each), then every build is started in turn against one local oidc-provider, with the
# server on CPU 0 and `wrk -t1 -c50 -d10s /login` on CPU 1, for three alternating rounds.
# Prints one line per measurement: round, commit, requests per second.
# An argument that is an executable file is taken as a build already made (no worktree, no
# build):  bash bench/compare-builds.sh /tmp/before/oauth-test-client target/release/oauth-test-client
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
(($#)) || { echo "usage: bash bench/compare-builds.sh COMMIT..." >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk is required (apt-get install wrk)" >&2; exit 2; }
[[ -d tests/provider/node_modules/oidc-provider ]] || (cd tests/provider && npm ci --no-audit --no-fund --loglevel=error)
work=$(mktemp -d)
PROVIDER=
cleanup() {
  if [[ -n "$PROVIDER" ]]; then kill "$PROVIDER" 2>/dev/null || true; fi
  for c in "$@"; do
    [[ -f "$c" && -x "$c" ]] || git worktree remove --force "$work/$c" 2>/dev/null || true
  done
  rm -rf "$work"
}
trap 'cleanup "$@"' EXIT
# The binary of a commit or a path.
binary() { if [[ -f "$1" && -x "$1" ]]; then echo "$1"; else echo "$work/target-$1/release/oauth-test-client"; fi; }
for c in "$@"; do
  [[ -f "$c" && -x "$c" ]] && continue
  git worktree add --detach -q "$work/$c" "$c"
  echo "building $c" >&2
  (cd "$work/$c" && CARGO_TARGET_DIR="$work/target-$c" cargo build --release --quiet)
done
mkfifo "$work/in"
node tests/provider/provider.mjs '{}' < "$work/in" > "$work/provider.out" 2>/dev/null &
PROVIDER=$!
exec 3>"$work/in" # keeps the provider's stdin open
for _ in $(seq 100); do [[ -s "$work/provider.out" ]] && break; sleep 0.1; done
issuer=$(head -1 "$work/provider.out" | sed 's/.*"issuer":"\([^"]*\)".*/\1/')
port=18555
for round in 1 2 3; do
  for c in "$@"; do
    RUST_LOG=error taskset -c 0 "$(binary "$c")" --no-browser \
      --port $port --issuer "$issuer" --client-id test-confidential \
      --client-secret test-confidential-secret \
      --redirect-uri "http://127.0.0.1:$port/oauth_callback" >/dev/null 2>&1 &
    server=$!
    for _ in $(seq 200); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.05; done
    rate=$(taskset -c 1 wrk -t1 -c50 -d10s "http://127.0.0.1:$port/login" | awk '/Requests\/sec/ {print $2}')
    echo "round $round $c $rate"
    kill "$server"; wait "$server" 2>/dev/null || true
  done
done
