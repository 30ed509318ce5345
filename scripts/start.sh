#!/usr/bin/env bash
# Builds Freehold (web app included) and starts it on its embedded default:
# one data directory (./data unless FREEHOLD_DATA says otherwise) holding
# the configuration, the SQLite database, message blobs and a self-signed
# certificate, listening on localhost high ports, with the demo domain
# example.test and an account whose address and password are printed.
set -euo pipefail
cd "$(dirname "$0")/.."
data=${FREEHOLD_DATA:-./data}

scripts/build-web.sh
mkdir -p bin
go build -o bin/freehold ./cmd/freehold

if [ ! -f "$data/freehold.toml" ]; then
	bin/freehold init --data "$data" --hostname localhost --domain example.test --demo >/dev/null
fi
cat <<INFO

Freehold is starting with data in $data
  $(cat "$data/demo-credentials.txt" 2>/dev/null || echo "no demo account")
  webmail   http://127.0.0.1:8080/
  SMTP MX   127.0.0.1:2525 (STARTTLS)   submission 127.0.0.1:2587 (STARTTLS) / 2465 (TLS)
  IMAP      127.0.0.1:2143 (STARTTLS)   IMAPS 127.0.0.1:2993
  try:      swaks --server 127.0.0.1:2525 --to demo@example.test
Stop it with Ctrl-C.

INFO
exec bin/freehold serve --config "$data/freehold.toml"
