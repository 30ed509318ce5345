#!/usr/bin/env bash
# Runs every test of Freehold: formatting and vet, the Go tests (which start
# their own PostgreSQL, Postfix, DNS and TLS peers and drive swaks, mbsync,
# Python's imaplib/smtplib against real sockets), the web app's unit tests
# and its end-to-end tests in Chromium against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/setup.sh

echo "== gofmt, go vet"
unformatted=$(gofmt -l cmd internal test bench 2>/dev/null || true)
if [ -n "$unformatted" ]; then
	echo "gofmt needed in:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "== web app: type check, unit tests, build"
scripts/build-web.sh
(cd web && npm run --silent check && npm run --silent test)

echo "== go test"
go test -count=1 -timeout 25m ./...

echo "== web end-to-end (Playwright driving Chromium against the binary)"
# The web app was built above; e2e-web.sh would build it again unless it
# is handed a binary that embeds it.
go build -o bin/freehold ./cmd/freehold
FREEHOLD_BIN=bin/freehold scripts/e2e-web.sh
