#!/usr/bin/env bash
# Instructions a release build spends per `GET /login`, counted by valgrind's callgrind, so
# that two builds compare on a noisy machine (instruction counts do not depend on the load):
#   bash bench/callgrind-login.sh BINARY [BINARY...]
# Each binary is started under callgrind against one local oidc-provider (RUST_LOG=error,
# as bench/run.sh runs it), serves N (BENCH_LOGINS, 2000) `/login` requests over one
# keep-alive connection (curl), and is stopped with SIGINT; the same with no request gives
# the start-up's share, and the difference over N is the figure printed per binary.
# Needs valgrind (apt-get install valgrind), curl, Node.js and tests/provider's packages.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
(($#)) || { echo "usage: bash bench/callgrind-login.sh BINARY..." >&2; exit 2; }
command -v valgrind >/dev/null || { echo "valgrind is required (apt-get install valgrind)" >&2; exit 2; }
N=${BENCH_LOGINS:-2000}
[[ -d "$ROOT/tests/provider/node_modules/oidc-provider" ]] || (cd "$ROOT/tests/provider" && npm ci --no-audit --no-fund --loglevel=error)
work=$(mktemp -d)
PROVIDER=
cleanup() {
  if [[ -n "$PROVIDER" ]]; then kill "$PROVIDER" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT
mkfifo "$work/in"
node "$ROOT/tests/provider/provider.mjs" '{}' < "$work/in" > "$work/provider.out" 2>/dev/null &
PROVIDER=$!
exec 3>"$work/in" # keeps the provider's stdin open
for _ in $(seq 100); do [[ -s "$work/provider.out" ]] && break; sleep 0.1; done
issuer=$(head -1 "$work/provider.out" | sed 's/.*"issuer":"\([^"]*\)".*/\1/')
port=18655

# Instructions of one run of $1 serving $2 /login requests.
count() {
  local binary=$1 n=$2 out="$work/callgrind.$RANDOM"
  RUST_LOG=error valgrind --tool=callgrind --callgrind-out-file="$out" \
    "$binary" --no-browser --port $port --issuer "$issuer" --client-id test-confidential \
    --client-secret test-confidential-secret \
    --redirect-uri "http://127.0.0.1:$port/oauth_callback" >/dev/null 2>"$work/valgrind.err" &
  local server=$!
  for _ in $(seq 600); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  if ((n > 0)); then
    : > "$work/urls"
    for _ in $(seq "$n"); do
      printf 'url = "http://127.0.0.1:%s/login"\noutput = /dev/null\n' $port >> "$work/urls"
    done
    codes=$(curl -s -K "$work/urls" -w '%{http_code}\n' | sort | uniq -c | tr -s ' ')
    [[ "$codes" == " $n 302" ]] || { echo "$binary: /login answered: $codes" >&2; exit 1; }
  fi
  kill -INT "$server"; wait "$server" 2>/dev/null || true
  awk '/^summary:|^totals:/ {print $2; exit}' "$out"
}

for binary in "$@"; do
  base=$(count "$binary" 0)
  loaded=$(count "$binary" "$N")
  echo "$binary: $(( (loaded - base) / N )) instructions per /login ($N requests; start-up and stop: $base)"
done
