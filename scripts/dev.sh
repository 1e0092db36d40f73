#!/usr/bin/env bash
# Sets everything up and serves edgechat on http://localhost:8787 with local D1 and
# Durable Objects (state in .wrangler/state), migrations applied.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
export WRANGLER_SEND_METRICS=false WRANGLER_SEND_ERROR_REPORTS=false CLOUDFLARE_CF_FETCH_ENABLED=false
CI=true npx wrangler d1 migrations apply DB --local
exec npx wrangler dev --ip 127.0.0.1 --port "${PORT:-8787}" "$@"
