#!/usr/bin/env bash
# Deploys edgechat to your Cloudflare account (run `npx wrangler login` first, and
# `npx wrangler d1 create edgechat` once, putting its id into wrangler.toml).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
if grep -q '00000000-0000-0000-0000-000000000000' wrangler.toml; then
  echo "wrangler.toml still has the placeholder D1 id: run 'npx wrangler d1 create edgechat' and paste its database_id" >&2
  exit 1
fi
# The attachments bucket: created on the first deploy, left alone afterwards.
if ! npx wrangler r2 bucket info edgechat-files >/dev/null 2>&1; then
  npx wrangler r2 bucket create edgechat-files
fi
# The secret direct-message ids are derived with: made once, never shown or committed.
if ! npx wrangler secret list 2>/dev/null | grep -q '"DM_SECRET"'; then
  node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))' \
    | npx wrangler secret put DM_SECRET
fi
# The key claim passes are signed with: made once, never shown or committed. Rotating
# it (put a new one) makes every outstanding pass fail, so each client asks D1 once.
if ! npx wrangler secret list 2>/dev/null | grep -q '"CLAIM_PASS_KEY"'; then
  node -e 'process.stdout.write(require("crypto").randomBytes(32).toString("hex"))' \
    | npx wrangler secret put CLAIM_PASS_KEY
fi
npx wrangler d1 migrations apply DB --remote
exec npx wrangler deploy "$@"
