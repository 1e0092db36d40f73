#!/usr/bin/env bash
# Builds the Worker (Rust -> wasm + JS shim) into build/.
# Under `wrangler dev` (WRANGLER_COMMAND=dev) or with EDGECHAT_FAST_BUILD=1 it skips
# wasm-opt for quick rebuilds; `wrangler deploy` gets the optimised build.
# After an optimised build it prints the wasm's gzip -9 size and warns (exit status stays 0,
# so a deploy is not blocked) when it is over the budget, EDGECHAT_WASM_BUDGET bytes
# (default 300 KB); EDGECHAT_WASM_BUDGET_STRICT=1 makes that an error instead.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
# worker-build downloads these from the internet unless told where they are.
export WASM_BINDGEN_BIN="${CARGO_HOME:-$HOME/.cargo}/bin/wasm-bindgen"
export WASM_OPT_BIN="$PWD/node_modules/.bin/wasm-opt"
export ESBUILD_BIN="$PWD/node_modules/.bin/esbuild"
args=(--release)
fast=0
if [ "${WRANGLER_COMMAND:-}" = dev ] || [ "${EDGECHAT_FAST_BUILD:-0}" = 1 ]; then
  args+=(--no-opt)
  fast=1
fi
worker-build "${args[@]}"
[ "$fast" = 1 ] && exit 0
wasm=build/index_bg.wasm
budget="${EDGECHAT_WASM_BUDGET:-307200}"
raw=$(wc -c <"$wasm")
gz=$(gzip -9c "$wasm" | wc -c)
echo "wasm size: $raw B raw, $gz B gzip -9 (budget $budget B)"
if [ "$gz" -gt "$budget" ]; then
  echo "WARNING: wasm is $((gz - budget)) B over the $budget B gzip budget (see bench/WASM.md)" >&2
  [ "${EDGECHAT_WASM_BUDGET_STRICT:-0}" = 1 ] && exit 1
fi
exit 0
