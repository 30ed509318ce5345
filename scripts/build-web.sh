#!/bin/sh
# Builds the webmail (web/) into internal/webui/dist, where the Go binary
# embeds it. Idempotent: `npm ci` runs only when package-lock.json changed
# since the last install. Needs Node >= 20.19 and npm.
set -eu

root=$(CDPATH= cd -- "$(dirname -- "$0")/.." && pwd)
web="$root/web"
stamp="$web/node_modules/.package-lock.sha256"

cd "$web"
want=$(sha256sum package-lock.json | cut -d' ' -f1)
have=$(cat "$stamp" 2>/dev/null || true)
if [ ! -d node_modules ] || [ "$want" != "$have" ]; then
	npm ci --no-audit --no-fund
	echo "$want" >"$stamp"
fi
npm run build
