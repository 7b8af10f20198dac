#!/usr/bin/env bash
# A fully static hubtop (x86_64 musl libc): builds it, then checks that the binary is static and
# that it runs (--version, and `observe` reading flows over gRPC from `serve --demo`).
#
#   scripts/static-build.sh            # the release profile: what you copy to a jump host
#   scripts/static-build.sh dev        # the dev profile: the same linking, a quicker build (CI)
#
# Needs the target (`rustup target add x86_64-unknown-linux-musl`) and musl-gcc for the C in
# ring, the TLS crate's crypto (Debian/Ubuntu: `apt-get install musl-tools`).
set -euo pipefail
cd "$(dirname "$0")/.."
target=x86_64-unknown-linux-musl
profile=${1:-release}
case "$profile" in
  dev) dir=debug ;;
  *) dir=$profile ;;
esac
if ! rustup target list --installed | grep -qx "$target"; then
  rustup target add "$target"
fi
if ! command -v musl-gcc >/dev/null; then
  echo "musl-gcc is missing: install musl-tools (apt-get install musl-tools)" >&2
  exit 1
fi
cargo build --locked --profile "$profile" --target "$target" --bin hubtop
bin="${CARGO_TARGET_DIR:-target}/$target/$dir/hubtop"
# ldd's words for a binary with no dynamic section; `file` says "static-pie linked" or
# "statically linked".
if ldd "$bin" 2>&1 | grep -Eq 'not a dynamic executable|statically linked'; then
  echo "static: $(ldd "$bin" 2>&1 | head -1 | sed 's/^[[:space:]]*//')"
else
  echo "$bin is not static:" >&2
  ldd "$bin" >&2 || true
  exit 1
fi
"$bin" --version
log=$(mktemp)
"$bin" serve --demo --listen 127.0.0.1:0 2>"$log" &
server=$!
trap 'kill $server 2>/dev/null || true; rm -f "$log"' EXIT
for _ in $(seq 100); do
  grep -q 'listening on' "$log" && break
  sleep 0.1
done
addr=$(sed -n 's/^hubtop serve: listening on //p' "$log")
lines=$("$bin" observe --server "$addr" --last 5 -o jsonpb | wc -l)
if [ "$lines" -ne 5 ]; then
  echo "observe through the static binary printed $lines flows, not 5" >&2
  exit 1
fi
echo "observe over gRPC: 5 flows"
echo "$bin: $(du -h "$bin" | cut -f1)"
