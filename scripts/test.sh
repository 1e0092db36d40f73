#!/usr/bin/env bash
# Sets everything up and runs every test:
#   formatting and lints, host unit tests of the pure crates, one optimised build of
#   the Worker, then the integration tests (real `wrangler dev`, real sockets) and the
#   browser tests (Debian's Chromium driven by playwright-core).
set -euo pipefail
cd "$(dirname "$0")/.."
started=$(date +%s)
bash scripts/setup.sh --browser
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false

step() { printf '\n\033[1;34m[test]\033[0m %s\n' "$*"; }

step "cargo fmt --check"
cargo fmt --all --check
step "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
step "cargo test (host: protocol, room core, CLI, fuzz)"
cargo test --workspace
step "web unit tests (node)"
node --test tests/unit/
step "building the edgechat CLI (the integration tests drive it)"
cargo build -p edgechat-cli

step "building the Worker (release, wasm-opt)"
bash scripts/build.sh
raw=$(stat -c %s build/index_bg.wasm)
gz=$(gzip -9 -c build/index_bg.wasm | wc -c)
echo "wasm: $raw bytes raw, $gz bytes gzipped"

step "integration and browser tests"
node tests/run.mjs
echo "test command took $(( $(date +%s) - started )) s"
