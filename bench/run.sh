#!/usr/bin/env bash
# Benchmarks the Rust app against an Express equivalent of Clerk's minimal OAuth test client,
# side by side in one run, and writes the figures to docs/benchmarks.md. See that file.
#
#   bash bench/run.sh            build, install what is missing, measure, update the doc
#   bash bench/run.sh --no-doc   measure and print only
#
# Installs what it needs when missing, and says so: the release build (cargo), the Express
# server's and the test provider's npm packages (npm ci, from their lock files), and wrk
# (apt-get). Targets loopback only; every load is bounded in count and time (see
# bench/bench.mjs); every process it starts is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

WRITE_DOC=--write-doc
if [[ "${1:-}" == "--no-doc" ]]; then WRITE_DOC=; fi

BENCH_PID=
cleanup() {
  if [[ -n "$BENCH_PID" ]] && kill -0 "$BENCH_PID" 2>/dev/null; then
    kill -TERM "$BENCH_PID" 2>/dev/null || true
    wait "$BENCH_PID" 2>/dev/null || true
  fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() { printf '==> %s\n' "$*" >&2; }

need() {
  command -v "$1" >/dev/null 2>&1 || { say "$1 is required ($2)"; exit 2; }
}
need cargo "the Rust toolchain, to build the app"
need node "Node.js 20+, for the provider, the Express server and the load driver"
need npm "npm, to install their packages"
node -e 'process.exit(Number(process.versions.node.split(".")[0]) >= 20 ? 0 : 1)' \
  || { say "Node.js 20+ is required (found $(node --version))"; exit 2; }

if ! command -v wrk >/dev/null 2>&1; then
  say "installing wrk (apt-get install wrk), for the /login requests-per-second figures"
  if [[ $(id -u) -ne 0 ]]; then SUDO=sudo; else SUDO=; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
fi

if [[ ! -d bench/express/node_modules/express ]]; then
  say "installing bench/express packages (npm ci: express, dotenv)"
  (cd bench/express && npm ci --no-audit --no-fund --loglevel=error)
fi
if [[ ! -d tests/provider/node_modules/oidc-provider ]]; then
  say "installing tests/provider packages (npm ci: oidc-provider, jose)"
  (cd tests/provider && npm ci --no-audit --no-fund --loglevel=error)
fi

say "cargo build --release"
cargo build --release --quiet

say "measuring (about 4 minutes; progress on stderr, the report on stdout)"
node bench/bench.mjs $WRITE_DOC &
BENCH_PID=$!
wait "$BENCH_PID"
