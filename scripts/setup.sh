#!/usr/bin/env bash
# Installs everything edgechat needs to build, serve and test, idempotently.
#   scripts/setup.sh          toolchain + npm packages
#   scripts/setup.sh --browser  also Debian's Chromium and an emoji font for the browser tests
set -euo pipefail
cd "$(dirname "$0")/.."

WORKER_BUILD_VERSION=0.8.7
WASM_BINDGEN_VERSION=0.2.130

log() { printf '\033[1;34m[setup]\033[0m %s\n' "$*"; }

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if ! command -v cargo >/dev/null 2>&1; then
  echo "cargo not found: install Rust with rustup first (https://rustup.rs)" >&2
  exit 1
fi

if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

installed_version() { # crate binary -> version cargo install recorded, or empty
  cargo install --list 2>/dev/null | awk -v c="$1" '$1==c {gsub(/[v:]/,"",$2); print $2}'
}

if [ "$(installed_version worker-build)" != "$WORKER_BUILD_VERSION" ]; then
  log "installing worker-build $WORKER_BUILD_VERSION (a few minutes, once)"
  cargo install worker-build --version "$WORKER_BUILD_VERSION" --locked
fi

if [ "$(installed_version wasm-bindgen-cli)" != "$WASM_BINDGEN_VERSION" ]; then
  log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (a few minutes, once)"
  # Without --locked: its lock file names a crate version the registry no longer serves.
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION"
fi

if [ ! -x node_modules/.bin/wrangler ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  log "installing npm packages"
  npm ci --no-audit --no-fund
fi

# The server secret direct-message ids are derived with, for local use (`wrangler dev`
# reads .dev.vars; a deployed Worker gets its own with `wrangler secret put DM_SECRET`,
# which scripts/deploy.sh does once). Never committed.
if [ ! -f .dev.vars ] || ! grep -q '^DM_SECRET=' .dev.vars; then
  log "writing a local DM_SECRET to .dev.vars"
  umask 077
  printf 'DM_SECRET=%s\n' "$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))')" >> .dev.vars
fi

# The key claim passes are signed with (a returning connect shows one instead of asking
# D1 about its name; see docs/SECURITY.md), for local use; deployed, `wrangler secret put
# CLAIM_PASS_KEY` (scripts/deploy.sh does it once). Never committed.
if ! grep -q '^CLAIM_PASS_KEY=' .dev.vars; then
  log "writing a local CLAIM_PASS_KEY to .dev.vars"
  umask 077
  printf 'CLAIM_PASS_KEY=%s\n' "$(node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))')" >> .dev.vars
fi

if [ "${1:-}" = "--browser" ] && [ ! -x /usr/bin/chromium ]; then
  log "installing Debian's chromium for the browser tests"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
fi
# An emoji font, so that reactions (and any emoji in messages) render in the headless browser
# and the screenshots instead of empty boxes; the UI's own icons are inline SVG and need none.
if [ "${1:-}" = "--browser" ] && [ ! -e /usr/share/fonts/truetype/noto/NotoColorEmoji.ttf ] \
   && ! dpkg -s fonts-noto-color-emoji >/dev/null 2>&1; then
  log "installing Debian's fonts-noto-color-emoji for the browser tests"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq fonts-noto-color-emoji >/dev/null
fi
log "ready"
