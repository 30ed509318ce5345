#!/usr/bin/env bash
# Installs what building and testing Freehold needs on a Debian machine:
# the Debian packages that tests drive as real peers and clients, and the
# web app's npm packages. Idempotent: installs only what is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian packages: real clients and peers used by the tests.
#   postgresql        throwaway PostgreSQL servers for the postgres backend
#   swaks             SMTP client (submission with STARTTLS + AUTH)
#   isync             mbsync, two-way IMAP sync
#   postfix           a real peer MTA, and smtp-sink for the outbound benchmark
#   python3-dkim      dkimpy (dkimsign/dkimverify)
#   libmail-dkim-perl Mail::DKIM
#   python3-spf       the RFC 7208 SPF test suite
#   chromium          the browser Playwright drives
pkgs=(postgresql swaks isync postfix python3-dkim libmail-dkim-perl python3-spf chromium ca-certificates)
missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
	sudo=""
	[ "$(id -u)" = 0 ] || sudo="sudo"
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	# Postfix asks how to configure itself; tests run their own instances.
	echo "postfix postfix/main_mailer_type select No configuration" | $sudo debconf-set-selections
	$sudo apt-get update -q
	$sudo apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# Go modules are fetched by the go command itself; warm the cache so that
# the first build does not look slow for no visible reason.
go mod download

# The web app's packages are installed by scripts/build-web.sh, which the
# start and test scripts run.
