#!/usr/bin/env bash
# Installs oauth-test-client for the GitHub Action (action.yml), or any CI: the release asset
# of the version in this checkout's Cargo.toml for this machine's OS and architecture, checked
# against the release's SHA256SUMS; `cargo install` from this checkout only where the release
# has no asset for it. A download that fails or does not match its checksum stops here, with
# nothing installed.
#
#   install.sh              install into $OAUTH_TEST_CLIENT_ROOT/bin (default ~/.oauth-test-client)
#   install.sh --cache-key  print key=<cache key> (changes with every source change of the tool)
#
# Settings (environment):
#   INSTALL_FEATURES   "browser" for the browser sign-in driver's build, else empty
#   RELEASE_BASE_URL   where releases are, <base>/v<version>/<asset> (default: Cargo.toml's
#                      repository + /releases/download); https, or http on loopback (tests)
#   FROM_SOURCE        "true": skip the download, always `cargo install`
#   RUNNER_OS, RUNNER_ARCH  GitHub's names of this machine (else from uname)
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
features="${INSTALL_FEATURES:-}"
root="${OAUTH_TEST_CLIENT_ROOT:-$HOME/.oauth-test-client}"
root="${root/#\~/$HOME}"

say() { echo "oauth-test-client install: $*" >&2; }
fail() {
  echo "::error title=oauth-test-client install::$*" >&2
  exit 1
}

# The first `name = "value"` of Cargo.toml's [package] table.
package_field() {
  sed -n '/^\[package\]/,/^\[/s/^'"$1"' *= *"\(.*\)"/\1/p' "$here/Cargo.toml" | head -n 1
}

# sha256sum on Linux and Windows (Git Bash), shasum on macOS: "<hex>  <file>" lines.
if command -v sha256sum >/dev/null; then
  sha256sum=(sha256sum)
else
  sha256sum=(shasum -a 256)
fi
sha256() { "${sha256sum[@]}" "$@" | cut -d ' ' -f 1; }

runner_os="${RUNNER_OS:-$(uname -s)}"
runner_arch="${RUNNER_ARCH:-$(uname -m)}"
# Rust's target name of the release asset for this machine; empty when the release has none.
target=""
case "$runner_os/$runner_arch" in
  Linux/X64 | Linux/x86_64) target=x86_64-unknown-linux-musl ;;
  Linux/ARM64 | Linux/aarch64 | Linux/arm64) target=aarch64-unknown-linux-musl ;;
  macOS/ARM64 | Darwin/arm64) target=aarch64-apple-darwin ;;
  macOS/X64 | Darwin/x86_64) target=x86_64-apple-darwin ;;
  Windows/X64 | MINGW*/x86_64 | MSYS*/x86_64) target=x86_64-pc-windows-msvc ;;
esac
name=oauth-test-client
# The browser driver's build is released for Linux x86_64 only.
if [ "$features" = browser ]; then
  name=oauth-test-client-browser
  [ "$target" = x86_64-unknown-linux-musl ] || target=""
fi

if [ "${1:-}" = "--cache-key" ]; then
  # What the built tool depends on: any change, a version bump included, is a new key.
  paths=()
  for p in Cargo.toml Cargo.lock build.rs src templates assets action/install.sh; do
    if [ -e "$here/$p" ]; then paths+=("$p"); fi
  done
  digest=$(cd "$here" && find "${paths[@]}" -type f | LC_ALL=C sort | xargs "${sha256sum[@]}" | sha256)
  how=release
  [ "${FROM_SOURCE:-false}" = "true" ] && how=source
  echo "key=$name-$runner_os-$runner_arch-$(package_field version)-$how-${digest:0:20}"
  exit 0
fi

from_source() {
  # A notice, so the job's summary shows why this run took minutes.
  echo "::notice title=oauth-test-client install::$1; building it from source with cargo install (several minutes)" >&2
  command -v cargo >/dev/null || fail "$1, and cargo is not installed to build it: add a Rust toolchain step (dtolnay/rust-toolchain) before this action"
  cargo install --locked --path "$here" --root "$root" ${features:+--features "$features"}
}

version=$(package_field version)
[ -n "$version" ] || fail "no version in $here/Cargo.toml"
if [ "${FROM_SOURCE:-false}" = "true" ]; then
  from_source "from-source: true"
  exit 0
fi
if [ -z "$target" ]; then
  from_source "no release asset of $name for $runner_os $runner_arch"
  exit 0
fi

base="${RELEASE_BASE_URL:-}"
if [ -z "$base" ]; then
  base="$(package_field repository)/releases/download"
fi
base="${base%/}"
# Credentials never go along, so the only risk of http is a swapped download, which the
# checksum cannot rule out when the sums travel the same way: https, except on loopback.
case "$base" in
  https://*) protocols="=https" ;;
  http://127.0.0.1[:/]* | http://localhost[:/]* | "http://[::1]"[:/]*) protocols="=http" ;;
  *) fail "RELEASE_BASE_URL (the release-base-url input) must be an https URL, not $base" ;;
esac

asset="$name-$version-$target.tar.gz"
tag="v$version"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# fetch URL FILE: prints the HTTP status; curl's own failure (DNS, TLS, timeout) stops here.
fetch() {
  curl --silent --show-error --location --proto "$protocols" --proto-redir "$protocols" \
    --connect-timeout 20 --max-time 300 --max-filesize 200000000 --retry 3 \
    --output "$2" --write-out '%{http_code}' "$1" ||
    fail "cannot download $1 (curl exit $?): nothing installed"
}

status=$(fetch "$base/$tag/SHA256SUMS" "$work/SHA256SUMS")
case "$status" in
  200) ;;
  404)
    from_source "no release $tag at $base ($base/$tag/SHA256SUMS: 404)"
    exit 0
    ;;
  *) fail "$base/$tag/SHA256SUMS answered HTTP $status: nothing installed" ;;
esac
expected=$(awk -v f="$asset" '$2 == f || $2 == "*" f { print $1; exit }' "$work/SHA256SUMS")
if [ -z "$expected" ]; then
  from_source "release $tag has no $asset (not in its SHA256SUMS)"
  exit 0
fi
status=$(fetch "$base/$tag/$asset" "$work/$asset")
case "$status" in
  200) ;;
  404)
    from_source "release $tag has no $asset ($base/$tag/$asset: 404)"
    exit 0
    ;;
  *) fail "$base/$tag/$asset answered HTTP $status: nothing installed" ;;
esac
actual=$(sha256 "$work/$asset")
if [ "$actual" != "$expected" ]; then
  fail "$asset does not match its SHA-256 in $base/$tag/SHA256SUMS (expected $expected, got $actual): not installed, not run"
fi
say "downloaded $asset from $base/$tag, SHA-256 verified"

mkdir -p "$work/unpacked" "$root/bin"
tar -xzf "$work/$asset" -C "$work/unpacked"
exe=oauth-test-client
[ "$target" = x86_64-pc-windows-msvc ] && exe=oauth-test-client.exe
src="$work/unpacked/$name-$version-$target/$exe"
[ -f "$src" ] || fail "$asset holds no $name-$version-$target/$exe: nothing installed"
cp "$src" "$root/bin/$exe.new"
chmod 0755 "$root/bin/$exe.new"
mv -f "$root/bin/$exe.new" "$root/bin/$exe"
"$root/bin/$exe" --version >&2
