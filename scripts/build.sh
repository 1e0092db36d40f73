#!/usr/bin/env bash
# Builds the Worker (Rust -> wasm + JS shim) into build/.
# Under `wrangler dev` (WRANGLER_COMMAND=dev) or with EDGECHAT_FAST_BUILD=1 it skips
# wasm-opt for quick rebuilds; `wrangler deploy` gets the optimised build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# worker-build downloads these from the internet unless told where they are.
export WASM_BINDGEN_BIN="${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen"
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
args=(--release)
if [ "${WRANGLER_COMMAND:-}" = dev ] || [ "${EDGECHAT_FAST_BUILD:-0}" = 1 ]; then
  args+=(--no-opt)
fi
exec worker-build "${args[@]}"
