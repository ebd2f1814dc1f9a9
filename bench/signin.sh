#!/usr/bin/env bash
# One `oauth-test-client --once --sign-in` round trip with each sign-in driver (http, browser)
# against the local provider (node tests/provider/provider.mjs, its own login and consent
# forms), N times each: the median wall time of a whole run (start, discovery, the sign-in,
# the code exchange, exit), and next to it the provider alone (the time it spent answering
# that run's requests, summed inside provider.mjs), so the tool's own share is the rest.
# A benchmark, not a test: it prints a table for docs/benchmarks.md and asserts nothing.
#
#   bash bench/signin.sh            BENCH_SIGNIN_RUNS=10 runs per driver
#
# Builds the release binary with the browser driver (cargo build --release --features
# browser), installs the provider's npm packages when missing (npm ci), and uses hyperfine
# for a second opinion on the totals when it is installed (apt-get install hyperfine);
# without it, the loop below (date +%s%N) is the only measure. Needs Debian's chromium.
# Loopback only; every process it starts is stopped on exit.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
RUNS="${BENCH_SIGNIN_RUNS:-10}"
BIN="$ROOT/target/release/oauth-test-client"
say() { printf '==> %s\n' "$*" >&2; }

command -v node >/dev/null || { say "Node.js 20+ is required, for the provider"; exit 2; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] || {
  say "Chromium is required for the browser driver: apt-get install -y chromium (or set CHROMIUM)"
  exit 2
}
if [[ ! -d tests/provider/node_modules/oidc-provider ]]; then
  say "installing the provider's packages (npm ci in tests/provider)"
  (cd tests/provider && npm ci --ignore-scripts --no-audit --no-fund --loglevel=error)
fi
say "building the release binary with the browser driver"
cargo build --release --features browser --quiet

WORK="$(mktemp -d)"
PROVIDER_PID=
cleanup() {
  if [[ -n "$PROVIDER_PID" ]]; then
    kill "$PROVIDER_PID" 2>/dev/null || true
    wait "$PROVIDER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The provider exits when its standard input closes: a FIFO held open by this script.
mkfifo "$WORK/stdin"
node tests/provider/provider.mjs '{"timing": true}' <"$WORK/stdin" >"$WORK/provider.out" 2>"$WORK/provider.err" &
PROVIDER_PID=$!
exec 3>"$WORK/stdin"
for _ in $(seq 100); do
  grep -q issuer "$WORK/provider.out" 2>/dev/null && break
  sleep 0.1
done
ISSUER="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1], "utf8")).issuer)' "$WORK/provider.out")"

# The provider's answer time since the last call, in ms.
provider_ms() {
  node -e 'fetch(process.argv[1] + "/__timing").then((r) => r.json()).then((t) => console.log(t.busy_ms.toFixed(1)))' "$ISSUER"
}

sign_in() {
  env -i PATH="$PATH" HOME="$WORK" TMPDIR="$WORK" RUST_LOG=error \
    OAUTH_ISSUER="$ISSUER" CLIENT_ID=test-confidential CLIENT_SECRET=test-confidential-secret \
    OAUTH_TEST_USERNAME=ci@example.com OAUTH_TEST_PASSWORD=bench \
    "$BIN" --once --sign-in --sign-in-driver "$1" --port 0 --artifacts "$WORK/artifacts" \
    >/dev/null 2>"$WORK/stderr" || { cat "$WORK/stderr" >&2; return 1; }
}

median() { sort -n | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

say "provider at $ISSUER; $RUNS runs per driver"
printf '%s, %s; load average at the start: %s\n\n' "$(nproc) cores" \
  "$("${CHROMIUM:-/usr/bin/chromium}" --version 2>/dev/null | head -n 1)" "$(cut -d' ' -f1-3 /proc/loadavg)"
printf '| driver | whole run (median) | provider alone (median) | the tool (median) | runs |\n'
printf '|---|---|---|---|---|\n'
for driver in http browser; do
  sign_in "$driver" # one warm-up run: disk caches, the provider's first compile of its views
  provider_ms >/dev/null
  : >"$WORK/total" && : >"$WORK/provider" && : >"$WORK/tool"
  for _ in $(seq "$RUNS"); do
    start=$(date +%s%N)
    sign_in "$driver"
    end=$(date +%s%N)
    total=$(( (end - start) / 1000000 ))
    busy=$(provider_ms)
    echo "$total" >>"$WORK/total"
    echo "$busy" >>"$WORK/provider"
    awk -v t="$total" -v b="$busy" 'BEGIN { printf "%.1f\n", t - b }' >>"$WORK/tool"
  done
  printf '| %s | %s ms | %s ms | %s ms | %s |\n' "$driver" \
    "$(median <"$WORK/total")" "$(median <"$WORK/provider")" "$(median <"$WORK/tool")" "$RUNS"
done

if command -v hyperfine >/dev/null; then
  say "hyperfine's view of the same whole runs"
  run="env -i PATH=$PATH HOME=$WORK TMPDIR=$WORK RUST_LOG=error OAUTH_ISSUER=$ISSUER CLIENT_ID=test-confidential CLIENT_SECRET=test-confidential-secret OAUTH_TEST_USERNAME=ci@example.com OAUTH_TEST_PASSWORD=bench $BIN --once --sign-in --port 0 --sign-in-driver"
  hyperfine --runs "$RUNS" --warmup 1 --style none --export-json "$WORK/hyperfine.json" \
    -n http "$run http" -n browser "$run browser" >/dev/null
  echo
  # shellcheck disable=SC2016 # JavaScript, not shell: its ${...} are template literals.
  node -e '
    const { results } = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    console.log("| driver (hyperfine) | median | mean ± σ | runs |\n|---|---|---|---|");
    for (const r of results) {
      const ms = (s) => (s * 1000).toFixed(0);
      console.log(`| ${r.command} | ${ms(r.median)} ms | ${ms(r.mean)} ± ${ms(r.stddev)} ms | ${r.times.length} |`);
    }' "$WORK/hyperfine.json"
else
  say "hyperfine is not installed (apt-get install hyperfine): the loop above is the measure"
fi
